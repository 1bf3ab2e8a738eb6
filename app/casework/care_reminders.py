"""Reminds a mentor (成长导师) whose special-group student has had no care contact recorded
for ``care_contact_days`` (the county's rule, 30 by default) since the later of the
assignment and the last contact. One notice per mentor, student and silent period: the
notice's key names the day the period began, so a contact recorded starts a new period and
nothing is sent twice however often the check runs. The notice goes to the mentor's inbox
(it has no role of the delivery routes: a mentor is chosen per student)."""

from __future__ import annotations

from datetime import timedelta

from app.alerts.county_rules import CountyRules, rules_for
from app.calendar.repository import school_refs
from app.casework.care_repo import current_mentors
from app.context import AppContext
from app.core.time import local_today
from app.delivery import outbox
from app.delivery.outbox import Notice


async def remind_mentors(ctx: AppContext) -> int:
    """Write the notices due now; returns how many were due (a notice already written for
    the same period is not written again)."""
    now = ctx.clock()
    async with ctx.uow() as uow:
        mentors = await current_mentors(uow.session)
        schools = await school_refs(uow.session, {m.school_id for m in mentors})
        rules: dict[int, CountyRules] = {}
        rows = []
        for m in mentors:
            school = schools[m.school_id]
            if m.school_id not in rules:
                rules[m.school_id] = await rules_for(uow.session, school.county_id, m.school_id)
            days = rules[m.school_id].care_contact_days
            start = m.last_contact or m.since
            if local_today(school, now) <= start + timedelta(days=days):
                continue
            rows.append(
                Notice(
                    idem_key=f"care:{m.assignment_id}:{start.isoformat()}:{m.staff_id}",
                    staff_id=m.staff_id,
                    topic="care.due",
                    title=f"{m.student_name} 已超过 {days} 天未记录关爱联系",
                    student_id=m.student_id,
                    school_id=m.school_id,
                    created_at=now,
                )
            )
        await outbox.enqueue(uow.session, rows)
        await uow.commit()
    return len(rows)
