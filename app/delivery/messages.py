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
from app.db.models import ChannelTarget, Delivery
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


async def build_jobs(
    ctx: AppContext, links: Links, s: Any, live: list[Delivery], now: datetime
) -> list[Job]:
    notes = await repo.notifications(s, {d.notification_id for d in live if d.notification_id})
    alerts = await repo.alerts(s, {n.alert_id for n in notes.values() if n.alert_id})
    people = await repo.staff(s, {d.staff_id for d in live if d.staff_id})
    pupils = await repo.students_and_classes(
        s, {n.student_id for n in notes.values() if n.student_id}
    )
    schools = await repo.schools(s, {d.school_id for d in live if d.school_id})
    targets = await repo.targets(s, {d.school_id for d in live if d.school_id})
    subs = await repo.subscriptions_by_id(s, {d.subscription_id for d in live if d.subscription_id})
    jobs: list[Job] = []
    robots: dict[str, list[Delivery]] = defaultdict(list)

    def notice(d: Delivery) -> Notice:
        n = notes.get(d.notification_id or 0)
        school = schools.get(d.school_id or 0)
        pupil = pupils.get(n.student_id or 0, ("", "")) if n else ("", "")
        alert = alerts.get(n.alert_id or 0) if n else None
        return Notice(
            topic=n.topic if n else d.payload.get("topic", "alert.raised"),
            school=school.name if school else "",
            class_name=pupil[1],
            student_name=pupil[0],
            level=n.level if n else d.level,
            reason=n.title if n else "",
            due_at=alert.verify_due if alert and n and n.topic == "alert.raised" else None,
            timezone=school.timezone if school else ctx.settings.default_timezone,
            case_id=d.case_id,
            alert_id=d.alert_id,
            created_at=n.created_at if n else d.created_at,
        )

    for d in live:
        if PRERENDERED in d.payload:
            jobs.append(prerendered_job(d, targets.get((d.school_id or 0, "sms"))))
            continue
        if d.channel in ROBOT_CHANNELS:
            robots[d.target_key].append(d)
            continue
        try:
            rendered = render(notice(d), links=links)
        except TemplateError as exc:
            log.warning("no template for delivery %s: %s", d.id, exc.message)
            rendered = None
        event_id = d.event_id or d.idem_key
        if rendered is None:
            continue
        message = rendered.message(event_id=event_id, created_at=d.created_at)
        if d.subscription_id is not None:
            sub = subs.get(d.subscription_id)
            prev = sub.secret_prev_enc if sub else None
            target = Target(
                url=sub.url if sub else None,
                secret=ctx.cipher.decrypt(sub.secret_enc) if sub else None,
                previous_secret=ctx.cipher.decrypt(prev) if prev else None,
                rotation_ends=sub.secret_prev_until if sub else None,
            )
            message = Message(**{**_fields(message), "data": {**message.data, **d.payload}})
        else:
            person = people.get(d.staff_id or 0)
            sms = targets.get((d.school_id or 0, "sms"))
            target = Target(
                openid=person.wechat_openid if person else None,
                phone=person.mobile if person else None,
                options=(sms.options or {}) if sms and d.channel == "sms" else {},
            )
        jobs.append(Job(d.channel, [d], message, target))
    for key, group in robots.items():
        first = group[0]
        robot = targets.get((first.school_id or 0, first.channel))
        mobiles = tuple(sorted({people[d.staff_id].mobile for d in group if d.staff_id in people}))
        notices = [notice(d) for d in group]
        try:
            rendered = (
                render(notices[0], links=links)
                if len(group) == 1
                else render_digest(notices, links=links)
            )
        except TemplateError as exc:
            log.warning("no template for robot %s: %s", key, exc.message)
            continue
        digest = f"digest:{first.id}" if len(group) > 1 else None
        for d in group:
            d.digest_id = digest
        message = rendered.message(event_id=digest or first.idem_key, created_at=now)
        target = Target(
            url=robot.url if robot else None,
            secret=ctx.cipher.decrypt(robot.secret_enc) if robot and robot.secret_enc else None,
            mobiles=mobiles,
        )
        jobs.append(Job(first.channel, group, message, target))
    return jobs


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
