"""Queries of the 控辍 status history (``dropout_status``) and of the facts a status is
counted from besides the roll: 学籍异动 dates, 复学 confirmations, return notices reported to
the township."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.labels import class_label
from app.db.models import (
    AbsenceCase,
    CaseTask,
    DropoutStatusPeriod,
    EnrollmentChange,
    ReturnNotice,
    School,
    SchoolClass,
    Student,
)
from app.domain.students import MISSING


async def open_periods(
    session: AsyncSession, student_ids: Collection[int]
) -> dict[int, DropoutStatusPeriod]:
    if not student_ids:
        return {}
    rows = await session.exec(
        select(DropoutStatusPeriod).where(
            col(DropoutStatusPeriod.student_id).in_(sorted(set(student_ids))),
            col(DropoutStatusPeriod.valid_to).is_(None),
        )
    )
    return {r.student_id: r for r in rows}


async def _grouped(
    session: AsyncSession,
    student_ids: Collection[int],
    keys: tuple[Any, ...],
    value: Any,
    *where: Any,
) -> dict[Any, list[Any]]:
    """The non-null ``value`` of the rows of these students (``keys[0]`` is the student
    column), grouped by the key columns: by student, or by the tuple when there are more."""
    rows = await session.execute(
        sa_select(*(col(k) for k in keys), col(value)).where(
            col(keys[0]).in_(sorted(set(student_ids))), *where
        )
    )
    out: dict[Any, list[Any]] = defaultdict(list)
    for *key, found in rows:
        if found is not None:
            out[key[0] if len(key) == 1 else tuple(key)].append(found)
    return out


async def last_ends(session: AsyncSession, student_ids: Collection[int]) -> dict[int, date]:
    """The day each student's latest ended period ended."""
    p = DropoutStatusPeriod
    ends = await _grouped(session, student_ids, (p.student_id,), p.valid_to)
    return {sid: max(days) for sid, days in ends.items()}


async def enrollment_dates(
    session: AsyncSession, student_ids: Collection[int]
) -> dict[tuple[int, str], list[date]]:
    """(student, change kind) → the dates of the 学籍异动记录."""
    e = EnrollmentChange
    return await _grouped(session, student_ids, (e.student_id, e.kind), e.changed_on)


async def reenrolled_at(
    session: AsyncSession, student_ids: Collection[int], reenrolled: str
) -> dict[int, list[datetime]]:
    """When each student's cases closed with 复学 confirmed."""
    c = AbsenceCase
    return await _grouped(
        session, student_ids, (c.student_id,), c.closed_at, c.close_reason == reenrolled
    )


async def notices_reported(
    session: AsyncSession, student_ids: Collection[int], struck_off: str
) -> dict[int, list[date]]:
    """The days each student's return notices were reported to the township (not 销号)."""
    n = ReturnNotice
    return await _grouped(
        session, student_ids, (n.student_id,), n.reported_to_township_on, n.status != struck_off
    )


async def suspected_since_before(
    session: AsyncSession, school_ids: Collection[int] | None, status: str, before: date
) -> list[tuple[int, int, int, date]]:
    """(student, school, county, first day) of the open ``status`` periods begun before
    ``before``."""
    query = select(
        col(DropoutStatusPeriod.student_id),
        col(DropoutStatusPeriod.school_id),
        col(DropoutStatusPeriod.county_id),
        col(DropoutStatusPeriod.valid_from),
    ).where(
        col(DropoutStatusPeriod.valid_to).is_(None),
        DropoutStatusPeriod.status == status,
        col(DropoutStatusPeriod.valid_from) < before,
    )
    if school_ids is not None:
        query = query.where(col(DropoutStatusPeriod.school_id).in_(sorted(set(school_ids))))
    return list(await session.exec(query))


async def missing_without_period(
    session: AsyncSession, school_ids: Collection[int] | None
) -> list[int]:
    """Active students marked 下落不明 (15) with no open period (e.g. marked before the
    history existed)."""
    open_ = select(DropoutStatusPeriod.student_id).where(
        col(DropoutStatusPeriod.valid_to).is_(None)
    )
    query = select(Student.id).where(
        Student.status == MISSING, col(Student.active), col(Student.id).not_in(open_)
    )
    if school_ids is not None:
        query = query.where(col(Student.school_id).in_(sorted(set(school_ids))))
    return [i for i in await session.exec(query) if i is not None]


async def periods_on(
    session: AsyncSession,
    *,
    county_id: int | None,
    school_id: int | None,
    status: str,
    on: date,
) -> list[tuple[DropoutStatusPeriod, str, Student, str]]:
    """The ``status`` periods covering ``on`` (one range condition), with the school's name,
    the student and the class's name (the class the period was written for), by school, day
    and student."""
    query = (
        select(DropoutStatusPeriod, School.name, Student, class_label())
        .join(School, col(School.id) == DropoutStatusPeriod.school_id)
        .join(Student, col(Student.id) == DropoutStatusPeriod.student_id)
        .join(SchoolClass, col(SchoolClass.id) == DropoutStatusPeriod.class_id)
        .where(
            DropoutStatusPeriod.status == status,
            col(DropoutStatusPeriod.valid_from) <= on,
            or_(
                col(DropoutStatusPeriod.valid_to).is_(None), col(DropoutStatusPeriod.valid_to) > on
            ),
            *_scope(county_id, school_id),
        )
        .order_by(
            col(DropoutStatusPeriod.school_id),
            col(DropoutStatusPeriod.valid_from),
            col(DropoutStatusPeriod.student_id),
        )
    )
    return [(p, sn, s, cn) for p, sn, s, cn in await session.exec(query)]


