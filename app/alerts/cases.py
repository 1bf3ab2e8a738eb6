"""预警与缺勤案例 (alerts and absence cases) over HTTP: reading them, scoped by role, and the
staff actions the engine turns into case events.

Decisions:
- reading: whoever may read the student's class (``access.can_read_class``) sees its cases and
  alerts, API keys included; anything else answers 404;
- acting: people only. An API key reads but never acts (403): the timeline names a person;
- verifying (核查) and acknowledging an alert: the role the alert went to, or a role above it
  in the school (blue: head teacher of the class, vice principal, principal; yellow: vice
  principal, principal; red: principal), and the county admin of the case's county; others
  who can see the alert get 403. Verifying twice, or a withdrawn alert, is 409;
- acknowledging an alert (收到) records the first acknowledgement and never changes the
  alert's status; a second acknowledgement answers 200 and changes nothing. It also marks
  the caller's own notices of that alert acknowledged;
- parent contacts, written reports and re-enrolment: the class's head teacher and the
  school's managers (``access.can_edit_student``); deciding on a report: 教务处, the
  principal and the vice principal of the school;
- a task is completed by a holder of the task's role for the case's school or class, or a
  school manager; completing a 复学确认 task confirms the re-enrolment (the same as
  ``POST /cases/{id}/reenrollment``, which in turn closes that task);
- every write locks the case row first (``FOR UPDATE`` on PostgreSQL) and reads the alert,
  report or task only afterwards, applies the engine's event, then writes its own row, and
  commits once: an event the case does not accept (a contact on a closed case, a second
  verification) is a 409 with the machine's Chinese and English message and writes nothing;
- who acted is stored as ``kind:id:name`` (as for leave);
- a deadline is ``owed`` while the obligation it was made for is still open — asked of the
  case machine itself (the same fence the sweep uses), so a contact made in time shows its
  pending deadline as no longer owed; a case's ``pending_deadlines`` are the owed ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

from app.alerts import cases_repo as repo
from app.alerts import engine
from app.alerts import repository as alerts_repo
from app.alerts.cases_schemas import (
    ALERT_STATUS_LABELS,
    CASE_STATUS_LABELS,
    CLOSE_REASON_LABELS,
    DEADLINE_KIND_LABELS,
    DEADLINE_STATE_LABELS,
    REASON_LABELS,
    REPORT_STATUS_LABELS,
    TOPIC_LABELS,
    WORK_GROUP_PARTS,
    AlertDetail,
    AlertExplanation,
    AlertHistory,
    AlertOut,
    CaseDetail,
    CaseOut,
    ContactIn,
    ContactOut,
    DeadlineOut,
    DeadlineState,
    DecisionIn,
    NoticeRecipient,
    ReasonCategory,
    RecipientGroup,
    ReportIn,
    ReportOut,
    ReturnIn,
    TaskDoneIn,
    TaskOut,
    TimelineOut,
    VerifyIn,
    WorkGroupMember,
)
from app.context import AppContext
from app.core.access import require_person
from app.core.types import Page
from app.db.models import (
    AbsenceCase,
    AbsenceReport,
    Alert,
    CaseTask,
    Deadline,
    Notification,
    ParentContact,
)
from app.db.uow import UnitOfWork
from app.delivery.inbox import notification_outs
from app.domain import access
from app.domain.access import Actor, ActorKind
from app.domain.cases import (
    LEVEL_LABELS,
    TASK_LABELS,
    TASK_STATUS_LABELS,
    AlertStatus,
    AlertVerified,
    Case,
    CaseStatus,
    CloseReason,
    ContactLogged,
    DeadlineDue,
    DeadlineKind,
    Event,
    InvalidTransition,
    Level,
    Policy,
    ReenrollmentConfirmed,
    ReportDecided,
    ReportStatus,
    ReportSubmitted,
    TaskKind,
    TaskStatus,
    transition,
)
from app.domain.roles import ROLE_LABELS, Role
from app.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from app.roster.enrollment_changes import resume_if_missing
from app.roster.repository import student_names
from app.roster.students import student_for

# The school's chain of command for alerts, lowest first (the county admin is above all).
_LADDER = (Role.head_teacher, Role.vice_principal, Role.principal)
_CLASS_ROLES = (Role.head_teacher, Role.subject_teacher)
_REPORT_DECIDERS = (Role.academic_affairs, Role.principal, Role.vice_principal)

_NOT_ALERT_HOLDER = (
    "只有预警接收人及其上级(班主任→分管副校长→校长)或县教育局可办理该预警 "
    "(only the alert's recipient role or above, or the county admin)"
)
_NOT_CASEWORKER = (
    "只有本班班主任或学校管理者可办理 (only the class's head teacher or school managers)"
)
_NOT_DECIDER = (
    "只有教务处、校长或分管副校长可审核书面报告 "
    "(only 教务处, the principal or the vice principal decide on reports)"
)
_NOT_TASK_HOLDER = (
    "只有该任务对应角色的人员或学校管理者可完成此任务 "
    "(only holders of the task's role or school managers complete it)"
)


# --- who may act ----------------------------------------------------------------------------


def _holds(actor: Actor, role: Role, row: AbsenceCase) -> bool:
    """Whether the actor holds ``role`` for this case's class, school or county."""
    for g in actor.grants:
        if g.role is not role:
            continue
        if role is Role.county_admin:
            if g.county_id == row.county_id:
                return True
        elif role in _CLASS_ROLES:
            if g.class_id == row.class_id:
                return True
        elif g.school_id == row.school_id:
            return True
    return False


