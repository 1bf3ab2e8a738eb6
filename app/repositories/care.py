"""Queries for special-group care (关爱)."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import CareContact, MentorAssignment, Student


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
