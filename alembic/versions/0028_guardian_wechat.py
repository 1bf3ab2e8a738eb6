"""guardian accounts carry the guardian's roster mobile (WeChat subscribe messages to guardians)

Issue 22 item 1. A guardian notice is per mobile (siblings share it); the parents'
mini-program's openid is per account. ``guardian_account.mobile`` (nullable: accounts bound
before this have none and get SMS until they sign in again with their mobile) joins the two.

Revision ID: 0028
Revises: 0026
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("guardian_account") as batch:
        batch.add_column(sa.Column("mobile", sa.String(length=11), nullable=True))
        batch.create_index(batch.f("ix_guardian_account_mobile"), ["mobile"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("guardian_account") as batch:
        batch.drop_index(batch.f("ix_guardian_account_mobile"))
        batch.drop_column("mobile")
