"""Reading attendance: a class's roll, 教务处's three lists, a student's history, the raw
events with their corrections, and classes whose roll was not taken in time."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.attendance import marks_repo
from app.attendance import repository as repo
from app.attendance.days import derive_days
from app.attendance.leaves_repo import approved_leave_days
from app.attendance.schemas import (
    CheckProgress,
    ClassRollOut,
    ComplianceOut,
    DayCalendarOut,
    DayListsOut,
    EventOut,
    HistoryDayOut,
    ListEntry,
    MissingRoll,
    StudentDayOut,
    StudentHistoryOut,
    ThreeListsOut,
)
from app.calendar.repository import calendars_for
from app.context import AppContext
from app.core.records import get_or_404
from app.core.time import local_today
from app.db.labels import full_class_name
from app.db.models import School
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor
from app.domain.attendance import (
    CHECK_LABELS,
    CHECK_ORDER,
    DAY_STATUS_LABELS,
    DayStatus,
    Mark,
    day_status,
)
from app.domain.calendar import SchoolCalendar
from app.domain.students import StudentBrief
from app.errors import Invalid
from app.org import repository as org_repo
from app.org.repository import schools_by_ids
from app.org.service import class_for, school_for
from app.roster.students import student_for

MAX_LIST_DAYS = 62
HISTORY_DAYS = 30


async def _school_and_calendar(uow: UnitOfWork, school_id: int) -> tuple[School, SchoolCalendar]:
    school = await get_or_404(uow, School, school_id, "学校")
    return school, (await calendars_for(uow.session, [school_id]))[school_id]


async def class_roll(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, class_id: int, day: date | None
) -> ClassRollOut:
    klass = await class_for(uow, actor, class_id)
    school, calendar = await _school_and_calendar(uow, klass.school_id)
    day = day or local_today(school, ctx.clock())
    info = calendar.day_info(day)
    students = await repo.class_students(uow.session, [class_id])
    ids = [s.id for s in students]
    marks = await marks_repo.marks_between(uow.session, ids, day, day)
    derived = derive_days(
        students, marks, await approved_leave_days(uow.session, ids, day, day), [day]
    )
    recorded = defaultdict(set)
    for m in marks:
        recorded[m.check].add(m.student_id)
    return ClassRollOut(
        class_id=class_id,
        day=DayCalendarOut(
            date=day, is_school_day=info.is_school_day, verified=info.verified, reason=info.reason
        ),
        progress=[
            CheckProgress(
                check=c, label=CHECK_LABELS[c], recorded=len(recorded[c.value]), of=len(students)
            )
            for c in CHECK_ORDER
        ],
        students=[
            StudentDayOut(
                student_id=s.id,
                name=s.name,
                class_id=s.class_id,
                day_status=derived[(s.id, day)].status,
                day_status_label=DAY_STATUS_LABELS[derived[(s.id, day)].status],
                home_schooled=s.home_schooled,
                checks=derived[(s.id, day)].checks,
            )
            for s in students
        ],
    )


def _check_range(start: date, end: date, limit: int) -> None:
    if end < start:
        raise Invalid.field(("query", "end"), "结束日期早于开始日期 (end is before start)")
    if (end - start).days + 1 > limit:
        raise Invalid.field(("query", "end"), f"日期范围最多 {limit} 天 (at most {limit} days)")


# The three lists' buckets: 正常到校 holds the late too.
_BUCKETS = ("present", "leave", "absent", "not_recorded")
_BUCKET_OF = {
    s: "present" if s in (DayStatus.present, DayStatus.late) else s.value for s in DayStatus
}
_Checks = tuple[str | None, str | None, str | None]  # morning, noon, dismissal; None: not taken
_UNMARKED: _Checks = (None, None, None)
# (checks, home-schooled) → the day status without and with approved leave. At most 5³ × 2
# keys, each computed once by the domain's ``day_status``: the rules stay there alone.
_STATUS_TABLE: dict[tuple[_Checks, bool], tuple[DayStatus, DayStatus]] = {}


def _statuses(marks: _Checks, home_schooled: bool) -> tuple[DayStatus, DayStatus]:
    key = (marks, home_schooled)
    found = _STATUS_TABLE.get(key)
    if found is None:
        by_check = {c: Mark(m) for c, m in zip(CHECK_ORDER, marks, strict=True) if m is not None}
        found = _STATUS_TABLE[key] = (
            day_status(by_check, on_approved_leave=False, home_schooled=home_schooled),
            day_status(by_check, on_approved_leave=True, home_schooled=home_schooled),
        )
    return found


async def three_lists(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    *,
    school_id: int | None,
    class_id: int | None,
    start: date,
    end: date,
) -> ThreeListsOut:
    """Each school day's students by day status.

    A school's week is a thousand students × five days: the marks come pivoted from the
    database (one row per student and date, statuses only), each day status is looked up in
    a table filled by ``day_status`` itself (a handful of distinct combinations), and a
    student's entry is one object per status, shared by every day it appears on."""
    _check_range(start, end, MAX_LIST_DAYS)
    if class_id is not None:
        klass = await class_for(uow, actor, class_id)
        if school_id is not None and school_id != klass.school_id:
            raise Invalid.field(("query", "class_id"), "班级不属于该校 (class not in that school)")
        school_id = klass.school_id
        students = await repo.class_students(uow.session, [class_id])
    elif school_id is not None:
        await school_for(uow, actor, school_id)
        only = None if access.can_manage_school(actor, school_id) else actor.class_ids
        students = await repo.school_students(uow.session, school_id, only)
    else:
        raise Invalid.field(("query", "school_id"), "须指定 school_id 或 class_id")
    school, calendar = await _school_and_calendar(uow, school_id)
    end = min(end, local_today(school, ctx.clock()))
    days = calendar.school_days_between(start, end) if end >= start else []
    checks: dict[tuple[int, date], _Checks] = {}
    leave: dict[int, set[date]] = {}
    if days:
        rows = await marks_repo.day_checks(uow.session, [s.id for s in students], start, end)
        checks = {(r.student_id, r.school_date): (r.morning, r.noon, r.dismissal) for r in rows}
        # Approved leave is looked up only for students on a day whose status it would
        # change (day_status itself says so): usually a few, not the whole school.
        undecided: set[int] = set()
        for s in students:
            for d in days:
                without_leave, with_leave = _statuses(
                    checks.get((s.id, d), _UNMARKED), s.home_schooled
                )
                if without_leave is not with_leave:
                    undecided.add(s.id)
                    break
        if undecided:
            leave = await approved_leave_days(uow.session, undecided, start, end)
    entries: dict[tuple[int, DayStatus], ListEntry] = {}
    out: list[DayListsOut] = []
    for d in days:
        lists: dict[str, list[ListEntry]] = {b: [] for b in _BUCKETS}
        for s in students:
            without_leave, with_leave = _statuses(checks.get((s.id, d), _UNMARKED), s.home_schooled)
            status = with_leave if d in leave.get(s.id, ()) else without_leave
            entry = entries.get((s.id, status))
            if entry is None:
                entry = entries[(s.id, status)] = ListEntry(
                    student_id=s.id, name=s.name, class_id=s.class_id, day_status=status
                )
            lists[_BUCKET_OF[status]].append(entry)
        out.append(
            DayListsOut(
                date=d,
                verified=calendar.day_info(d).verified,
                present=lists["present"],
                leave=lists["leave"],
                absent=lists["absent"],
                not_recorded=lists["not_recorded"],
            )
        )
    return ThreeListsOut(school_id=school_id, class_id=class_id, start=start, end=end, days=out)


