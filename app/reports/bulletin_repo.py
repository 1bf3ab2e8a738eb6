"""Queries of the weekly bulletin's figures: alerts, cases and first deadlines, contacts and
reports of schools over a period — one statement for any number of schools (the county
reviews), each school's own period sorted out by the caller."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, or_, outerjoin, true
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


# (school, case id, class_id, opened_at, closed_at, close_reason, counted, first contact due,
# first report due, first contact, first report): ``counted`` and the four moments only for a
# case opened in the period in a class of its school (else False and None).
_Moment = datetime | None
CaseRow = tuple[
    int, int, int, datetime, _Moment, str | None, bool, _Moment, _Moment, _Moment, _Moment
]


async def cases_of_period(
    session: AsyncSession,
    school_ids: Collection[int],
    start: datetime,
    end: datetime,
    first_end: datetime,
    reasons: Sequence[str],
    *,
    times: bool = True,
) -> list[CaseRow]:
    """The schools' cases any figure of a period ``[start, end)`` may count, in one scan:
    those that may be open at some end in ``[first_end, end]`` (opened before ``end``, not
    closed before ``first_end``), those closed in the period for ``reasons``, and those opened
    in the period — these last, when their class is of their school (only such a class has a
    head-teacher line to count them in), with the earliest ``contact`` and ``report``
    deadline (whatever its state), the earliest parent contact and the earliest written
    report, each looked up by the case id's index for that case only (a ``CASE``), not the
    ids sent back as a list. ``times=False`` (no head-teacher figures): none counted."""
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
    # A class of the case's own school (only it has a head-teacher line to count the case in):
    # an outer join, so the test is a column's, not a subquery run for each CASE below.
    own = SchoolClass
    counted = and_(_in(c.opened_at, start, end), col(own.id).is_not(None)) if times else false()

    def when_counted(value: Any) -> Any:
        return case((counted, value), else_=None)

    stmt = (
        sa_select(
            col(c.school_id),
            col(c.id),
            col(c.class_id),
            col(c.opened_at),
            col(c.closed_at),
            col(c.close_reason),
            case((counted, true()), else_=false()),
            when_counted(first_due("contact")),
            when_counted(first_due("report")),
            when_counted(contact),
            when_counted(report),
        )
        .select_from(
            outerjoin(c, own, and_(col(own.id) == c.class_id, col(own.school_id) == c.school_id))
        )
        .where(
            col(c.school_id).in_(sorted(school_ids)),
            or_(
                and_(
                    col(c.opened_at) < end,
                    or_(col(c.closed_at).is_(None), col(c.closed_at) >= first_end),
                ),
                and_(_in(c.closed_at, start, end), col(c.close_reason).in_(reasons)),
                _in(c.opened_at, start, end),
            ),
        )
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
