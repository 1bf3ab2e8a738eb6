"""Queries of the absence-measures job: one school at a time, each a set-based statement
over the school's term (its students, their marks, their approved leave), and the upsert of
the results into ``absence_measure``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import (
    CursorResult,
    Executable,
    Integer,
    and_,
    any_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import col
from sqlmodel import select as model_select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.attendance.current_marks import current_marks
from app.attendance.repository import CHUNK, dialect
from app.db.models import (
    AbsenceMeasure,
    AttendanceEvent,
    LeaveRequest,
    MentorAssignment,
    Student,
    Term,
)
from app.db.types import LeaveTypeCode
from app.domain.attendance import CHECK_ORDER, LeaveStatus, Mark

# 学籍 statuses of a student on the roll: 在读, 复学.
ON_ROLL = ("01", "05")


async def _run(session: AsyncSession, stmt: Executable) -> CursorResult[Any]:
    """Plain rows through Core: a school's term is tens of thousands of marks."""
    conn = await session.connection()
    return await conn.execute(stmt)


class Pupil(NamedTuple):
    id: int
    county_id: int
    class_id: int
    home_schooled: bool
    special_group: bool


class TermRow(NamedTuple):
    id: int
    name: str
    start: date
    end: date


async def term_on(session: AsyncSession, school_id: int, day: date) -> TermRow | None:
    stmt = select(col(Term.id), col(Term.name), col(Term.start_date), col(Term.end_date)).where(
        col(Term.school_id) == school_id,
        col(Term.start_date) <= day,
        col(Term.end_date) >= day,
    )
    row = (await _run(session, stmt)).first()
    return TermRow._make(row) if row else None


async def term_by_id(session: AsyncSession, term_id: int) -> tuple[int, TermRow] | None:
    stmt = select(
        col(Term.school_id), col(Term.id), col(Term.name), col(Term.start_date), col(Term.end_date)
    ).where(col(Term.id) == term_id)
    row = (await _run(session, stmt)).first()
    return (row[0], TermRow._make(row[1:])) if row else None


async def pupils(session: AsyncSession, school_id: int) -> list[Pupil]:
    special = (
        col(Student.left_behind)
        | col(Student.disabled)
        | col(Student.single_parent)
        | col(Student.orphan)
        | col(Student.poverty)
    )
    stmt = (
        select(
            col(Student.id),
            col(Student.county_id),
            col(Student.class_id),
            col(Student.home_schooled),
            special,
        )
        .where(
            col(Student.school_id) == school_id,
            col(Student.active),
            col(Student.status).in_(ON_ROLL),
        )
        .order_by(col(Student.id))
    )
    return [Pupil._make(r) for r in await _run(session, stmt)]


class DayMarks(NamedTuple):
    """One student's marks of one day, the checks side by side (None: not taken), the type of
    the earliest leave mark, and the student's first day with a mark in the range."""

    student_id: int
    school_date: date
    morning: str | None
    noon: str | None
    dismissal: str | None
    leave_type: str | None
    first_day: date


def _at(m: Any, check: str, value: Any, *also: Any) -> Any:
    # One mark per (student, date, check): max() of the one matching row is its value.
    return func.max(case((and_(m.check == check, *also), value)))


def _day_marks(where: Any, today: date) -> Executable:
    # ``where`` on the events: inside the ranking, so PostgreSQL prunes and goes by index.
    m = current_marks(*where).c
    leave = m.status == Mark.leave.value
    # Typed as the column: on PostgreSQL the words are smallint codes ("" is 0).
    typed = func.nullif(m.leave_type, type_coerce("", LeaveTypeCode()), type_=LeaveTypeCode())
    days = (
        select(
            m.student_id.label("student_id"),
            m.school_date.label("school_date"),
            *(_at(m, c.value, m.status).label(c.value) for c in CHECK_ORDER),
            func.coalesce(*(_at(m, c.value, typed, leave) for c in CHECK_ORDER)).label(
                "leave_type"
            ),
            func.min(m.school_date).over(partition_by=m.student_id).label("first_day"),
        )
        .group_by(m.student_id, m.school_date)
        .subquery()
    )
    d = days.c
    return select(*(d[f] for f in DayMarks._fields)).where(
        or_(
            d.morning.is_(None),
            d.morning != Mark.present.value,
            d.school_date == d.first_day,
            d.school_date == today,
        )
    )