def may_answer_alert(actor: Actor, alert: Alert, row: AbsenceCase) -> bool:
    """The alert's recipient role or a role above it, or the county admin."""
    if actor.kind is not ActorKind.staff:
        return False
    if actor.superuser:
        return True
    recipient = Role(alert.recipient_role)
    allowed = {recipient, Role.county_admin}
    if recipient in _LADDER:
        allowed.update(_LADDER[_LADDER.index(recipient) :])
    elif recipient is not Role.county_admin:
        allowed.add(Role.principal)
    return any(_holds(actor, role, row) for role in allowed)


def _require_caseworker(actor: Actor, row: AbsenceCase) -> None:
    require_person(actor)
    if not access.can_edit_student(actor, row.school_id, row.class_id):
        raise Forbidden(_NOT_CASEWORKER)


# --- loading --------------------------------------------------------------------------------


async def locked_case(
    uow: UnitOfWork, actor: Actor, case_id: int | None, what: str, ident: int
) -> AbsenceCase:
    """The case locked for this transaction; 404 (named after what was asked for) if it does
    not exist or is outside the caller's scope."""
    row = await alerts_repo.case_for_update(uow.session, case_id) if case_id else None
    if row is None or not access.can_read_class(actor, row.school_id, row.class_id):
        raise NotFound(what, ident)
    return row


async def visible_case(uow: UnitOfWork, actor: Actor, case_id: int) -> AbsenceCase:
    row = await repo.case(uow.session, case_id)
    if row is None or not access.can_read_class(actor, row.school_id, row.class_id):
        raise NotFound("缺勤案例", case_id)
    return row


async def _apply(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, row: AbsenceCase, event: Event
) -> None:
    try:
        await engine.apply_event(uow, ctx, row, event, actor.tag)
    except InvalidTransition as exc:
        raise Conflict(str(exc)) from exc


# --- shaping --------------------------------------------------------------------------------


