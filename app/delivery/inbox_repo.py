"""Queries behind the staff inbox: a person's notices, their unread count, and what
acknowledging a notice touches (the alert it is about and that alert's case lock)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.scope import paginate, row_for_update
from app.db.models import AbsenceCase, Alert, Notification


async def inbox(
    session: AsyncSession, staff_id: int, *, unread: bool | None, limit: int, offset: int
) -> tuple[list[Notification], int]:
    stmt = select(Notification).where(Notification.staff_id == staff_id)
    if unread is True:
        stmt = stmt.where(col(Notification.read_at).is_(None))
    elif unread is False:
        stmt = stmt.where(col(Notification.read_at).is_not(None))
    return await paginate(
        session,
        stmt,
        limit=limit,
        offset=offset,
        order_by=(col(Notification.created_at).desc(), col(Notification.id).desc()),
    )


async def unread_count(session: AsyncSession, staff_id: int) -> int:
    stmt = select(func.count()).where(
        Notification.staff_id == staff_id, col(Notification.read_at).is_(None)
    )
    return int((await session.exec(stmt)).one())


async def notification(session: AsyncSession, notification_id: int) -> Notification | None:
    stmt = select(Notification).where(Notification.id == notification_id)
    return (await session.exec(stmt)).first()


# Acknowledging a notice stamps its alert; these two read the alerts' tables (with the lock of
# core.scope) rather than through app.alerts, which imports delivery (the inbox must not
# import it back).


async def case_for_update(session: AsyncSession, case_id: int) -> AbsenceCase | None:
    """The same row lock every other case write takes, so the alert is not written under a
    concurrent case change."""
    return await row_for_update(session, AbsenceCase, case_id)


async def alert(session: AsyncSession, alert_id: int) -> Alert | None:
    return (await session.exec(select(Alert).where(Alert.id == alert_id))).first()
