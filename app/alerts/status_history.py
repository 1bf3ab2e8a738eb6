"""Writes a student's 控辍 status history (疑似辍学 / 辍学 periods, ``dropout_status``) from
the pure count in ``app.domain.dropout_status``, in the caller's transaction: the engine's
reaction to a roll (``after_roll``), a return notice reported to the township and the daily
pass as days go by (``sweep``, run with the return-notice check), leaving without a transfer,
复学 and a transfer (``refresh``).

Decisions:
- the facts are read afresh for the students concerned: their day statuses over the last
  ``WINDOW_DAYS`` (longer than any threshold plus a month), their 学籍异动记录 (15, 05, 转出),
  the 复学 confirmations of their cases, their return notices reported to the township (not
  销号); the thresholds are the school's (``CountyRules``, county then school);
- the history is append-only and only the present moves: when the count's status today
  differs from the stored open period, that period ends (on the day the count says it ended,
  never before it began; today when the facts no longer show it at all, e.g. a corrected roll
  or a notice struck off: ``corrected``) and the new one begins (on the count's day, never
  before the last stored change). A period's first day is never moved afterwards, so a month
  already read reads the same later; a roll recorded late for past days is counted on the
  days it names (the one way a past day's figure can change);
- 在校 is no period at all.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.alerts import engine_repo as alerts_repo
from app.alerts import status_repo, timeline_repo
from app.alerts.county_rules import rules_for
from app.attendance.leaves_repo import approved_leave_days
from app.attendance.marks_repo import marks_between
from app.attendance.repository import students_brief
from app.calendar.repository import school_refs
from app.context import AppContext
from app.core.time import local_today
from app.db.models import CaseTask, DropoutStatusPeriod
from app.db.uow import UnitOfWork
from app.delivery import outbox
from app.delivery.outbox import Notice
from app.domain.attendance import Check, DayStatus, Mark, day_status
from app.domain.cases import CloseReason, TaskKind, TimelineKind
from app.domain.dropout_status import (
    PERSUASION_NOTE,
    Basis,
    DropoutStatus,
    Period,
    StatusFacts,
    Thresholds,
    history,
    persuasion_due,
)
from app.domain.return_notices import NoticeStatus
from app.domain.roles import Role
from app.domain.schools import SchoolRef
from app.domain.students import ChangeKind, StudentBrief

WINDOW_DAYS = 200
CORRECTED = "corrected"


@dataclass(frozen=True, slots=True)
class Change:
    """A status a student entered (``status``) or left (``status`` is in_school)."""

    student_id: int
    status: DropoutStatus
    since: date
    basis_text: str


async def after_roll(
    uow: UnitOfWork,
    ctx: AppContext,
    changed: Collection[int],
    runs: Mapping[int, int],
    with_open: Collection[int] | None = None,
) -> list[Change]:
    """After the engine judged a roll: students whose run is long enough to matter
    (``runs``: student → days in the run, at least 2) and those with a status open
    (``with_open``: those of ``changed`` already found to have one, by ``open_periods``
    in this transaction; None: looked up here)."""
    if with_open is None:
        with_open = await open_periods(uow, changed)
    wanted = {sid for sid, n in runs.items() if n >= 2} | set(with_open)
    return await refresh(uow, ctx, wanted)


async def open_periods(uow: UnitOfWork, student_ids: Collection[int]) -> set[int]:
    """Those of the students who are 疑似辍学 or 辍学 now (an open period)."""
    return set(await status_repo.open_periods(uow.session, student_ids))


async def sweep(
    uow: UnitOfWork, ctx: AppContext, school_ids: Collection[int] | None, also: Iterable[int]
) -> list[Change]:
    """The daily pass (every minute, idempotent): 疑似辍学 periods old enough to become 辍学
    by now, students marked 15 with no period, and ``also`` (e.g. notices just reported)."""
    today = local_today_default(ctx)
    due: list[int] = []
    after: dict[int, int] = {}  # each school's dropout_after_days
    for sid, school_id, county_id, since in await status_repo.suspected_since_before(
        uow.session, school_ids, DropoutStatus.suspected_dropout.value, today
    ):
        days = after.get(school_id)
        if days is None:
            rules = await rules_for(uow.session, county_id, school_id)
            days = after[school_id] = rules.dropout_after_days
        if since + timedelta(days=days) <= today:  # only those 辍学 may be due for
            due.append(sid)
    missing = await status_repo.missing_without_period(uow.session, school_ids)
    changes = await refresh(uow, ctx, {*due, *missing, *also})
    await persuade(uow, ctx, school_ids)
    return changes


async def persuade(uow: UnitOfWork, ctx: AppContext, school_ids: Collection[int] | None) -> int:
    """The periodic persuasion duty of every open case whose student is 疑似辍学 or 辍学: a
    联合家访劝返 task for the vice principal's work group every ``persuasion_every_days`` (7),
    due that many days after it is made, reminded and escalated like every case task
    (``app/alerts/task_reminders.py``); a new one only when none is open. Returns the tasks made."""
    now = ctx.clock()
    made = 0
    every: dict[int, int] = {}
    for case_id, school_id, county_id, last in await status_repo.cases_to_persuade(
        uow.session, school_ids, TaskKind.home_visit.value
    ):
        days = every.get(school_id)
        if days is None:
            days = every[school_id] = (
                await rules_for(uow.session, county_id, school_id)
            ).persuasion_every_days
        if not persuasion_due(last, now, days):
            continue
        uow.session.add(
            CaseTask(
                case_id=case_id,
                kind=TaskKind.home_visit.value,
                role=Role.vice_principal.value,
                due_at=now + timedelta(days=days),
                created_at=now,
                note=PERSUASION_NOTE.format(days=days),
            )
        )
        made += 1
    return made


def local_today_default(ctx: AppContext) -> date:
    # A day's margin on the earliest timezone: the count itself uses each school's today.
    return ctx.clock().date() + timedelta(days=1)


async def refresh(uow: UnitOfWork, ctx: AppContext, student_ids: Collection[int]) -> list[Change]:
    """Count each student's status afresh and bring the stored history up to it."""
    if not student_ids:
        return []
    session = uow.session
    ids = sorted(set(student_ids))
    students = await ctx.cache.students.get_many(ids, lambda s: students_brief(session, s))
    schools = await ctx.cache.schools.get_many(
        {s.school_id for s in students.values()}, lambda s: school_refs(session, s)
    )
    now = ctx.clock()
    facts = await _facts(uow, students, schools, now)
    thresholds: dict[int, Thresholds] = {}
    stored = await status_repo.open_periods(session, ids)
    ended = await status_repo.last_ends(session, ids)
    changes: list[Change] = []
    told: list[tuple[Change, StudentBrief, SchoolRef]] = []
    for sid in ids:
        student = students.get(sid)
        if student is None or sid not in facts:
            continue
        school = schools[student.school_id]
        th = thresholds.get(school.id)
        if th is None:
            th = thresholds[school.id] = (
                await rules_for(session, school.county_id, school.id)
            ).thresholds()
        periods = history(facts[sid], th)
        made = _reconcile(
            uow, ctx, student, school, periods, stored.get(sid), ended.get(sid), facts[sid].today
        )
        changes += made
        told += [(c, student, school) for c in made]
    if changes:
        await uow.flush()
        await _announce(uow, ctx, told)
    return changes


