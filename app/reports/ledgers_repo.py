"""Queries of the ledgers: the absence-tracking record, the rates' schools and roll, and the
day a county's schools began (the dropout ledgers read app/alerts/status_repo.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.labels import class_label
from app.db.models import (
    AbsenceCase,
    Alert,
    School,
    SchoolClass,
    Student,
    Term,
)


async def cases_opened(
    session: AsyncSession, school_id: int, lo: datetime, hi: datetime
) -> list[tuple[AbsenceCase, str, str]]:
    """The school's cases opened in ``[lo, hi)`` with their student's and class's names."""
    return list(
        await session.exec(
            select(AbsenceCase, Student.name, class_label())
            .join(Student, col(Student.id) == AbsenceCase.student_id)
            .join(SchoolClass, col(SchoolClass.id) == AbsenceCase.class_id)
            .where(
                AbsenceCase.school_id == school_id,
                col(AbsenceCase.opened_at) >= lo,
                col(AbsenceCase.opened_at) < hi,
            )
            .order_by(col(AbsenceCase.opened_at), col(AbsenceCase.id))
        )
    )


async def alert_days(
    session: AsyncSession, case_ids: list[int], withdrawn: str
) -> Sequence[tuple[int, Sequence[Any]]]:
    """(case_id, days) of the cases' alerts, withdrawn ones left out."""
    rows = await session.exec(
        select(Alert.case_id, Alert.days).where(
            col(Alert.case_id).in_(case_ids), Alert.status != withdrawn
        )
    )
    return rows.all()


def _in_scope(county_id: int | None, school_id: int | None) -> list[Any]:
    return [School.id == school_id] if school_id is not None else [School.county_id == county_id]


async def schools(
    session: AsyncSession, county_id: int | None, school_id: int | None
) -> list[School]:
    school_query = select(School).where(School.county_id == county_id)
    if school_id is not None:
        school_query = school_query.where(School.id == school_id)
    return list(await session.exec(school_query.order_by(col(School.id))))


async def enrolled_by_school(
    session: AsyncSession, county_id: int | None, school_id: int | None
) -> dict[int, int]:
    """Active students per school of the county (or the one school)."""
    return dict(
        (
            await session.exec(
                select(Student.school_id, func.count())
                .join(School, col(School.id) == Student.school_id)
                .where(*_in_scope(county_id, school_id), col(Student.active))
                .group_by(col(Student.school_id))
            )
        ).all()
    )


async def county_began(session: AsyncSession, county_id: int) -> date | None:
    """The first day any school of the county existed: the earliest of its schools' first
    term and their creation date (None: no school). Ordered reads, not MIN(): SQLite answers
    an aggregate of a date as text."""
    first_term = (
        await session.exec(
            select(col(Term.start_date))
            .join(School, col(School.id) == Term.school_id)
            .where(School.county_id == county_id)
            .order_by(col(Term.start_date))
            .limit(1)
        )
    ).first()
    created = (
        await session.exec(
            select(School.created_at)
            .where(School.county_id == county_id)
            .order_by(col(School.created_at))
            .limit(1)
        )
    ).first()
    days: list[date] = [d for d in (first_term, created.date() if created else None) if d]
    return min(days) if days else None
