"""attendance_mark without ``updated_at``: 8 bytes a mark nobody reads

Issue 24 item 3 (storage per event). The marks' ``updated_at`` (the ``received_at`` of the
event that last moved the mark) was written by every upsert and read by nothing: not the API,
not a report, not the engine. The event behind a mark (``event_id``) keeps its own
``received_at``, so the figure is still there for an operator who wants it, by a join.

Measured on PostgreSQL (300,000 events, 20,000 students, 5 days): the marks' heap tuple
shrinks from 104 to 96 bytes (the column was 8 bytes at 8-byte alignment), about 8 bytes per
event. On PostgreSQL ``DROP COLUMN`` leaves existing rows as they are until they are rewritten
(a mark's upsert, VACUUM FULL or the month's partition being detached and archived); new rows
no longer carry it.

Downgrade adds the column back, filled from the event behind each mark (its ``received_at``,
what the upsert wrote) or, for a mark whose event is gone, its ``occurred_at``.

Revision ID: 0032
Revises: 0030
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db.types import UTCDateTime

revision: str = "0032"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attendance_mark") as batch:
        batch.drop_column("updated_at")


def downgrade() -> None:
    with op.batch_alter_table("attendance_mark") as batch:
        batch.add_column(sa.Column("updated_at", UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE attendance_mark SET updated_at = coalesce((SELECT e.received_at"
        " FROM attendance_event e WHERE e.school_date = attendance_mark.school_date"
        " AND e.event_id = attendance_mark.event_id), occurred_at)"
    )
    with op.batch_alter_table("attendance_mark") as batch:
        batch.alter_column("updated_at", existing_type=UTCDateTime(), nullable=False)
