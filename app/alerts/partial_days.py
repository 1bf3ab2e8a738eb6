"""离校未归 (left during the day): a child seen at an earlier check and missing, without
leave, at 午检 or 放学前 of the school's current day.

The intake calls ``react`` in its own transaction, after the case engine
(``app.alerts.reactions``): the alert, its 1-hour contact deadline and the head teacher's
notice are written with the roll that found the child missing (the outbox). The deadline is a
column of the row (``contact_due``); the periodic job ``escalate_overdue`` claims the overdue
ones in one ``UPDATE … RETURNING`` (a second engine finds none) and tells the vice principal,
as an overdue call of a morning absence does. Logging the call resolves the alert
(``contacted``); a later check that finds the child present, a leave mark or approved leave,
or a correction that leaves nobody missing withdraws it and tells whoever was told.

Decisions: only the school's current day is judged (a noon absence synced the next day is a
record for the lists, not a call to make within the hour); the day itself is never made
absent by this rule, so the consecutive-day run is untouched; a county turns the rule off with
``left_school_alerts: false`` in its policy (on by default), which stops new alerts only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from app.alerts import engine_repo as alerts_repo
from app.alerts import partial_days_repo as lrepo
from app.alerts import policy as policies
from app.alerts.county_rules import rules_from
from app.alerts.partial_days_schemas import LeftSchoolOut
from app.attendance.leaves_repo import approved_leave_days
from app.attendance.marks_repo import marks_between
from app.attendance.repository import students_brief
from app.calendar.repository import school_refs
from app.context import AppContext
from app.core.access import require_person
from app.core.time import local_today
from app.db.models import LeftSchoolAlert
from app.db.uow import UnitOfWork
from app.delivery import outbox
from app.delivery.outbox import Notice
from app.domain import access
from app.domain.access import Actor
from app.domain.attendance import CHECK_LABELS, Check, Mark
from app.domain.partial_days import (
    LEFT_SCHOOL_LABEL,
    LEFT_SCHOOL_STATUS_LABELS,
    LeftSchoolStatus,
    contact_due,
    left_during_day,
)
from app.domain.roles import Role, stand_ins
from app.domain.schools import SchoolRef
from app.domain.students import StudentBrief
from app.errors import Conflict, Forbidden, NotFound

RAISED_TOPIC = "left_school.raised"
OVERDUE_TOPIC = "left_school.overdue"
WITHDRAWN_TOPIC = "left_school.withdrawn"


async def react(
    uow: UnitOfWork,
    ctx: AppContext,
    changed: Iterable[tuple[int, date, str, str]],
    *,
    now: datetime | None = None,
) -> None:
    """``changed``: (student, school day, check, status) of each mark the caller just wrote;
    ``now``: the request's reading of the clock (read here when not given)."""
    now = now or ctx.clock()
    fresh = list(changed)
    if not fresh:
        return
    session = uow.session
    pairs = {(sid, day) for sid, day, _, _ in fresh}
    # The day's alerts of these students, to judge again (a corrected earlier check may
    # withdraw one: the child was never seen). Looked for first without a lock: an alert is
    # only raised by a roll or a leave decision, each holding the student's lock (the
    # caller's, ``reactions``), so none appears that this read missed; those found are then
    # read again under their row locks (the contact and escalation paths change them).
    with_alerts = await lrepo.days_with_alerts(session, pairs)
    existing = await lrepo.of_students_on(session, with_alerts) if with_alerts else {}
    # Who may be missing: a later check found absent, or an alert of that day to judge again.
    asked = {
        (sid, day)
        for sid, day, check, status in fresh
        if check != Check.morning.value and status == Mark.absent.value
    } | set(existing)
    if not asked:
        return
    await _judge(uow, now, asked, existing)


async def react_to_leave(uow: UnitOfWork, ctx: AppContext, student_id: int) -> None:
    """Leave approved or cancelled for a student: today's 离校未归 judged again."""
    now = ctx.clock()
    students = await students_brief(uow.session, [student_id])
    if student_id not in students:
        return
    schools = await school_refs(uow.session, {students[student_id].school_id})
    pair = (student_id, local_today(schools[students[student_id].school_id], now))
    existing = await lrepo.of_students_on(uow.session, [pair])
    await _judge(uow, now, {pair}, existing)


