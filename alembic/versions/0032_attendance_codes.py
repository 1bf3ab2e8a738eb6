"""attendance storage per event: the words as smallint codes (PostgreSQL), attendance_mark
without ``updated_at``, the events' student index without the date

Issue 24 item 3 (storage per event): three cuts the measurement pointed at. On PostgreSQL
``check``, ``status`` and ``leave_type`` of both tables and the events' ``recorded_by_kind``
become ``smallint`` codes (2 bytes against 5 to 10 as text; app.db.types.Coded maps them,
numbering the words in alphabetical order so orderings are unchanged). Existing rows are
converted; downgrade turns them back into the words. SQLite keeps the words.

The marks' ``updated_at`` (the ``received_at`` of the event that last moved the mark) was
written by every upsert and read by nothing: not the API, not a report, not the engine. The
event behind a mark (``event_id``) keeps its own ``received_at``, so the figure is still
there for an operator who wants it, by a join.

Without it a mark's tuple is 8 bytes shorter. On PostgreSQL ``DROP COLUMN`` leaves existing
rows as they are until they are rewritten (a mark's upsert, VACUUM FULL or the month's
partition being detached and archived); new rows no longer carry it.

``ix_attendance_event_student_day`` (student_id, school_date) becomes
``ix_attendance_event_student`` (student_id): a student's history, the only query by
student, is pruned to its months' partitions and checks the date on the row; without the
date the B-tree deduplication holds one posting list per student and partition (9.3 against
23.7 bytes per event, measured).

Downgrade adds the column back, filled from the event behind each mark (its ``received_at``,
what the upsert wrote) or, for a mark whose event is gone, its ``occurred_at``.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db.types import UTCDateTime

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The codes as of this revision (app.db.types keeps them; frozen here as migrations must be).
_CHECK = {"dismissal": 1, "morning": 2, "noon": 3}
_STATUS = {"absent": 1, "late": 2, "leave": 3, "present": 4}
_LEAVE = {"other": 1, "personal": 2, "sick": 3}
_KIND = {"api_key": 1, "staff": 2}
_CODED = {
    "attendance_event": {
        "check": _CHECK,
        "status": _STATUS,
        "leave_type": _LEAVE,
        "recorded_by_kind": _KIND,
    },
    "attendance_mark": {"check": _CHECK, "status": _STATUS, "leave_type": _LEAVE},
}


def _case(column: str, pairs: dict[str, str]) -> str:
    whens = " ".join(f"WHEN {a} THEN {b}" for a, b in pairs.items())
    return f'CASE "{column}" {whens} END'


def _convert(to_codes: bool) -> None:
    for table, columns in _CODED.items():
        alters = []
        for column, coded in columns.items():
            codes = {w: str(c) for w, c in coded.items()}
            if to_codes:
                pairs = {f"'{w}'": c for w, c in codes.items()}
                alters.append(f'ALTER COLUMN "{column}" TYPE smallint USING {_case(column, pairs)}')
            else:
                pairs = {c: f"'{w}'" for w, c in codes.items()}
                alters.append(
                    f'ALTER COLUMN "{column}" TYPE varchar(10) USING {_case(column, pairs)}'
                )
        op.execute(f"ALTER TABLE {table} " + ", ".join(alters))


def upgrade() -> None:
    with op.batch_alter_table("attendance_mark") as batch:
        batch.drop_column("updated_at")
    op.drop_index("ix_attendance_event_student_day", table_name="attendance_event")
    op.create_index("ix_attendance_event_student", "attendance_event", ["student_id"])
    if op.get_bind().dialect.name == "postgresql":
        _convert(to_codes=True)


def downgrade() -> None:
    op.drop_index("ix_attendance_event_student", table_name="attendance_event")
    op.create_index(
        "ix_attendance_event_student_day", "attendance_event", ["student_id", "school_date"]
    )
    if op.get_bind().dialect.name == "postgresql":
        _convert(to_codes=False)
    with op.batch_alter_table("attendance_mark") as batch:
        batch.add_column(sa.Column("updated_at", UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE attendance_mark SET updated_at = coalesce((SELECT e.received_at"
        " FROM attendance_event e WHERE e.school_date = attendance_mark.school_date"
        " AND e.event_id = attendance_mark.event_id), occurred_at)"
    )
    with op.batch_alter_table("attendance_mark") as batch:
        batch.alter_column("updated_at", existing_type=UTCDateTime(), nullable=False)
