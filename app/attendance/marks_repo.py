"""Reads of attendance marks (one per student, date and check) and of the events behind
them: the ledger that day statuses, the three lists and a student's history are built from.
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

from app.attendance.repository import CHUNK, dialect
from app.db.models import AttendanceEvent, AttendanceMark


class MarkRow(NamedTuple):
    student_id: int
    school_date: date
    check: str
    status: str
    leave_type: str | None
    occurred_at: datetime
    event_id: str


_MARK_ROW = tuple(col(getattr(AttendanceMark, f)) for f in MarkRow._fields)
_MARKS_OF_IDS = sa_select(*_MARK_ROW).where(
    col(AttendanceMark.student_id) == any_(bindparam("ids", type_=ARRAY(Integer)))
)


async def marks_between(
    session: AsyncSession, student_ids: Collection[int], start: date, end: date
) -> list[MarkRow]:
    """Plain rows, not ORM objects: a school's week is tens of thousands of marks. On
    PostgreSQL the ids go as one array (``= ANY``); elsewhere in chunks."""
    ids = sorted(set(student_ids))
    if not ids:
        return []
    in_range = (col(AttendanceMark.school_date) >= start, col(AttendanceMark.school_date) <= end)
    conn = await session.connection()
    if dialect(session) == "postgresql":
        rows = await conn.execute(_MARKS_OF_IDS.where(*in_range), {"ids": ids})
        return [MarkRow(*r) for r in rows]
    found: list[MarkRow] = []
    for i in range(0, len(ids), CHUNK):
        rows = await conn.execute(
            sa_select(*_MARK_ROW).where(
                col(AttendanceMark.student_id).in_(ids[i : i + CHUNK]), *in_range
            )
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


def _status_at(check: str) -> Any:
    # (student, date, check) is the primary key: at most one status per check, so max() of
    # the one matching row is that status, and NULL when the check was not taken.
    return func.max(case((col(AttendanceMark.check) == check, col(AttendanceMark.status))))


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
    stmt = sa_select(
        col(AttendanceMark.student_id),
        col(AttendanceMark.school_date),
        *(_status_at(c) for c in ("morning", "noon", "dismissal")),
    ).group_by(col(AttendanceMark.student_id), col(AttendanceMark.school_date))
    in_range = (col(AttendanceMark.school_date) >= start, col(AttendanceMark.school_date) <= end)
    conn = await session.connection()
    if dialect(session) == "postgresql":
        chunks = [col(AttendanceMark.student_id) == any_(bindparam("ids", ids, ARRAY(Integer)))]
    else:
        chunks = [
            col(AttendanceMark.student_id).in_(ids[i : i + CHUNK])
            for i in range(0, len(ids), CHUNK)
        ]
    found: list[DayChecks] = []
    for chunk in chunks:
        rows = await conn.execute(stmt.where(chunk, *in_range))
        found.extend(DayChecks(*r) for r in rows.all())
    return found


async def rolls_taken(
    session: AsyncSession, class_ids: Collection[int], day: date
) -> set[tuple[int, str]]:
    """(class id, check) pairs with at least one mark on ``day``."""
    rows = await session.exec(
        select(AttendanceMark.class_id, AttendanceMark.check)
        .where(
            col(AttendanceMark.class_id).in_(sorted(class_ids)),
            AttendanceMark.school_date == day,
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
