"""The measures job reads each student's days pivoted and thinned by the database (the days
present at 晨检 left out): on random rolls — three checks, gaps, late, leave of mixed types,
days never recorded — its stored figures equal those of the whole marks read into Python, as
the job did before (issue 20's bench cut). The marks are derived from the events (migration
0035): each check has one to three events, the latest (ties: the larger id) its mark."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
from sqlmodel import col, delete, select

from app.alerts.county_rules import rules_for
from app.calendar.repository import school_refs
from app.context import AppContext
from app.db.models import AbsenceMeasure, AttendanceEvent, Student
from app.domain.absence_measures import measure
from app.domain.attendance import CHECK_ORDER, Check, Mark
from app.reports import measures
from app.reports.measures_repo import Pupil
from tests.helpers import TUESDAY, rows
from tests.reports.test_measures import add_term, school_days
from tests.world import World

STATUSES = ("present",) * 12 + ("absent", "absent", "late", "leave")
LEAVE_TYPES = (None, "sick", "personal", "other")


def _random_events(
    rng: random.Random, pupils: dict[int, int], days: list[date]
) -> list[AttendanceEvent]:
    events = []
    now = datetime.now(UTC)
    for sid, class_id in pupils.items():
        start = rng.randrange(len(days) // 2)  # some join mid-term
        for d in days[start:]:
            if rng.random() < 0.05:
                continue  # a day never recorded
            for check in CHECK_ORDER:
                if check is not Check.morning and rng.random() < 0.5:
                    continue  # noon / dismissal often not taken
                for _ in range(rng.choice((1, 1, 1, 2, 3))):  # some corrected, some tied
                    status = rng.choice(STATUSES)
                    events.append(
                        AttendanceEvent(
                            event_id=str(uuid.UUID(int=rng.getrandbits(128))),
                            content_hash=b"\0" * 16,
                            student_id=sid,
                            school_date=d,
                            check=check.value,
                            school_id=0,
                            class_id=class_id,
                            status=status,
                            leave_type=rng.choice(LEAVE_TYPES) if status == "leave" else None,
                            occurred_at=now - timedelta(seconds=rng.randrange(3)),
                            recorded_by_kind="staff",
                            recorded_by_id=1,
                            recorded_by_name="t",
                            received_at=now,
                        )
                    )
    return events


async def _old_path(ctx: AppContext, school_id: int, pupils: dict[int, int]) -> dict[int, tuple]:  # type: ignore[type-arg]
    """Every event into Python, the latest of each check its mark, the earliest check's leave
    type, then the same days and rules."""
    async with ctx.uow() as uow:
        ref = (await school_refs(uow.session, {school_id}))[school_id]
        rules = (await rules_for(uow.session, ref.county_id, school_id)).measure_rules()
        events = list(await uow.session.exec(select(AttendanceEvent)))
    latest: dict[tuple[int, date, str], AttendanceEvent] = {}
    for e in events:
        key = (e.student_id, e.school_date, e.check)
        if key not in latest or (e.occurred_at, e.event_id) > (
            latest[key].occurred_at,
            latest[key].event_id,
        ):
            latest[key] = e
    found = list(latest.values())
    today = TUESDAY
    days = ref.calendar.school_days_between(date(2026, 9, 1), today)
    marks: dict[int, dict[date, dict[Check, Mark]]] = {}
    typed: dict[int, dict[date, tuple[int, str]]] = {}
    order = {c.value: i for i, c in enumerate(CHECK_ORDER)}
    for m in found:
        marks.setdefault(m.student_id, {}).setdefault(m.school_date, {})[Check(m.check)] = Mark(
            m.status
        )
        if m.leave_type and m.status == "leave":
            t = typed.setdefault(m.student_id, {})
            if m.school_date not in t or order[m.check] < t[m.school_date][0]:
                t[m.school_date] = (order[m.check], m.leave_type)
    out = {}
    now = datetime.now(UTC)
    for sid in pupils:
        leave_marks = {d: kind for d, (_, kind) in typed.get(sid, {}).items()}
        got = measure(
            measures.student_days(days, today, marks.get(sid, {}), {}, False, leave_marks), rules
        )
        row = measures._row(Pupil(sid, 0, 0, False, False), school_id, 0, today, got, now)
        out[sid] = _figures(row)
    return out


def _figures(row: dict) -> tuple:  # type: ignore[type-arg]
    keys = (
        "school_days", "absent_days", "leave_days", "late_days", "rate", "band", "chronic",
        "intermittent", "window_days", "window_absent", "window_rate", "window_band",
        "previous_rate",
    )  # fmt: skip
    return tuple(row[k] for k in keys)


async def test_the_thinned_days_give_the_figures_of_every_mark(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await add_term(client, world)
    for i in range(8):
        await world.add_student(f"extra_{i}", "class_A1", 50 + i)
    school_id = world.ids["school_A"]
    async with ctx.uow() as uow:
        found = await uow.session.exec(
            select(Student.id, Student.class_id).where(Student.school_id == school_id)
        )
        pupils = {sid: cid for sid, cid in found if sid is not None}
    days = await school_days(ctx, world, date(2026, 9, 1), TUESDAY)
    for seed in range(3):
        rng = random.Random(seed)
        async with ctx.uow() as uow:
            await uow.session.exec(delete(AttendanceEvent))  # type: ignore[call-overload]
            uow.session.add_all(_random_events(rng, pupils, days))
            await uow.commit()
        await measures.compute_all(ctx)
        stored = await rows(ctx, AbsenceMeasure, col(AbsenceMeasure.school_id) == school_id)
        got = {r.student_id: _figures(r.model_dump()) for r in stored}
        assert got == await _old_path(ctx, school_id, pupils), seed
        assert any(f[1] for f in got.values()) and any(f[2] for f in got.values())