async def day_marks(
    session: AsyncSession, student_ids: Collection[int], start: date, today: date
) -> list[DayMarks]:
    """The students' days in ``[start, today]`` pivoted by the database, one row per student
    and day — leaving out the days present at 晨检 (nearly all), except each student's first
    marked day and today, which decide the span of its days. For the measure a day present
    and a day without marks weigh alike (school days, neither missed nor attended), so what
    is left out changes no figure; Python sees a few rows a student, not one a day. On
    PostgreSQL the ids go as one array (``= ANY``), elsewhere in chunks (by student: the
    first day is per student)."""
    ids = sorted(set(student_ids))
    if not ids:
        return []
    m = AttendanceEvent
    in_range = (col(m.school_date) >= start, col(m.school_date) <= today)
    if dialect(session) == "postgresql":
        chunks = [col(m.student_id) == any_(bindparam("ids", ids, ARRAY(Integer)))]
    else:
        chunks = [col(m.student_id).in_(ids[i : i + CHUNK]) for i in range(0, len(ids), CHUNK)]
    found: list[DayMarks] = []
    for chunk in chunks:
        rows = await _run(session, _day_marks((chunk, *in_range), today))
        found.extend(DayMarks._make(r) for r in rows)
    return found


async def approved_leave(
    session: AsyncSession, school_id: int, start: date, end: date
) -> Sequence[Any]:
    """(student, first day, last day, type) of approved leave of the school in the range."""
    lr = LeaveRequest
    stmt = select(
        col(lr.student_id), col(lr.start_date), col(lr.end_date), col(lr.leave_type)
    ).where(
        col(lr.school_id) == school_id,
        col(lr.status) == LeaveStatus.approved.value,
        col(lr.start_date) <= end,
        col(lr.end_date) >= start,
    )
    return (await _run(session, stmt)).all()


async def stored(session: AsyncSession, school_id: int) -> dict[int, AbsenceMeasure]:
    stmt = model_select(AbsenceMeasure).where(col(AbsenceMeasure.school_id) == school_id)
    return {r.student_id: r for r in await session.exec(stmt)}


async def replace_school(
    session: AsyncSession, school_id: int, rows: Sequence[dict[str, Any]]
) -> None:
    """The school's measures become ``rows``: students no longer on its roll drop out."""
    conn = await session.connection()
    table = AbsenceMeasure.__table__  # type: ignore[attr-defined]
    keep = {r["student_id"] for r in rows}
    gone = delete(table).where(table.c.school_id == school_id)
    if keep:
        gone = gone.where(table.c.student_id.not_in(sorted(keep)))
    await conn.execute(gone)
    if not rows:
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    for i in range(0, len(rows), 2000):
        stmt = insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=["student_id"],
            set_={c: stmt.excluded[c] for c in rows[0] if c != "student_id"},
        )
        await conn.execute(stmt, list(rows[i : i + 2000]))


async def mentors_of(session: AsyncSession, student_ids: Sequence[int]) -> dict[int, int]:
    """The current mentor (成长导师) of each of these students who has one."""
    if not student_ids:
        return {}
    ma = MentorAssignment
    stmt = select(col(ma.student_id), col(ma.staff_id)).where(
        col(ma.student_id).in_(sorted(set(student_ids))), col(ma.until).is_(None)
    )
    found: list[Any] = list(await _run(session, stmt))
    return {r[0]: r[1] for r in found}


async def names_of(session: AsyncSession, student_ids: Sequence[int]) -> dict[int, str]:
    if not student_ids:
        return {}
    stmt = select(col(Student.id), col(Student.name)).where(
        col(Student.id).in_(sorted(set(student_ids)))
    )
    found: list[Any] = list(await _run(session, stmt))
    return {r[0]: r[1] for r in found}
