"""absence patterns: left-school alerts (离校未归) and per-student absence measures

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.types

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = app.db.types.UTCDateTime(timezone=True)


def _owners(table: str) -> list[sa.ForeignKeyConstraint]:
    """The student, county, school and class a row belongs to."""
    return [
        sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))
        for column, target in (
            ("student_id", "student"),
            ("county_id", "county"),
            ("school_id", "school"),
            ("class_id", "school_class"),
        )
    ]


def upgrade() -> None:
    op.create_table(
        "left_school_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("school_date", sa.Date(), nullable=False),
        sa.Column("check", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("found_at", _UTC, nullable=False),
        sa.Column("contact_due", _UTC, nullable=False),
        sa.Column("escalated_at", _UTC, nullable=True),
        sa.Column("contacted_at", _UTC, nullable=True),
        sa.Column("contacted_by", sa.String(length=100), nullable=True),
        sa.Column("contact_note", sa.String(length=500), nullable=True),
        sa.Column("withdrawn_at", _UTC, nullable=True),
        sa.Column("withdrawn_reason", sa.String(length=200), nullable=True),
        sa.Column("raised_times", sa.Integer(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        *_owners("left_school_alert"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_left_school_alert")),
        sa.UniqueConstraint(
            "student_id", "school_date", name=op.f("uq_left_school_alert_student_id_school_date")
        ),
    )
    op.create_index(
        "ix_left_school_alert_raised_due",
        "left_school_alert",
        ["contact_due"],
        sqlite_where=sa.text("status = 'raised'"),
        postgresql_where=sa.text("status = 'raised'"),
    )
    op.create_index(
        "ix_left_school_alert_school_day", "left_school_alert", ["school_id", "school_date"]
    )
    op.create_table(
        "absence_measure",
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("school_days", sa.Integer(), nullable=False),
        sa.Column("absent_days", sa.Integer(), nullable=False),
        sa.Column("leave_days", sa.JSON(), nullable=False),
        sa.Column("late_days", sa.Integer(), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("band", sa.String(length=10), nullable=False),
        sa.Column("chronic", sa.Boolean(), nullable=False),
        sa.Column("intermittent", sa.Boolean(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("window_absent", sa.Integer(), nullable=False),
        sa.Column("window_rate", sa.Float(), nullable=False),
        sa.Column("window_band", sa.String(length=10), nullable=False),
        sa.Column("previous_rate", sa.Float(), nullable=True),
        sa.Column("computed_at", _UTC, nullable=False),
        *_owners("absence_measure"),
        sa.ForeignKeyConstraint(
            ["term_id"], ["term.id"], name=op.f("fk_absence_measure_term_id_term")
        ),
        sa.PrimaryKeyConstraint("student_id", name=op.f("pk_absence_measure")),
    )
    op.create_index(
        "ix_absence_measure_county_id", "absence_measure", ["county_id"], unique=False
    )
    op.create_index(
        "ix_absence_measure_school_class", "absence_measure", ["school_id", "class_id"]
    )


def downgrade() -> None:
    op.drop_table("absence_measure")
    op.drop_index("ix_left_school_alert_school_day", table_name="left_school_alert")
    op.drop_index("ix_left_school_alert_raised_due", table_name="left_school_alert")
    op.drop_table("left_school_alert")
