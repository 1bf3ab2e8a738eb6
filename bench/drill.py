"""A drilled term at one school: how long it takes, and what fired in it.

A fresh database (``KCBX_BENCH_DRILL_URL``: PostgreSQL, recreated; or a ``sqlite+aiosqlite``
file, removed first) with one primary school of ``BENCH_DRILL_CLASSES`` classes (12) of
``BENCH_DRILL_STUDENTS`` (45), its head teachers, principal and vice principal, and the autumn
term 2026-08-31 … 2027-01-22 with the National Day week off. The clock starts at
2026-08-31 07:00 (Beijing) and the county drills the term as a client would: on every school
day it moves the clock to each check, the head teachers post the roll, and the clock goes on.

- Class 1 never takes its noon roll (a reminder each school day);
- one child is absent on Mondays (a blue case a week), one is absent three days running once a
  month (yellow then red: phone, report, verification, home visit and re-enrolment deadlines,
  tasks and their reminders and escalations), the rest present.

Printed: the drill's wall time (and the part spent inside clock moves), moments stepped, and
what fired (the moves' own summaries, and the notices and deadlines in the database).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.engine import make_url
from sqlmodel import select

from app.attendance import intake as attendance
from app.calendar import service as calendar
from app.calendar.repository import calendars_for
from app.calendar.schemas import TermBreakIn, TermIn
from app.context import AppContext
from app.core.clock import SharedClock
from app.db import migrations
from app.db.models import Deadline, Notification
from app.domain.access import Actor, ActorKind
from app.domain.idcard import check_character
from app.domain.roles import Role
from app.jobs import sim_clock
from app.jobs.schemas import ClockMove
from app.org import service as org
from app.org import staff
from app.org.schemas import ClassIn, CountyIn, GradeIn, SchoolIn, SchoolKind, TownshipIn
from app.org.staff_schemas import GrantIn, StaffIn
from app.roster import students
from app.roster.schemas import GuardianIn, StudentIn
from app.settings import Settings
from bench.db import fresh_database

URL = os.environ.get(
    "KCBX_BENCH_DRILL_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/kcbx_bench_drill"
)
CLASSES = int(os.environ.get("BENCH_DRILL_CLASSES", "12"))
STUDENTS = int(os.environ.get("BENCH_DRILL_STUDENTS", "45"))
ZONE = ZoneInfo("Asia/Shanghai")
TERM_START = date(2026, 8, 31)
# The term drilled may be cut short (the smoke drills two weeks): the National Day week is
# off only when the term reaches it.
TERM_END = date.fromisoformat(os.environ.get("BENCH_DRILL_TERM_END", "2027-01-22"))
NATIONAL_DAY = (date(2026, 10, 1), date(2026, 10, 7))
# The bench smoke's size (bench/smoke.py): two weeks of two classes of two (class 2's child
# is the one absent three days running), its own database.
SMOKE = {
    "KCBX_BENCH_DRILL_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/kcbx_smoke_drill",
    "BENCH_DRILL_CLASSES": "2",
    "BENCH_DRILL_STUDENTS": "2",
    "BENCH_DRILL_TERM_END": "2026-09-11",
}
# Issue 24 sets no figure for the drill; README (Drills): a term in minutes. Its ratio is the
# simulated time drilled per second of wall time.
GOAL_MINUTES = 10
OPS = Actor(kind=ActorKind.staff, id=0, name="运维", superuser=True)
CHECKS = (("morning", dtime(8, 0)), ("noon", dtime(13, 30)), ("dismissal", dtime(16, 30)))


def _id_number(seq: int) -> str:
    first17 = f"5301{seq // 500 % 100:02d}20170307{seq % 500 * 2 + 1:03d}"[:17]
    return first17 + check_character(first17)


async def _fresh(url: str) -> None:
    if url.startswith("sqlite"):
        path = Path(make_url(url).database or "")
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            p.unlink(missing_ok=True)
        await asyncio.to_thread(migrations.upgrade, url)
    else:
        await fresh_database(url)


async def _school(ctx: AppContext) -> tuple[int, list[list[int]]]:
    async with ctx.uow() as uow:
        county = await org.create_county(uow, OPS, CountyIn(name="演练县", code="DRILL"))
    async with ctx.uow() as uow:
        town = await org.create_township(uow, OPS, TownshipIn(county_id=county.id, name="镇"))
    async with ctx.uow() as uow:
        school = await org.create_school(
            uow,
            OPS,
            SchoolIn(township_id=town.id, name="演练小学", code="D1", kind=SchoolKind.primary),
        )
    async with ctx.uow() as uow:
        term = TermIn(
            name="秋季学期",
            start_date=TERM_START,
            end_date=TERM_END,
            breaks=[
                TermBreakIn(name="国庆节", start_date=NATIONAL_DAY[0], end_date=NATIONAL_DAY[1])
            ]
            if NATIONAL_DAY[1] <= TERM_END
            else [],
        )
        await calendar.create_term(uow, OPS, school.id, term)
    async with ctx.uow() as uow:
        grade = await org.create_grade(uow, OPS, GradeIn(school_id=school.id, level=3))
    mobile = iter(range(13900000000, 13999999999))
    for role in (Role.principal, Role.vice_principal):
        async with ctx.uow() as uow:
            await staff.create_staff(
                uow,
                OPS,
                StaffIn(
                    school_id=school.id,
                    name=role.value[:10],
                    mobile=str(next(mobile)),
                    roles=[GrantIn(role=role, school_id=school.id)],
                ),
            )
    classes: list[list[int]] = []
    seq = 0
    for c in range(CLASSES):
        async with ctx.uow() as uow:
            klass = await org.create_class(uow, OPS, ClassIn(grade_id=grade.id, name=f"{c + 1}班"))
        async with ctx.uow() as uow:
            await staff.create_staff(
                uow,
                OPS,
                StaffIn(
                    school_id=school.id,
                    name=f"班主任{c + 1}",
                    mobile=str(next(mobile)),
                    roles=[GrantIn(role=Role.head_teacher, class_id=klass.id)],
                ),
            )
        ids = []
        for _ in range(STUDENTS):
            seq += 1
            number = _id_number(seq)
            data = StudentIn(
                class_id=klass.id,
                name=f"学生{seq}",
                student_no=f"G{number}",
                id_number=number,
                guardians=[GuardianIn(name="家长", relation="母亲", mobile=str(next(mobile)))],
            )
            async with ctx.uow() as uow:
                ids.append((await students.create_student(uow, ctx, OPS, data)).id)
        classes.append(ids)
    return school.id, classes


def _absent(day: date, index: int, student: int, classes: list[list[int]]) -> bool:
    if student == classes[0][0]:  # absent on Mondays
        return day.weekday() == 0
    if student == classes[1][0]:  # three days running, the first school days of each month
        return 1 <= day.day <= 5 and index < 3
    return False


async def main() -> None:
    await _fresh(URL)
    start = datetime.combine(TERM_START, dtime(7, 0), ZONE)
    settings = Settings(
        environment="test",
        database_url=URL,
        simulation_clock=True,
        simulation_clock_start=start,
        seed_demo=False,
    )
    ctx = AppContext.from_settings(settings)
    ctx.clock = SharedClock()
    try:
        await sim_clock.attach(ctx)
        school_id, classes = await _school(ctx)
        async with ctx.uow() as uow:
            cal = (await calendars_for(uow.session, [school_id]))[school_id]
        t0 = time.perf_counter()
        in_moves = 0.0
        moments = 0
        totals: Counter[str] = Counter()
        job_seconds: Counter[str] = Counter()
        month_index: dict[int, int] = {}

        async def move_to(when: datetime) -> None:
            nonlocal in_moves, moments
            t = time.perf_counter()
            out = await sim_clock.move_clock(ctx, OPS, ClockMove(set=when))
            in_moves += time.perf_counter() - t
            moments += int(out.drill.get("moments", 0))
            for k, v in out.drill.items():
                if isinstance(v, int) and k != "moments":
                    totals[k] += v
            for k, v in out.drill["job_seconds"].items():
                job_seconds[k] += v

        day = TERM_START
        school_days = events = 0
        while day <= TERM_END:
            if cal.is_school_day(day):
                school_days += 1
                index = month_index.get(day.month, 0)
                month_index[day.month] = index + 1
                for check, at in CHECKS:
                    when = datetime.combine(day, at, ZONE) + timedelta(minutes=5)
                    await move_to(when)
                    batch: list[dict[str, Any]] = []
                    for c, ids in enumerate(classes):
                        if c == 0 and check == "noon":
                            continue  # class 1 never takes its noon roll
                        batch += [
                            {
                                "event_id": str(uuid.uuid4()),
                                "student_id": sid,
                                "school_date": day.isoformat(),
                                "check": check,
                                "status": "absent"
                                if _absent(day, index, sid, classes)
                                else "present",
                                "occurred_at": when.isoformat(),
                            }
                            for sid in ids
                        ]
                    async with ctx.uow() as uow:
                        await attendance.record_events(uow, ctx, OPS, batch)
                    events += len(batch)
            day += timedelta(days=1)
        await move_to(datetime.combine(TERM_END + timedelta(days=7), dtime(8, 0), ZONE))
        wall = time.perf_counter() - t0
        async with ctx.uow() as uow:
            topics = dict(
                (
                    await uow.session.exec(
                        select(Notification.topic, func.count()).group_by(Notification.topic)
                    )
                ).all()
            )
            kinds = dict(
                (
                    await uow.session.exec(
                        select(Deadline.kind, func.count())
                        .where(Deadline.state == "fired")
                        .group_by(Deadline.kind)
                    )
                ).all()
            )
            late = (
                await uow.session.exec(
                    select(func.count()).where(
                        Deadline.state == "fired", Deadline.fired_at != Deadline.due_at
                    )
                )
            ).one()
    finally:
        await ctx.close()
    dialect = "sqlite" if URL.startswith("sqlite") else "postgresql"
    print(f"drill of a term at one school ({dialect}), {TERM_START} … {TERM_END}:")
    print(
        f"  {CLASSES} classes × {STUDENTS} students, {school_days} school days, "
        f"{events:,} roll marks posted between {school_days * 3 + 1} clock moves"
    )
    print(
        f"  wall time {wall:.1f} s, of which inside clock moves {in_moves:.1f} s "
        f"({moments} moments stepped, {in_moves / max(moments, 1) * 1000:.1f} ms each)"
    )
    print(f"  moves' summaries: {dict(sorted(totals.items()))}")
    print(f"  seconds per job: { {k: round(v, 1) for k, v in job_seconds.most_common()} }")
    print(f"  notifications by topic: {dict(sorted(topics.items()))}")
    print(f"  deadlines fired by kind: {dict(sorted(kinds.items()))}")
    print(f"  deadlines fired off their due time: {late}")
    drilled = (TERM_END + timedelta(days=7) - TERM_START).days
    print(
        f"ratio simulated / wall time: {drilled * 86400 / wall:,.0f}x "
        f"({drilled} days in {wall:.1f} s; goal a term in < {GOAL_MINUTES} min)"
    )


if __name__ == "__main__":
    asyncio.run(main())
