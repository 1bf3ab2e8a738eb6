"""The absence-measures job (chronic and intermittent absence, ``app/domain/absence_measures.py``):
for each school, its current term's marks and approved leave read in one statement each, every
student's measures computed, and the results stored in ``absence_measure`` — what the
early-warning list, the student's page and the monthly review read, never the whole history
on each request. Runs hourly in the engine (``absence-measures``) and on demand.

Decisions: a student's school days enrolled are the term's school days up to today (today
only once the student has a mark or leave today), from the student's first recorded day of
the term (a pupil who joined mid-term is not counted absent before); students on the roll
only (学籍 在读 or 复学, active); 送教上门 students are present every day. A school without a
current term has no measures (its rows are kept from the last term until one starts).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from app.alerts.county_rules import rules_for
from app.calendar.repository import SchoolRef, school_refs
from app.context import AppContext
from app.core.time import local_today
from app.db.uow import UnitOfWork
from app.domain.absence_measures import Day, Measure, MeasureRules, measure
from app.domain.attendance import Check, Mark, day_status
from app.org.repository import active_school_ids
from app.reports import measures_repo as repo


def student_days(
    school_days: Sequence[date],
    today: date,
    marks: dict[date, dict[Check, tuple[Mark, str | None]]],
    leave: dict[date, str],
    home_schooled: bool,
) -> list[Day]:
    """One student's days for the measure, from the day statuses of the roll."""
    recorded = marks.keys() | leave.keys()
    if not recorded and not home_schooled:
        return []
    first = min(recorded) if recorded and not home_schooled else school_days[0]
    days: list[Day] = []
    for d in school_days:
        if d < first or (d == today and d not in recorded and not home_schooled):
            continue
        checks = marks.get(d, {})
        status = day_status(
            {c: m for c, (m, _) in checks.items()},
            on_approved_leave=d in leave,
            home_schooled=home_schooled,
        )
        kind = next((t for m, t in checks.values() if m is Mark.leave and t), None)
        days.append(Day(status, kind or leave.get(d)))
    return days


async def compute_school(uow: UnitOfWork, school: SchoolRef, now: datetime) -> int:
    """The school's measures, stored in the caller's transaction; returns how many."""
    session = uow.session
    today = local_today(school, now)
    term = await repo.term_on(session, school.id, today)
    if term is None:
        return 0
    rules = (await rules_for(session, school.county_id, school.id)).measure_rules()
    school_days = school.calendar.school_days_between(term.start, today)
    if not school_days:
        return 0
    marks: dict[int, dict[date, dict[Check, tuple[Mark, str | None]]]] = {}
    for sid, day, check, status, leave_type in await repo.marks(
        session, school.id, term.start, today
    ):
        marks.setdefault(sid, {}).setdefault(day, {})[Check(check)] = (Mark(status), leave_type)
    leave: dict[int, dict[date, str]] = {}
    for sid, first, last, kind in await repo.approved_leave(session, school.id, term.start, today):
        covered = leave.setdefault(sid, {})
        d = max(first, term.start)
        while d <= min(last, today):
            covered.setdefault(d, kind)
            d += timedelta(days=1)
    rows: list[dict[str, Any]] = []
    for pupil in await repo.pupils(session, school.id):
        days = student_days(
            school_days,
            today,
            marks.get(pupil.id, {}),
            leave.get(pupil.id, {}),
            pupil.home_schooled,
        )
        rows.append(_row(pupil, school.id, term.id, today, measure(days, rules), now))
    await repo.replace_school(session, school.id, rows)
    return len(rows)


def _row(
    pupil: repo.Pupil, school_id: int, term_id: int, as_of: date, m: Measure, now: datetime
) -> dict[str, Any]:
    return {
        "student_id": pupil.id,
        "county_id": pupil.county_id,
        "school_id": school_id,
        "class_id": pupil.class_id,
        "term_id": term_id,
        "as_of": as_of,
        "school_days": m.term.school_days,
        "absent_days": m.term.absent_days,
        "leave_days": m.term.leave_days,
        "late_days": m.term.late_days,
        "rate": round(m.term.rate, 6),
        "band": m.band.value,
        "chronic": m.chronic,
        "intermittent": m.intermittent,
        "window_days": m.window.school_days,
        "window_absent": m.window.absent_days,
        "window_rate": round(m.window.rate, 6),
        "window_band": m.window_band.value,
        "previous_rate": None if m.previous_rate is None else round(m.previous_rate, 6),
        "computed_at": now,
    }


async def compute_all(ctx: AppContext) -> int:
    """The periodic job: every active school, one transaction each."""
    now = ctx.clock()
    async with ctx.uow() as uow:
        ids = await active_school_ids(uow.session)
    total = 0
    for school_id in ids:
        async with ctx.uow() as uow:
            refs = await school_refs(uow.session, {school_id})
            if school_id in refs:
                total += await compute_school(uow, refs[school_id], now)
            await uow.commit()
    return total


__all__ = ["MeasureRules", "compute_all", "compute_school", "student_days"]
