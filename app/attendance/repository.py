"""Writes of attendance events, and the student and event lookups they need (reads of the
marks, which are derived from the events: ``app/attendance/marks_repo.py``).

The write is a single multi-row statement that is safe under concurrent requests: events
insert with ON CONFLICT DO NOTHING on ``(school_date, event_id)`` (a racing duplicate is not
inserted). Nothing else is written: the current mark of a check is the latest of its events,
found when read (migration 0035), so whichever transaction commits last cannot put an older
observation back, and arrival order does not matter.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, any_, bindparam, text
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.alerts import intake_hints
from app.db.models import AttendanceEvent, Student
from app.db.types import CheckCode, LeaveTypeCode, RecorderKindCode, StatusCode
from app.domain.students import StudentBrief
from app.illness import intake_hints as illness_hints

CHUNK = 500  # rows per statement: far below SQLite's and asyncpg's parameter limits


def dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def _insert(session: AsyncSession, table: Any) -> Any:
    return (postgresql.insert if dialect(session) == "postgresql" else sqlite.insert)(table)


_BRIEF = (
    col(Student.id),
    col(Student.name),
    col(Student.school_id),
    col(Student.class_id),
    col(Student.active),
    col(Student.home_schooled),
)


_BRIEF_BY_IDS = sa_select(*_BRIEF).where(
    col(Student.id) == any_(bindparam("ids", type_=ARRAY(Integer)))
)


async def students_brief(
    session: AsyncSession, student_ids: Collection[int]
) -> dict[int, StudentBrief]:
    """Only the columns the intake needs, read through Core: no ORM objects to build. On
    PostgreSQL the ids go as one array (``= ANY``): one statement text whatever the number of
    ids, no bound parameter per id to render; elsewhere in chunks."""
    ids = sorted(set(student_ids))
    if not ids:
        return {}
    conn = await session.connection()
    if dialect(session) == "postgresql":
        results = [await conn.execute(_BRIEF_BY_IDS, {"ids": ids})]
    else:
        results = [
            await conn.execute(sa_select(*_BRIEF).where(col(Student.id).in_(ids[i : i + CHUNK])))
            for i in range(0, len(ids), CHUNK)
        ]
    return {
        sid: StudentBrief(sid, name, school_id, class_id, active, home)
        for rows in results
        for sid, name, school_id, class_id, active, home in rows
        if sid is not None
    }


async def _active_students(
    session: AsyncSession, school_id: int | None, class_ids: Collection[int] | None
) -> list[StudentBrief]:
    """Active students of the school and/or the listed classes, by class then id: only the
    brief's columns, through Core (a school is a thousand students: no ORM objects)."""
    stmt = sa_select(*_BRIEF).where(col(Student.active))
    if school_id is not None:
        stmt = stmt.where(col(Student.school_id) == school_id)
    if class_ids is not None:
        stmt = stmt.where(col(Student.class_id).in_(sorted(class_ids)))
    conn = await session.connection()
    rows = await conn.execute(stmt.order_by(col(Student.class_id), col(Student.id)))
    return [
        StudentBrief(sid, name, school, klass, active, home)
        for sid, name, school, klass, active, home in rows.all()
        if sid is not None
    ]


async def class_students(session: AsyncSession, class_ids: Collection[int]) -> list[StudentBrief]:
    return await _active_students(session, None, class_ids)


