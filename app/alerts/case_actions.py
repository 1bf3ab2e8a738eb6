"""The staff actions on alerts and cases: acknowledging and verifying alerts, parent contacts,
written reports and their decisions, re-enrolment and tasks. Who may do what, and in which order
each action locks, applies and writes, is set out in ``app.alerts.case_service``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from app.alerts import case_repo as repo
from app.alerts import status_history
from app.alerts.case_schemas import (
    REPORT_STATUS_LABELS,
    AlertOut,
    CaseDetail,
    ContactIn,
    ContactOut,
    DecisionIn,
    ReportIn,
    ReportOut,
    ReturnIn,
    TaskDoneIn,
    TaskOut,
    VerifyIn,
)
from app.alerts.case_service import (
    NOT_ALERT_HOLDER,
    NOT_DECIDER,
    NOT_TASK_HOLDER,
    REPORT_DECIDERS,
    apply_case_event,
    holds_role,
    locked_case,
    may_answer_alert,
    require_caseworker,
)
from app.alerts.case_views import alert_outs, case_detail, contact_out, report_out, task_out
from app.context import AppContext
from app.core.access import require_person
from app.db.models import AbsenceCase, AbsenceReport, Alert, CaseTask, ParentContact
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor
from app.domain.cases import (
    AlertVerified,
    ContactLogged,
    ReenrollmentConfirmed,
    ReportDecided,
    ReportStatus,
    ReportSubmitted,
    TaskKind,
    TaskStatus,
)
from app.domain.roles import Role
from app.errors import Conflict, FieldProblem, Forbidden, Invalid
from app.roster.enrollment_changes import resume_if_missing

# --- alerts ---------------------------------------------------------------------------------


async def _alert_for_action(
    uow: UnitOfWork, actor: Actor, alert_id: int
) -> tuple[AbsenceCase, Alert]:
    case_id = await repo.alert_case_id(uow.session, alert_id)
    row = await locked_case(uow, actor, case_id, "预警", alert_id)
    alert = await repo.alert(uow.session, alert_id)
    assert alert is not None
    require_person(actor)
    if not may_answer_alert(actor, alert, row):
        raise Forbidden(NOT_ALERT_HOLDER)
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
    return (await alert_outs(uow, [alert]))[0]


async def verify_alert(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, alert_id: int, data: VerifyIn
) -> AlertOut:
    row, alert = await _alert_for_action(uow, actor, alert_id)
    await apply_case_event(uow, ctx, actor, row, AlertVerified(alert.key, ctx.clock()))
    alert.verify_note = data.note or None
    uow.session.add(alert)
    await uow.commit()
    return (await alert_outs(uow, [alert]))[0]


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
    require_caseworker(actor, row)
    now = ctx.clock()
    at = data.at.astimezone(UTC) if data.at else now
    problems = _contact_problems(data, at, now)
    if problems:
        raise Invalid(problems)
    # The event first: a case that refuses it (closed) leaves nothing written.
    await apply_case_event(uow, ctx, actor, row, ContactLogged(data.reached, at))
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
    return contact_out(contact)


async def submit_report(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, case_id: int, data: ReportIn
) -> ReportOut:
    row = await locked_case(uow, actor, case_id, "缺勤案例", case_id)
    require_caseworker(actor, row)
    now = ctx.clock()
    await apply_case_event(uow, ctx, actor, row, ReportSubmitted(now))
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
    return report_out(report)


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
    if not actor.superuser and not any(holds_role(actor, r, row) for r in REPORT_DECIDERS):
        raise Forbidden(NOT_DECIDER)
    report = await repo.report(uow.session, report_id)
    assert report is not None
    if report.status != ReportStatus.submitted.value:
        label = REPORT_STATUS_LABELS[ReportStatus(report.status)]
        raise Conflict(f"该报告{label},不能再审核 (the report is {report.status})")
    now = ctx.clock()
    await apply_case_event(uow, ctx, actor, row, ReportDecided(accepted, now))
    report.status = (ReportStatus.accepted if accepted else ReportStatus.returned).value
    report.decided_at = now
    report.decided_by = actor.tag
    report.decision_note = note or None
    uow.session.add(report)
    await uow.commit()
    return report_out(report)


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
    require_caseworker(actor, row)
    now = ctx.clock()
    await apply_case_event(uow, ctx, actor, row, ReenrollmentConfirmed(now))
    await resume_if_missing(uow, ctx, row.student_id, actor.tag)
    owed = await repo.open_tasks(uow.session, case_id, TaskKind.reenrollment.value)
    _close_tasks(owed, actor, now, "已确认复学")
    uow.session.add_all(owed)
    await uow.flush()
    await status_history.refresh(uow, ctx, [row.student_id])  # 复学 ends the status
    await uow.commit()
    return await case_detail(uow, ctx, row)


async def complete_task(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, task_id: int, data: TaskDoneIn
) -> TaskOut:
    case_id = await repo.task_case_id(uow.session, task_id)
    row = await locked_case(uow, actor, case_id, "任务", task_id)
    require_person(actor)
    task = await repo.task(uow.session, task_id)
    assert task is not None
    if not holds_role(actor, Role(task.role), row) and not access.can_manage_school(
        actor, row.school_id
    ):
        raise Forbidden(NOT_TASK_HOLDER)
    if task.status == TaskStatus.done.value:
        raise Conflict("该任务已完成 (the task is already done)")
    if task.status == TaskStatus.cancelled.value:
        raise Conflict(f"该任务已取消:{task.note} (the task was cancelled)")
    now = ctx.clock()
    if task.kind == TaskKind.reenrollment.value:
        # Completing the 复学确认 task is confirming the re-enrolment.
        await apply_case_event(uow, ctx, actor, row, ReenrollmentConfirmed(now))
        await resume_if_missing(uow, ctx, row.student_id, actor.tag)
        others = [
            t for t in await repo.open_tasks(uow.session, row.id or 0, task.kind) if t.id != task.id
        ]
        _close_tasks(others, actor, now, "已确认复学")
        uow.session.add_all(others)
        await uow.flush()
        await status_history.refresh(uow, ctx, [row.student_id])
    _close_tasks([task], actor, now, data.note)
    uow.session.add(task)
    await uow.commit()
    return task_out(task)