_TOLD = {
    DropoutStatus.suspected_dropout: (TimelineKind.student_suspected_dropout, "认定为疑似辍学"),
    DropoutStatus.dropout: (TimelineKind.student_dropout, "认定为辍学"),
    DropoutStatus.in_school: (TimelineKind.student_in_school, "疑似辍学/辍学状态结束"),
}
STATUS_ROLES = (Role.principal, Role.vice_principal, Role.county_admin, Role.head_teacher)
REPORTED_ROLES = (Role.principal, Role.vice_principal, Role.academic_affairs, Role.county_admin)


async def _announce(
    uow: UnitOfWork, ctx: AppContext, told: list[tuple[Change, StudentBrief, SchoolRef]]
) -> None:
    """Each status begun: a timeline entry on the student's latest case, and a notice to the
    principal, the vice principal, the county admin and the head teacher (webhooks hear the
    topic); a status ended: the timeline entry only."""
    cases = await status_repo.latest_cases(uow.session, {c.student_id for c, _, _ in told})
    now = ctx.clock()
    entries = []
    for change, student, school in told:
        kind, label = _TOLD[change.status]
        text = f"{change.since.isoformat()} 起{label}:{change.basis_text}"
        case_id = cases.get(change.student_id)
        if case_id is not None:
            entries.append(timeline_repo.entry(case_id, kind, text[:500], now, None))
        if change.status is DropoutStatus.in_school:
            continue
        await tell(
            uow,
            ctx,
            student=student,
            county_id=school.county_id,
            case_id=case_id,
            topic=kind.value,
            title=f"{student.name}{text}",
            cause=f"status:{student.id}:{change.status.value}:{change.since.isoformat()}",
            roles=STATUS_ROLES,
        )
    await timeline_repo.write(uow.session, entries)


