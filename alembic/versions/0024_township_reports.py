"""The township's account: township_officer grants (staff_role.township_id), reports to the
township, their acknowledgement and the township's actions; transfer.moved_at (a transfer
takes effect on its leaving date)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.types

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_role") as batch:
        batch.add_column(sa.Column("township_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_staff_role_township_id_township"), "township", ["township_id"], ["id"]
        )
    op.create_table(
        "township_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("acknowledged_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("raised_on", sa.Date(), nullable=True),
        sa.Column("raised_by", sa.String(length=100), nullable=True),
        sa.Column("raise_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["return_notice.id"],
            name=op.f("fk_township_report_notice_id_return_notice"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["absence_case.id"], name=op.f("fk_township_report_case_id_absence_case")
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_township_report_student_id_student")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_township_report_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["township_id"], ["township.id"], name=op.f("fk_township_report_township_id_township")
        ),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_township_report_county_id_county")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_township_report")),
        sa.UniqueConstraint("notice_id", name="uq_township_report_notice"),
    )
    for column in ("case_id", "student_id", "school_id", "township_id", "county_id"):
        op.create_index(
            op.f(f"ix_township_report_{column}"), "township_report", [column], unique=False
        )
    op.create_table(
        "township_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["township_report.id"],
            name=op.f("fk_township_action_report_id_township_report"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_township_action")),
    )
    op.create_index(
        op.f("ix_township_action_report_id"), "township_action", ["report_id"], unique=False
    )
    # Notices reported before this revision get their report, so the township sees them too.
    op.execute(
        "INSERT INTO township_report (notice_id, case_id, student_id, school_id, township_id,"
        " county_id, reported_on, created_at)"
        " SELECT n.id, n.case_id, n.student_id, n.school_id, s.township_id, s.county_id,"
        " n.reported_to_township_on, n.updated_at"
        " FROM return_notice n JOIN school s ON s.id = n.school_id"
        " WHERE n.reported_to_township_on IS NOT NULL"
    )

    with op.batch_alter_table("transfer") as batch:
        batch.add_column(
            sa.Column("moved_at", app.db.types.UTCDateTime(timezone=True), nullable=True)
        )
    # Transfers approved before this revision moved the student at approval.
    op.execute("UPDATE transfer SET moved_at = decided_at WHERE status = 'approved'")


def downgrade() -> None:
    with op.batch_alter_table("transfer") as batch:
        batch.drop_column("moved_at")
    op.drop_index(op.f("ix_township_action_report_id"), table_name="township_action")
    op.drop_table("township_action")
    for column in ("case_id", "student_id", "school_id", "township_id", "county_id"):
        op.drop_index(op.f(f"ix_township_report_{column}"), table_name="township_report")
    op.drop_table("township_report")
    with op.batch_alter_table("staff_role") as batch:
        batch.drop_constraint(op.f("fk_staff_role_township_id_township"), type_="foreignkey")
        batch.drop_column("township_id")
