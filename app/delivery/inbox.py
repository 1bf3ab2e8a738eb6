"""消息 (the in-app inbox): each staff member's own notices from the engine's outbox.

Decisions:
- the inbox is a person's: an API key has none (403), and another person's notice answers
  404 like anything else outside one's scope;
- listing is newest first; ``unread=true`` lists unread notices only, ``unread=false`` read
  ones; the answer always carries the caller's total unread count;
- reading and acknowledging are idempotent: the first time is kept;
- acknowledging a notice (收到) also marks it read, and records on its alert, if it has one
  and nobody acknowledged that alert yet, who acknowledged it and when. It is not verifying
  (核查) the alert: the alert's status does not change. The alert's case is locked while
  the alert is written, the same lock every other case write takes.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.context import AppContext
from app.db.models import Notification
from app.db.uow import UnitOfWork
from app.delivery import inbox_repo as repo
from app.delivery import repository as delivery_repo
from app.delivery.schemas import TOPIC_LABELS, InboxPage, NotificationOut
from app.delivery.templates import Notice, render
from app.delivery.wording import TemplateError
from app.domain.access import Actor, ActorKind
from app.domain.calendar import DEFAULT_TIMEZONE
from app.domain.cases import LEVEL_LABELS, Level
from app.domain.roles import ROLE_LABELS, Role
from app.errors import Forbidden, NotFound
from app.org.staff_repo import staff_names
from app.roster.repository import student_names

_NO_INBOX = "API 密钥没有消息箱 (API keys have no inbox)"


async def notification_outs(uow: UnitOfWork, rows: Sequence[Notification]) -> list[NotificationOut]:
    staff = await staff_names(uow.session, {n.staff_id for n in rows})
    students = await student_names(
        uow.session, {n.student_id for n in rows if n.student_id is not None}
    )
    bodies = await _bodies(uow, [n for n in rows if not n.body])
    return [_out(n, staff, students, bodies) for n in rows]


async def _bodies(uow: UnitOfWork, rows: Sequence[Notification]) -> dict[int, str]:
    """The body a notice stored without one reads in the inbox: the text the channels send
    (企业微信, SMS, …) rendered from the same Chinese template, without its title line (the
    inbox shows the title beside it). A notice no template renders keeps an empty body."""
    s = uow.session
    pupils = await delivery_repo.students_and_classes(
        s, {n.student_id for n in rows if n.student_id}
    )
    schools = await delivery_repo.schools(s, {n.school_id for n in rows if n.school_id})
    alerts = await delivery_repo.alerts(s, {n.alert_id for n in rows if n.alert_id})
    out: dict[int, str] = {}
    for n in rows:
        school = schools.get(n.school_id or 0)
        name, class_name = pupils.get(n.student_id or 0, ("", ""))
        alert = alerts.get(n.alert_id or 0)
        notice = Notice(
            topic=n.topic,
            school=school.name if school else "",
            class_name=class_name,
            student_name=name,
            level=n.level,
            reason=n.title,
            due_at=alert.verify_due if alert and n.topic == "alert.raised" else None,
            timezone=school.timezone if school else DEFAULT_TIMEZONE,
            case_id=n.case_id,
            alert_id=n.alert_id,
            created_at=n.created_at,
        )
        try:
            text = render(notice).text
        except TemplateError:
            continue
        out[n.id or 0] = text.split("\n", 1)[1] if "\n" in text else text
    return out


def _out(
    n: Notification, staff: dict[int, str], students: dict[int, str], bodies: dict[int, str]
) -> NotificationOut:
    assert n.id is not None
    level = Level(n.level) if n.level else None
    role = Role(n.role) if n.role else None
    return NotificationOut(
        id=n.id,
        staff_id=n.staff_id,
        staff_name=staff.get(n.staff_id, ""),
        role=role,
        role_label=ROLE_LABELS[role] if role else None,
        topic=n.topic,
        topic_label=TOPIC_LABELS.get(n.topic, n.topic),
        title=n.title,
        body=n.body or bodies.get(n.id, ""),
        level=level,
        level_label=LEVEL_LABELS[level] if level else None,
        case_id=n.case_id,
        alert_id=n.alert_id,
        student_id=n.student_id,
        student_name=students.get(n.student_id) if n.student_id is not None else None,
        school_id=n.school_id,
        created_at=n.created_at,
        read_at=n.read_at,
        acknowledged_at=n.acknowledged_at,
    )


def _owner(actor: Actor) -> int:
    if actor.kind is not ActorKind.staff:
        raise Forbidden(_NO_INBOX)
    return actor.id


async def _own(uow: UnitOfWork, actor: Actor, notification_id: int) -> Notification:
    staff_id = _owner(actor)
    n = await repo.notification(uow.session, notification_id)
    if n is None or n.staff_id != staff_id:
        raise NotFound("消息", notification_id)
    return n


async def list_inbox(
    uow: UnitOfWork, actor: Actor, *, unread: bool | None, limit: int, offset: int
) -> InboxPage:
    staff_id = _owner(actor)
    rows, total = await repo.inbox(uow.session, staff_id, unread=unread, limit=limit, offset=offset)
    return InboxPage(
        items=await notification_outs(uow, rows),
        total=total,
        limit=limit,
        offset=offset,
        unread=await repo.unread_count(uow.session, staff_id),
    )


async def mark_read(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, notification_id: int
) -> NotificationOut:
    n = await _own(uow, actor, notification_id)
    if n.read_at is None:
        n.read_at = ctx.clock()
        uow.session.add(n)
        await uow.commit()
    return (await notification_outs(uow, [n]))[0]


async def acknowledge(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, notification_id: int
) -> NotificationOut:
    n = await _own(uow, actor, notification_id)
    now = ctx.clock()
    changed = False
    if n.alert_id is not None and n.case_id is not None:
        await repo.case_for_update(uow.session, n.case_id)
        alert = await repo.alert(uow.session, n.alert_id)
        if alert is not None and alert.acknowledged_at is None:
            alert.acknowledged_at = now
            alert.acknowledged_by = actor.tag
            uow.session.add(alert)
            changed = True
    if n.acknowledged_at is None:
        n.acknowledged_at = now
        changed = True
    if n.read_at is None:
        n.read_at = now
        changed = True
    if changed:
        uow.session.add(n)
        await uow.commit()
    return (await notification_outs(uow, [n]))[0]
