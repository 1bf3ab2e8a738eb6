"""The alert engine's reaction to attendance: the roll, a leave or a transfer changed what is
known of some students' days, so their cases are judged again (opened, moved on, reopened, or
their alerts recounted) in the caller's transaction, through the writer in ``app.alerts.engine``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.alerts import engine_repo as repo
from app.alerts import policy as policies
from app.alerts import status_history
from app.alerts.engine import Outbox, apply_effects, copy_into, to_domain
from app.alerts.intake_hints import CaseHints
from app.attendance.leaves_repo import approved_leave_days
from app.attendance.marks_repo import marks_between
from app.attendance.repository import students_brief
from app.calendar.repository import school_refs
from app.context import AppContext
from app.core.time import local_today
from app.db.models import AbsenceCase, Alert
from app.db.uow import UnitOfWork
from app.domain.attendance import Check, DayStatus, Mark, day_status
from app.domain.cases import (
    AttendanceChanged,
    Case,
    CaseStatus,
    Effect,
    Policy,
    recount_closed,
    reopens,
    transition,
)
from app.domain.dropout_status import quiet_obligations
from app.domain.schools import SchoolRef
from app.domain.students import StudentBrief

# How far back a run of absences is looked for: longer than any threshold a county would set.
LOOKBACK_DAYS = 45


async def lock_roll(uow: UnitOfWork, students: Collection[int]) -> None:
    """Before a roll is recorded: one roll at a time per student (on PostgreSQL; SQLite
    serialises writers anyway). Taken before the marks are written and the case hints read,
    so a roll that makes a student present and a simultaneous one that finds them absent (and
    may be opening their case) are judged one after the other, the second seeing what the
    first wrote, and the hints the recording statement finds are exact: then
    ``react_to_attendance(..., locked=True)`` need not lock nor read again the students with
    nothing to judge. Every writer of marks locks first and in student-id order, so two rolls
    cannot deadlock on the marks' rows."""
    await repo.lock_students(uow.session, students)


async def lock_roll_and_brief(
    uow: UnitOfWork, students: Collection[int], brief_of: Collection[int]
) -> dict[int, StudentBrief]:
    """``lock_roll(students)`` and the brief of ``brief_of`` (those not cached) in one round
    trip: the students' cache misses on most rolls (a class posts a few times a day)."""
    return await repo.lock_students_and_brief(uow.session, students, brief_of)


@dataclass
class _Cases:
    """The cases a roll judges, locked: each student's open (or relapsing) case, and closed
    cases whose standing alerts a correction may take away."""

    by_student: dict[int, AbsenceCase]
    closed: list[AbsenceCase]
    # Students asked about for corrections (their leave is looked up too).
    asked: set[int]


@dataclass
class _Judging:
    """What judging one roll's students needs, read once for all of them."""

    uow: UnitOfWork
    hints: CaseHints | None
    now: datetime
    students: dict[int, StudentBrief]
    schools: dict[int, SchoolRef]
    facts: dict[int, AttendanceChanged]
    alerts: dict[int, list[Alert]]
    outbox: Outbox
    # Who is 疑似辍学 or 辍学 (owed no daily call any more), read once for every student
    # concerned: nothing while judging opens or ends a period before ``after_roll`` reads them.
    periods: set[int]
    # The judged students among them: their obligations go quiet.
    quiet: set[int]
    # What a new case of each school would get, read once per school.
    school_policies: dict[int, Policy] = field(default_factory=dict)
    # Cases judged: the closed ones recounted after need not be again.
    done: set[int] = field(default_factory=set)
    # Each judged student's run: the 控辍 status may follow it.
    runs: dict[int, int] = field(default_factory=dict)


async def react_to_attendance(
    uow: UnitOfWork,
    ctx: AppContext,
    changed: Collection[int],
    absent: Collection[int],
    hints: CaseHints | None = None,
    *,
    locked: bool = False,
    now: datetime | None = None,
) -> None:
    """Re-evaluate students whose attendance changed: those now absent somewhere, those with
    a case still open, and closed cases whose standing alerts a correction may take away.
    Runs in the intake's transaction, before its commit.
    ``hints``: what the caller's statement already found out about these students (None:
    nothing); when nobody is absent and nobody has a case open there is nothing to look up,
    and otherwise only what may exist is looked up. ``locked``: the caller took
    ``lock_roll`` for these students before its statement found the hints. ``now``: the
    request's one reading of the clock (read here when not given)."""
    session = uow.session
    # The hints are exact when no roll of these students could commit after they were found:
    # SQLite (one writer at a time) or the students locked before the recording statement.
    exact = hints is not None and (locked or not repo.locks_students(session))
    if not changed or (
        exact and hints is not None and not absent and not hints.open_cases and not hints.corrected
    ):
        return
    if not locked:
        # One roll at a time per student, for every student whose marks changed (see
        # ``lock_roll``). Taken here, after the marks were written, the hints may be out of
        # date: every changed student's open case is read again under the lock.
        await repo.lock_students(session, changed)
    cases = await _lock_cases(session, changed, absent, hints, exact)
    judged = set(absent) | {
        sid for sid, c in cases.by_student.items() if c.status != CaseStatus.closed.value
    }
    relevant = judged | {c.student_id for c in cases.closed}
    if not relevant:
        return
    j = await _read_for_judging(uow, ctx, hints, cases, relevant, judged, now or ctx.clock())
    for sid in sorted(judged):
        await _judge(j, sid, cases.by_student.get(sid))
    for row in cases.closed:
        await _recount_closed(j, row)
    await status_history.after_roll(uow, ctx, relevant, j.runs, j.periods)
    await j.outbox.write(uow)


