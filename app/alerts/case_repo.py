"""Read queries over cases, alerts and their casework (the engine's own reads and writes are
in ``app.alerts.engine_repo``; the staff inbox's in ``app.delivery.inbox_repo``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, false, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.scope import paginate, visible_to
from app.db.models import (
    AbsenceCase,
    AbsenceMeasure,
    AbsenceReport,
    Alert,
    CaseEvent,
    CaseTask,
    Deadline,
    Notification,
    ParentContact,
    School,
)
from app.domain.access import Visibility
from app.domain.cases import CaseStatus, TaskStatus

# --- alerts ---------------------------------------------------------------------------------


async def _raised_between(
    session: AsyncSession, start: date | None, end: date | None
) -> ColumnElement[bool]:
    """``raised_at`` within [start, end], both read as dates of the alert's school (its own
    timezone): one clause per timezone in use, so the index on ``raised_at`` still serves."""
    zones = list(await session.exec(select(School.timezone).distinct()))
    clauses: list[ColumnElement[bool]] = []
    for name in sorted(zones):
        zone = ZoneInfo(name)
        conds: list[ColumnElement[bool]] = [
            col(Alert.school_id).in_(select(School.id).where(School.timezone == name))
        ]
        if start is not None:
            conds.append(col(Alert.raised_at) >= datetime.combine(start, time(0), zone))
        if end is not None:
            nxt = datetime.combine(end + timedelta(days=1), time(0), zone)
            conds.append(col(Alert.raised_at) < nxt)
        clauses.append(and_(*conds))
    return or_(*clauses) if clauses else false()


async def list_alerts(
    session: AsyncSession,
    vis: Visibility,
    *,
    level: str | None,
    status: str | None,
    school_id: int | None,
    class_id: int | None,
    student_id: int | None,
    case_id: int | None,
    raised_from: date | None,
    raised_to: date | None,
    limit: int,
    offset: int,
) -> tuple[list[Alert], int]:
    stmt = select(Alert).where(visible_to(vis, Alert.school_id, Alert.class_id))
    if level is not None:
        stmt = stmt.where(Alert.level == level)
    if status is not None:
        stmt = stmt.where(Alert.status == status)
    if school_id is not None:
        stmt = stmt.where(Alert.school_id == school_id)
    if class_id is not None:
        stmt = stmt.where(Alert.class_id == class_id)
    if student_id is not None:
        stmt = stmt.where(Alert.student_id == student_id)
    if case_id is not None:
        stmt = stmt.where(Alert.case_id == case_id)
    if raised_from is not None or raised_to is not None:
        stmt = stmt.where(await _raised_between(session, raised_from, raised_to))
    return await paginate(
        session,
        stmt,
        limit=limit,
        offset=offset,
        order_by=(col(Alert.raised_at).desc(), col(Alert.id).desc()),
    )


async def alert_case_id(session: AsyncSession, alert_id: int) -> int | None:
    """The case an alert belongs to, read as a plain value: the alert itself is loaded only
    after its case is locked, so a concurrent change to it cannot be missed."""
    return (await session.exec(select(Alert.case_id).where(Alert.id == alert_id))).first()


async def alert(session: AsyncSession, alert_id: int) -> Alert | None:
    return (await session.exec(select(Alert).where(Alert.id == alert_id))).first()


async def alerts_of_case(session: AsyncSession, case_id: int) -> list[Alert]:
    rows = await session.exec(
        select(Alert).where(Alert.case_id == case_id).order_by(col(Alert.seq))
    )
    return list(rows)


async def notifications_of_alert(session: AsyncSession, alert_id: int) -> list[Notification]:
    rows = await session.exec(
        select(Notification)
        .where(Notification.alert_id == alert_id)
        .order_by(col(Notification.created_at), col(Notification.id))
    )
    return list(rows)


# --- cases ----------------------------------------------------------------------------------


async def case(session: AsyncSession, case_id: int) -> AbsenceCase | None:
    return (await session.exec(select(AbsenceCase).where(AbsenceCase.id == case_id))).first()


async def current_case_of(session: AsyncSession, student_id: int) -> AbsenceCase | None:
    """The student's case that is not closed (at most one)."""
    rows = await session.exec(
        select(AbsenceCase).where(
            AbsenceCase.student_id == student_id, AbsenceCase.status != CaseStatus.closed.value
        )
    )
    return rows.first()


