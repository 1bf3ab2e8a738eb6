"""Queries and writes for the delivery worker."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import func, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.bulk import insert_many
from app.db.labels import class_label
from app.db.models import (
    AbsenceCase,
    Alert,
    CaseEvent,
    ChannelTarget,
    Delivery,
    DeliveryAttempt,
    DeliverySettings,
    EngineHeartbeat,
    Notification,
    RateBucket,
    School,
    SchoolClass,
    Staff,
    Student,
    WebhookSubscription,
)
from app.delivery.ratelimit import SlidingWindow
from app.domain.delivery import UNDELIVERED, DeliveryState


def _pg(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


class Fresh(NamedTuple):
    """A notification awaiting dispatch, as dispatch reads it: plain values, not an ORM
    object (a batch is hundreds, each written by the engine a moment ago)."""

    id: int
    idem_key: str
    staff_id: int
    role: str | None
    topic: str
    level: str | None
    case_id: int | None
    alert_id: int | None
    student_id: int | None
    school_id: int | None


async def undispatched(session: AsyncSession, limit: int) -> list[Fresh]:
    table = Notification.__table__  # type: ignore[attr-defined]
    stmt = (
        sa_select(*(table.c[name] for name in Fresh._fields))
        .where(table.c.dispatched_at.is_(None))
        .order_by(table.c.id)
        .limit(limit)
    )
    if _pg(session):
        stmt = stmt.with_for_update(skip_locked=True)
    conn = await session.connection()
    return [Fresh(*row) for row in await conn.execute(stmt)]


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


def _delivery_defaults() -> dict[str, Any]:
    table = Delivery.__table__  # type: ignore[attr-defined]
    out: dict[str, Any] = {}
    for column in table.columns:
        if column.primary_key:
            continue
        default = column.default
        out[column.name] = default.arg if default is not None and default.is_scalar else None
    return out


_DELIVERY_DEFAULTS = _delivery_defaults()


def full_delivery_row(row: dict[str, Any]) -> dict[str, Any]:
    """Every column, in one shape: a multi-row INSERT needs the same keys in every row (route
    rows and webhook rows differ), and SQLAlchemy refuses a batch whose rows do not."""
    unknown = row.keys() - _DELIVERY_DEFAULTS.keys()
    if unknown:
        raise ValueError(f"not delivery columns: {sorted(unknown)}")
    return {**_DELIVERY_DEFAULTS, **row}


async def add_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert; a row whose key exists (a retried dispatch, a fallback already made) is kept."""
    if not rows:
        return
    insert = postgresql.insert if _pg(session) else sqlite.insert
    stmt = insert(Delivery).on_conflict_do_nothing(index_elements=["idem_key"])
    conn = await session.connection()
    await conn.execute(stmt, [full_delivery_row(r) for r in rows])


