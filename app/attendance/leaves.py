"""请假 (leave requests): create, approve, reject and cancel leave for a date range.

Decisions:
- anyone who may read the student's class may request leave; approving (also ``approve=true``
  at creation, e.g. a head teacher entering a parent's phoned-in leave), rejecting belong to
  the head teacher, the school managers and the county admin (``access.can_edit_student``);
  cancelling also to whoever requested it; an API key files requests (and cancels its own)
  but decides only with the ``leave_approve`` scope (issue 26: a pre-approved leave
  explains absences and so silences alerts);
- who acted is stored as ``kind:id:name`` (``staff:12:李老师``, ``api_key:3:县平台``); the
  requester is recognised by ``kind:id``, so a later change of name does not matter;
- a leave covers at most 60 calendar days (longer absences are 休学, another procedure), and
  may not overlap another pending or approved leave of the same student (409); the student
  row is locked while checking, so two concurrent requests cannot both pass;
- a sick leave's symptoms and onset are health information of a minor (issue 21 item 6):
  answered only to whoever may see the illness register unmasked
  (``health_access.can_see_health``: the 疫情报告人, the principal, the class's head teacher,
  the county's health contact); everyone else who reads the leave gets ``health_masked``
  with no symptoms and no onset — including whoever filed it (a subject teacher, a key);
- a rejection keeps its reason in ``decision_note`` (answered as ``rejection_reason``);
- ``decided_by``/``decided_at`` record the last decision (approval, rejection or
  cancellation).
"""

from __future__ import annotations

from datetime import UTC, date, timedelta

from app.alerts import partial_days, reactions
from app.attendance import leaves_repo as repo
from app.attendance.leaves_schemas import (
    LEAVE_TYPE_LABELS,
    SYMPTOM_LABELS,
    LeaveIn,
    LeaveOut,
    RejectIn,
    SymptomOut,
)
from app.context import AppContext
from app.core.access import require_key_scope
from app.core.types import Page
from app.db.models import LeaveRequest
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain import health_access as health
from app.domain.access import Actor
from app.domain.attendance import LEAVE_STATUS_LABELS, LeaveStatus, LeaveType, Symptom
from app.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from app.roster import repository as students_repo

MAX_DAYS = 60
_NOT_APPROVER = (
    "只有班主任、学校管理者或县教育局可审批请假 "
    "(only the head teacher, school managers or the county admin decide on leave)"
)
_TRANSITIONS: dict[tuple[LeaveStatus, LeaveStatus], str] = {
    (LeaveStatus.pending, LeaveStatus.approved): "approve",
    (LeaveStatus.pending, LeaveStatus.rejected): "reject",
    (LeaveStatus.pending, LeaveStatus.cancelled): "cancel",
    (LeaveStatus.approved, LeaveStatus.cancelled): "cancel",
}
_VERBS: dict[LeaveStatus, tuple[str, str]] = {
    LeaveStatus.approved: ("批准", "approved"),
    LeaveStatus.rejected: ("驳回", "rejected"),
    LeaveStatus.cancelled: ("撤销", "cancelled"),
}


def _actor_key(actor: Actor) -> str:
    return f"{actor.kind.value}:{actor.id}:"


def _out(leave: LeaveRequest, student_name: str, health_visible: bool) -> LeaveOut:
    assert leave.id is not None
    masked = bool(leave.symptoms or leave.onset_at) and not health_visible
    leave_type = LeaveType(leave.leave_type)
    status = LeaveStatus(leave.status)
    rejection = leave.decision_note if status is LeaveStatus.rejected else None
    return LeaveOut(
        id=leave.id,
        student_id=leave.student_id,
        student_name=student_name,
        school_id=leave.school_id,
        class_id=leave.class_id,
        start_date=leave.start_date,
        end_date=leave.end_date,
        leave_type=leave_type,
        leave_type_label=LEAVE_TYPE_LABELS[leave_type],
        reason=leave.reason,
        onset_at=None if masked else leave.onset_at,
        symptoms=[]
        if masked
        else [SymptomOut(code=s, label=SYMPTOM_LABELS[s]) for s in map(Symptom, leave.symptoms)],
        health_masked=masked,
        status=status,
        status_label=LEAVE_STATUS_LABELS[status],
        rejection_reason=rejection,
        requested_by=leave.requested_by,
        decided_by=leave.decided_by,
        decided_at=leave.decided_at,
        created_at=leave.created_at,
    )