async def content_hashes(session: AsyncSession, event_ids: Collection[str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    ids = sorted(set(event_ids))
    for i in range(0, len(ids), CHUNK):
        rows = await session.exec(
            select(AttendanceEvent.event_id, AttendanceEvent.content_hash).where(
                col(AttendanceEvent.event_id).in_(ids[i : i + CHUNK])
            )
        )
        found.update(dict(rows.all()))
    return found


# One statement records a roll: the events inserted (a retry's are already there; the marks
# are derived from the events, nothing else is written), and what the alert engine, reacting
# in the same transaction, would otherwise ask in statements of its own (the case hints: their
# SQL, which names the engine's tables, and CaseHints are in app/alerts/intake_hints.py; this
# file places them). Two endings: a roll with nobody absent only needs to know who has a case
# open. The one with every hint takes
# PostgreSQL about 0.2 ms more to plan, and it plans these statements afresh each time (the
# arrays' lengths decide the plan): a tax a single present student should not pay.
# On PostgreSQL check, status, leave type and the recorder's kind are smallint codes
# (app.db.types.Coded): the arrays carry codes.
_PG_RECORD_CTE = """
WITH input AS (
  SELECT * FROM unnest(
    CAST(:event_id AS UUID[]), CAST(:content_hash AS BYTEA[]), CAST(:student_id AS INT[]),
    CAST(:school_id AS INT[]), CAST(:class_id AS INT[]), CAST(:school_date AS DATE[]),
    CAST(:check AS SMALLINT[]), CAST(:status AS SMALLINT[]), CAST(:leave_type AS SMALLINT[]),
    CAST(:occurred_at AS TIMESTAMPTZ[]), CAST(:note AS VARCHAR[])
  ) AS t(event_id, content_hash, student_id, school_id, class_id, school_date, "check",
         status, leave_type, occurred_at, note)
), ins AS (
  INSERT INTO attendance_event (event_id, content_hash, student_id, school_id, class_id,
    school_date, "check", status, leave_type, occurred_at, note, recorded_by_kind,
    recorded_by_id, recorded_by_name, received_at)
  SELECT event_id, content_hash, student_id, school_id, class_id, school_date, "check", status,
    leave_type, occurred_at, note, :kind, :by_id, :by_name, :received FROM input
  ON CONFLICT (school_date, event_id) DO NOTHING
  RETURNING event_id, student_id, school_id, class_id, school_date, "check", status,
    leave_type, occurred_at
)
"""
_PG_RECORD = text(
    _PG_RECORD_CTE
    + """
SELECT i.event_id, i.student_id, """
    + intake_hints.PRESENT_COLUMNS
    + illness_hints.COLUMN
    + """
FROM ins i
"""
)
_PG_RECORD_ABSENT = text(
    _PG_RECORD_CTE
    + """
SELECT i.event_id, i.student_id, i.school_id, """
    + intake_hints.ABSENT_COLUMNS
    + illness_hints.COLUMN
    + """
FROM ins i """
    + intake_hints.ABSENT_JOIN
)
_CODED = (
    ("check", CheckCode.CODES),
    ("status", StatusCode.CODES),
    ("leave_type", LeaveTypeCode.CODES),
)
_EVENT_COLUMNS = (
    "event_id",
    "content_hash",
    "student_id",
    "school_id",
    "class_id",
    "school_date",
    "check",
    "status",
    "leave_type",
    "occurred_at",
    "note",
)


@dataclass(frozen=True, slots=True)
class Recorded:
    inserted: set[str]
    # None when not found out here (not PostgreSQL): the engine looks everything up.
    hints: intake_hints.CaseHints | None
    # Students with an illness record the illness hook may touch (app/illness/intake_hints.py);
    # None when not found out (not PostgreSQL): the hook reads every student's.
    illness: set[int] | None = None


async def record(
    session: AsyncSession, rows: Sequence[dict[str, Any]], recorder: dict[str, Any]
) -> Recorded:
    """Insert new events; returns the event ids inserted (the marks they win are read from
    the events, in this transaction too: the engine's reaction sees them).

    Rows carry the event columns; ``recorder`` the recorded-by columns and ``received_at``.
    On PostgreSQL this is one statement (arrays unnested, the insert a data-modifying CTE the
    engine's hints are read after); elsewhere one executemany statement.
    """
    if not rows:
        return Recorded(set(), intake_hints.CaseHints(set(), set(), set(), set()))
    if dialect(session) == "postgresql":
        params: dict[str, Any] = {c: [r[c] for r in rows] for c in _EVENT_COLUMNS}
        absent = "absent" in params["status"]
        for c, codes in _CODED:
            params[c] = [None if v is None else codes[v] for v in params[c]]
        params.update(
            kind=RecorderKindCode.CODES[recorder["recorded_by_kind"]],
            by_id=recorder["recorded_by_id"],
            by_name=recorder["recorded_by_name"],
            received=recorder["received_at"],
        )
        conn = await session.connection()
        if not absent:
            found = (await conn.execute(_PG_RECORD, params)).all()
            hints = intake_hints.present_hints(found)
            illness = illness_hints.with_records(found)
        else:
            found = (await conn.execute(_PG_RECORD_ABSENT, params)).all()
            hints = intake_hints.absent_hints(found)
            illness = illness_hints.with_records(found)
        # A text statement: the driver hands uuids back as its own type, not as text.
        return Recorded({str(r[0]) for r in found}, hints, illness)
    inserted = await insert_events(session, [{**r, **recorder} for r in rows])
    return Recorded(inserted, None)


async def insert_events(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert events; returns the event ids actually inserted (not those already there).

    Executed as one executemany on the Core connection: SQLAlchemy batches it into
    multi-row statements whose compiled form is cached, unlike ``.values(list)``.
    """
    if not rows:
        return set()
    stmt = (
        _insert(session, AttendanceEvent)
        .on_conflict_do_nothing(index_elements=["school_date", "event_id"])
        .returning(col(AttendanceEvent.event_id))
    )
    conn = await session.connection()
    result = await conn.execute(stmt, list(rows))
    return set(result.scalars().all())


async def school_students(
    session: AsyncSession, school_id: int, class_ids: Collection[int] | None
) -> list[StudentBrief]:
    """Active students of a school, or only of the listed classes in it."""
    return await _active_students(session, school_id, class_ids)