async def list_cases(
    session: AsyncSession,
    vis: Visibility,
    *,
    status: str | None,
    level: str | None,
    school_id: int | None,
    class_id: int | None,
    student_id: int | None,
    limit: int,
    offset: int,
) -> tuple[list[AbsenceCase], int]:
    stmt = select(AbsenceCase).where(visible_to(vis, AbsenceCase.school_id, AbsenceCase.class_id))
    if status is not None:
        stmt = stmt.where(AbsenceCase.status == status)
    if level is not None:
        stmt = stmt.where(AbsenceCase.level == level)
    if school_id is not None:
        stmt = stmt.where(AbsenceCase.school_id == school_id)
    if class_id is not None:
        stmt = stmt.where(AbsenceCase.class_id == class_id)
    if student_id is not None:
        stmt = stmt.where(AbsenceCase.student_id == student_id)
    return await paginate(
        session,
        stmt,
        limit=limit,
        offset=offset,
        order_by=(col(AbsenceCase.opened_at).desc(), col(AbsenceCase.id).desc()),
    )


async def timeline(session: AsyncSession, case_id: int) -> list[CaseEvent]:
    rows = await session.exec(
        select(CaseEvent)
        .where(CaseEvent.case_id == case_id)
        .order_by(col(CaseEvent.at), col(CaseEvent.id))
    )
    return list(rows)


async def contacts(session: AsyncSession, case_id: int) -> list[ParentContact]:
    rows = await session.exec(
        select(ParentContact)
        .where(ParentContact.case_id == case_id)
        .order_by(col(ParentContact.at), col(ParentContact.id))
    )
    return list(rows)


async def reports(session: AsyncSession, case_id: int) -> list[AbsenceReport]:
    rows = await session.exec(
        select(AbsenceReport)
        .where(AbsenceReport.case_id == case_id)
        .order_by(col(AbsenceReport.round), col(AbsenceReport.id))
    )
    return list(rows)


async def tasks(session: AsyncSession, case_id: int) -> list[CaseTask]:
    rows = await session.exec(
        select(CaseTask).where(CaseTask.case_id == case_id).order_by(col(CaseTask.id))
    )
    return list(rows)


async def deadlines(session: AsyncSession, case_id: int) -> list[Deadline]:
    rows = await session.exec(
        select(Deadline)
        .where(Deadline.case_id == case_id)
        .order_by(col(Deadline.due_at), col(Deadline.id))
    )
    return list(rows)


async def report_case_id(session: AsyncSession, report_id: int) -> int | None:
    stmt = select(AbsenceReport.case_id).where(AbsenceReport.id == report_id)
    return (await session.exec(stmt)).first()


async def report(session: AsyncSession, report_id: int) -> AbsenceReport | None:
    stmt = select(AbsenceReport).where(AbsenceReport.id == report_id)
    return (await session.exec(stmt)).first()


async def task_case_id(session: AsyncSession, task_id: int) -> int | None:
    return (await session.exec(select(CaseTask.case_id).where(CaseTask.id == task_id))).first()


async def task(session: AsyncSession, task_id: int) -> CaseTask | None:
    return (await session.exec(select(CaseTask).where(CaseTask.id == task_id))).first()


async def open_tasks(session: AsyncSession, case_id: int, kind: str) -> list[CaseTask]:
    rows = await session.exec(
        select(CaseTask).where(
            CaseTask.case_id == case_id,
            CaseTask.kind == kind,
            CaseTask.status == TaskStatus.open.value,
        )
    )
    return list(rows)


# --- notifications --------------------------------------------------------------------------


async def acknowledge_notifications(
    session: AsyncSession, alert_id: int, staff_id: int, now: datetime
) -> None:
    """The person's notifications of the alert become acknowledged and read (each stamp only
    where it is still missing)."""
    mine = (col(Notification.alert_id) == alert_id, col(Notification.staff_id) == staff_id)
    await session.exec(
        update(Notification)
        .where(*mine, col(Notification.acknowledged_at).is_(None))
        .values(acknowledged_at=now)
    )
    await session.exec(
        update(Notification).where(*mine, col(Notification.read_at).is_(None)).values(read_at=now)
    )


async def absence_measure(session: AsyncSession, student_id: int) -> AbsenceMeasure | None:
    """The student's stored absence measures (the measures job's row), if any."""
    return await session.get(AbsenceMeasure, student_id)
