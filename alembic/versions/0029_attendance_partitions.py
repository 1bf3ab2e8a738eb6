"""attendance tables partitioned by month of school date (PostgreSQL)

Issue 24 item 4. On PostgreSQL ``attendance_event`` and ``attendance_mark`` become
declaratively RANGE-partitioned by ``school_date``: one partition a month from the oldest data (at
least twelve months back) to six months ahead (the ``attendance-partitions`` job keeps creating them),
and a DEFAULT partition so an event for a month nobody created is still taken. Existing rows
are moved. A partitioned table's key must hold the partition key: the events' key becomes
(school_date, event_id); the marks' key (student_id, school_date, check) already holds it.

On SQLite only the events' key changes; nothing is partitioned.

Downgrade moves the rows back into plain tables with the keys of 0026.

Revision ID: 0029
Revises: 0026
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from app.domain.partitions import Month, wanted

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AHEAD = 6
BEHIND = 12

_KEYS = {
    "attendance_event": ("pk_attendance_event", "school_date, event_id"),
    "attendance_mark": ("pk_attendance_mark", 'student_id, school_date, "check"'),
}
_INDEXES = {
    "attendance_event": ("ix_attendance_event_student_day", "student_id, school_date"),
    "attendance_mark": ("ix_attendance_mark_class_day", "class_id, school_date"),
}


def _rebuild(table: str, partitioned: bool, pk_cols: str) -> None:
    conn = op.get_bind()
    pk = _KEYS[table][0]
    ix, ix_cols = _INDEXES[table]
    op.execute(f"ALTER TABLE {table} RENAME TO {table}_old")
    op.execute(f"ALTER TABLE {table}_old DROP CONSTRAINT {pk}")
    op.execute(f"DROP INDEX {ix}")
    suffix = " PARTITION BY RANGE (school_date)" if partitioned else ""
    op.execute(f"CREATE TABLE {table} (LIKE {table}_old INCLUDING DEFAULTS){suffix}")
    if partitioned:
        today = datetime.now(UTC).date()
        oldest = conn.execute(sa.text(f"SELECT min(school_date) FROM {table}_old")).scalar()
        # At least a year back, so a late correction of last term lands in its month.
        year_ago = Month.of(today).plus(-BEHIND).first_day()
        first = min(oldest, year_ago) if oldest else year_ago
        for p in wanted(table, first, today, AHEAD):
            op.execute(
                f"CREATE TABLE {p.name} PARTITION OF {table}"
                f" FOR VALUES FROM ('{p.lower}') TO ('{p.upper}')"
            )
        op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {pk} PRIMARY KEY ({pk_cols})")
    op.execute(f"CREATE INDEX {ix} ON {table} ({ix_cols})")
    op.execute(f"INSERT INTO {table} SELECT * FROM {table}_old")
    op.execute(f"DROP TABLE {table}_old")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, (_, cols) in _KEYS.items():
            _rebuild(table, partitioned=True, pk_cols=cols)
        return
    with op.batch_alter_table("attendance_event", recreate="always") as batch:
        batch.drop_constraint("pk_attendance_event", type_="primary")
        batch.create_primary_key("pk_attendance_event", ["school_date", "event_id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _rebuild("attendance_event", partitioned=False, pk_cols="event_id")
        _rebuild("attendance_mark", partitioned=False, pk_cols=_KEYS["attendance_mark"][1])
        return
    with op.batch_alter_table("attendance_event", recreate="always") as batch:
        batch.drop_constraint("pk_attendance_event", type_="primary")
        batch.create_primary_key("pk_attendance_event", ["event_id"])