async def _judge(
    uow: UnitOfWork,
    now: datetime,
    asked: set[tuple[int, date]],
    existing: dict[tuple[int, date], LeftSchoolAlert],
) -> None:
    session = uow.session
    students = await students_brief(session, {sid for sid, _ in asked})
    schools = await school_refs(session, {s.school_id for s in students.values()})
    today = {sid: local_today(schools[s.school_id], now) for sid, s in students.items()}
    asked = {(sid, day) for sid, day in asked if sid in today and today[sid] == day}
    if not asked:
        return
    days = {day for _, day in asked}
    ids = {sid for sid, _ in asked}
    marks = await marks_between(session, ids, min(days), max(days))
    leave = await approved_leave_days(session, ids, min(days), max(days))
    checks: dict[tuple[int, date], dict[Check, Mark]] = {}
    found_at: dict[tuple[int, date, Check], datetime] = {}
    for m in marks:
        checks.setdefault((m.student_id, m.school_date), {})[Check(m.check)] = Mark(m.status)
        found_at[(m.student_id, m.school_date, Check(m.check))] = m.occurred_at
    settings: dict[int, tuple[bool, int]] = {}
    notices: list[Notice] = []
    for sid, day in sorted(asked):
        student = students[sid]
        missing = left_during_day(
            checks.get((sid, day), {}),
            on_approved_leave=day in leave.get(sid, set()),
            home_schooled=student.home_schooled,
        )
        row = existing.get((sid, day))
        if missing is None:
            if row is not None and row.status == LeftSchoolStatus.raised:
                await _withdraw(uow, row, student, now, notices)
            continue
        school = schools[student.school_id]
        if school.id not in settings:
            settings[school.id] = await _settings(uow, school)
        enabled, minutes = settings[school.id]
        if row is not None and row.status != LeftSchoolStatus.withdrawn:
            continue  # already raised (or the call made): nothing new
        if not enabled:
            continue
        at = found_at[(sid, day, missing)]
        if row is None:
            row = LeftSchoolAlert(
                student_id=sid,
                county_id=school.county_id,
                school_id=school.id,
                class_id=student.class_id,
                school_date=day,
                check=missing.value,
                status=LeftSchoolStatus.raised,
                found_at=at,
                contact_due=contact_due(at, minutes),
                raised_times=1,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            await uow.flush()
        else:  # a correction made the child missing again: raised anew, with a new notice
            row.check, row.status, row.found_at = missing.value, LeftSchoolStatus.raised, at
            row.contact_due = contact_due(at, minutes)
            row.raised_times += 1
            row.escalated_at = row.withdrawn_at = row.withdrawn_reason = None
            row.updated_at = now
        title = (
            f"{LEFT_SCHOOL_LABEL}:{student.name} {day.isoformat()} "
            f"{CHECK_LABELS[missing]}未到,请在 {minutes} 分钟内联系家长"
        )
        notices += await _notices(uow, row, student, Role.head_teacher, RAISED_TOPIC, title, now)
    await outbox.enqueue(session, notices)


async def _settings(uow: UnitOfWork, school: SchoolRef) -> tuple[bool, int]:
    county, own = await alerts_repo.policy_rows(uow.session, school.county_id, school.id)
    layers = (county.values if county else None, own.values if own else None)
    return rules_from(*layers).left_school_alerts, policies.merge(*layers).contact_minutes


async def _withdraw(
    uow: UnitOfWork,
    row: LeftSchoolAlert,
    student: StudentBrief,
    now: datetime,
    notices: list[Notice],
) -> None:
    row.status = LeftSchoolStatus.withdrawn
    row.withdrawn_at, row.updated_at = now, now
    row.withdrawn_reason = "后续点名已到校或已说明原因"
    day = row.school_date.isoformat()
    title = f"{LEFT_SCHOOL_LABEL}撤回:{student.name} {day} 已到校或已说明原因"
    told = [Role.head_teacher] + ([Role.vice_principal] if row.escalated_at else [])
    for role in told:
        notices += await _notices(uow, row, student, role, WITHDRAWN_TOPIC, title, now)


async def _notices(
    uow: UnitOfWork,
    row: LeftSchoolAlert,
    student: StudentBrief,
    role: Role,
    topic: str,
    title: str,
    now: datetime,
) -> list[Notice]:
    """One notice per person holding ``role`` for the student (the nearest role up when
    nobody does), once per alert, raising and topic (the key)."""
    held = role
    people = await _holders(uow, row, role)
    for up in stand_ins(role) if not people else ():
        people = await _holders(uow, row, up)
        if people:
            held = up
            break
    return [
        Notice(
            idem_key=f"left:{row.id}:{row.raised_times}:{topic}:{staff_id}",
            staff_id=staff_id,
            role=held,
            topic=topic,
            title=title,
            student_id=student.id,
            school_id=row.school_id,
            created_at=now,
        )
        for staff_id, _ in people
    ]


async def _holders(uow: UnitOfWork, row: LeftSchoolAlert, role: Role) -> list[tuple[int, str]]:
    return await alerts_repo.recipients(
        uow.session, role, county_id=row.county_id, school_id=row.school_id, class_id=row.class_id
    )


async def escalate_overdue(ctx: AppContext) -> int:
    """The periodic job: calls not logged within the hour go to the vice principal, once."""
    now = ctx.clock()
    async with ctx.uow() as uow:
        rows = await lrepo.claim_overdue(uow.session, now)
        students = await students_brief(uow.session, {r.student_id for r in rows})
        notices: list[Notice] = []
        for row in rows:
            student = students.get(row.student_id)
            if student is None:
                continue
            title = (
                f"{LEFT_SCHOOL_LABEL}联系超时:{student.name} {row.school_date.isoformat()} "
                f"{CHECK_LABELS[Check(row.check)]}未到,班主任未在规定时间内联系家长"
            )
            notices += await _notices(
                uow, row, student, Role.vice_principal, OVERDUE_TOPIC, title, now
            )
        await outbox.enqueue(uow.session, notices)
        await uow.commit()
    return len(rows)


def _out(row: LeftSchoolAlert) -> LeftSchoolOut:
    return LeftSchoolOut(
        id=row.id or 0,
        student_id=row.student_id,
        school_id=row.school_id,
        class_id=row.class_id,
        school_date=row.school_date,
        check=row.check,
        check_label=CHECK_LABELS[Check(row.check)],
        status=row.status,
        status_label=LEFT_SCHOOL_STATUS_LABELS[row.status],
        found_at=row.found_at,
        contact_due=row.contact_due,
        escalated_at=row.escalated_at,
        contacted_at=row.contacted_at,
        contacted_by=row.contacted_by,
        contact_note=row.contact_note,
        withdrawn_at=row.withdrawn_at,
        withdrawn_reason=row.withdrawn_reason,
    )


async def log_contact(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, alert_id: int, note: str | None
) -> LeftSchoolOut:
    """The head teacher (or a school manager) phoned the guardian: the alert is resolved."""
    row = await lrepo.one_for_update(uow.session, alert_id)
    if row is None or not access.can_read_class(actor, row.school_id, row.class_id):
        raise NotFound("离校未归预警", alert_id)
    require_person(actor)
    if not access.can_edit_student(actor, row.school_id, row.class_id):
        raise Forbidden("需要本班班主任或学校管理者 (head teacher of the class or school managers)")
    if row.status != LeftSchoolStatus.raised:
        raise Conflict(f"该预警已{'撤回' if row.status == 'withdrawn' else '联系'},无需再登记")
    now = ctx.clock()
    row.status, row.contacted_at, row.contacted_by = LeftSchoolStatus.contacted, now, actor.tag
    row.contact_note, row.updated_at = note, now
    await uow.commit()
    return _out(row)


async def list_for_school(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    school_id: int,
    start: date | None,
    end: date | None,
    status: str | None,
) -> list[LeftSchoolOut]:
    if not access.can_read_school(actor, school_id):
        raise NotFound("学校", school_id)
    # School managers see every class; a teacher the classes they teach or head.
    classes = None if access.can_manage_school(actor, school_id) else actor.class_ids
    refs = await school_refs(uow.session, {school_id})
    if school_id not in refs:
        raise NotFound("学校", school_id)
    today = local_today(refs[school_id], ctx.clock())
    found = await lrepo.listed(
        uow.session,
        school_id=school_id,
        class_ids=classes,
        start=start or today,
        end=end or today,
        status=status,
    )
    return [_out(r) for r in found]