async def _lock_cases(
    session: AsyncSession,
    changed: Collection[int],
    absent: Collection[int],
    hints: CaseHints | None,
    exact: bool,
) -> _Cases:
    """Lock and read the cases the roll may change, asking only what the hints leave open."""
    if hints is None or not exact:
        with_open = list(changed)
    else:
        # Exact hints: a student without an open case in them has none (absent or not).
        with_open = [s for s in changed if s in hints.open_cases]
    # Closed cases that may matter: a re-enrolled student absent again (a relapse reopens the
    # case), and closed cases whose alerts still stand, of students whose marks changed (a
    # correction may take their days away; the hint: a changed day is such an alert's day).
    recent = set(absent) if hints is None else set(absent) & hints.reenrolled
    asked = set(changed) if hints is None else set(hints.corrected)
    relapsing = await repo.latest_closed_reenrolled(session, recent) if recent else {}
    corrected = await repo.closed_with_live_alerts(session, asked) if asked else []
    if not relapsing and not corrected:  # nearly always: the open cases only
        return _Cases(await repo.open_cases(session, with_open, lock=True), [], asked)
    # Every case in one statement, in case-id order (the sweep's order: no deadlock), and what
    # was closed checked again under the lock.
    ids = {c.id for c in (*relapsing.values(), *corrected) if c.id is not None}
    found = await repo.lock_cases(session, with_open, ids)
    cases = {c.student_id: c for c in found if c.status != CaseStatus.closed.value}
    again = {c.id: c for c in found if c.status == CaseStatus.closed.value}
    for sid, c in relapsing.items():
        if sid not in cases and c.id in again:
            cases[sid] = again[c.id]
    return _Cases(cases, [again[c.id] for c in corrected if c.id in again], asked)


async def _read_for_judging(
    uow: UnitOfWork,
    ctx: AppContext,
    hints: CaseHints | None,
    cases: _Cases,
    relevant: set[int],
    judged: set[int],
    now: datetime,
) -> _Judging:
    """The students, their schools, their days (facts), their cases' alerts and who of them
    is 疑似辍学 or 辍学."""
    session = uow.session
    students = await ctx.cache.students.get_many(relevant, lambda ids: students_brief(session, ids))
    schools = await ctx.cache.schools.get_many(
        {s.school_id for s in students.values()}, lambda ids: school_refs(session, ids)
    )
    leave = None if hints is None or hints.leave is None else hints.leave | cases.asked
    facts = await _facts(uow, students, schools, now, leave)
    alerts = await repo.alerts_of(
        session, [c.id for c in (*cases.by_student.values(), *cases.closed) if c.id is not None]
    )
    periods = await status_history.open_periods(uow, relevant)
    return _Judging(
        uow, hints, now, students, schools, facts, alerts, Outbox(), periods, judged & periods
    )


async def _policy_of(j: _Judging, row: AbsenceCase | None, school: SchoolRef) -> Policy:
    """An open case keeps the policy it opened with; a new (or reopened) one takes its
    school's, looked up only where one is set (the hint), else the defaults."""
    if row is not None and row.status != CaseStatus.closed.value:
        return policies.from_dict(row.policy)
    policy = j.school_policies.get(school.id)
    if policy is None:
        if j.hints is None or school.id in j.hints.policy_schools:
            policy = await _policy_for(j.uow, school)
        else:  # no policy set for the school or its county: the defaults
            policy = policies.merge(None, None)
        j.school_policies[school.id] = policy
    return policy