async def began_between(
    session: AsyncSession,
    *,
    county_id: int | None,
    school_id: int | None,
    status: str,
    lo: date,
    hi: date,
) -> list[tuple[int, int, bool]]:
    """(school, student, still active) of each student with a ``status`` period that began in
    ``[lo, hi]`` (once per student and school)."""
    rows = await session.exec(
        select(DropoutStatusPeriod.school_id, DropoutStatusPeriod.student_id, Student.active)
        .join(Student, col(Student.id) == DropoutStatusPeriod.student_id)
        .where(
            DropoutStatusPeriod.status == status,
            col(DropoutStatusPeriod.valid_from) >= lo,
            col(DropoutStatusPeriod.valid_from) <= hi,
            *_scope(county_id, school_id),
        )
        .distinct()
    )
    return [(a, b, c) for a, b, c in rows]


def _scope(county_id: int | None, school_id: int | None) -> list[Any]:
    if school_id is not None:
        return [DropoutStatusPeriod.school_id == school_id]
    return [DropoutStatusPeriod.county_id == county_id]


async def history_of(session: AsyncSession, student_id: int) -> list[DropoutStatusPeriod]:
    rows = await session.exec(
        select(DropoutStatusPeriod)
        .where(DropoutStatusPeriod.student_id == student_id)
        .order_by(col(DropoutStatusPeriod.valid_from), col(DropoutStatusPeriod.id))
    )
    return list(rows)


async def reported_notice_numbers(
    session: AsyncSession, student_ids: Collection[int], struck_off: str
) -> dict[int, tuple[int, str]]:
    """Each student's latest return notice reported to the township (not 销号): id, number."""
    if not student_ids:
        return {}
    rows = await session.exec(
        select(ReturnNotice)
        .where(
            col(ReturnNotice.student_id).in_(sorted(set(student_ids))),
            col(ReturnNotice.reported_to_township_on).is_not(None),
            ReturnNotice.status != struck_off,
        )
        .order_by(col(ReturnNotice.reported_to_township_on), col(ReturnNotice.id))
    )
    return {n.student_id: (n.id or 0, n.number) for n in rows}


async def periods_ending(
    session: AsyncSession, student_ids: Collection[int]
) -> dict[tuple[int, date], DropoutStatusPeriod]:
    """(student, the day it ended) → the period: what a 辍学 period followed."""
    if not student_ids:
        return {}
    rows = await session.exec(
        select(DropoutStatusPeriod).where(
            col(DropoutStatusPeriod.student_id).in_(sorted(set(student_ids))),
            col(DropoutStatusPeriod.valid_to).is_not(None),
        )
    )
    return {(p.student_id, p.valid_to): p for p in rows if p.valid_to is not None}


async def periods_ended_between(
    session: AsyncSession, school_id: int, end_basis: str, lo: date, hi: date
) -> list[tuple[DropoutStatusPeriod, str, Student, str]]:
    """The school's periods that ended for ``end_basis`` in ``[lo, hi]`` (returned, resumed)."""
    query = (
        select(DropoutStatusPeriod, School.name, Student, class_label())
        .join(School, col(School.id) == DropoutStatusPeriod.school_id)
        .join(Student, col(Student.id) == DropoutStatusPeriod.student_id)
        .join(SchoolClass, col(SchoolClass.id) == DropoutStatusPeriod.class_id)
        .where(
            DropoutStatusPeriod.school_id == school_id,
            DropoutStatusPeriod.end_basis == end_basis,
            col(DropoutStatusPeriod.valid_to) >= lo,
            col(DropoutStatusPeriod.valid_to) <= hi,
        )
        .order_by(col(DropoutStatusPeriod.valid_to), col(DropoutStatusPeriod.student_id))
    )
    return [(p, sn, s, cn) for p, sn, s, cn in await session.exec(query)]


async def cases_to_persuade(
    session: AsyncSession, school_ids: Collection[int] | None, kind: str
) -> list[tuple[int, int, int, datetime | None]]:
    """Open cases of students with an open 疑似辍学 / 辍学 period and no open ``kind`` task:
    (case, school, county, when the case's last ``kind`` task was made)."""
    open_task = select(CaseTask.case_id).where(CaseTask.kind == kind, CaseTask.status == "open")
    last = (
        select(CaseTask.case_id, func.max(CaseTask.created_at).label("last"))
        .where(CaseTask.kind == kind)
        .group_by(col(CaseTask.case_id))
        .subquery()
    )
    query = (
        select(AbsenceCase.id, AbsenceCase.school_id, AbsenceCase.county_id, last.c.last)
        .join(
            DropoutStatusPeriod,
            (col(DropoutStatusPeriod.student_id) == AbsenceCase.student_id)
            & col(DropoutStatusPeriod.valid_to).is_(None),
        )
        .outerjoin(last, last.c.case_id == AbsenceCase.id)
        .where(AbsenceCase.status == "open", col(AbsenceCase.id).not_in(open_task))
        .order_by(col(AbsenceCase.id))
    )
    if school_ids is not None:
        query = query.where(col(AbsenceCase.school_id).in_(sorted(set(school_ids))))
    out = []
    for cid, sid, county, at in await session.exec(query):
        if isinstance(at, str):  # SQLite answers an aggregate of a time as text
            at = datetime.fromisoformat(at)
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        out.append((cid or 0, sid, county, at))
    return out


async def latest_cases(session: AsyncSession, student_ids: Collection[int]) -> dict[int, int]:
    """Each student's latest absence case (its id), whatever its status."""
    if not student_ids:
        return {}
    rows = await session.exec(
        select(col(AbsenceCase.student_id), col(AbsenceCase.id))
        .where(col(AbsenceCase.student_id).in_(sorted(set(student_ids))))
        .order_by(col(AbsenceCase.id))
    )
    return {sid: cid for sid, cid in rows if cid is not None}