def _alert_out(a: Alert, names: dict[int, str]) -> AlertOut:
    assert a.id is not None
    level, status, role = Level(a.level), AlertStatus(a.status), Role(a.recipient_role)
    return AlertOut(
        id=a.id,
        case_id=a.case_id,
        key=a.key,
        student_id=a.student_id,
        student_name=names.get(a.student_id, ""),
        school_id=a.school_id,
        class_id=a.class_id,
        level=level,
        level_label=LEVEL_LABELS[level],
        status=status,
        status_label=ALERT_STATUS_LABELS[status],
        raised_at=a.raised_at,
        days=[date.fromisoformat(d) for d in a.days],
        rule=a.rule,
        recipient_role=role,
        recipient_role_label=ROLE_LABELS[role],
        verify_due=a.verify_due,
        verified_at=a.verified_at,
        verified_by=a.verified_by,
        verify_note=a.verify_note,
        acknowledged_at=a.acknowledged_at,
        acknowledged_by=a.acknowledged_by,
        withdrawn_at=a.withdrawn_at,
        withdrawn_reason=a.withdrawn_reason,
    )


async def _alert_outs(uow: UnitOfWork, rows: Sequence[Alert]) -> list[AlertOut]:
    names = await student_names(uow.session, {a.student_id for a in rows})
    return [_alert_out(a, names) for a in rows]


def _case_out(row: AbsenceCase, names: dict[int, str]) -> CaseOut:
    assert row.id is not None
    status = CaseStatus(row.status)
    level = Level(row.level) if row.level else None
    reason = CloseReason(row.close_reason) if row.close_reason else None
    report = ReportStatus(row.report_status) if row.report_status else None
    return CaseOut(
        id=row.id,
        student_id=row.student_id,
        student_name=names.get(row.student_id, ""),
        school_id=row.school_id,
        class_id=row.class_id,
        status=status,
        status_label=CASE_STATUS_LABELS[status],
        level=level,
        level_label=LEVEL_LABELS[level] if level else None,
        episode=row.episode,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        close_reason=reason,
        close_reason_label=CLOSE_REASON_LABELS[reason] if reason else None,
        run=[date.fromisoformat(d) for d in row.run],
        contact_day=row.contact_day,
        contact_attempt=row.contact_attempt,
        contact_done=row.contact_done,
        report_status=report,
        report_status_label=REPORT_STATUS_LABELS[report] if report else None,
        report_round=row.report_round,
        reenroll_due=row.reenroll_due,
        version=row.version,
        updated_at=row.updated_at,
    )


def _owed(case: Case, d: Deadline, now: datetime) -> bool:
    """Whether the case machine would still act on this deadline (its fence)."""
    # A failed deadline is still owed: the sweep retries it (app/alerts/sweep.py).
    if d.state not in (DeadlineState.pending.value, DeadlineState.failed.value):
        return False
    try:
        _, effects = transition(case, DeadlineDue(DeadlineKind(d.kind), d.key), now, case.policy)
    except InvalidTransition:
        return False
    return bool(effects)


def _deadline_out(d: Deadline, case: Case, now: datetime) -> DeadlineOut:
    assert d.id is not None
    kind, state = DeadlineKind(d.kind), DeadlineState(d.state)
    owed = _owed(case, d, now)
    return DeadlineOut(
        id=d.id,
        kind=kind,
        kind_label=DEADLINE_KIND_LABELS[kind],
        key=d.key,
        due_at=d.due_at,
        state=state,
        state_label=DEADLINE_STATE_LABELS[state],
        owed=owed,
        overdue=owed and d.due_at <= now,
        fired_at=d.fired_at,
        lateness_ms=d.lateness_ms,
    )


def _contact_out(c: ParentContact) -> ContactOut:
    assert c.id is not None
    reason = ReasonCategory(c.reason_category) if c.reason_category else None
    return ContactOut(
        id=c.id,
        case_id=c.case_id,
        at=c.at,
        logged_by=c.logged_by,
        answered_by=c.answered_by,
        reached=c.reached,
        reason_category=reason,
        reason_category_label=REASON_LABELS[reason] if reason else None,
        reason_note=c.reason_note,
        verified=c.verified,
    )