async def add_notifications(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert notices (``app.delivery.outbox``); a row whose key exists (the same cause
    retried) is kept."""
    if not rows:
        return
    conn = await session.connection()
    table = Notification.__table__  # type: ignore[attr-defined]
    await insert_many(conn, table, rows, skip_conflicts_on=("idem_key",))


async def claim_deliveries(
    session: AsyncSession, now: datetime, wall_now: datetime, limit: int
) -> list[Delivery]:
    """Pending deliveries that are due (``now``: the clock that decides what is due), and
    sends whose worker died: their lease ran out on the wall clock (``wall_now``)."""
    stmt = (
        select(Delivery)
        .where(_claimable(now, wall_now))
        .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
        .limit(limit)
    )
    if _pg(session):
        stmt = stmt.with_for_update(skip_locked=True)
    return list(await session.exec(stmt))


def _claimable(now: datetime, wall_now: datetime) -> Any:
    return or_(
        (col(Delivery.state) == DeliveryState.pending.value)
        & (col(Delivery.next_attempt_at) <= now),
        (col(Delivery.state) == DeliveryState.sending.value)
        & (col(Delivery.lease_until) < wall_now),
    )


async def lease(
    session: AsyncSession,
    ids: Collection[int],
    now: datetime,
    wall_now: datetime,
    *,
    lease_id: str,
    lease_until: datetime,
) -> set[int]:
    """Claim ``ids`` for this lease, each only if it is still claimable: the condition is in
    the UPDATE itself, so of two workers that read the same rows (SQLite has no SKIP LOCKED)
    only one gets each row. Returns the ids this lease holds."""
    if not ids:
        return set()
    stmt = (
        update(Delivery)
        .where(col(Delivery.id).in_(sorted(ids)), _claimable(now, wall_now))
        .values(state=DeliveryState.sending.value, lease_id=lease_id, lease_until=lease_until)
        .returning(col(Delivery.id))
    )
    conn = await session.connection()
    return {int(row[0]) for row in await conn.execute(stmt) if row[0] is not None}


async def still_leased(session: AsyncSession, ids: Collection[int], lease_id: str) -> set[int]:
    """The fence: of ``ids``, the rows this claim (``lease_id``) still holds, locked for the
    rest of the transaction. A row another worker has claimed since carries its lease id and
    is left alone, whatever this worker saw happen on the network."""
    if not ids:
        return set()
    stmt = (
        update(Delivery)
        .where(
            col(Delivery.id).in_(sorted(ids)),
            col(Delivery.lease_id) == lease_id,
            col(Delivery.state) == DeliveryState.sending.value,
        )
        .values(lease_id=lease_id)
        .returning(col(Delivery.id))
    )
    conn = await session.connection()
    return {int(row[0]) for row in await conn.execute(stmt) if row[0] is not None}


async def take_token(
    session: AsyncSession,
    key: str,
    wall_now: datetime,
    *,
    capacity: int,
    period: timedelta,
) -> datetime | None:
    """Take a send slot from ``key``'s shared window: None when taken, otherwise the
    wall-clock time the next slot is free. Compare-and-set on the row's version: of two
    processes that read the same state only one writes it back, the other reads again."""
    window = SlidingWindow(capacity, period)
    insert = postgresql.insert if _pg(session) else sqlite.insert
    conn = await session.connection()
    await conn.execute(
        insert(RateBucket)
        .values(key=key, stamps=[], version=0)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    table = RateBucket.__table__  # type: ignore[attr-defined]
    for _ in range(50):
        stamps, version = (
            await conn.execute(select(table.c.stamps, table.c.version).where(table.c.key == key))
        ).one()
        seen = [datetime.fromisoformat(x) for x in stamps or []]
        taken, keep, free_at = window.take(seen, wall_now)
        done = await conn.execute(
            update(table)
            .where(table.c.key == key, table.c.version == version)
            .values(stamps=[x.isoformat() for x in keep], version=version + 1)
        )
        if done.rowcount == 1:
            return None if taken else free_at
    raise RuntimeError(f"rate window {key!r} kept changing under us")


async def beat(
    session: AsyncSession,
    process_id: str,
    *,
    hostname: str,
    pid: int,
    started_at: datetime,
    at: datetime,
    what: str,
    error: str | None = None,
) -> None:
    """Record that ``what`` (``sweep`` or ``delivery``) of this process just finished (ok
    when ``error`` is None)."""
    values: dict[str, Any] = {"beat_at": at, "last_error": error}
    if error is None:
        values[f"last_{what}_at"] = at
    insert = postgresql.insert if _pg(session) else sqlite.insert
    stmt = insert(EngineHeartbeat).values(
        process_id=process_id, hostname=hostname, pid=pid, started_at=started_at, **values
    )
    stmt = stmt.on_conflict_do_update(index_elements=["process_id"], set_=values)
    conn = await session.connection()
    await conn.execute(stmt)


async def heartbeats(session: AsyncSession) -> list[EngineHeartbeat]:
    stmt = select(EngineHeartbeat).order_by(col(EngineHeartbeat.beat_at).desc()).limit(50)
    return list(await session.exec(stmt))


async def backlog_by_channel(
    session: AsyncSession, dead_since: datetime
) -> dict[str, tuple[int, datetime | None, datetime | None, int]]:
    """channel → (undelivered count, oldest undelivered created_at, earliest due, dead since
    ``dead_since``)."""
    waiting = await session.exec(
        select(
            Delivery.channel,
            func.count(),
            func.min(Delivery.created_at),
            func.min(Delivery.next_attempt_at),
        )
        .where(col(Delivery.state).in_(UNDELIVERED))
        .group_by(col(Delivery.channel))
    )
    out: dict[str, tuple[int, datetime | None, datetime | None, int]] = {}
    for channel, count, first, due in waiting:
        out[channel] = (int(count), first, due, 0)
    dead = await session.exec(
        select(Delivery.channel, func.count())
        .where(col(Delivery.state) == DeliveryState.dead.value, col(Delivery.dead_at) >= dead_since)
        .group_by(col(Delivery.channel))
    )
    for channel, count in dead:
        n, first_at, due_at, _ = out.get(channel, (0, None, None, 0))
        out[channel] = (n, first_at, due_at, int(count))
    return out


async def undispatched_stats(session: AsyncSession) -> tuple[int, datetime | None]:
    """Notifications the worker has not yet turned into deliveries: count, oldest."""
    row = (
        await session.exec(
            select(func.count(), func.min(Notification.created_at)).where(
                col(Notification.dispatched_at).is_(None)
            )
        )
    ).one()
    return int(row[0]), row[1]


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
        select(Student.id, Student.name, class_label())
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


async def mark_dispatched(
    session: AsyncSession,
    model: type[Notification] | type[CaseEvent],
    ids: Sequence[int | None],
    at: datetime,
) -> None:
    """Notices or timeline entries turned into deliveries: one statement for the batch (the
    ORM would write one UPDATE per row). The ids are 64-bit: a plain IN."""
    table = model.__table__  # type: ignore[union-attr]
    conn = await session.connection()
    await conn.execute(
        update(table)
        .where(table.c.id.in_(sorted(i for i in ids if i is not None)))
        .values(dispatched_at=at)
    )


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