async def _health_visible(uow: UnitOfWork, actor: Actor, leaves: list[LeaveRequest]) -> set[int]:
    """The ids of the leaves whose symptoms and onset ``actor`` may read."""
    ill = [lv for lv in leaves if lv.symptoms or lv.onset_at]
    if not ill:
        return set()
    counties = await repo.school_counties(uow.session, {lv.school_id for lv in ill})
    return {
        lv.id
        for lv in ill
        if lv.id is not None
        and lv.school_id in counties
        and health.can_see_health(actor, counties[lv.school_id], lv.school_id, lv.class_id)
    }


async def _one_out(uow: UnitOfWork, actor: Actor, leave: LeaveRequest) -> LeaveOut:
    names = await students_repo.student_names(uow.session, [leave.student_id])
    visible = await _health_visible(uow, actor, [leave])
    return _out(leave, names.get(leave.student_id, ""), leave.id in visible)


def _problems(ctx: AppContext, data: LeaveIn) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if data.end_date < data.start_date:
        problems.append(
            FieldProblem(
                ("body", "end_date"), "结束日期早于开始日期 (end_date is before start_date)"
            )
        )
    elif data.end_date - data.start_date >= timedelta(days=MAX_DAYS):
        problems.append(
            FieldProblem(
                ("body", "end_date"),
                f"请假不能超过 {MAX_DAYS} 天,长期缺课请办理休学 "
                f"(leave is at most {MAX_DAYS} days; longer absences are 休学)",
            )
        )
    if data.leave_type is LeaveType.sick:
        if data.onset_at is None:
            problems.append(
                FieldProblem(("body", "onset_at"), "病假须填写发病时间 (sick leave needs onset_at)")
            )
        if not data.symptoms:
            problems.append(
                FieldProblem(
                    ("body", "symptoms"),
                    "病假须至少填写一项症状 (sick leave needs at least one symptom)",
                )
            )
    else:
        if data.onset_at is not None:
            problems.append(
                FieldProblem(
                    ("body", "onset_at"), "仅病假填写发病时间 (onset_at is for sick leave only)"
                )
            )
        if data.symptoms:
            problems.append(
                FieldProblem(
                    ("body", "symptoms"), "仅病假填写症状 (symptoms are for sick leave only)"
                )
            )
    if data.onset_at is not None and data.onset_at > ctx.clock():
        problems.append(
            FieldProblem(("body", "onset_at"), "发病时间不能晚于现在 (onset_at is in the future)")
        )
    return problems


def _require_decider(actor: Actor, school_id: int, class_id: int) -> None:
    """Deciding on leave (approving, rejecting, filing it pre-approved) explains absences and
    so silences alerts: the head teacher, school managers, the county admin; an API key only
    with the ``leave_approve`` scope (keys file requests, people decide)."""
    if not access.can_edit_student(actor, school_id, class_id):
        raise Forbidden(_NOT_APPROVER)
    require_key_scope(actor, access.KeyScope.leave_approve)


async def create_leave(uow: UnitOfWork, ctx: AppContext, actor: Actor, data: LeaveIn) -> LeaveOut:
    student = await students_repo.student_for_update(uow.session, data.student_id)
    if student is None or not access.can_read_class(actor, student.school_id, student.class_id):
        raise NotFound("学生", data.student_id)
    if data.approve:
        _require_decider(actor, student.school_id, student.class_id)
    problems = _problems(ctx, data)
    if problems:
        raise Invalid(problems)
    if not student.active:
        raise Conflict("学生已停用,不能请假 (the student is deactivated)")
    clash = await repo.overlapping(uow.session, data.student_id, data.start_date, data.end_date)
    if clash:
        first = clash[0]
        label = LEAVE_STATUS_LABELS[LeaveStatus(first.status)]
        raise Conflict(
            f"与已有请假重叠:#{first.id} {first.start_date}~{first.end_date}({label}) "
            f"(overlaps leave #{first.id}, {first.status})"
        )
    now = ctx.clock()
    tag = actor.tag
    leave = LeaveRequest(
        student_id=data.student_id,
        school_id=student.school_id,
        class_id=student.class_id,
        start_date=data.start_date,
        end_date=data.end_date,
        leave_type=data.leave_type.value,
        reason=data.reason,
        onset_at=data.onset_at.astimezone(UTC) if data.onset_at else None,
        symptoms=list(dict.fromkeys(s.value for s in data.symptoms)),
        status=(LeaveStatus.approved if data.approve else LeaveStatus.pending).value,
        requested_by=tag,
        decided_by=tag if data.approve else None,
        decided_at=now if data.approve else None,
        created_at=now,
    )
    uow.session.add(leave)
    if data.approve:
        await uow.flush()
        await reactions.react_to_attendance(uow, ctx, [leave.student_id], [leave.student_id])
        await partial_days.react_to_leave(uow, ctx, leave.student_id)
    await uow.commit()
    visible = await _health_visible(uow, actor, [leave])
    return _out(leave, student.name, leave.id in visible)


