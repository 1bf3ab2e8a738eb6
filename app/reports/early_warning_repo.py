"""Reads of the stored absence measures (``absence_measure``) for the early-warning list
(预警名单) and the counts the bulletin, the digest and the monthly review show."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import func, or_, select
from sqlmodel import col
from sqlmodel import select as model_select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.labels import class_label
from app.db.models import AbsenceMeasure, SchoolClass, Student, Term

_M = AbsenceMeasure
_LISTED = or_(col(_M.band) != "none", col(_M.intermittent))


class Listed(NamedTuple):
    measure: AbsenceMeasure
    student_name: str
    class_name: str


async def listed(
    session: AsyncSession,
    *,
    county_id: int | None = None,
    school_id: int | None = None,
    class_id: int | None = None,
    term_id: int | None = None,
) -> list[Listed]:
    """The students in a band or intermittent, in one scope (one of the three ids)."""
    stmt = (
        model_select(_M, col(Student.name), class_label())
        .join(Student, col(Student.id) == col(_M.student_id))
        .join(SchoolClass, col(SchoolClass.id) == col(_M.class_id))
        .where(_LISTED)
    )
    if class_id is not None:
        stmt = stmt.where(col(_M.class_id) == class_id)
    if school_id is not None:
        stmt = stmt.where(col(_M.school_id) == school_id)
    if county_id is not None:
        stmt = stmt.where(col(_M.county_id) == county_id)
    if term_id is not None:
        stmt = stmt.where(col(_M.term_id) == term_id)
    return [Listed(m, name, klass) for m, name, klass in await session.exec(stmt)]


async def of_student(session: AsyncSession, student_id: int) -> AbsenceMeasure | None:
    return await session.get(AbsenceMeasure, student_id)


async def term_exists(session: AsyncSession, term_id: int) -> bool:
    return await session.get(Term, term_id) is not None


async def counts(session: AsyncSession, school_id: int) -> dict[str, Any]:
    """The school's students per band, and how many are intermittent or chronic."""
    conn = await session.connection()
    bands = await conn.execute(
        select(col(_M.band), func.count())
        .where(col(_M.school_id) == school_id)
        .group_by(col(_M.band))
    )
    out: dict[str, Any] = {"none": 0, "at_risk": 0, "moderate": 0, "severe": 0}
    out.update({band: n for band, n in bands})
    flags = (
        await conn.execute(
            select(
                func.count().filter(col(_M.intermittent)),
                func.count().filter(col(_M.chronic)),
                func.count().filter(_LISTED),
            ).where(col(_M.school_id) == school_id)
        )
    ).one()
    out.update(intermittent=flags[0], chronic=flags[1], listed=flags[2])
    return out


async def student_place(session: AsyncSession, student_id: int) -> tuple[int, int] | None:
    """(school, class) of a student."""
    student = await session.get(Student, student_id)
    return None if student is None else (student.school_id, student.class_id)
