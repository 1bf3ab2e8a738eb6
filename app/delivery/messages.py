"""The messages of a claimed batch: each delivery's notice rendered for its channel and target;
several deliveries to one robot rendered as one digest. A delivery whose notice cannot be
rendered gets no job (the worker dead-letters it)."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.context import AppContext
from app.db.models import (
    Alert,
    ChannelTarget,
    Delivery,
    Notification,
    School,
    Staff,
    WebhookSubscription,
)
from app.delivery import repository as repo
from app.delivery.channels.base import Message, Target
from app.delivery.dispatch import ROBOT_CHANNELS
from app.delivery.templates import Links, Notice, render, render_digest
from app.delivery.wording import TemplateError

log = logging.getLogger("kcbx.delivery")


@dataclass
class Job:
    """One message to send: a delivery, or several to one robot as a digest."""

    channel: str
    deliveries: list[Delivery]
    message: Message
    target: Target


@dataclass
class _Batch:
    """What the messages of a claimed batch are made from, read in one go for all of it."""

    ctx: AppContext
    links: Links
    notes: dict[int, Notification]
    alerts: dict[int, Alert]
    people: dict[int, Staff]
    pupils: dict[int, tuple[str, str]]
    schools: dict[int, School]
    targets: dict[tuple[int, str], ChannelTarget]
    subs: dict[int, WebhookSubscription]

    def notice(self, d: Delivery) -> Notice:
        """The delivery's notice as the templates take it (a webhook event without a
        notification: from the delivery's own payload)."""
        n = self.notes.get(d.notification_id or 0)
        school = self.schools.get(d.school_id or 0)
        pupil = self.pupils.get(n.student_id or 0, ("", "")) if n else ("", "")
        alert = self.alerts.get(n.alert_id or 0) if n else None
        return Notice(
            topic=n.topic if n else d.payload.get("topic", "alert.raised"),
            school=school.name if school else "",
            class_name=pupil[1],
            student_name=pupil[0],
            level=n.level if n else d.level,
            reason=n.title if n else "",
            due_at=alert.verify_due if alert and n and n.topic == "alert.raised" else None,
            timezone=school.timezone if school else self.ctx.settings.default_timezone,
            case_id=d.case_id,
            alert_id=d.alert_id,
            created_at=n.created_at if n else d.created_at,
        )


async def build_jobs(
    ctx: AppContext, links: Links, s: Any, live: list[Delivery], now: datetime
) -> list[Job]:
    batch = await _read_batch(ctx, links, s, live)
    jobs: list[Job] = []
    robots: dict[str, list[Delivery]] = defaultdict(list)
    for d in live:
        if PRERENDERED in d.payload:
            jobs.append(prerendered_job(d, batch.targets.get((d.school_id or 0, "sms"))))
        elif d.channel in ROBOT_CHANNELS:
            robots[d.target_key].append(d)
        elif (job := _single_job(batch, d)) is not None:
            jobs.append(job)
    for key, group in robots.items():
        if (job := _robot_job(batch, key, group, now)) is not None:
            jobs.append(job)
    return jobs


async def _read_batch(ctx: AppContext, links: Links, s: Any, live: list[Delivery]) -> _Batch:
    notes = await repo.notifications(s, {d.notification_id for d in live if d.notification_id})
    return _Batch(
        ctx=ctx,
        links=links,
        notes=notes,
        alerts=await repo.alerts(s, {n.alert_id for n in notes.values() if n.alert_id}),
        people=await repo.staff(s, {d.staff_id for d in live if d.staff_id}),
        pupils=await repo.students_and_classes(
            s, {n.student_id for n in notes.values() if n.student_id}
        ),
        schools=await repo.schools(s, {d.school_id for d in live if d.school_id}),
        targets=await repo.targets(s, {d.school_id for d in live if d.school_id}),
        subs=await repo.subscriptions_by_id(
            s, {d.subscription_id for d in live if d.subscription_id}
        ),
    )


def _single_job(batch: _Batch, d: Delivery) -> Job | None:
    """One delivery's own message: to a webhook subscription (the event's payload merged in)
    or to a person (openid, mobile; the school's SMS options)."""
    try:
        rendered = render(batch.notice(d), links=batch.links)
    except TemplateError as exc:
        log.warning("no template for delivery %s: %s", d.id, exc.message)
        return None
    message = rendered.message(event_id=d.event_id or d.idem_key, created_at=d.created_at)
    if d.subscription_id is not None:
        sub = batch.subs.get(d.subscription_id)
        prev = sub.secret_prev_enc if sub else None
        cipher = batch.ctx.cipher
        target = Target(
            url=sub.url if sub else None,
            secret=cipher.decrypt(sub.secret_enc) if sub else None,
            previous_secret=cipher.decrypt(prev) if prev else None,
            rotation_ends=sub.secret_prev_until if sub else None,
        )
        message = Message(**{**_fields(message), "data": {**message.data, **d.payload}})
    else:
        person = batch.people.get(d.staff_id or 0)
        sms = batch.targets.get((d.school_id or 0, "sms"))
        target = Target(
            openid=person.wechat_openid if person else None,
            phone=person.mobile if person else None,
            options=(sms.options or {}) if sms and d.channel == "sms" else {},
        )
    return Job(d.channel, [d], message, target)


def _robot_job(batch: _Batch, key: str, group: list[Delivery], now: datetime) -> Job | None:
    """The deliveries of one batch to one robot: one message, a digest when there are
    several (each delivery then carries the digest's id)."""
    first = group[0]
    robot = batch.targets.get((first.school_id or 0, first.channel))
    people = batch.people
    mobiles = tuple(sorted({people[d.staff_id].mobile for d in group if d.staff_id in people}))
    notices = [batch.notice(d) for d in group]
    try:
        rendered = (
            render(notices[0], links=batch.links)
            if len(group) == 1
            else render_digest(notices, links=batch.links)
        )
    except TemplateError as exc:
        log.warning("no template for robot %s: %s", key, exc.message)
        return None
    digest = f"digest:{first.id}" if len(group) > 1 else None
    for d in group:
        d.digest_id = digest
    message = rendered.message(event_id=digest or first.idem_key, created_at=now)
    secret = robot.secret_enc if robot else None
    target = Target(
        url=robot.url if robot else None,
        secret=batch.ctx.cipher.decrypt(secret) if secret else None,
        mobiles=mobiles,
    )
    return Job(first.channel, group, message, target)


# A delivery whose message was rendered when it was written (guardian notices, app.guardians):
# payload {"message": {...}, "phone": ..., "openid": ..., "route": [...], "index": n}.
PRERENDERED = "message"


def prerendered_job(d: Delivery, sms: ChannelTarget | None) -> Job:
    m: dict[str, Any] = d.payload[PRERENDERED]
    message = Message(
        event_id=d.idem_key,
        event_type=str(m.get("event_type", "")),
        title=str(m.get("title", "")),
        markdown=str(m.get("text", "")),
        text=str(m.get("text", "")),
        created_at=d.created_at,
        link=m.get("link"),
        page=m.get("page"),
        params={str(k): str(v) for k, v in (m.get("params") or {}).items()},
    )
    target = Target(
        openid=d.payload.get("openid"),
        phone=d.payload.get("phone"),
        options=(sms.options or {}) if sms and d.channel == "sms" else {},
    )
    return Job(d.channel, [d], message, target)


def _fields(message: Message) -> dict[str, Any]:
    return {f: getattr(message, f) for f in Message.__dataclass_fields__}
