"""attendance marks derived from the events, not stored: attendance_mark dropped

Issue 24 item 3 (storage per attendance event, goal 250 B for events and marks together;
357 B measured before this). A mark, the current answer for (student, date, check), is by
definition the event with the latest ``occurred_at`` for it (ties: the larger ``event_id``):
a latest-per-group over ``attendance_event``, which the intake kept a copy of in
``attendance_mark`` (138 B per event with its key and index). Decided: stop storing it. The
reads rank the events (``row_number() OVER (PARTITION BY student_id, school_date, "check"
ORDER BY occurred_at DESC, event_id DESC) = 1``, app/attendance/current_marks.py) with their
filters inside the ranking, so PostgreSQL prunes the months' partitions and goes by index.
The intake writes the event alone; arrival order still cannot change the final state, since
the rule is applied at every read to whatever events are there.

The events get the two indexes the mark reads go by: ``ix_attendance_event_student_day``
(student_id, school_date) in place of ``ix_attendance_event_student`` (student_id) — a
student's marks over a date range, ranked per day, read in index order — and
``ix_attendance_event_class_day`` (class_id, school_date): the rolls taken of a class on a
day, and the marks of a class.

On PostgreSQL ``DROP TABLE attendance_mark`` drops its monthly and DEFAULT partitions with
it; a month already detached for archiving (app.db.partitions) is a plain table then and is
left for the operator, who archives and drops it as before. The ``attendance-partitions``
job from now on manages ``attendance_event`` only (app.domain.partitions).

Downgrade recreates ``attendance_mark`` as 0032 left it (on PostgreSQL partitioned by month of
``school_date``, one partition for each monthly partition of the events and a DEFAULT one;
key (student_id, school_date, check); ``ix_attendance_mark_class_day``), fills it from the
events with the same latest-per-group rule, and puts the events' single-column student
index back.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.domain.partitions import Partition, parse_name

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MARK_COLUMNS = (
    'student_id, school_date, "check", school_id, class_id, status, leave_type, occurred_at,'
    " event_id"
)


def upgrade() -> None:
    op.drop_index("ix_attendance_mark_class_day", table_name="attendance_mark")
    op.drop_table("attendance_mark")
    op.drop_index("ix_attendance_event_student", table_name="attendance_event")
    op.create_index(
        "ix_attendance_event_student_day", "attendance_event", ["student_id", "school_date"]
    )
    op.create_index(
        "ix_attendance_event_class_day", "attendance_event", ["class_id", "school_date"]
    )


def _event_months() -> list[Partition]:
    rows = op.get_bind().execute(
        sa.text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = CAST('attendance_event' AS regclass) ORDER BY c.relname"
        )
    )
    months = [parse_name("attendance_event", name) for name in rows.scalars()]
    return [Partition("attendance_mark", m) for m in months if m is not None]


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    # On PostgreSQL the words are smallint codes and the event id a uuid (0026, 0032).
    word = sa.SmallInteger() if pg else sa.String(10)
    op.create_table(
        "attendance_mark",
        sa.Column("student_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("school_date", sa.Date(), nullable=False),
        sa.Column("check", word, nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("status", word, nullable=False),
        sa.Column("leave_type", word, nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "event_id", postgresql.UUID(as_uuid=False) if pg else sa.String(36), nullable=False
        ),
        sa.PrimaryKeyConstraint("student_id", "school_date", "check", name="pk_attendance_mark"),
        postgresql_partition_by="RANGE (school_date)",
    )
    if pg:
        for p in _event_months():
            op.execute(
                f"CREATE TABLE {p.name} PARTITION OF attendance_mark"
                f" FOR VALUES FROM ('{p.lower}') TO ('{p.upper}')"
            )
        op.execute("CREATE TABLE attendance_mark_default PARTITION OF attendance_mark DEFAULT")
    op.create_index(
        "ix_attendance_mark_class_day", "attendance_mark", ["class_id", "school_date"]
    )
    op.execute(
        f"INSERT INTO attendance_mark ({_MARK_COLUMNS}) SELECT {_MARK_COLUMNS} FROM ("
        f" SELECT {_MARK_COLUMNS}, row_number() OVER (PARTITION BY student_id, school_date,"
        ' "check" ORDER BY occurred_at DESC, event_id DESC) AS rank FROM attendance_event'
        ") AS ranked WHERE rank = 1"
    )
    op.drop_index("ix_attendance_event_class_day", table_name="attendance_event")
    op.drop_index("ix_attendance_event_student_day", table_name="attendance_event")
    op.create_index("ix_attendance_event_student", "attendance_event", ["student_id"])
