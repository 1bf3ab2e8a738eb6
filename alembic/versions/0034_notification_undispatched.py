"""the delivery worker's claim of undispatched notices by a partial index

Issue 24 item 6 (deadlines and delivery). ``dispatch_notifications`` claims
``notification WHERE dispatched_at IS NULL ORDER BY id LIMIT n``; with no index on it each
round scanned the whole outbox (51 ms at 60,000 notices, growing with every notice ever
written), once per 200 notices dispatched. ``ix_notification_undispatched`` is a partial index
on ``id`` of the rows not yet dispatched, as ``ix_case_event_unsent`` is for the timeline:
it holds only what awaits dispatch, so it stays small however long the outbox grows.

Revision ID: 0034
Revises: 0032
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHERE = sa.text("dispatched_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_notification_undispatched",
        "notification",
        ["id"],
        unique=False,
        sqlite_where=_WHERE,
        postgresql_where=_WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_notification_undispatched", table_name="notification")