async def _visible_leave(uow: UnitOfWork, actor: Actor, leave_id: int) -> LeaveRequest:
    leave = await repo.leave_for_update(uow.session, leave_id)
    if leave is None or not access.can_read_class(actor, leave.school_id, leave.class_id):
        raise NotFound("请假", leave_id)
    return leave


async def get_leave(uow: UnitOfWork, actor: Actor, leave_id: int) -> LeaveOut:
    leave = await uow.session.get(LeaveRequest, leave_id)
    if leave is None or not access.can_read_class(actor, leave.school_id, leave.class_id):
        raise NotFound("请假", leave_id)
    return await _one_out(uow, actor, leave)


async def list_leaves(
    uow: UnitOfWork,
    actor: Actor,
    *,
    student_id: int | None,
    class_id: int | None,
    school_id: int | None,
    status: LeaveStatus | None,
    leave_type: LeaveType | None,
    covering: date | None,
    limit: int,
    offset: int,
) -> Page[LeaveOut]:
    rows, total = await repo.list_leaves(
        uow.session,
        access.student_visibility(actor),
        student_id=student_id,
        class_id=class_id,
        school_id=school_id,
        status=status.value if status else None,
        leave_type=leave_type.value if leave_type else None,
        covering=covering,
        limit=limit,
        offset=offset,
    )
    names = await students_repo.student_names(uow.session, [r.student_id for r in rows])
    visible = await _health_visible(uow, actor, list(rows))
    items = [_out(r, names.get(r.student_id, ""), r.id in visible) for r in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


def _move(leave: LeaveRequest, to: LeaveStatus) -> None:
    current = LeaveStatus(leave.status)
    if (current, to) not in _TRANSITIONS:
        zh, en = _VERBS[to]
        raise Conflict(
            f"{LEAVE_STATUS_LABELS[current]}的请假不能{zh} (a {current.value} leave cannot be {en})"
        )
    leave.status = to.value


async def _decide(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    leave: LeaveRequest,
    to: LeaveStatus,
    rejection: str | None = None,
) -> LeaveOut:
    _move(leave, to)
    if rejection is not None:
        leave.decision_note = rejection
    leave.decided_by = actor.tag
    leave.decided_at = ctx.clock()
    # Approved or cancelled leave changes which absences are explained: the case follows.
    await uow.flush()
    await reactions.react_to_attendance(uow, ctx, [leave.student_id], [leave.student_id])
    await partial_days.react_to_leave(uow, ctx, leave.student_id)
    await uow.commit()
    return await _one_out(uow, actor, leave)


async def approve_leave(uow: UnitOfWork, ctx: AppContext, actor: Actor, leave_id: int) -> LeaveOut:
    leave = await _visible_leave(uow, actor, leave_id)
    _require_decider(actor, leave.school_id, leave.class_id)
    return await _decide(uow, ctx, actor, leave, LeaveStatus.approved)


async def reject_leave(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, leave_id: int, data: RejectIn
) -> LeaveOut:
    leave = await _visible_leave(uow, actor, leave_id)
    _require_decider(actor, leave.school_id, leave.class_id)
    return await _decide(uow, ctx, actor, leave, LeaveStatus.rejected, data.reason)


async def cancel_leave(uow: UnitOfWork, ctx: AppContext, actor: Actor, leave_id: int) -> LeaveOut:
    leave = await _visible_leave(uow, actor, leave_id)
    requester = leave.requested_by.startswith(_actor_key(actor))
    if not requester and not access.can_edit_student(actor, leave.school_id, leave.class_id):
        raise Forbidden(
            "只有申请人、班主任、学校管理者或县教育局可撤销请假 "
            "(only the requester, the head teacher, school managers or the county admin)"
        )
    if not requester:
        require_key_scope(actor, access.KeyScope.leave_approve)
    return await _decide(uow, ctx, actor, leave, LeaveStatus.cancelled)