async def _student_range(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    student_id: int,
    start: date | None,
    end: date | None,
) -> tuple[StudentBrief, School, SchoolCalendar, date, date]:
    student = await student_for(uow, actor, student_id)
    school, calendar = await _school_and_calendar(uow, student.school_id)
    end = end or local_today(school, ctx.clock())
    start = start or end - timedelta(days=HISTORY_DAYS - 1)
    _check_range(start, end, 366)
    brief = (await repo.students_brief(uow.session, [student_id]))[student_id]
    return brief, school, calendar, start, end


async def student_history(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    student_id: int,
    start: date | None,
    end: date | None,
) -> StudentHistoryOut:
    brief, school, calendar, start, end = await _student_range(
        uow, ctx, actor, student_id, start, end
    )
    days = calendar.school_days_between(start, min(end, local_today(school, ctx.clock())))
    marks = await marks_repo.marks_between(uow.session, [student_id], start, end)
    leave = await approved_leave_days(uow.session, [student_id], start, end)
    derived = derive_days([brief], marks, leave, days)
    out = [
        HistoryDayOut(
            date=d,
            verified=calendar.day_info(d).verified,
            day_status=derived[(student_id, d)].status,
            day_status_label=DAY_STATUS_LABELS[derived[(student_id, d)].status],
            checks=derived[(student_id, d)].checks,
        )
        for d in days
    ]
    counts = {s: sum(1 for d in out if d.day_status is s) for s in DayStatus}
    return StudentHistoryOut(student_id=student_id, start=start, end=end, days=out, counts=counts)


