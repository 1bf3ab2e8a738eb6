"""simulation clock shared by every process, its move log

Revision ID: 0018
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.types

revision: str = "0018"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sim_clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("now", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("set_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("moving_until", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("moving_token", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sim_clock")),
    )
    op.create_table(
        "sim_clock_move",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=10), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("from_time", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("to_time", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reached", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sim_clock_move")),
    )
    # API key scopes (``drill``) share the column 0016 added for ``student_no``.


def downgrade() -> None:
    op.drop_table("sim_clock_move")
    op.drop_table("sim_clock")