def _report_out(r: AbsenceReport) -> ReportOut:
    assert r.id is not None
    status = ReportStatus(r.status)
    return ReportOut(
        id=r.id,
        case_id=r.case_id,
        round=r.round,
        content=r.content,
        submitted_at=r.submitted_at,
        submitted_by=r.submitted_by,
        status=status,
        status_label=REPORT_STATUS_LABELS[status],
        decided_at=r.decided_at,
        decided_by=r.decided_by,
        decision_note=r.decision_note,
    )


def _task_out(t: CaseTask) -> TaskOut:
    assert t.id is not None
    kind, role, status = TaskKind(t.kind), Role(t.role), TaskStatus(t.status)
    return TaskOut(
        id=t.id,
        case_id=t.case_id,
        kind=kind,
        kind_label=TASK_LABELS[kind],
        role=role,
        role_label=ROLE_LABELS[role],
        due_at=t.due_at,
        status=status,
        status_label=TASK_STATUS_LABELS[status],
        done_at=t.done_at,
        done_by=t.done_by,
        note=t.note,
        created_at=t.created_at,
    )


def _work_group(members: Iterable[dict[str, object]]) -> list[WorkGroupMember]:
    out = []
    for m in members:
        role, part = Role(str(m["role"])), str(m["part"])
        out.append(
            WorkGroupMember(
                staff_id=int(str(m["staff_id"])),
                name=str(m["name"]),
                role=role,
                role_label=ROLE_LABELS[role],
                part=part,
                part_label=WORK_GROUP_PARTS.get(part, part),
            )
        )
    return out


def _topic_role(topic: str, policy: Policy, alert: Alert) -> Role | None:
    level = Level(alert.level)
    if topic in ("alert.raised", "alert.withdrawn"):
        return Role(alert.recipient_role)
    if topic == "alert.escalated":
        return policy.escalation(level)
    return None


def _recipients(
    alert: Alert, policy: Policy, notices: Sequence[Notification], names: dict[int, str]
) -> list[RecipientGroup]:
    """The people told about the alert, grouped by why (topic) and in which role; the role is
    the one recorded on the notice, or else the one the case's policy gives the topic."""
    groups: dict[tuple[str, Role | None], list[NoticeRecipient]] = {}
    for n in notices:
        role = Role(n.role) if n.role else _topic_role(n.topic, policy, alert)
        groups.setdefault((n.topic, role), []).append(
            NoticeRecipient(
                staff_id=n.staff_id,
                name=names.get(n.staff_id, ""),
                notified_at=n.created_at,
                read_at=n.read_at,
                acknowledged_at=n.acknowledged_at,
            )
        )
    return [
        RecipientGroup(
            topic=topic,
            topic_label=TOPIC_LABELS.get(topic, topic),
            role=role,
            role_label=ROLE_LABELS[role] if role else None,
            staff=staff,
        )
        for (topic, role), staff in groups.items()
    ]


async def _domain_case(uow: UnitOfWork, row: AbsenceCase) -> Case:
    assert row.id is not None
    return engine.to_domain(row, await repo.alerts_of_case(uow.session, row.id))


async def _alert_detail(uow: UnitOfWork, ctx: AppContext, alert: Alert) -> AlertDetail:
    assert alert.id is not None
    row = await repo.case(uow.session, alert.case_id)
    assert row is not None and row.id is not None
    case = await _domain_case(uow, row)
    now = ctx.clock()
    notices = await repo.notifications_of_alert(uow.session, alert.id)
    names = await repo.staff_names(uow.session, {n.staff_id for n in notices})
    deadlines = [
        _deadline_out(d, case, now)
        for d in await repo.deadlines(uow.session, row.id)
        if d.kind != DeadlineKind.verify.value or d.key == alert.key
    ]
    base = (await _alert_outs(uow, [alert]))[0]
    days = [date.fromisoformat(d) for d in alert.days]
    explanation = AlertExplanation(
        rule=alert.rule,
        level_label=base.level_label,
        days=days,
        days_count=len(days),
        recipient_role=base.recipient_role,
        recipient_role_label=base.recipient_role_label,
        recipients=_recipients(alert, case.policy, notices, names),
        verify_due=alert.verify_due,
        deadlines=deadlines,
    )
    history = AlertHistory(
        timeline=[TimelineOut.model_validate(e) for e in await repo.timeline(uow.session, row.id)],
        notifications=await notification_outs(uow, notices),
    )
    return AlertDetail(**base.model_dump(), explanation=explanation, history=history)