async def tell(
    uow: UnitOfWork,
    ctx: AppContext,
    *,
    student: StudentBrief,
    county_id: int,
    case_id: int | None,
    topic: str,
    title: str,
    cause: str,
    roles: Iterable[Role],
) -> None:
    """A notice to everyone holding each of ``roles`` for the student, once per ``cause`` (the
    outbox: in-app inbox, the school's channels and the county's webhooks subscribed to
    ``topic``)."""
    now = ctx.clock()
    rows = []
    for role in roles:
        people = await alerts_repo.recipients(
            uow.session,
            role,
            county_id=county_id,
            school_id=student.school_id,
            class_id=student.class_id,
        )
        rows += [
            Notice(
                idem_key=f"{cause}:{staff_id}",
                staff_id=staff_id,
                role=role,
                topic=topic,
                title=title,
                case_id=case_id,
                student_id=student.id,
                school_id=student.school_id,
                created_at=now,
            )
            for staff_id, _ in people
        ]
    await outbox.enqueue(uow.session, rows)


async def tell_reported(
    uow: UnitOfWork, ctx: AppContext, student_id: int, case_id: int, number: str, on: date
) -> None:
    """A return notice was reported to the township: the school's managers and the county."""
    students = await ctx.cache.students.get_many(
        [student_id], lambda s: students_brief(uow.session, s)
    )
    student = students.get(student_id)
    if student is None:
        return
    schools = await ctx.cache.schools.get_many(
        {student.school_id}, lambda s: school_refs(uow.session, s)
    )
    await tell(
        uow,
        ctx,
        student=student,
        county_id=schools[student.school_id].county_id,
        case_id=case_id,
        topic="return_notice.reported_to_township",
        title=f"{student.name}返校通知书 {number} 逾期未返校,{on.isoformat()} 已报告乡镇政府",
        cause=f"reported:{number}",
        roles=REPORTED_ROLES,
    )


def _reconcile(
    uow: UnitOfWork,
    ctx: AppContext,
    student: StudentBrief,
    school: SchoolRef,
    periods: list[Period],
    open_row: DropoutStatusPeriod | None,
    last_end: date | None,
    today: date,
) -> list[Change]:
    current = periods[-1] if periods and periods[-1].until is None else None
    if open_row is None and current is None:
        return []
    if open_row is not None and current is not None and open_row.status == current.status.value:
        return []
    now = ctx.clock()
    if open_row is None:
        # New periods from the last stored change on: the first write of a status reached
        # some time ago writes the 疑似辍学 period before a 辍学 too.
        fresh = [p for p in periods if last_end is None or p.until is None or p.until > last_end]
        return [_add(uow, student, school, p, last_end, now) for p in fresh]
    if current is None:
        # Ended: on the day the count says, or today when the facts no longer show it.
        end, why = today, CORRECTED
        same = [
            p
            for p in periods
            if p.status.value == open_row.status
            and p.until is not None
            and p.until >= open_row.valid_from
        ]
        if same and same[-1].until is not None:
            end, why = same[-1].until, (same[-1].end_basis or Basis.returned).value
        _end(uow, open_row, end, why, now)
        return [Change(student.id, DropoutStatus.in_school, open_row.valid_to or end, why)]
    promoted = (
        open_row.status == DropoutStatus.suspected_dropout.value
        and current.status is DropoutStatus.dropout
    )
    if promoted:
        _end(uow, open_row, current.since, Basis.no_return.value, now)
    else:
        _end(uow, open_row, today, CORRECTED, now)
    return [_add(uow, student, school, current, open_row.valid_to, now)]


