"""Guardian notices (issue 22 item 1): after each school's morning check plus its grace
period, the guardians of every student absent without leave or explanation get one message —
one per guardian (mobile) per school and day, siblings in one digest.

Decisions:
- "without leave or explanation" is the engine's own judgement: an open case whose run
  includes today; a student with a pending leave (a report ahead, a guardian's answer)
  covering today is left out too — the family has explained;
- nothing is sent during the school's quiet hours (default 21:00–07:00); a notice not sent by
  then is not sent later (it names today);
- a notice is written once per (school, day, mobile) (unique key): a re-run, or a second
  engine process, writes nothing twice. Siblings at two schools get one message from each;
- channels are the school's guardian channels in order, minus the guardian's opt-outs and
  WeChat where no guardian account signed in with this mobile (or the parents' mini-program
  is not configured). WeChat is the parents' mini-program's subscribe message: a guardian who
  has not subscribed (or whose one-time subscription is used up) is refused by WeChat with
  43101, and the worker falls back to the next channel (SMS). Each is a delivery row (the
  outbox) carrying the rendered message, so the delivery worker sends it with its leases,
  receipts and retries, and a dead letter falls back to the next channel. All this runs in
  its own transaction per school, after the roll's: a failure here never blocks the roll or
  the staff escalation;
- the text names the school and the check and the children's names masked as the school
  chose — never a reason or a diagnosis.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.context import AppContext
from app.db.models import GuardianNotice, GuardianSettings, School
from app.delivery import repository as delivery_repo
from app.delivery.channels.config import PARENTS_WECHAT
from app.delivery.dispatch import in_quiet_hours
from app.domain.delivery import DeliveryState
from app.guardians import repository as repo
from app.guardians.links import make_token
from app.guardians.masking import masked
from app.roster import repository as roster_repo

log = logging.getLogger("kcbx.guardians")
TOPIC = "guardian.absence"
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normal_mobile(raw: str) -> str | None:
    number = re.sub(r"[\s-]", "", raw)
    return number if _MOBILE.match(number) else None


def group_families(mobiles_by_student: Mapping[int, Sequence[str]]) -> dict[str, list[int]]:
    """Mobile → the children it is guardian of (sorted): one digest per guardian. Numbers
    that are not mainland mobiles are left out; a number given twice for one child counts
    once."""
    families: dict[str, set[int]] = {}
    for sid, mobiles in mobiles_by_student.items():
        for raw in mobiles:
            mobile = normal_mobile(raw)
            if mobile:
                families.setdefault(mobile, set()).add(sid)
    return {m: sorted(kids) for m, kids in families.items()}


async def send_guardian_notices(ctx: AppContext) -> int:
    """The periodic job: every enabled school, each on its own."""
    async with ctx.uow() as uow:
        schools = await repo.enabled_schools(uow.session)
    written = 0
    for config, school in schools:
        try:
            written += await notify_school(ctx, config, school)
        except Exception:  # one school's failure never stops another's
            log.exception("guardian notices of school %s failed", school.id)
    return written


def _due(config: GuardianSettings, school: School, now: datetime) -> bool:
    zone = ZoneInfo(school.timezone)
    local = now.astimezone(zone)
    start = datetime.combine(local.date(), school.morning_check, zone)
    if now < start + timedelta(minutes=config.grace_minutes):
        return False
    return not in_quiet_hours(local.time(), config.quiet_start, config.quiet_end)


async def notify_school(ctx: AppContext, config: GuardianSettings, school: School) -> int:
    now = ctx.clock()
    if not _due(config, school, now):
        return 0
    settings = ctx.settings
    wechat_ready = bool(
        settings.guardian_wechat_appid
        and settings.guardian_wechat_secret.get_secret_value()
        and settings.guardian_wechat_template
    )
    day = now.astimezone(ZoneInfo(school.timezone)).date()
    async with ctx.uow() as uow:
        s = uow.session
        cases = await repo.unexplained_on(s, school.id or 0, day)
        ids = {c.student_id for c in cases}
        ids -= await repo.covered_by_leave(s, ids, day)
        people = await roster_repo.guardians_of(s, sorted(ids))
        families = group_families({sid: [g.mobile for g in gs] for sid, gs in people.items()})
        done = await repo.noticed(s, school.id or 0, day)
        outs = await repo.opt_outs(s, families)
        pupils = await repo.students(s, ids)
        openids = await repo.openids(s, families)
        rows: list[dict[str, Any]] = []
        written = 0
        for mobile, kids in sorted(families.items()):
            if mobile in done:
                continue
            channels = [
                c
                for c in config.channels
                if c not in outs.get(mobile, set())
                # WeChat only to a guardian signed in to the parents' mini-program with this
                # mobile, and only where that mini-program can send (appid, secret, template).
                and (c != "wechat" or (wechat_ready and mobile in openids))
            ]
            expires = ctx.wall_clock() + timedelta(hours=ctx.settings.guardian_link_hours)
            notice = GuardianNotice(
                school_id=school.id or 0,
                school_date=day,
                mobile=mobile,
                student_ids=sorted(kids),
                channels=channels,
                created_at=now,
                link_expires_at=expires,
            )
            s.add(notice)
            await uow.flush()
            written += 1
            if not channels:
                continue
            names = "、".join(masked(pupils[k].name, config.name_mask) for k in sorted(kids))
            token = make_token(ctx.settings.secret_key, notice.id or 0, mobile, day, expires)
            message = _message(school, names, token, ctx, now)
            rows.append(_row(notice, channels, message, openids.get(mobile), now))
        await delivery_repo.add_deliveries(s, rows)
        await uow.commit()
    return written


def _message(
    school: School, names: str, token: str, ctx: AppContext, now: datetime
) -> dict[str, Any]:
    check = f"晨检 {school.morning_check:%H:%M}"
    local = now.astimezone(ZoneInfo(school.timezone))
    link = ctx.settings.guardian_answer_url.format(token=token)
    text = (
        f"【{school.name}】{check}:您的孩子{names}今日未到校,学校未收到请假。"
        f"请点击链接告诉学校原因:{link}"
    )
    return {
        "event_type": TOPIC,
        "title": "孩子未到校",
        "text": text,
        "link": link,
        "page": f"pages/answer/index?t={token}",
        "params": {
            "school": school.name,
            "students": names,
            "check": check,
            "link": link,
            "code": token,
            # For a subscribe-message template's time and phrase keywords (school time).
            "at_full": f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}",
            "topic": "未到校",
        },
    }


def _row(
    notice: GuardianNotice,
    channels: list[str],
    message: dict[str, Any],
    openid: str | None,
    now: datetime,
) -> dict[str, Any]:
    key = f"g{notice.id}"
    who = f"guardian:{notice.mobile}"
    # The school's guardian channel "wechat" is the parents' mini-program, not the staff one.
    route = [PARENTS_WECHAT if c == "wechat" else c for c in channels]
    return {
        "idem_key": f"{key}:{route[0]}",
        "channel": route[0],
        "target_key": f"{route[0]}:{who}",
        "school_id": notice.school_id,
        "state": DeliveryState.pending.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "payload": {
            "message": message,
            "phone": notice.mobile,
            "openid": openid,
            "route": route,
            "index": 0,
            "key": key,
            "who": who,
            "guardian_notice_id": notice.id,
        },
    }