async def _case_detail(uow: UnitOfWork, ctx: AppContext, row: AbsenceCase) -> CaseDetail:
    assert row.id is not None
    session = uow.session
    alerts = await repo.alerts_of_case(session, row.id)
    case = engine.to_domain(row, alerts)
    now = ctx.clock()
    names = await student_names(session, [row.student_id])
    pending = [
        out
        for out in (_deadline_out(d, case, now) for d in await repo.deadlines(session, row.id))
        if out.owed
    ]
    return CaseDetail(
        **_case_out(row, names).model_dump(),
        timeline=[TimelineOut.model_validate(e) for e in await repo.timeline(session, row.id)],
        contacts=[_contact_out(c) for c in await repo.contacts(session, row.id)],
        reports=[_report_out(r) for r in await repo.reports(session, row.id)],
        tasks=[_task_out(t) for t in await repo.tasks(session, row.id)],
        work_group=_work_group(row.work_group),
        alerts=[_alert_out(a, names) for a in alerts],
        pending_deadlines=pending,
    )


# --- alerts ---------------------------------------------------------------------------------


async def list_alerts(
    uow: UnitOfWork,
    actor: Actor,
    *,
    level: Level | None,
    status: AlertStatus | None,
    school_id: int | None,
    class_id: int | None,
    student_id: int | None,
    case_id: int | None,
    raised_from: date | None,
    raised_to: date | None,
    limit: int,
    offset: int,
) -> Page[AlertOut]:
    if raised_from is not None and raised_to is not None and raised_to < raised_from:
        raise Invalid.field(("query", "to"), "结束日期早于开始日期 (to is before from)")
    rows, total = await repo.list_alerts(
        uow.session,
        access.student_visibility(actor),
        level=level.value if level else None,
        status=status.value if status else None,
        school_id=school_id,
        class_id=class_id,
        student_id=student_id,
        case_id=case_id,
        raised_from=raised_from,
        raised_to=raised_to,
        limit=limit,
        offset=offset,
    )
    return Page(items=await _alert_outs(uow, rows), total=total, limit=limit, offset=offset)


async def get_alert(uow: UnitOfWork, ctx: AppContext, actor: Actor, alert_id: int) -> AlertDetail:
    alert = await repo.alert(uow.session, alert_id)
    if alert is None or not access.can_read_class(actor, alert.school_id, alert.class_id):
        raise NotFound("预警", alert_id)
    return await _alert_detail(uow, ctx, alert)


async def _alert_for_action(
    uow: UnitOfWork, actor: Actor, alert_id: int
) -> tuple[AbsenceCase, Alert]:
    case_id = await repo.alert_case_id(uow.session, alert_id)
    row = await locked_case(uow, actor, case_id, "预警", alert_id)
    alert = await repo.alert(uow.session, alert_id)
    assert alert is not None
    require_person(actor)
    if not may_answer_alert(actor, alert, row):
        raise Forbidden(_NOT_ALERT_HOLDER)
    return row, alert


async def acknowledge_alert(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, alert_id: int
) -> AlertOut:
    _, alert = await _alert_for_action(uow, actor, alert_id)
    if alert.acknowledged_at is None:
        now = ctx.clock()
        alert.acknowledged_at = now
        alert.acknowledged_by = actor.tag
        uow.session.add(alert)
        await repo.acknowledge_notifications(uow.session, alert_id, actor.id, now)
        await uow.commit()
    return (await _alert_outs(uow, [alert]))[0]


