"""SMS templates per school, webhook secret rotation, receipts keep the platform's code

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db.types

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('channel_target', schema=None) as batch_op:
        batch_op.add_column(sa.Column('options', sa.JSON(), nullable=True))
    with op.batch_alter_table('webhook_subscription', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('secret_prev_enc', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )
        batch_op.add_column(
            sa.Column('secret_prev_until', app.db.types.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table('delivery_attempt', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('delivery_attempt', schema=None) as batch_op:
        batch_op.drop_column('code')
    with op.batch_alter_table('webhook_subscription', schema=None) as batch_op:
        batch_op.drop_column('secret_prev_until')
        batch_op.drop_column('secret_prev_enc')
    with op.batch_alter_table('channel_target', schema=None) as batch_op:
        batch_op.drop_column('options')
