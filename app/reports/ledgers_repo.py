"""Queries of the ledgers: the absence-tracking record, the county's dropout ledgers and the
dropout rates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import (
    AbsenceCase,
    Alert,
    EnrollmentChange,
    ReturnNotice,
    School,
    SchoolClass,
    Student,
)
from app.domain.legal import NoticeStatus
from app.domain.students import MISSING
from app.reports.ledgers_schemas import LedgerKind


async def cases_opened(
    session: AsyncSession, school_id: int, lo: datetime, hi: datetime
) -> list[tuple[AbsenceCase, str, str]]:
    """The school's cases opened in ``[lo, hi)`` with their student's and class's names."""
    return list(
        await session.exec(
            select(AbsenceCase, Student.name, SchoolClass.name)
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


async def escalated_notices(
    session: AsyncSession, county_id: int, kind: LedgerKind
) -> Sequence[tuple[ReturnNotice, str, Student, str]]:
    """The county's escalated notices with a day for ``kind``: (notice, school name, student,
    class name), by school, day and student."""
    day_col = (
        ReturnNotice.dropout_on if kind is LedgerKind.dropout else ReturnNotice.suspected_dropout_on
    )
    query = (
        select(ReturnNotice, School.name, Student, SchoolClass.name)
        .join(School, col(School.id) == ReturnNotice.school_id)
        .join(Student, col(Student.id) == ReturnNotice.student_id)
        .join(SchoolClass, col(SchoolClass.id) == Student.class_id)
        .where(
            School.county_id == county_id,
            ReturnNotice.status == NoticeStatus.escalated.value,
            col(day_col).is_not(None),
        )
        .order_by(col(School.id), col(day_col), col(Student.id))
    )
    if kind is LedgerKind.suspected_dropout:
        query = query.where(col(ReturnNotice.dropout_on).is_(None))
    rows = await session.exec(query)
    return rows.all()


async def left_without_transfer(
    session: AsyncSession, county_id: int, school_id: int | None = None
) -> list[tuple[Student, str, str, date | None]]:
    """Active students of the county (or school) marked 下落不明 (``15``), with the day the
    学籍异动记录 says they left (None for a mark older than the record)."""
    left = (
        select(
            EnrollmentChange.student_id,
            func.max(EnrollmentChange.changed_on).label("left_on"),
        )
        .where(EnrollmentChange.kind == "left_without_transfer")
        .group_by(col(EnrollmentChange.student_id))
        .subquery()
    )
    query = (
        select(Student, School.name, SchoolClass.name, left.c.left_on)
        .join(School, col(School.id) == Student.school_id)
        .join(SchoolClass, col(SchoolClass.id) == Student.class_id)
        .outerjoin(left, left.c.student_id == Student.id)
        .where(School.county_id == county_id, Student.status == MISSING, col(Student.active))
    )
    if school_id is not None:
        query = query.where(Student.school_id == school_id)
    return [(s, sn, cn, on) for s, sn, cn, on in await session.exec(query)]


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


def _escalated(county_id: int | None, school_id: int | None) -> list[Any]:
    return [ReturnNotice.status == NoticeStatus.escalated.value, *_in_scope(county_id, school_id)]


async def dropouts_between(
    session: AsyncSession, county_id: int | None, school_id: int | None, lo: date, hi: date
) -> Sequence[tuple[int, bool]]:
    """(school_id, student active) of each escalated notice with a dropout day in [lo, hi]."""
    rows = await session.exec(
        select(ReturnNotice.school_id, Student.active)
        .join(School, col(School.id) == ReturnNotice.school_id)
        .join(Student, col(Student.id) == ReturnNotice.student_id)
        .where(
            *_escalated(county_id, school_id),
            col(ReturnNotice.dropout_on) >= lo,
            col(ReturnNotice.dropout_on) <= hi,
        )
        .distinct()
    )
    return rows.all()


async def suspected_dropouts(
    session: AsyncSession, county_id: int | None, school_id: int | None
) -> Sequence[tuple[int, int]]:
    """(school_id, student_id) of the escalated notices suspected but not confirmed."""
    rows = await session.exec(
        select(ReturnNotice.school_id, ReturnNotice.student_id)
        .join(School, col(School.id) == ReturnNotice.school_id)
        .where(
            *_escalated(county_id, school_id),
            col(ReturnNotice.suspected_dropout_on).is_not(None),
            col(ReturnNotice.dropout_on).is_(None),
        )
    )
    return rows.all()