def _end(uow: UnitOfWork, row: DropoutStatusPeriod, end: date, why: str, now: datetime) -> None:
    row.valid_to = max(end, row.valid_from)
    row.end_basis = why
    row.ended_at = now
    uow.session.add(row)


def _add(
    uow: UnitOfWork,
    student: StudentBrief,
    school: SchoolRef,
    p: Period,
    floor: date | None,
    now: datetime,
) -> Change:
    since = max(p.since, floor) if floor is not None else p.since
    uow.session.add(
        DropoutStatusPeriod(
            student_id=student.id,
            county_id=school.county_id,
            school_id=student.school_id,
            class_id=student.class_id,
            status=p.status.value,
            valid_from=since,
            valid_to=p.until,
            basis=p.basis.value,
            basis_text=p.basis_text[:200],
            end_basis=p.end_basis.value if p.end_basis else None,
            recorded_at=now,
            ended_at=now if p.until is not None else None,
        )
    )
    return Change(student.id, p.status, since, p.basis_text)


async def _facts(
    uow: UnitOfWork,
    students: dict[int, StudentBrief],
    schools: dict[int, SchoolRef],
    now: datetime,
) -> dict[int, StatusFacts]:
    session = uow.session
    todays = {sid: local_today(schools[s.school_id], now) for sid, s in students.items()}
    end = max(todays.values())
    since = min(todays.values()) - timedelta(days=WINDOW_DAYS)
    ids = list(students)
    marks = await marks_between(session, ids, since, end)
    leave = await approved_leave_days(session, ids, since, end)
    changes = await status_repo.enrollment_dates(session, ids)
    reenrolled = await status_repo.reenrolled_at(session, ids, CloseReason.reenrolled.value)
    reported = await status_repo.notices_reported(session, ids, NoticeStatus.struck_off.value)
    checks: dict[int, dict[date, dict[Check, Mark]]] = {}
    for m in marks:
        checks.setdefault(m.student_id, {}).setdefault(m.school_date, {})[Check(m.check)] = Mark(
            m.status
        )
    out: dict[int, StatusFacts] = {}
    for sid, s in students.items():
        school = schools[s.school_id]
        on_leave = leave.get(sid, set())
        marked = checks.get(sid, {})
        statuses: dict[date, DayStatus] = {}
        for d in marked.keys() | on_leave:
            st = day_status(
                marked.get(d, {}), on_approved_leave=d in on_leave, home_schooled=s.home_schooled
            )
            if st is not DayStatus.not_recorded and d <= todays[sid]:
                statuses[d] = st
        zone = ZoneInfo(school.timezone)
        resumed = [*changes.get((sid, ChangeKind.resumed.value), [])]
        resumed += [at.astimezone(zone).date() for at in reenrolled.get(sid, [])]
        out[sid] = StatusFacts(
            statuses=statuses,
            calendar=school.calendar,
            today=todays[sid],
            left_without_transfer=changes.get((sid, ChangeKind.left_without_transfer.value), []),
            resumed=resumed,
            transferred=changes.get((sid, ChangeKind.transfer_out.value), []),
            notices_reported=reported.get(sid, []),
        )
    return out
