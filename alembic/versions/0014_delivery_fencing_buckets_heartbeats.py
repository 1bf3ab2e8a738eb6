"""delivery lease fencing, shared robot rate buckets, engine heartbeats

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


import app.db.types

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('dead_at', app.db.types.UTCDateTime(timezone=True), nullable=True))
    op.create_table('rate_bucket',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('stamps', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_bucket'))
    )
    op.create_table('engine_heartbeat',
    sa.Column('process_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('hostname', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', app.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('beat_at', app.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_sweep_at', app.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_delivery_at', app.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.PrimaryKeyConstraint('process_id', name=op.f('pk_engine_heartbeat'))
    )


def downgrade() -> None:
    op.drop_table('engine_heartbeat')
    op.drop_table('rate_bucket')
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_column('dead_at')
        batch_op.drop_column('lease_id')
