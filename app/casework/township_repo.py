"""Queries of reports to the township (乡镇人民政府) and its actions."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from app.db.models import (
    ReturnNotice,
    School,
    Staff,
    StaffRole,
    Student,
    TownshipAction,
    TownshipReport,
)
from app.domain.roles import Role


@dataclass(frozen=True, slots=True)
class ReportRow:
    report: TownshipReport
    notice: ReturnNotice
    student_name: str
    school_name: str


_Row = tuple[TownshipReport, ReturnNotice, str, str]


def _base() -> Select[TownshipReport, ReturnNotice, str, str]:
    return (
        select(TownshipReport, ReturnNotice, Student.name, School.name)
        .join(ReturnNotice, col(ReturnNotice.id) == col(TownshipReport.notice_id))
        .join(Student, col(Student.id) == col(TownshipReport.student_id))
        .join(School, col(School.id) == col(TownshipReport.school_id))
    )


def _rows(found: Iterable[_Row]) -> list[ReportRow]:
    return [ReportRow(r, n, sn, scn) for r, n, sn, scn in found]


def scope_filter(
    everything: bool, township_ids: Collection[int], school_ids: Collection[int]
) -> ColumnElement[bool] | None:
    """The reports an actor reads: every one (operator), or those to its townships or of its
    managed schools (a county admin manages every school of the county)."""
    if everything:
        return None
    return or_(
        col(TownshipReport.township_id).in_(sorted(township_ids)),
        col(TownshipReport.school_id).in_(sorted(school_ids)),
    )


async def page(
    session: AsyncSession,
    where: list[ColumnElement[bool]],
    limit: int,
    offset: int,
) -> tuple[list[ReportRow], int]:
    stmt = _base()
    total = select(func.count()).select_from(TownshipReport)
    for w in where:
        stmt = stmt.where(w)
        total = total.where(w)
    stmt = stmt.order_by(col(TownshipReport.reported_on).desc(), col(TownshipReport.id).desc())
    found = await session.exec(stmt.limit(limit).offset(offset))
    count = (await session.exec(total)).one()
    return _rows(found), int(count)


async def one(session: AsyncSession, report_id: int) -> ReportRow | None:
    found = _rows(await session.exec(_base().where(col(TownshipReport.id) == report_id)))
    return found[0] if found else None


async def actions_of(
    session: AsyncSession, report_ids: Collection[int]
) -> dict[int, list[TownshipAction]]:
    out: dict[int, list[TownshipAction]] = {i: [] for i in report_ids}
    if not report_ids:
        return out
    rows = await session.exec(
        select(TownshipAction)
        .where(col(TownshipAction.report_id).in_(sorted(report_ids)))
        .order_by(col(TownshipAction.id))
    )
    for a in rows:
        out.setdefault(a.report_id, []).append(a)
    return out


async def of_notice(session: AsyncSession, notice_id: int) -> TownshipReport | None:
    found = await session.exec(
        select(TownshipReport).where(col(TownshipReport.notice_id) == notice_id)
    )
    return found.first()


async def unacknowledged(
    session: AsyncSession, school_ids: Collection[int] | None, notice_status: str
) -> list[TownshipReport]:
    """Reports neither acknowledged nor raised yet whose notice is still ``notice_status``
    (every school when None), in case order, locked."""
    stmt = (
        select(TownshipReport)
        .join(ReturnNotice, col(ReturnNotice.id) == col(TownshipReport.notice_id))
        .where(
            col(TownshipReport.acknowledged_at).is_(None),
            col(TownshipReport.raised_on).is_(None),
            col(ReturnNotice.status) == notice_status,
        )
        .with_for_update(of=TownshipReport)
    )
    if school_ids is not None:
        stmt = stmt.where(col(TownshipReport.school_id).in_(sorted(school_ids)))
    return list(await session.exec(stmt.order_by(col(TownshipReport.case_id))))


async def officers(session: AsyncSession, township_id: int) -> list[int]:
    """Active staff holding the township_officer role of this 乡镇."""
    rows = await session.exec(
        select(Staff.id)
        .join(StaffRole, col(StaffRole.staff_id) == Staff.id)
        .where(
            StaffRole.role == Role.township_officer.value,
            col(StaffRole.township_id) == township_id,
            col(Staff.active),
        )
        .order_by(col(Staff.id))
        .distinct()
    )
    return [i for i in rows if i is not None]
