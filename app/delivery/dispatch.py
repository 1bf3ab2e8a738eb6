"""Dispatch, the delivery worker's first step (one transaction): every new notification gets a
delivery on the first channel of its recipient's route (per school and role); blue/yellow/other
notices falling in the school's quiet hours are held until they end — red always goes. Webhook
subscriptions of the county or school get the event once (keyed by event id, whoever the
recipients were), and so do case-level events. Also the fallback: the delivery on the next
channel of the route after a dead letter."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import time as dtime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from app.context import AppContext
from app.db.models import (
    CaseEvent,
    Delivery,
    DeliverySettings,
    Notification,
    WebhookSubscription,
)
from app.delivery import repository as repo
from app.domain.delivery import CASE_EVENTS as _CASE_EVENTS
from app.domain.delivery import ROUTINE_LEVELS, DeliveryState

ROBOT_CHANNELS = frozenset({"wecom_robot", "dingtalk_robot"})


class NoticeFields(Protocol):
    """What dispatch reads of a notification: a ``Notification`` row or the plain
    ``repository.Fresh`` the dispatch pass reads."""

    @property
    def id(self) -> int | None: ...
    @property
    def idem_key(self) -> str: ...
    @property
    def staff_id(self) -> int: ...
    @property
    def topic(self) -> str: ...
    @property
    def level(self) -> str | None: ...
    @property
    def case_id(self) -> int | None: ...
    @property
    def alert_id(self) -> int | None: ...
    @property
    def student_id(self) -> int | None: ...
    @property
    def school_id(self) -> int | None: ...


def in_quiet_hours(local: dtime, start: dtime, end: dtime) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end  # the window crosses midnight


def quiet_until(now: datetime, tz: str, start: dtime, end: dtime) -> datetime | None:
    """When the quiet window around ``now`` ends, or None if ``now`` is not in one."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    if not in_quiet_hours(local.time(), start, end):
        return None
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, zone)


async def dispatch_case_events(ctx: AppContext, batch: int) -> int:
    """Case-level events (opened, closed, an alert verified) for county webhooks."""
    now = ctx.clock()
    async with ctx.uow() as uow:
        s = uow.session
        fresh = await repo.undispatched_case_events(s, batch)
        if not fresh:
            return 0
        # Most entries (an escalation, a call logged) are no case-level event: their cases
        # are not read, and every entry is marked dispatched in one statement.
        wanted = [e for e in fresh if e.kind in _CASE_EVENTS]
        found = await repo.cases(s, {e.case_id for e in wanted})
        schools = await repo.schools(s, {c.school_id for c in found.values()})
        subs = await repo.subscriptions(s, {sc.county_id for sc in schools.values()})
        rows: list[dict[str, Any]] = []
        for e in wanted:
            topic = _CASE_EVENTS.get(e.kind)
            case = found.get(e.case_id)
            school = schools.get(case.school_id) if case else None
            if topic is None or case is None or school is None:
                continue
            event_id = f"case:{case.id}:event:{e.id}"
            payload = {
                "topic": topic,
                "case_id": case.id,
                "student_id": case.student_id,
                "school_id": school.id,
                "level": case.level,
                "status": case.status,
                "close_reason": case.close_reason,
                "text": e.text,
            }
            rows += [
                _webhook_row(sub, event_id, payload, case.level, None, None, now)
                for sub in _subscribers(subs, school.county_id, school.id or 0, topic)
            ]
        await repo.add_deliveries(s, rows)
        await repo.mark_dispatched(s, CaseEvent, [e.id for e in fresh], now)
        await uow.commit()
        return len(fresh)


async def dispatch_notifications(ctx: AppContext, batch: int) -> int:
    now = ctx.clock()
    async with ctx.uow() as uow:
        s = uow.session
        fresh = await repo.undispatched(s, batch)
        if not fresh:
            return 0
        school_ids = {n.school_id for n in fresh if n.school_id is not None}
        settings = await repo.settings_for(s, school_ids)
        schools = await repo.schools(s, school_ids)
        subs = await repo.subscriptions(s, {sc.county_id for sc in schools.values()})
        rows: list[dict[str, Any]] = []
        for n in fresh:
            school = schools.get(n.school_id or 0)
            config = settings.get(n.school_id or 0)
            route = (config.routes.get(n.role or "", []) if config else []) or []
            if route and school is not None:
                rows.append(_first_row(n, route, config, school.timezone, now))
            if school is not None:
                rows += _webhook_rows(n, school.id or 0, school.county_id, subs, now)
        await repo.add_deliveries(s, rows)
        await repo.mark_dispatched(s, Notification, [n.id for n in fresh], now)
        await uow.commit()
        return len(fresh)


