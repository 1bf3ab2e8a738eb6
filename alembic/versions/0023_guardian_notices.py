"""the family: guardian-notice settings, notices, opt-outs and answers (issue 22)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.types

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = app.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "guardian_settings",
        sa.Column("school_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("grace_minutes", sa.Integer(), nullable=False),
        sa.Column("quiet_start", sa.Time(), nullable=False),
        sa.Column("quiet_end", sa.Time(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("name_mask", sa.String(length=10), nullable=False),
        sa.Column("report_cutoff", sa.Time(), nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("school_id", name=op.f("pk_guardian_settings")),
    )
    op.create_table(
        "guardian_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("school_date", sa.Date(), nullable=False),
        sa.Column("mobile", sa.String(length=20), nullable=False),
        sa.Column("student_ids", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("link_expires_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guardian_notice")),
        sa.UniqueConstraint("school_id", "school_date", "mobile", name="uq_guardian_notice_day"),
    )
    op.create_index(
        op.f("ix_guardian_notice_school_id"), "guardian_notice", ["school_id"], unique=False
    )
    op.create_table(
        "guardian_opt_out",
        sa.Column("mobile", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("mobile", "channel", name=op.f("pk_guardian_opt_out")),
    )
    op.create_table(
        "guardian_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("mobile", sa.String(length=20), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("school_date", sa.Date(), nullable=False),
        sa.Column("answer", sa.String(length=20), nullable=False),
        sa.Column("symptoms", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("leave_id", sa.Integer(), nullable=True),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guardian_answer")),
        sa.UniqueConstraint(
            "notice_id", "student_id", name="uq_guardian_answer_notice_student"
        ),
    )
    op.create_index(op.f("ix_guardian_answer_mobile"), "guardian_answer", ["mobile"], unique=False)
    op.create_table(
        "guardian_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guardian_account")),
        sa.UniqueConstraint("openid", name=op.f("uq_guardian_account_openid")),
    )
    op.create_table(
        "guardian_child",
        sa.Column("account_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("student_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("bound_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "student_id", name=op.f("pk_guardian_child")),
    )
    op.create_table(
        "guardian_binding_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("issued_at", _UTC, nullable=False),
        sa.Column("used_at", _UTC, nullable=True),
        sa.Column("used_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guardian_binding_code")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_guardian_binding_code_code_hash")),
    )
    op.create_index(
        op.f("ix_guardian_binding_code_student_id"),
        "guardian_binding_code",
        ["student_id"],
        unique=False,
    )
    op.create_table(
        "guardian_binding_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guardian_binding_event")),
    )
    op.create_index(
        op.f("ix_guardian_binding_event_account_id"),
        "guardian_binding_event",
        ["account_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_guardian_binding_event_account_id"), table_name="guardian_binding_event")
    op.drop_table("guardian_binding_event")
    op.drop_index(op.f("ix_guardian_binding_code_student_id"), table_name="guardian_binding_code")
    op.drop_table("guardian_binding_code")
    op.drop_table("guardian_child")
    op.drop_table("guardian_account")
    op.drop_index(op.f("ix_guardian_answer_mobile"), table_name="guardian_answer")
    op.drop_table("guardian_answer")
    op.drop_table("guardian_opt_out")
    op.drop_index(op.f("ix_guardian_notice_school_id"), table_name="guardian_notice")
    op.drop_table("guardian_notice")
    op.drop_table("guardian_settings")
