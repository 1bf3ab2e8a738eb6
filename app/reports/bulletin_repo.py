"""Queries of the weekly bulletin's figures: alerts, cases and first deadlines, contacts and
reports of schools over a period — one statement for any number of schools (the county
reviews), each school's own period sorted out by the caller."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import (
    AbsenceCase,
    AbsenceReport,
    Alert,
    Deadline,
    ParentContact,
    SchoolClass,
)


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


# (school, case id, class_id, opened_at, first contact due, first report due, first contact,
# first report)
_Moment = datetime | None
CaseTimes = tuple[int, int, int, datetime, _Moment, _Moment, _Moment, _Moment]


async def cases_opened_with_times(
    session: AsyncSession, school_ids: Collection[int], start: datetime, end: datetime
) -> list[CaseTimes]:
    """(school, id, class_id, opened_at, first contact due, first report due, first contact,
    first report) of the schools' cases opened in ``[start, end)``: the earliest ``contact``
    and ``report`` deadline of each case (whatever its state), its earliest parent contact
    and earliest written report — one statement whatever the number of cases (each looked up
    by its case id's index), not the cases' ids sent back as a list."""
    c = AbsenceCase

    def first_due(kind: str) -> Any:
        return (
            select(func.min(Deadline.due_at))
            .where(Deadline.case_id == c.id, Deadline.kind == kind)
            .scalar_subquery()
        )

    contact = (
        select(func.min(ParentContact.at)).where(ParentContact.case_id == c.id).scalar_subquery()
    )
    report = (
        select(func.min(AbsenceReport.submitted_at))
        .where(AbsenceReport.case_id == c.id)
        .scalar_subquery()
    )
    stmt = sa_select(
        col(c.school_id),
        col(c.id),
        col(c.class_id),
        col(c.opened_at),
        first_due("contact"),
        first_due("report"),
        contact,
        report,
    ).where(
        col(c.school_id).in_(sorted(school_ids)),
        _in(c.opened_at, start, end),
        # Only a class of the case's school has a head-teacher line to count the case in.
        sa_select(SchoolClass.id)
        .where(SchoolClass.id == c.class_id, SchoolClass.school_id == c.school_id)
        .exists(),
    )
    conn = await session.connection()
    return list((await conn.execute(stmt)).tuples().all())


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
