"""guardian accounts carry the guardian's roster mobile (WeChat subscribe messages to
guardians); staff WeChat binding codes and the audit of staff bindings

Issue 22 item 1. A guardian notice is per mobile (siblings share it); the parents'
mini-program's openid is per account. ``guardian_account.mobile`` (nullable: accounts bound
before this have none and get SMS until they sign in again with their mobile) joins the two.
Item 4: ``staff_wechat_code`` (one-time codes an administrator issues for the staff
mini-program, hashed) and ``staff_wechat_event`` (bind / rebind / unbind, by whom, how).

Revision ID: 0028
Revises: 0026
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.types

_UTC = app.db.types.UTCDateTime(timezone=True)

revision: str = "0028"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("guardian_account") as batch:
        batch.add_column(sa.Column("mobile", sa.String(length=11), nullable=True))
        batch.create_index(batch.f("ix_guardian_account_mobile"), ["mobile"], unique=False)
    op.create_table(
        "staff_wechat_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("issued_at", _UTC, nullable=False),
        sa.Column("used_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_wechat_code")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_staff_wechat_code_code_hash")),
    )
    op.create_index(
        op.f("ix_staff_wechat_code_staff_id"), "staff_wechat_code", ["staff_id"], unique=False
    )
    op.create_table(
        "staff_wechat_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("how", sa.String(length=20), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_wechat_event")),
    )
    op.create_index(
        op.f("ix_staff_wechat_event_staff_id"), "staff_wechat_event", ["staff_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_staff_wechat_event_staff_id"), table_name="staff_wechat_event")
    op.drop_table("staff_wechat_event")
    op.drop_index(op.f("ix_staff_wechat_code_staff_id"), table_name="staff_wechat_code")
    op.drop_table("staff_wechat_code")
    with op.batch_alter_table("guardian_account") as batch:
        batch.drop_index(batch.f("ix_guardian_account_mobile"))
        batch.drop_column("mobile")
