"""The alert engine: runs the pure case machine (``app.domain.cases``) against storage.

One shape for every trigger (attendance, a staff action, a due deadline): load the case
(locked on PostgreSQL), apply the transition, then write the case, its alerts, deadlines,
timeline, tasks and notifications (the outbox) in the caller's transaction. Nothing is sent
from here: delivery reads the outbox. Due deadlines are fired by ``app.alerts.sweep``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from app.alerts import policy as policies
from app.alerts import repository as repo
from app.alerts import timeline_repo
from app.attendance.days import local_today
from app.attendance.leaves_repo import approved_leave_days
from app.attendance.repository import (
    CaseHints,
    StudentBrief,
    marks_between,
    students_brief,
)
from app.calendar.repository import SchoolRef, school_refs
from app.context import AppContext
from app.db.models import (
    AbsenceCase,
    Alert,
    CaseTask,
)
from app.db.uow import UnitOfWork
from app.domain.attendance import Check, DayStatus, Mark, day_status
from app.domain.cases import (
    AlertState,
    AlertStatus,
    AttendanceChanged,
    CancelTasks,
    Case,
    CaseStatus,
    CloseReason,
    CreateTask,
    Effect,
    Event,
    Level,
    Notify,
    OpenDeadline,
    Policy,
    RaiseAlert,
    ReportStatus,
    Timeline,
    VerifyAlert,
    WithdrawAlert,
    recount_closed,
    reopens,
    transition,
)
from app.domain.roles import ROLE_LABELS, VACANCY_REASON, Role, stand_ins

log = logging.getLogger("kcbx.engine")

# How far back a run of absences is looked for: longer than any threshold a county would set.
LOOKBACK_DAYS = 45


# --- rows ⇄ domain --------------------------------------------------------------------------

_SNAPSHOTS: dict[tuple[tuple[str, Any], ...], Policy] = {}


def _snapshot(values: dict[str, Any]) -> Policy:
    """A case's policy snapshot. Cases share a handful of snapshots and a Policy is
    immutable, so each distinct one is converted once (a sweep loads hundreds of cases)."""
    try:
        key = tuple(sorted(values.items()))
        found = _SNAPSHOTS.get(key)
    except TypeError:  # an unhashable value: not a policy this engine wrote
        return policies.from_dict(values)
    if found is None:
        if len(_SNAPSHOTS) >= 1024:
            _SNAPSHOTS.clear()
        found = _SNAPSHOTS[key] = policies.from_dict(values)
    return found


def to_domain(row: AbsenceCase, alerts: Sequence[Alert]) -> Case:
    return Case(
        student_id=row.student_id,
        policy=_snapshot(row.policy),
        status=CaseStatus(row.status),
        opened_at=row.opened_at,
        episode=row.episode,
        run=tuple(date.fromisoformat(d) for d in row.run),
        alerts=tuple(
            AlertState(
                level=Level(a.level),
                episode=a.episode,
                seq=a.seq,
                status=AlertStatus(a.status),
                raised_at=a.raised_at,
                days=tuple(date.fromisoformat(d) for d in a.days),
                verify_due=a.verify_due,
            )
            for a in alerts
        ),
        contact_day=row.contact_day,
        contact_attempt=row.contact_attempt,
        contact_done=row.contact_done,
        report=ReportStatus(row.report_status) if row.report_status else None,
        report_round=row.report_round,
        reenroll_due=row.reenroll_due,
        close_reason=CloseReason(row.close_reason) if row.close_reason else None,
        closed_at=row.closed_at,
        version=row.version,
    )


def _copy_into(row: AbsenceCase, case: Case, now: datetime) -> None:
    # Only what changed is set: an attribute set on a SQLModel row costs more than the
    # comparison, and a fired deadline usually leaves the case as it was.
    for name, value in (
        ("status", case.status.value),
        ("episode", case.episode),
        ("level", case.level.value if case.level else None),
        ("run", [d.isoformat() for d in case.run]),
        ("contact_day", case.contact_day),
        ("contact_attempt", case.contact_attempt),
        ("contact_done", case.contact_done),
        ("report_status", case.report.value if case.report else None),
        ("report_round", case.report_round),
        ("reenroll_due", case.reenroll_due),
        ("close_reason", case.close_reason.value if case.close_reason else None),
        ("closed_at", case.closed_at),
        ("version", case.version),
    ):
        if getattr(row, name) != value:
            setattr(row, name, value)
    row.updated_at = now


# --- writing a transition -------------------------------------------------------------------


@dataclass
class Outbox:
    """What the transitions of one transaction append — notices (the outbox proper) and
    timeline entries — gathered and written in one statement each before it commits, and the
    recipients looked up once per role and scope (a sweep fires hundreds of deadlines for the
    same few schools). Same rows, same transaction: only fewer round trips."""

    people: dict[tuple[Role, int], list[tuple[int, str]]] = field(default_factory=dict)
    notices: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    deadlines: list[dict[str, Any]] = field(default_factory=list)
    # Cases whose transition left them as they were: only ``updated_at`` moves, by id.
    touched: dict[datetime, set[int]] = field(default_factory=dict)
    # While ``folding`` (a deadline fired beyond the digest horizon), notices go to
    # ``folded``: written to the inbox as dispatched, awaiting their digest.
    folding: bool = False
    folded: list[dict[str, Any]] = field(default_factory=list)

    async def recipients(
        self, uow: UnitOfWork, role: Role, row: AbsenceCase
    ) -> list[tuple[int, str]]:
        scope = repo.recipient_scope(
            role, county_id=row.county_id, school_id=row.school_id, class_id=row.class_id
        )
        found = self.people.get((role, scope))
        if found is None:
            found = await repo.recipients(
                uow.session,
                role,
                county_id=row.county_id,
                school_id=row.school_id,
                class_id=row.class_id,
            )
            self.people[(role, scope)] = found
        return found

    async def write(self, uow: UnitOfWork) -> None:
        notices, self.notices = self.notices, []
        timeline, self.timeline = self.timeline, []
        deadlines, self.deadlines = self.deadlines, []
        await repo.add_deadlines(uow.session, deadlines)
        touched, self.touched = self.touched, {}
        for at, case_ids in touched.items():
            await repo.touch_cases(uow.session, case_ids, at)
        await timeline_repo.write(uow.session, timeline)
        await repo.add_notifications(uow.session, notices)
        folded, self.folded = self.folded, []
        await repo.add_notifications(uow.session, folded)


@dataclass
class Applied:
    case: AbsenceCase
    effects: list[Effect] = field(default_factory=list)


async def _apply(
    uow: UnitOfWork,
    row: AbsenceCase,
    alerts: list[Alert],
    new: Case,
    effects: list[Effect],
    now: datetime,
    actor: str | None,
    trigger: str | None = None,
    outbox: Outbox | None = None,
    *,
    unchanged: bool = False,
) -> Applied:
    """Write the new case and its effects. ``row`` is persistent (has an id). ``trigger``
    names what caused them (a deadline), so each notice is written once per cause; by default
    the case's new version. With an ``outbox`` the caller writes its notices before commit;
    without, they are written here. ``unchanged``: ``new`` is the case as loaded (a fired
    deadline that only notifies), so only its ``updated_at`` moves."""
    own = outbox is None
    box = Outbox() if outbox is None else outbox
    session = uow.session
    assert row.id is not None
    if unchanged:
        box.touched.setdefault(now, set()).add(row.id)
    else:
        _copy_into(row, new, now)
    by_key = {a.key: a for a in alerts}
    for effect in effects:
        if isinstance(effect, RaiseAlert):
            a = effect.alert
            alert = Alert(
                case_id=row.id,
                key=a.key,
                student_id=row.student_id,
                school_id=row.school_id,
                class_id=row.class_id,
                level=a.level.value,
                episode=a.episode,
                seq=a.seq,
                status=a.status.value,
                raised_at=a.raised_at,
                days=[d.isoformat() for d in a.days],
                rule=effect.rule,
                recipient_role=effect.recipient.value,
                verify_due=a.verify_due,
            )
            session.add(alert)
            by_key[a.key] = alert
        elif isinstance(effect, WithdrawAlert):
            alert = by_key[effect.key]
            alert.status = AlertStatus.withdrawn.value
            alert.withdrawn_at = now
            alert.withdrawn_reason = effect.reason[:200]
        elif isinstance(effect, VerifyAlert):
            alert = by_key[effect.key]
            alert.status = AlertStatus.verified.value
            alert.verified_at = effect.at
            alert.verified_by = actor
    if any(isinstance(e, RaiseAlert) for e in effects):
        await uow.flush()  # alert ids for the notifications below
    for seq, effect in enumerate(effects, start=1):
        if isinstance(effect, OpenDeadline):
            box.deadlines.append(
                {
                    "dedupe_key": f"{row.id}:{effect.kind.value}:{effect.key}",
                    "case_id": row.id,
                    "kind": effect.kind.value,
                    "key": effect.key,
                    "due_at": effect.due_at,
                    "state": "pending",
                    "created_at": now,
                },
            )
        elif isinstance(effect, Timeline):
            box.timeline.append(timeline_repo.entry(row.id, effect.kind, effect.text, now, actor))
        elif isinstance(effect, CreateTask):
            session.add(
                CaseTask(
                    case_id=row.id,
                    kind=effect.kind.value,
                    role=effect.role.value,
                    due_at=effect.due_at,
                    created_at=now,
                )
            )
            if effect.kind.value == "home_visit":
                row.work_group = await _work_group(uow, row, box)
        elif isinstance(effect, CancelTasks):
            await repo.cancel_open_tasks(
                session, effect.kind.value, effect.note, now, case_id=row.id
            )
        elif isinstance(effect, Notify):
            cause = trigger or f"case:{row.id}:v{row.version}"
            await _notify(uow, row, effect, by_key, now, f"{cause}:{seq}", box)
    if own:
        await box.write(uow)
    return Applied(row, effects)


async def _work_group(uow: UnitOfWork, row: AbsenceCase, box: Outbox) -> list[dict[str, Any]]:
    """联合劝返 work group: the vice principal leads; head teacher and subject teachers join."""
    members: list[dict[str, Any]] = []
    for role, part in (
        (Role.vice_principal, "lead"),
        (Role.head_teacher, "member"),
        (Role.subject_teacher, "member"),
    ):
        for staff_id, name in await box.recipients(uow, role, row):
            members.append({"staff_id": staff_id, "name": name, "role": role.value, "part": part})
    return members


async def _notify(
    uow: UnitOfWork,
    row: AbsenceCase,
    effect: Notify,
    alerts: dict[str, Alert],
    now: datetime,
    cause: str,
    box: Outbox,
) -> None:
    role, title = effect.role, effect.title
    people = await box.recipients(uow, role, row)
    if not people:
        # 岗位空缺: nobody holds the role (no head teacher for the class, no vice principal):
        # the notice goes to the nearest level up that has someone, saying why.
        for up in stand_ins(effect.role):
            people = await box.recipients(uow, up, row)
            if people:
                role = up
                vacant = ROLE_LABELS[effect.role]
                title = f"{effect.title}({VACANCY_REASON}:{vacant}无人任职,转{ROLE_LABELS[up]})"
                break
        else:
            log.warning("case %s: nobody holds %s or any role above it", row.id, effect.role)
    alert = alerts.get(effect.alert_key) if effect.alert_key else None
    held = {"dispatched_at": now, "digest_pending": True} if box.folding else None
    (box.folded if box.folding else box.notices).extend(
        [
            {
                # Same transition, same effect, same person: one notice, however often retried.
                "idem_key": f"{cause}:{staff_id}",
                "staff_id": staff_id,
                "role": role.value,
                "topic": effect.topic,
                "title": title[:200],
                "body": "",
                "level": effect.level.value if effect.level else None,
                "case_id": row.id,
                "alert_id": alert.id if alert else None,
                "student_id": row.student_id,
                "school_id": row.school_id,
                "created_at": now,
                **(held or {}),
            }
            for staff_id, _ in people
        ]
    )


async def notify_role(
    uow: UnitOfWork,
    row: AbsenceCase,
    role: Role,
    topic: str,
    title: str,
    cause: str,
    now: datetime,
    box: Outbox,
) -> None:
    """A notice about ``row`` to everyone holding ``role`` for it, once per ``cause``."""
    await _notify(uow, row, Notify(role, topic, title), {}, now, cause, box)


# --- triggers -------------------------------------------------------------------------------


async def apply_event(
    uow: UnitOfWork, ctx: AppContext, row: AbsenceCase, event: Event, actor: str | None
) -> Applied:
    """A staff action on a case (already loaded, and locked by the caller)."""
    alerts = (await repo.alerts_of(uow.session, [row.id or 0]))[row.id or 0]
    now = ctx.clock()
    case = to_domain(row, alerts)
    new, effects = transition(case, event, now, case.policy)
    return await _apply(uow, row, alerts, new, effects, now, actor)


async def react_to_attendance(
    uow: UnitOfWork,
    ctx: AppContext,
    changed: Collection[int],
    absent: Collection[int],
    hints: CaseHints | None = None,
) -> None:
    """Re-evaluate students whose attendance changed: those now absent somewhere, those with
    a case still open, and closed cases whose standing alerts a correction may take away.
    Runs in the intake's transaction, before its commit.
    ``hints``: what the caller's statement already found out about these students (None:
    nothing); when nobody is absent and nobody has a case open there is nothing to look up,
    and otherwise only what may exist is looked up."""
    session = uow.session
    concurrent = repo.locks_students(session)
    if not changed or (
        hints is not None
        and not concurrent
        and not absent
        and not hints.open_cases
        and not hints.corrected
    ):
        return
    # One roll at a time per student, for every student whose marks changed: a roll that
    # makes a student present waits for a simultaneous one that found them absent (and may
    # be opening their case), then reads that case; a second roll making the same student
    # absent reads the first one's case and marks. The hints were found before the lock, so
    # on PostgreSQL every changed student's open case is read again under it.
    await repo.lock_students(session, changed)
    if hints is None or concurrent:
        with_open = list(changed)
    else:
        with_open = [s for s in changed if s in hints.open_cases or s in absent]
    # Closed cases that may matter: a re-enrolled student absent again (a relapse reopens the
    # case), and closed cases whose alerts still stand, of students whose marks changed (a
    # correction may take their days away; the hint: a changed day is such an alert's day).
    recent = set(absent) if hints is None else set(absent) & hints.reenrolled
    asked = set(changed) if hints is None else set(hints.corrected)
    relapsing = await repo.latest_closed_reenrolled(session, recent) if recent else {}
    corrected = await repo.closed_with_live_alerts(session, asked) if asked else []
    if not relapsing and not corrected:  # nearly always: the open cases only
        cases = await repo.open_cases(session, with_open, lock=True)
        closed: list[AbsenceCase] = []
    else:
        # Every case in one statement, in case-id order (the sweep's order: no deadlock),
        # and what was closed checked again under the lock.
        ids = {c.id for c in (*relapsing.values(), *corrected) if c.id is not None}
        locked = await repo.lock_cases(session, with_open, ids)
        cases = {c.student_id: c for c in locked if c.status != CaseStatus.closed.value}
        again = {c.id: c for c in locked if c.status == CaseStatus.closed.value}
        for sid, c in relapsing.items():
            if sid not in cases and c.id in again:
                cases[sid] = again[c.id]
        closed = [again[c.id] for c in corrected if c.id in again]
    judged = set(absent) | {sid for sid, c in cases.items() if c.status != CaseStatus.closed.value}
    relevant = judged | {c.student_id for c in closed}
    if not relevant:
        return
    students = await ctx.cache.students.get_many(relevant, lambda ids: students_brief(session, ids))
    schools = await ctx.cache.schools.get_many(
        {s.school_id for s in students.values()}, lambda ids: school_refs(session, ids)
    )
    now = ctx.clock()
    leave = None if hints is None or hints.leave is None else hints.leave | asked
    facts = await _facts(uow, students, schools, now, leave)
    alerts = await repo.alerts_of(
        session, [c.id for c in (*cases.values(), *closed) if c.id is not None]
    )
    outbox = Outbox()
    done: set[int] = set()  # cases judged below: the closed ones after need not be again
    school_policies: dict[int, Policy] = {}  # what a new case of each school would get
    for sid in sorted(judged):
        student = students.get(sid)
        if student is None or sid not in facts:
            continue
        school = schools[student.school_id]
        row = cases.get(sid)
        if row is None or row.status == CaseStatus.closed.value:
            policy = school_policies.get(school.id)
            if policy is None:
                if hints is None or school.id in hints.policy_schools:
                    policy = await _policy_for(uow, school)
                else:  # no policy set for the school or its county: the defaults
                    policy = policies.merge(None, None)
                school_policies[school.id] = policy
        else:
            policy = policies.from_dict(row.policy)
        current = to_domain(row, alerts[row.id or 0]) if row is not None else None
        new, effects = transition(current, facts[sid], now, policy)
        if not effects and (row is None or new == current):
            continue
        if row is not None:
            done.add(row.id or 0)
        if row is not None and row.status == CaseStatus.closed.value and not reopens(current, new):
            if new.status is CaseStatus.closed:  # the closed case's own days corrected
                await _apply(uow, row, alerts[row.id or 0], new, effects, now, None, None, outbox)
                continue
            row = None  # a new case of its own, not a relapse of the closed one
        if row is None:
            if new.status is CaseStatus.closed:
                continue
            row = AbsenceCase(
                student_id=sid,
                county_id=school.county_id,
                school_id=student.school_id,
                class_id=student.class_id,
                status=new.status.value,
                opened_at=now,
                policy=policies.to_dict(policy),
                updated_at=now,
                # Given, not left to their default factories: pydantic inspects a factory's
                # signature on every call, which was most of building the row.
                run=[],
                work_group=[],
            )
            new = replace(new, student_id=sid)
            _copy_into(row, new, now)
            session.add(row)
            await uow.flush()
        await _apply(uow, row, alerts.get(row.id or 0, []), new, effects, now, None, None, outbox)
    for row in closed:
        if row.id in done or row.student_id not in facts:
            continue
        current = to_domain(row, alerts[row.id or 0])
        new, effects = recount_closed(current, facts[row.student_id])
        if effects:
            await _apply(uow, row, alerts[row.id or 0], new, effects, now, None, None, outbox)
    await outbox.write(uow)


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