async def student_events(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    student_id: int,
    start: date | None,
    end: date | None,
) -> list[EventOut]:
    _, _, _, start, end = await _student_range(uow, ctx, actor, student_id, start, end)
    events = await marks_repo.student_events(uow.session, student_id, start, end)
    current = {
        m.event_id for m in await marks_repo.marks_between(uow.session, [student_id], start, end)
    }
    out = []
    for e in events:
        item = EventOut.model_validate(e)
        item.current = e.event_id in current
        out.append(item)
    return out


async def roll_compliance(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    *,
    school_id: int | None,
    day: date | None,
    grace_minutes: int | None,
) -> ComplianceOut:
    """Classes whose roll for a check has no mark at all once the check's time plus the
    grace period has passed (the alert engine reminds their head teachers)."""
    now = ctx.clock()
    grace = timedelta(
        minutes=ctx.settings.roll_grace_minutes if grace_minutes is None else grace_minutes
    )
    if school_id is not None:
        await school_for(uow, actor, school_id)
        school_ids = {school_id}
    else:
        school_ids = set(actor.member_school_ids) if not actor.superuser else set()
    schools = await schools_by_ids(uow.session, school_ids)
    calendars = await calendars_for(uow.session, school_ids)
    missing: list[MissingRoll] = []
    the_day = day
    for sid, school in sorted(schools.items()):
        the_day = day or local_today(school, now)
        if not school.active or not calendars[sid].is_school_day(the_day):
            continue
        tz = ZoneInfo(school.timezone)
        due = {
            c: datetime.combine(the_day, getattr(school, f"{c.value}_check"), tz) + grace
            for c in CHECK_ORDER
        }
        overdue = [c for c in CHECK_ORDER if due[c] <= now]
        if not overdue:
            continue
        grades = {}
        classes = []
        for k, g in await org_repo.classes_by_school(uow.session, sid):
            if k.active and access.can_read_class(actor, sid, k.id or 0):
                classes.append(k)
                grades[k.id] = g.name
        taken = await marks_repo.rolls_taken(uow.session, [k.id for k in classes if k.id], the_day)
        heads = await org_repo.head_teachers(uow.session, [k.id for k in classes if k.id])
        for k in classes:
            for c in overdue:
                if (k.id, c.value) in taken:
                    continue
                head = heads.get(k.id or 0)
                missing.append(
                    MissingRoll(
                        school_id=sid,
                        class_id=k.id or 0,
                        class_name=full_class_name(grades[k.id], k.name),
                        check=c,
                        check_label=CHECK_LABELS[c],
                        due_at=due[c],
                        head_teacher_id=head[0] if head else None,
                        head_teacher_name=head[1] if head else None,
                    )
                )
    return ComplianceOut(
        day=the_day or now.date(),
        checked_at=now,
        grace_minutes=int(grace.total_seconds() // 60),
        missing=missing,
    )