async def _judge(j: _Judging, sid: int, row: AbsenceCase | None) -> None:
    """One student's case judged on their days: moved on, reopened, corrected, or opened."""
    student = j.students.get(sid)
    if student is None or sid not in j.facts:
        return
    school = j.schools[student.school_id]
    policy = await _policy_of(j, row, school)
    current = to_domain(row, j.alerts[row.id or 0]) if row is not None else None
    new, effects = transition(current, j.facts[sid], j.now, policy)
    if sid in j.quiet:
        new, effects = quiet_obligations(new, effects)
    j.runs[sid] = len(new.run) if new.status is CaseStatus.open else 0
    if not effects and (row is None or new == current):
        return
    if row is not None:
        j.done.add(row.id or 0)
    if row is not None and row.status == CaseStatus.closed.value and not reopens(current, new):
        if new.status is CaseStatus.closed:  # the closed case's own days corrected
            await _apply(j, row, new, effects)
            return
        row = None  # a new case of its own, not a relapse of the closed one
    if row is None:
        if new.status is CaseStatus.closed:
            return
        row = AbsenceCase(
            student_id=sid,
            county_id=school.county_id,
            school_id=student.school_id,
            class_id=student.class_id,
            status=new.status.value,
            opened_at=j.now,
            policy=policies.to_dict(policy),
            updated_at=j.now,
            # Given, not left to their default factories: pydantic inspects a factory's
            # signature on every call, which was most of building the row.
            run=[],
            work_group=[],
        )
        new = replace(new, student_id=sid)
        copy_into(row, new, j.now)
        j.uow.session.add(row)
        await j.uow.flush()
    await _apply(j, row, new, effects)


async def _recount_closed(j: _Judging, row: AbsenceCase) -> None:
    """A closed case not judged above whose standing alerts a correction may take away."""
    if row.id in j.done or row.student_id not in j.facts:
        return
    current = to_domain(row, j.alerts[row.id or 0])
    new, effects = recount_closed(current, j.facts[row.student_id])
    if effects:
        await _apply(j, row, new, effects)


async def _apply(j: _Judging, row: AbsenceCase, new: Case, effects: list[Effect]) -> None:
    await apply_effects(
        j.uow,
        row,
        j.alerts.get(row.id or 0, []),
        new,
        effects,
        now=j.now,
        actor=None,
        outbox=j.outbox,
    )


async def _facts(
    uow: UnitOfWork,
    students: dict[int, StudentBrief],
    schools: dict[int, SchoolRef],
    now: datetime,
    may_have_leave: Collection[int] | None = None,
) -> dict[int, AttendanceChanged]:
    """Each student's day statuses over the lookback and when each absence was found.
    ``may_have_leave``: the only students who may have approved leave or a 休学 (None: any)."""
    if not students:
        return {}
    todays = {sid: local_today(schools[s.school_id], now) for sid, s in students.items()}
    end = max(todays.values())
    since = min(todays.values()) - timedelta(days=LOOKBACK_DAYS)
    marks = await marks_between(uow.session, students.keys(), since, end)
    asked = students.keys() if may_have_leave is None else students.keys() & set(may_have_leave)
    leave = await approved_leave_days(uow.session, asked, since, end) if asked else {}
    # One pass over the marks, by student: each day's checks, and when each absence was found.
    checks: dict[int, dict[date, dict[Check, Mark]]] = {}
    found: dict[int, dict[date, datetime]] = {}
    for m in marks:
        checks.setdefault(m.student_id, {}).setdefault(m.school_date, {})[Check(m.check)] = Mark(
            m.status
        )
        if m.status == "absent":
            at = found.setdefault(m.student_id, {})
            at[m.school_date] = min(at.get(m.school_date, m.occurred_at), m.occurred_at)
    out: dict[int, AttendanceChanged] = {}
    for sid, s in students.items():
        school = schools[s.school_id]
        today = todays[sid]
        days_marked = checks.get(sid, {})
        on_leave = leave.get(sid, set())
        # A day with neither a mark nor approved leave is not recorded (and left out), unless
        # the student is taught at home: then every day counts, as present.
        if s.home_schooled:
            days = [since + timedelta(days=i) for i in range((today - since).days + 1)]
        else:
            days = sorted(d for d in days_marked.keys() | on_leave if since <= d <= today)
        statuses: dict[date, DayStatus] = {}
        for d in days:
            status = day_status(
                days_marked.get(d, {}),
                on_approved_leave=d in on_leave,
                home_schooled=s.home_schooled,
            )
            if status is not DayStatus.not_recorded:
                statuses[d] = status
        out[sid] = AttendanceChanged(
            statuses=statuses,
            found_at=found.get(sid, {}),
            calendar=school.calendar,
            since=since,
            timezone=school.timezone,
        )
    return out


async def _policy_for(uow: UnitOfWork, school: SchoolRef) -> Any:
    county, own = await repo.policy_rows(uow.session, school.county_id, school.id)
    return policies.merge(county.values if county else None, own.values if own else None)