def _first_row(
    n: NoticeFields,
    route: list[str],
    config: DeliverySettings | None,
    tz: str,
    now: datetime,
) -> dict[str, Any]:
    due = now
    if config is not None and (n.level is None or n.level in ROUTINE_LEVELS):
        due = quiet_until(now, tz, config.quiet_start, config.quiet_end) or now
    return _row(n, route, 0, due, now)


def _target_key(n: NoticeFields, channel: str) -> str:
    if channel in ROBOT_CHANNELS:
        return f"{channel}:school:{n.school_id}"
    return f"{channel}:staff:{n.staff_id}"


def _row(
    n: NoticeFields, route: list[str], index: int, due: datetime, now: datetime
) -> dict[str, Any]:
    channel = route[index]
    return {
        "idem_key": f"n{n.id}:{channel}",
        "notification_id": n.id,
        "channel": channel,
        "target_key": _target_key(n, channel),
        "staff_id": n.staff_id,
        "school_id": n.school_id,
        "case_id": n.case_id,
        "alert_id": n.alert_id,
        "level": n.level,
        "state": DeliveryState.pending.value,
        "attempts": 0,
        "next_attempt_at": due,
        "created_at": now,
        "payload": {"route": route, "index": index, "topic": n.topic},
    }


def fallback_row(row: Delivery, n: NoticeFields | None, now: datetime) -> dict[str, Any] | None:
    route: list[str] = list(row.payload.get("route", []))
    index = int(row.payload.get("index", 0)) + 1
    if index < len(route) and n is None and "message" in row.payload:
        return prerendered_next(row, route[index], index, now)
    if n is None or index >= len(route):
        return None
    return _row(n, route, index, now, now)


def prerendered_next(row: Delivery, channel: str, index: int, now: datetime) -> dict[str, Any]:
    """The next channel of a delivery rendered when written (a guardian notice): same
    message, keyed ``<its key>:<channel>``."""
    base = str(row.payload.get("key", row.idem_key))
    return {
        "idem_key": f"{base}:{channel}",
        "channel": channel,
        "target_key": f"{channel}:{row.payload.get('who', row.target_key)}",
        "school_id": row.school_id,
        "case_id": row.case_id,
        "state": DeliveryState.pending.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "payload": {**row.payload, "index": index},
    }


def _subscribers(
    subs: list[WebhookSubscription], county_id: int, school_id: int, topic: str
) -> list[WebhookSubscription]:
    return [
        sub
        for sub in subs
        if sub.county_id == county_id and sub.school_id in (None, school_id) and topic in sub.events
    ]


def _webhook_row(
    sub: WebhookSubscription,
    event_id: str,
    payload: dict[str, Any],
    level: str | None,
    notification_id: int | None,
    alert_id: int | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "idem_key": f"s{sub.id}:{event_id}",
        "notification_id": notification_id,
        "subscription_id": sub.id,
        "event_id": event_id,
        "channel": "webhook",
        "target_key": f"webhook:{sub.id}",
        "school_id": payload.get("school_id"),
        "case_id": payload.get("case_id"),
        "alert_id": alert_id,
        "level": level,
        "state": DeliveryState.pending.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "payload": payload,
    }


def _webhook_rows(
    n: NoticeFields, school_id: int, county_id: int, subs: list[WebhookSubscription], now: datetime
) -> list[dict[str, Any]]:
    # One event per cause, whoever received it: the notification key without its recipient.
    event_id = n.idem_key.rsplit(":", 1)[0]
    payload = {
        "topic": n.topic,
        "case_id": n.case_id,
        "alert_id": n.alert_id,
        "student_id": n.student_id,
        "school_id": school_id,
        "level": n.level,
    }
    return [
        _webhook_row(sub, event_id, payload, n.level, n.id, n.alert_id, now)
        for sub in _subscribers(subs, county_id, school_id, n.topic)
    ]
