"""预警与缺勤案例 (alerts and cases) as the API shows them: rows shaped into the schemas of
``app.alerts.case_schemas``, with each alert's explanation (who was told, why) and each
case's casework and owed deadlines, asked of the case machine."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from app.alerts import case_repo as repo
from app.alerts import engine
from app.alerts.case_schemas import (
    ALERT_STATUS_LABELS,
    CASE_STATUS_LABELS,
    CLOSE_REASON_LABELS,
    DEADLINE_KIND_LABELS,
    DEADLINE_STATE_LABELS,
    REASON_LABELS,
    REPORT_STATUS_LABELS,
    WORK_GROUP_PARTS,
    AlertDetail,
    AlertExplanation,
    AlertHistory,
    AlertOut,
    CaseDetail,
    CaseOut,
    ContactOut,
    DeadlineOut,
    DeadlineState,
    NoticeRecipient,
    ReasonCategory,
    RecipientGroup,
    ReportOut,
    TaskOut,
    TimelineOut,
    WorkGroupMember,
)
from app.alerts.measure_schemas import AbsenceMeasureOut
from app.context import AppContext
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
from app.delivery.schemas import TOPIC_LABELS
from app.domain.cases import (
    LEVEL_LABELS,
    AlertStatus,
    Case,
    CaseStatus,
    CloseReason,
    DeadlineDue,
    DeadlineKind,
    InvalidTransition,
    Level,
    Policy,
    ReportStatus,
    transition,
)
from app.domain.roles import ROLE_LABELS, Role
from app.org.staff_repo import staff_names
from app.roster.repository import student_names

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


async def alert_outs(uow: UnitOfWork, rows: Sequence[Alert]) -> list[AlertOut]:
    names = await student_names(uow.session, {a.student_id for a in rows})
    return [_alert_out(a, names) for a in rows]


def case_out(row: AbsenceCase, names: dict[int, str]) -> CaseOut:
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


def contact_out(c: ParentContact) -> ContactOut:
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


def report_out(r: AbsenceReport) -> ReportOut:
    return ReportOut.model_validate(r, from_attributes=True)


def task_out(t: CaseTask) -> TaskOut:
    return TaskOut.model_validate(t, from_attributes=True)


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


async def alert_detail(uow: UnitOfWork, ctx: AppContext, alert: Alert) -> AlertDetail:
    assert alert.id is not None
    row = await repo.case(uow.session, alert.case_id)
    assert row is not None and row.id is not None
    case = await _domain_case(uow, row)
    now = ctx.clock()
    notices = await repo.notifications_of_alert(uow.session, alert.id)
    names = await staff_names(uow.session, {n.staff_id for n in notices})
    deadlines = [
        _deadline_out(d, case, now)
        for d in await repo.deadlines(uow.session, row.id)
        if d.kind != DeadlineKind.verify.value or d.key == alert.key
    ]
    base = (await alert_outs(uow, [alert]))[0]
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


async def case_detail(uow: UnitOfWork, ctx: AppContext, row: AbsenceCase) -> CaseDetail:
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
        **case_out(row, names).model_dump(),
        timeline=[TimelineOut.model_validate(e) for e in await repo.timeline(session, row.id)],
        contacts=[contact_out(c) for c in await repo.contacts(session, row.id)],
        reports=[report_out(r) for r in await repo.reports(session, row.id)],
        tasks=[task_out(t) for t in await repo.tasks(session, row.id)],
        work_group=_work_group(row.work_group),
        alerts=[_alert_out(a, names) for a in alerts],
        pending_deadlines=pending,
        absence_measure=AbsenceMeasureOut.of(await repo.absence_measure(session, row.student_id)),
    )
