"""Queries of the monthly reviews, the county's bulletins and the persuasion-talk ledger."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.labels import class_label
from app.db.models import AbsenceCase, Alert, PersuasionTalk, School, SchoolClass, Student


async def alerts_raised(
    session: AsyncSession, school_id: int, start: datetime, end: datetime, withdrawn: str
) -> Sequence[tuple[str, datetime]]:
    """(level, raised_at) of the school's alerts raised in ``[start, end)``, not withdrawn."""
    rows = await session.exec(
        select(Alert.level, Alert.raised_at).where(
            Alert.school_id == school_id,
            col(Alert.raised_at) >= start,
            col(Alert.raised_at) < end,
            Alert.status != withdrawn,
        )
    )
    return rows.all()


async def cases_open_at(
    session: AsyncSession, school_id: int, end: datetime
) -> Sequence[tuple[AbsenceCase, str, str]]:
    """(case, student's name, class's name) of the cases opened before ``end`` and still open
    then, oldest first."""
    rows = await session.exec(
        select(AbsenceCase, Student.name, class_label())
        .join(Student, col(Student.id) == AbsenceCase.student_id)
        .join(SchoolClass, col(SchoolClass.id) == AbsenceCase.class_id)
        .where(
            AbsenceCase.school_id == school_id,
            col(AbsenceCase.opened_at) < end,
            or_(col(AbsenceCase.closed_at).is_(None), col(AbsenceCase.closed_at) >= end),
        )
        .order_by(col(AbsenceCase.opened_at), col(AbsenceCase.id))
    )
    return rows.all()


async def county_schools(session: AsyncSession, county_id: int) -> list[School]:
    rows = await session.exec(
        select(School).where(School.county_id == county_id).order_by(col(School.id))
    )
    return list(rows)


async def talks_between(
    session: AsyncSession, school_id: int, start: date, end: date
) -> Sequence[tuple[PersuasionTalk, AbsenceCase, str, str]]:
    """(talk, case, student's name, class's name) of the school's talks on ``[start, end]``."""
    rows = await session.exec(
        select(PersuasionTalk, AbsenceCase, Student.name, class_label())
        .join(AbsenceCase, col(AbsenceCase.id) == PersuasionTalk.case_id)
        .join(Student, col(Student.id) == AbsenceCase.student_id)
        .join(SchoolClass, col(SchoolClass.id) == AbsenceCase.class_id)
        .where(
            AbsenceCase.school_id == school_id,
            col(PersuasionTalk.talked_on) >= start,
            col(PersuasionTalk.talked_on) <= end,
        )
        .order_by(col(PersuasionTalk.talked_on), col(PersuasionTalk.id))
    )
    return rows.all()