async def verify_alert(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, alert_id: int, data: VerifyIn
) -> AlertOut:
    row, alert = await _alert_for_action(uow, actor, alert_id)
    await _apply(uow, ctx, actor, row, AlertVerified(alert.key, ctx.clock()))
    alert.verify_note = data.note or None
    uow.session.add(alert)
    await uow.commit()
    return (await _alert_outs(uow, [alert]))[0]


# --- cases ----------------------------------------------------------------------------------


async def list_cases(
    uow: UnitOfWork,
    actor: Actor,
    *,
    status: CaseStatus | None,
    level: Level | None,
    school_id: int | None,
    class_id: int | None,
    student_id: int | None,
    limit: int,
    offset: int,
) -> Page[CaseOut]:
    rows, total = await repo.list_cases(
        uow.session,
        access.student_visibility(actor),
        status=status.value if status else None,
        level=level.value if level else None,
        school_id=school_id,
        class_id=class_id,
        student_id=student_id,
        limit=limit,
        offset=offset,
    )
    names = await student_names(uow.session, {r.student_id for r in rows})
    return Page(items=[_case_out(r, names) for r in rows], total=total, limit=limit, offset=offset)


async def get_case(uow: UnitOfWork, ctx: AppContext, actor: Actor, case_id: int) -> CaseDetail:
    return await _case_detail(uow, ctx, await visible_case(uow, actor, case_id))


async def student_case(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, student_id: int
) -> CaseDetail:
    await student_for(uow, actor, student_id)
    row = await repo.current_case_of(uow.session, student_id)
    if row is None:
        raise NotFound("该学生进行中的缺勤案例 (open case of student)", student_id)
    return await _case_detail(uow, ctx, row)


async def list_tasks(uow: UnitOfWork, actor: Actor, case_id: int) -> list[TaskOut]:
    row = await visible_case(uow, actor, case_id)
    assert row.id is not None
    return [_task_out(t) for t in await repo.tasks(uow.session, row.id)]


# --- casework -------------------------------------------------------------------------------


def _contact_problems(data: ContactIn, at: datetime, now: datetime) -> list[FieldProblem]:
    problems = []
    if at > now:
        problems.append(FieldProblem(("body", "at"), "通话时间不能晚于现在 (at is in the future)"))
    if not data.reached and data.reason_category is not None:
        problems.append(
            FieldProblem(
                ("body", "reason_category"),
                "未联系上家长时不能填写缺勤原因 (no reason without reaching anyone)",
            )
        )
    if not data.reached and data.verified:
        problems.append(
            FieldProblem(
                ("body", "verified"),
                "未联系上家长时不能标记已核实 (nothing verified without reaching anyone)",
            )
        )
    return problems


async def log_contact(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, case_id: int, data: ContactIn
) -> ContactOut:
    row = await locked_case(uow, actor, case_id, "缺勤案例", case_id)
    _require_caseworker(actor, row)
    now = ctx.clock()
    at = data.at.astimezone(UTC) if data.at else now
    problems = _contact_problems(data, at, now)
    if problems:
        raise Invalid(problems)
    # The event first: a case that refuses it (closed) leaves nothing written.
    await _apply(uow, ctx, actor, row, ContactLogged(data.reached, at))
    contact = ParentContact(
        case_id=case_id,
        at=at,
        logged_by=actor.tag,
        answered_by=data.answered_by or None,
        reached=data.reached,
        reason_category=data.reason_category.value if data.reason_category else None,
        reason_note=data.reason_note or None,
        verified=data.verified,
    )
    uow.session.add(contact)
    await uow.commit()
    return _contact_out(contact)


async def submit_report(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, case_id: int, data: ReportIn
) -> ReportOut:
    row = await locked_case(uow, actor, case_id, "缺勤案例", case_id)
    _require_caseworker(actor, row)
    now = ctx.clock()
    await _apply(uow, ctx, actor, row, ReportSubmitted(now))
    report = AbsenceReport(
        case_id=case_id,
        round=row.report_round,
        content=data.content,
        submitted_at=now,
        submitted_by=actor.tag,
        status=ReportStatus.submitted.value,
    )
    uow.session.add(report)
    await uow.commit()
    return _report_out(report)


