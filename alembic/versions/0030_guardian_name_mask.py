"""guardian_settings.name_mask wide enough for every mask (``surname_only`` is 12)

Migration 0023 made the column VARCHAR(10), so on PostgreSQL a school choosing
``surname_only`` got a 500 (schemathesis found it; SQLite does not enforce lengths).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("guardian_settings") as batch:
        batch.alter_column(
            "name_mask",
            existing_type=sa.String(length=10),
            type_=sa.String(length=20),
            existing_nullable=False,
        )


def downgrade() -> None:
    # A longer value would not fit back: it becomes the default mask.
    op.execute(
        "UPDATE guardian_settings SET name_mask = 'middle' WHERE length(name_mask) > 10"
    )
    with op.batch_alter_table("guardian_settings") as batch:
        batch.alter_column(
            "name_mask",
            existing_type=sa.String(length=20),
            type_=sa.String(length=10),
            existing_nullable=False,
        )
