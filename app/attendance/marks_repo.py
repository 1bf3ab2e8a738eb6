"""Reads of attendance marks (one per student, date and check, derived from the events:
app/attendance/current_marks.py) and of the events behind them: the ledger that day
statuses, the three lists and a student's history are built from.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Integer, any_, bindparam, case, func
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.attendance.current_marks import current_marks
from app.attendance.repository import CHUNK, dialect
from app.db.models import AttendanceEvent


class MarkRow(NamedTuple):
    student_id: int
    school_date: date
    check: str
    status: str
    leave_type: str | None
    occurred_at: datetime
    event_id: str


def _marks_rows(*where: Any) -> Any:
    m = current_marks(*where)
    return sa_select(*(m.c[f] for f in MarkRow._fields))


_E = AttendanceEvent
_IDS = col(_E.student_id) == any_(bindparam("ids", type_=ARRAY(Integer)))


def _in_range(start: date, end: date) -> tuple[Any, Any]:
    return (col(_E.school_date) >= start, col(_E.school_date) <= end)


async def marks_between(
    session: AsyncSession, student_ids: Collection[int], start: date, end: date
) -> list[MarkRow]:
    """Plain rows, not ORM objects: a school's week is tens of thousands of marks. On
    PostgreSQL the ids go as one array (``= ANY``); elsewhere in chunks."""
    ids = sorted(set(student_ids))
    if not ids:
        return []
    in_range = _in_range(start, end)
    conn = await session.connection()
    if dialect(session) == "postgresql":
        rows = await conn.execute(_marks_rows(_IDS, *in_range), {"ids": ids})
        return [MarkRow(*r) for r in rows]
    found: list[MarkRow] = []
    for i in range(0, len(ids), CHUNK):
        rows = await conn.execute(
            _marks_rows(col(_E.student_id).in_(ids[i : i + CHUNK]), *in_range)
        )
        found.extend(MarkRow(*r) for r in rows)
    return found


class DayChecks(NamedTuple):
    """One student's marks on one date, the three checks side by side (None: not taken)."""

    student_id: int
    school_date: date
    morning: str | None
    noon: str | None
    dismissal: str | None


async def day_checks(
    session: AsyncSession, student_ids: Collection[int], start: date, end: date
) -> list[DayChecks]:
    """The students' marks in [start, end], one row per (student, date) that has any: only
    the statuses (what a day status needs), pivoted by the database. On PostgreSQL the ids
    go as one array (``= ANY``): no thousand bound parameters to render, and a plan that
    stays good once the prepared statement goes generic; elsewhere in chunks."""
    ids = sorted(set(student_ids))
    if not ids:
        return []
    in_range = _in_range(start, end)
    if dialect(session) == "postgresql":
        chunks = [col(_E.student_id) == any_(bindparam("ids", ids, ARRAY(Integer)))]
    else:
        chunks = [col(_E.student_id).in_(ids[i : i + CHUNK]) for i in range(0, len(ids), CHUNK)]
    conn = await session.connection()
    found: list[DayChecks] = []
    for chunk in chunks:
        m = current_marks(chunk, *in_range).c
        # One mark per (student, date, check): max() of the one matching row is its status,
        # and NULL when the check was not taken.
        stmt = sa_select(
            m.student_id,
            m.school_date,
            *(func.max(case((m.check == c, m.status))) for c in ("morning", "noon", "dismissal")),
        ).group_by(m.student_id, m.school_date)
        rows = await conn.execute(stmt)
        found.extend(DayChecks(*r) for r in rows.all())
    return found


async def rolls_taken(
    session: AsyncSession, class_ids: Collection[int], day: date
) -> set[tuple[int, str]]:
    """(class id, check) pairs with at least one event recorded in the class on ``day``: a
    roll taken there, so no ranking (ix_attendance_event_class_day). Decided: a pupil moved
    to another class during the day and marked again there leaves both classes' rolls taken
    (the stored marks, before migration 0035, kept only the class of the winning event)."""
    rows = await session.exec(
        select(AttendanceEvent.class_id, AttendanceEvent.check)
        .where(
            col(AttendanceEvent.class_id).in_(sorted(class_ids)),
            AttendanceEvent.school_date == day,
        )
        .distinct()
    )
    return {(c, k) for c, k in rows}


async def student_events(
    session: AsyncSession, student_id: int, start: date, end: date
) -> list[AttendanceEvent]:
    rows = await session.exec(
        select(AttendanceEvent)
        .where(
            AttendanceEvent.student_id == student_id,
            col(AttendanceEvent.school_date) >= start,
            col(AttendanceEvent.school_date) <= end,
        )
        .order_by(
            col(AttendanceEvent.school_date),
            col(AttendanceEvent.check),
            col(AttendanceEvent.occurred_at),
            col(AttendanceEvent.event_id),
        )
    )
    return list(rows)
