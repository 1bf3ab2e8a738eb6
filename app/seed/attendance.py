"""Demo attendance: the last school days' morning roll for the demo primary school, with a few
absences so the alert engine has blue, yellow and red cases to show, and on the last day three
children of the first class on sick leave with 发热+咳嗽 since the evening before, so the
illness surveillance has a class cluster (疫情预警) to show in the console."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.attendance import intake as attendance
from app.attendance.repository import school_students
from app.calendar.repository import school_refs
from app.context import AppContext
from app.domain.access import Actor, ActorKind
from app.illness.detection import look_at_changed_days

_SEED = Actor(kind=ActorKind.staff, id=0, name="演示数据", superuser=True)


async def seed_demo_attendance(ctx: AppContext, school_id: int) -> None:
    async with ctx.uow() as uow:
        school = (await school_refs(uow.session, [school_id]))[school_id]
        students = await school_students(uow.session, school_id, None)
    zone = ZoneInfo(school.timezone)
    now = ctx.clock()
    today = now.astimezone(zone).date()
    days: list[date] = []
    d = (
        today
        if school.calendar.is_school_day(today)
        else school.calendar.previous_school_day(today)
    )
    while d is not None and len(days) < 3:
        days.insert(0, d)
        d = school.calendar.previous_school_day(d)
    # Student 0 absent three days (red), 1 the last two (yellow), 2 only the last (blue).
    absent_from = {students[0].id: 0, students[1].id: 1, students[2].id: 2}
    sick = {s.id for s in students[3:] if s.class_id == students[0].class_id}
    sick = set(sorted(sick)[:3])
    for i, day in enumerate(days):
        at = datetime.combine(day, time(8, 5), zone)
        if at > now:
            at = now
        last = i == len(days) - 1
        events: list[dict[str, Any]] = []
        for s in students:
            event: dict[str, Any] = {
                "event_id": str(uuid.uuid4()),
                "student_id": s.id,
                "school_date": day.isoformat(),
                "check": "morning",
                "status": "absent" if i >= absent_from.get(s.id, 99) else "present",
                "occurred_at": at.isoformat(),
            }
            if last and s.id in sick:
                onset = datetime.combine(day - timedelta(days=1), time(20, 0), zone)
                event |= {
                    "status": "leave",
                    "leave_type": "sick",
                    "illness": {"symptoms": ["fever", "cough"], "onset_at": onset.isoformat()},
                }
            events.append(event)
        async with ctx.uow() as uow:
            await attendance.record_events(uow, ctx, _SEED, events)
    # What the engine's illness-clusters job does within a minute, done now: the console
    # shows the cluster as soon as the demo is up.
    await look_at_changed_days(ctx)
