"""预警与缺勤案例 (alerts and absence cases) over HTTP: reading them, scoped by role, and who
may act on them; the staff actions the engine turns into case events are in
``app.alerts.case_actions``, the shaping of rows into responses in ``app.alerts.case_views``.

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

from datetime import date

from app.alerts import case_repo as repo
from app.alerts import engine
from app.alerts import engine_repo as alerts_repo
from app.alerts.case_schemas import (
    AlertDetail,
    AlertOut,
    CaseDetail,
    CaseOut,
    TaskOut,
)
from app.alerts.case_views import alert_detail, alert_outs, case_detail, case_out, task_out
from app.context import AppContext
from app.core.access import require_person
from app.core.types import Page
from app.db.models import AbsenceCase, Alert
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor, ActorKind
from app.domain.cases import (
    AlertStatus,
    CaseStatus,
    Event,
    InvalidTransition,
    Level,
)
from app.domain.roles import Role
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.roster.repository import student_names
from app.roster.students import student_for

# The school's chain of command for alerts, lowest first (the county admin is above all).
_LADDER = (Role.head_teacher, Role.vice_principal, Role.principal)
_CLASS_ROLES = (Role.head_teacher, Role.subject_teacher)
REPORT_DECIDERS = (Role.academic_affairs, Role.principal, Role.vice_principal)

NOT_ALERT_HOLDER = (
    "只有预警接收人及其上级(班主任→分管副校长→校长)或县教育局可办理该预警 "
    "(only the alert's recipient role or above, or the county admin)"
)
_NOT_CASEWORKER = (
    "只有本班班主任或学校管理者可办理 (only the class's head teacher or school managers)"
)
NOT_DECIDER = (
    "只有教务处、校长或分管副校长可审核书面报告 "
    "(only 教务处, the principal or the vice principal decide on reports)"
)
NOT_TASK_HOLDER = (
    "只有该任务对应角色的人员或学校管理者可完成此任务 "
    "(only holders of the task's role or school managers complete it)"
)


# --- who may act ----------------------------------------------------------------------------


def holds_role(actor: Actor, role: Role, row: AbsenceCase) -> bool:
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
    return any(holds_role(actor, role, row) for role in allowed)


def require_caseworker(actor: Actor, row: AbsenceCase) -> None:
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


async def apply_case_event(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, row: AbsenceCase, event: Event
) -> None:
    try:
        await engine.apply_event(uow, ctx, row, event, actor.tag)
    except InvalidTransition as exc:
        raise Conflict(str(exc)) from exc


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
    return Page(items=await alert_outs(uow, rows), total=total, limit=limit, offset=offset)


async def get_alert(uow: UnitOfWork, ctx: AppContext, actor: Actor, alert_id: int) -> AlertDetail:
    alert = await repo.alert(uow.session, alert_id)
    if alert is None or not access.can_read_class(actor, alert.school_id, alert.class_id):
        raise NotFound("预警", alert_id)
    return await alert_detail(uow, ctx, alert)


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
    return Page(items=[case_out(r, names) for r in rows], total=total, limit=limit, offset=offset)


async def get_case(uow: UnitOfWork, ctx: AppContext, actor: Actor, case_id: int) -> CaseDetail:
    return await case_detail(uow, ctx, await visible_case(uow, actor, case_id))


async def student_case(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, student_id: int
) -> CaseDetail:
    await student_for(uow, actor, student_id)
    row = await repo.current_case_of(uow.session, student_id)
    if row is None:
        raise NotFound("该学生进行中的缺勤案例 (open case of student)", student_id)
    return await case_detail(uow, ctx, row)


async def list_tasks(uow: UnitOfWork, actor: Actor, case_id: int) -> list[TaskOut]:
    row = await visible_case(uow, actor, case_id)
    assert row.id is not None
    return [task_out(t) for t in await repo.tasks(uow.session, row.id)]
