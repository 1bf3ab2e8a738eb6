"""Queries of the weekly bulletin's figures: alerts, cases and first deadlines, contacts and
reports of one school over a period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, or_
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import AbsenceCase, AbsenceReport, Alert, Deadline, ParentContact


def _in(column: object, start: datetime, end: datetime) -> ColumnElement[bool]:
    c = col(column)
    return (c >= start) & (c < end)


async def alerts_raised(
    session: AsyncSession, school_id: int, start: datetime, end: datetime, withdrawn: str
) -> list[tuple[str, datetime, datetime | None]]:
    """(level, raised_at, verified_at) of the school's alerts raised in ``[start, end)``."""
    return list(
        await session.exec(
            select(Alert.level, Alert.raised_at, Alert.verified_at).where(
                Alert.school_id == school_id,
                _in(Alert.raised_at, start, end),
                Alert.status != withdrawn,
            )
        )
    )


async def cases_open_at_end(session: AsyncSession, school_id: int, end: datetime) -> int:
    return (
        await session.exec(
            select(func.count())
            .select_from(AbsenceCase)
            .where(
                AbsenceCase.school_id == school_id,
                col(AbsenceCase.opened_at) < end,
                or_(col(AbsenceCase.closed_at).is_(None), col(AbsenceCase.closed_at) >= end),
            )
        )
    ).one()


async def cases_closed_for(
    session: AsyncSession,
    school_id: int,
    start: datetime,
    end: datetime,
    reasons: Sequence[str],
) -> int:
    return (
        await session.exec(
            select(func.count())
            .select_from(AbsenceCase)
            .where(
                AbsenceCase.school_id == school_id,
                _in(AbsenceCase.closed_at, start, end),
                col(AbsenceCase.close_reason).in_(reasons),
            )
        )
    ).one()


async def cases_opened(
    session: AsyncSession, school_id: int, start: datetime, end: datetime
) -> list[tuple[int | None, int]]:
    """(id, class_id) of the school's cases opened in ``[start, end)``."""
    return list(
        await session.exec(
            select(AbsenceCase.id, AbsenceCase.class_id).where(
                AbsenceCase.school_id == school_id, _in(AbsenceCase.opened_at, start, end)
            )
        )
    )


async def first_contact_and_report_due(
    session: AsyncSession, case_ids: list[int]
) -> Sequence[tuple[int, str, datetime]]:
    """(case_id, kind, earliest due_at) of the cases' contact and report deadlines."""
    rows = await session.exec(
        select(Deadline.case_id, Deadline.kind, func.min(Deadline.due_at))
        .where(col(Deadline.case_id).in_(case_ids), col(Deadline.kind).in_(("contact", "report")))
        .group_by(col(Deadline.case_id), col(Deadline.kind))
    )
    return rows.all()


async def first_contacts(
    session: AsyncSession, case_ids: list[int]
) -> Sequence[tuple[int, datetime]]:
    rows = await session.exec(
        select(ParentContact.case_id, func.min(ParentContact.at))
        .where(col(ParentContact.case_id).in_(case_ids))
        .group_by(col(ParentContact.case_id))
    )
    return rows.all()


async def first_reports(
    session: AsyncSession, case_ids: list[int]
) -> Sequence[tuple[int, datetime]]:
    rows = await session.exec(
        select(AbsenceReport.case_id, func.min(AbsenceReport.submitted_at))
        .where(col(AbsenceReport.case_id).in_(case_ids))
        .group_by(col(AbsenceReport.case_id))
    )
    return rows.all()
