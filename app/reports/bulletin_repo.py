"""Queries of the weekly bulletin's figures: alerts, cases and first deadlines, contacts and
reports of schools over a period — one statement for any number of schools (the county
reviews), each school's own period sorted out by the caller."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, or_
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import AbsenceCase, AbsenceReport, Alert, Deadline, ParentContact


def _in(column: object, start: datetime, end: datetime) -> ColumnElement[bool]:
    c = col(column)
    return (c >= start) & (c < end)


async def alerts_raised(
    session: AsyncSession,
    school_ids: Collection[int],
    start: datetime,
    end: datetime,
    withdrawn: str,
) -> list[tuple[int, str, datetime, datetime | None]]:
    """(school, level, raised_at, verified_at) of the schools' alerts raised in
    ``[start, end)``, not withdrawn."""
    return list(
        await session.exec(
            select(Alert.school_id, Alert.level, Alert.raised_at, Alert.verified_at).where(
                col(Alert.school_id).in_(sorted(school_ids)),
                _in(Alert.raised_at, start, end),
                Alert.status != withdrawn,
            )
        )
    )


async def cases_open_across(
    session: AsyncSession, school_ids: Collection[int], first_end: datetime, last_end: datetime
) -> list[tuple[int, datetime, datetime | None]]:
    """(school, opened_at, closed_at) of the schools' cases that may be open at some end in
    ``[first_end, last_end]``: opened before the last, not closed before the first."""
    c = AbsenceCase
    return list(
        await session.exec(
            select(c.school_id, c.opened_at, c.closed_at).where(
                col(c.school_id).in_(sorted(school_ids)),
                col(c.opened_at) < last_end,
                or_(col(c.closed_at).is_(None), col(c.closed_at) >= first_end),
            )
        )
    )


async def cases_closed_for(
    session: AsyncSession,
    school_ids: Collection[int],
    start: datetime,
    end: datetime,
    reasons: Sequence[str],
) -> list[tuple[int, datetime | None]]:
    """(school, closed_at) of the schools' cases closed in ``[start, end)`` for ``reasons``."""
    c = AbsenceCase
    return list(
        await session.exec(
            select(c.school_id, c.closed_at).where(
                col(c.school_id).in_(sorted(school_ids)),
                _in(c.closed_at, start, end),
                col(c.close_reason).in_(reasons),
            )
        )
    )


async def cases_opened(
    session: AsyncSession, school_ids: Collection[int], start: datetime, end: datetime
) -> list[tuple[int, int | None, int, datetime]]:
    """(school, id, class_id, opened_at) of the schools' cases opened in ``[start, end)``."""
    c = AbsenceCase
    return list(
        await session.exec(
            select(c.school_id, c.id, c.class_id, c.opened_at).where(
                col(c.school_id).in_(sorted(school_ids)), _in(c.opened_at, start, end)
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