async def _decide(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    report_id: int,
    accepted: bool,
    note: str,
) -> ReportOut:
    case_id = await repo.report_case_id(uow.session, report_id)
    row = await locked_case(uow, actor, case_id, "书面报告", report_id)
    require_person(actor)
    if not actor.superuser and not any(_holds(actor, r, row) for r in _REPORT_DECIDERS):
        raise Forbidden(_NOT_DECIDER)
    report = await repo.report(uow.session, report_id)
    assert report is not None
    if report.status != ReportStatus.submitted.value:
        label = REPORT_STATUS_LABELS[ReportStatus(report.status)]
        raise Conflict(f"该报告{label},不能再审核 (the report is {report.status})")
    now = ctx.clock()
    await _apply(uow, ctx, actor, row, ReportDecided(accepted, now))
    report.status = (ReportStatus.accepted if accepted else ReportStatus.returned).value
    report.decided_at = now
    report.decided_by = actor.tag
    report.decision_note = note or None
    uow.session.add(report)
    await uow.commit()
    return _report_out(report)


async def accept_report(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, report_id: int, data: DecisionIn | None
) -> ReportOut:
    return await _decide(uow, ctx, actor, report_id, True, data.note if data else "")


async def return_report(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, report_id: int, data: ReturnIn
) -> ReportOut:
    return await _decide(uow, ctx, actor, report_id, False, data.note)


def _close_tasks(tasks: Iterable[CaseTask], actor: Actor, now: datetime, note: str) -> None:
    for t in tasks:
        t.status = TaskStatus.done.value
        t.done_at = now
        t.done_by = actor.tag
        t.note = note or t.note


async def confirm_reenrollment(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, case_id: int
) -> CaseDetail:
    row = await locked_case(uow, actor, case_id, "缺勤案例", case_id)
    _require_caseworker(actor, row)
    now = ctx.clock()
    await _apply(uow, ctx, actor, row, ReenrollmentConfirmed(now))
    await resume_if_missing(uow, ctx, row.student_id, actor.tag)
    owed = await repo.open_tasks(uow.session, case_id, TaskKind.reenrollment.value)
    _close_tasks(owed, actor, now, "已确认复学")
    uow.session.add_all(owed)
    await uow.commit()
    return await _case_detail(uow, ctx, row)


async def complete_task(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, task_id: int, data: TaskDoneIn
) -> TaskOut:
    case_id = await repo.task_case_id(uow.session, task_id)
    row = await locked_case(uow, actor, case_id, "任务", task_id)
    require_person(actor)
    task = await repo.task(uow.session, task_id)
    assert task is not None
    if not _holds(actor, Role(task.role), row) and not access.can_manage_school(
        actor, row.school_id
    ):
        raise Forbidden(_NOT_TASK_HOLDER)
    if task.status == TaskStatus.done.value:
        raise Conflict("该任务已完成 (the task is already done)")
    if task.status == TaskStatus.cancelled.value:
        raise Conflict(f"该任务已取消:{task.note} (the task was cancelled)")
    now = ctx.clock()
    if task.kind == TaskKind.reenrollment.value:
        # Completing the 复学确认 task is confirming the re-enrolment.
        await _apply(uow, ctx, actor, row, ReenrollmentConfirmed(now))
        await resume_if_missing(uow, ctx, row.student_id, actor.tag)
        others = [
            t for t in await repo.open_tasks(uow.session, row.id or 0, task.kind) if t.id != task.id
        ]
        _close_tasks(others, actor, now, "已确认复学")
        uow.session.add_all(others)
    _close_tasks([task], actor, now, data.note)
    uow.session.add(task)
    await uow.commit()
    return _task_out(task)
