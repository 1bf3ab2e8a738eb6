"""Queries and writes for the delivery worker."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import (
    AbsenceCase,
    Alert,
    CaseEvent,
    ChannelTarget,
    Delivery,
    DeliveryAttempt,
    DeliverySettings,
    Notification,
    School,
    SchoolClass,
    Staff,
    Student,
    WebhookSubscription,
)


def _pg(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def undispatched(session: AsyncSession, limit: int) -> list[Notification]:
    stmt = (
        select(Notification)
        .where(col(Notification.dispatched_at).is_(None))
        .order_by(col(Notification.id))
        .limit(limit)
    )
    if _pg(session):
        stmt = stmt.with_for_update(skip_locked=True)
    return list(await session.exec(stmt))


async def settings_for(
    session: AsyncSession, school_ids: Collection[int]
) -> dict[int, DeliverySettings]:
    if not school_ids:
        return {}
    rows = await session.exec(
        select(DeliverySettings).where(col(DeliverySettings.school_id).in_(sorted(school_ids)))
    )
    return {r.school_id: r for r in rows}


async def schools(session: AsyncSession, ids: Collection[int]) -> dict[int, School]:
    if not ids:
        return {}
    rows = await session.exec(select(School).where(col(School.id).in_(sorted(ids))))
    return {s.id: s for s in rows if s.id is not None}


async def subscriptions(
    session: AsyncSession, county_ids: Collection[int]
) -> list[WebhookSubscription]:
    if not county_ids:
        return []
    stmt = select(WebhookSubscription).where(
        col(WebhookSubscription.county_id).in_(sorted(county_ids)), col(WebhookSubscription.active)
    )
    return list(await session.exec(stmt))


async def add_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert; a row whose key exists (a retried dispatch, a fallback already made) is kept."""
    if not rows:
        return
    insert = postgresql.insert if _pg(session) else sqlite.insert
    stmt = insert(Delivery).on_conflict_do_nothing(index_elements=["idem_key"])
    conn = await session.connection()
    # One statement per shape: a robot row and a webhook row carry different columns, and a
    # multi-row insert takes its columns from the first row.
    shapes: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(frozenset(row), []).append(dict(row))
    for same in shapes.values():
        await conn.execute(stmt, same)


async def claim_deliveries(session: AsyncSession, now: datetime, limit: int) -> list[Delivery]:
    """Pending deliveries that are due, and sends whose worker died (lease run out)."""
    stmt = (
        select(Delivery)
        .where(
            or_(
                (col(Delivery.state) == "pending") & (col(Delivery.next_attempt_at) <= now),
                (col(Delivery.state) == "sending") & (col(Delivery.lease_until) < now),
            )
        )
        .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
        .limit(limit)
    )
    if _pg(session):
        stmt = stmt.with_for_update(skip_locked=True)
    return list(await session.exec(stmt))


async def deliveries_by_id(session: AsyncSession, ids: Collection[int]) -> dict[int, Delivery]:
    if not ids:
        return {}
    rows = await session.exec(select(Delivery).where(col(Delivery.id).in_(sorted(ids))))
    return {d.id: d for d in rows if d.id is not None}


async def notifications(session: AsyncSession, ids: Collection[int]) -> dict[int, Notification]:
    if not ids:
        return {}
    rows = await session.exec(select(Notification).where(col(Notification.id).in_(sorted(ids))))
    return {n.id: n for n in rows if n.id is not None}


async def case_levels(session: AsyncSession, case_ids: Collection[int]) -> dict[int, str | None]:
    if not case_ids:
        return {}
    rows = await session.exec(
        select(AbsenceCase.id, AbsenceCase.level).where(col(AbsenceCase.id).in_(sorted(case_ids)))
    )
    return {cid: level for cid, level in rows if cid is not None}


async def alerts(session: AsyncSession, ids: Collection[int]) -> dict[int, Alert]:
    if not ids:
        return {}
    rows = await session.exec(select(Alert).where(col(Alert.id).in_(sorted(ids))))
    return {a.id: a for a in rows if a.id is not None}


async def staff(session: AsyncSession, ids: Collection[int]) -> dict[int, Staff]:
    if not ids:
        return {}
    rows = await session.exec(select(Staff).where(col(Staff.id).in_(sorted(ids))))
    return {s.id: s for s in rows if s.id is not None}


async def students_and_classes(
    session: AsyncSession, student_ids: Collection[int]
) -> dict[int, tuple[str, str]]:
    """student id → (name, class name)."""
    if not student_ids:
        return {}
    rows = await session.exec(
        select(Student.id, Student.name, SchoolClass.name)
        .join(SchoolClass, col(SchoolClass.id) == Student.class_id)
        .where(col(Student.id).in_(sorted(student_ids)))
    )
    return {sid: (name, cname) for sid, name, cname in rows if sid is not None}


async def targets(
    session: AsyncSession, school_ids: Collection[int]
) -> dict[tuple[int, str], ChannelTarget]:
    if not school_ids:
        return {}
    rows = await session.exec(
        select(ChannelTarget).where(
            col(ChannelTarget.school_id).in_(sorted(school_ids)), col(ChannelTarget.enabled)
        )
    )
    return {(t.school_id, t.channel): t for t in rows}


async def subscriptions_by_id(
    session: AsyncSession, ids: Collection[int]
) -> dict[int, WebhookSubscription]:
    if not ids:
        return {}
    rows = await session.exec(
        select(WebhookSubscription).where(col(WebhookSubscription.id).in_(sorted(ids)))
    )
    return {s.id: s for s in rows if s.id is not None}


async def set_state(session: AsyncSession, ids: Collection[int], **values: Any) -> None:
    if ids:
        await session.exec(
            update(Delivery).where(col(Delivery.id).in_(sorted(ids))).values(**values)
        )


async def add_attempts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn = await session.connection()
        await conn.execute(
            postgresql.insert(DeliveryAttempt) if _pg(session) else sqlite.insert(DeliveryAttempt),
            list(rows),
        )


async def receipts(
    session: AsyncSession, *, notification_ids: Collection[int] = (), alert_id: int | None = None
) -> list[tuple[Delivery, list[DeliveryAttempt]]]:
    stmt = select(Delivery)
    if alert_id is not None:
        stmt = stmt.where(Delivery.alert_id == alert_id)
    else:
        stmt = stmt.where(col(Delivery.notification_id).in_(sorted(notification_ids)))
    found = list(await session.exec(stmt.order_by(col(Delivery.id))))
    ids = [d.id for d in found if d.id is not None]
    attempts: dict[int, list[DeliveryAttempt]] = {i: [] for i in ids}
    if ids:
        rows = await session.exec(
            select(DeliveryAttempt)
            .where(col(DeliveryAttempt.delivery_id).in_(ids))
            .order_by(col(DeliveryAttempt.id))
        )
        for a in rows:
            attempts[a.delivery_id].append(a)
    return [(d, attempts[d.id or 0]) for d in found]


async def undispatched_case_events(session: AsyncSession, limit: int) -> list[CaseEvent]:
    stmt = (
        select(CaseEvent)
        .where(col(CaseEvent.dispatched_at).is_(None))
        .order_by(col(CaseEvent.id))
        .limit(limit)
    )
    if _pg(session):
        stmt = stmt.with_for_update(skip_locked=True)
    return list(await session.exec(stmt))


async def cases(session: AsyncSession, ids: Collection[int]) -> dict[int, AbsenceCase]:
    if not ids:
        return {}
    rows = await session.exec(select(AbsenceCase).where(col(AbsenceCase.id).in_(sorted(ids))))
    return {c.id: c for c in rows if c.id is not None}
