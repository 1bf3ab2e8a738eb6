"""return notices: when delivery (送达) was recorded

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("return_notice") as batch:
        batch.add_column(sa.Column("delivered_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("delivery_note", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("return_notice") as batch:
        batch.drop_column("delivery_note")
        batch.drop_column("delivered_on")
