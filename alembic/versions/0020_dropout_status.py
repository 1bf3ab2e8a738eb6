"""控辍 status history (疑似辍学 / 辍学 periods), the schools' submitted monthly reports

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.types

revision: str = "0020"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dropout_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("basis", sa.String(length=30), nullable=False),
        sa.Column("basis_text", sa.String(length=200), nullable=False),
        sa.Column("end_basis", sa.String(length=30), nullable=True),
        sa.Column("recorded_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_dropout_status_student_id_student")
        ),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_dropout_status_county_id_county")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_dropout_status_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["school_class.id"],
            name=op.f("fk_dropout_status_class_id_school_class"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dropout_status")),
    )
    op.create_index(
        op.f("ix_dropout_status_student_id"), "dropout_status", ["student_id"], unique=False
    )
    op.create_index("ix_dropout_status_county_from", "dropout_status", ["county_id", "valid_from"])
    op.create_index(
        "uq_dropout_status_one_open",
        "dropout_status",
        ["student_id"],
        unique=True,
        sqlite_where=sa.text("valid_to IS NULL"),
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_table(
        "monthly_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("zero_report", sa.Boolean(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("correction_reason", sa.String(length=500), nullable=True),
        sa.Column("submitted_by", sa.String(length=100), nullable=False),
        sa.Column("submitted_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_monthly_report_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_monthly_report_county_id_county")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monthly_report")),
        sa.UniqueConstraint("school_id", "month", "version", name="uq_monthly_report_version"),
    )
    op.create_index(
        op.f("ix_monthly_report_county_id"), "monthly_report", ["county_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_monthly_report_county_id"), table_name="monthly_report")
    op.drop_table("monthly_report")
    op.drop_index("uq_dropout_status_one_open", table_name="dropout_status")
    op.drop_index("ix_dropout_status_county_from", table_name="dropout_status")
    op.drop_index(op.f("ix_dropout_status_student_id"), table_name="dropout_status")
    op.drop_table("dropout_status")
