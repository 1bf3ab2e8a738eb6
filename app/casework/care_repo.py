"""Queries for special-group care (关爱)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import NamedTuple

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.labels import class_label
from app.db.models import CareContact, MentorAssignment, SchoolClass, Staff, Student


class MentorDue(NamedTuple):
    assignment_id: int
    student_id: int
    student_name: str
    school_id: int
    staff_id: int
    since: date
    last_contact: date | None


async def current_mentors(session: AsyncSession) -> list[MentorDue]:
    """Every current mentor of an active student, with the student's latest care contact
    recorded since the assignment began."""
    last = (
        select(CareContact.student_id, func.max(CareContact.contacted_on).label("last_on"))
        .group_by(col(CareContact.student_id))
        .subquery()
    )
    stmt = (
        sa_select(
            col(MentorAssignment.id),
            col(MentorAssignment.student_id),
            col(Student.name),
            col(Student.school_id),
            col(MentorAssignment.staff_id),
            col(MentorAssignment.since),
            last.c.last_on,
        )
        .join(Student, col(Student.id) == MentorAssignment.student_id)
        .outerjoin(last, last.c.student_id == MentorAssignment.student_id)
        .where(col(MentorAssignment.until).is_(None), col(Student.active))
        .order_by(col(MentorAssignment.id))
    )
    conn = await session.connection()
    return [
        MentorDue(aid or 0, sid, name, school, staff, since, on if on and on >= since else None)
        for aid, sid, name, school, staff, since, on in await conn.execute(stmt)
    ]


async def end_mentoring(session: AsyncSession, student_id: int, on: date) -> None:
    """The student's current mentor assignment ends ``on`` (a transfer out)."""
    await session.exec(
        update(MentorAssignment)
        .where(
            col(MentorAssignment.student_id) == student_id,
            col(MentorAssignment.until).is_(None),
        )
        .values(until=on)
    )


async def current_mentor(session: AsyncSession, student_id: int) -> MentorAssignment | None:
    rows = await session.exec(
        select(MentorAssignment)
        .where(MentorAssignment.student_id == student_id, col(MentorAssignment.until).is_(None))
        .order_by(col(MentorAssignment.id).desc())
    )
    return rows.first()


async def contacts_with_staff(
    session: AsyncSession, student_id: int
) -> list[tuple[CareContact, str]]:
    """The student's care contacts, newest first, each with the name of who made it."""
    rows = await session.exec(
        select(CareContact, Staff.name)
        .join(Staff, col(Staff.id) == CareContact.staff_id)
        .where(CareContact.student_id == student_id)
        .order_by(col(CareContact.contacted_on).desc(), col(CareContact.id).desc())
    )
    return list(rows)


async def special_group_students(
    session: AsyncSession, school_id: int, groups: Collection[str]
) -> list[tuple[Student, str]]:
    """The school's active students in any of ``groups`` (Student flag columns), with their
    class names, in class then name order."""
    flags = [col(getattr(Student, key)).is_(True) for key in groups]
    return list(
        await session.exec(
            select(Student, class_label())
            .join(SchoolClass, col(SchoolClass.id) == Student.class_id)
            .where(Student.school_id == school_id, col(Student.active).is_(True), or_(*flags))
            .order_by(col(SchoolClass.name), col(Student.name), col(Student.id))
        )
    )


async def mentor_names(session: AsyncSession, student_ids: Sequence[int]) -> dict[int, str]:
    if not student_ids:
        return {}
    rows = await session.exec(
        select(MentorAssignment.student_id, Staff.name)
        .join(Staff, col(Staff.id) == MentorAssignment.staff_id)
        .where(
            col(MentorAssignment.student_id).in_(student_ids), col(MentorAssignment.until).is_(None)
        )
    )
    return {sid: name for sid, name in rows}


async def last_contacts(session: AsyncSession, student_ids: Sequence[int]) -> dict[int, date]:
    if not student_ids:
        return {}
    rows = await session.exec(
        select(CareContact.student_id, func.max(CareContact.contacted_on))
        .where(col(CareContact.student_id).in_(student_ids))
        .group_by(col(CareContact.student_id))
    )
    return {sid: latest for sid, latest in rows}


async def contact_counts(
    session: AsyncSession, student_ids: Sequence[int], start: date, end: date
) -> dict[int, int]:
    """Care contacts per student dated ``start`` to ``end``, both included."""
    if not student_ids:
        return {}
    rows = await session.exec(
        select(CareContact.student_id, func.count())
        .where(
            col(CareContact.student_id).in_(student_ids),
            col(CareContact.contacted_on) >= start,
            col(CareContact.contacted_on) <= end,
        )
        .group_by(col(CareContact.student_id))
    )
    return {sid: int(n) for sid, n in rows}
