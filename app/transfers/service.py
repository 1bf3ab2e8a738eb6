"""转学 (transfers), 休学 (suspensions), a student who left without a transfer, and the
follow-up checks after a return.

Decisions:
- a transfer goes applied → head_teacher_signed → receiving_signed → approved (a school's
  防辍保学工作方案: a written application, the head teacher's signature, the receiving school's
  signature, the vice principal's approval); a step out of order is 409; ``reject`` (with a
  reason) is possible at any step before approval. Who: the application by the student's school
  managers or head teacher; the head teacher's signature by the class's head teacher; the
  receiving signature by a manager of the receiving school when it is in the system, otherwise
  by a manager of the sending school (recording the paper signature); approval by the sending
  school's vice principal or principal; rejection by a sending-school manager. API keys 403;
  people who can see the transfer but may not take the step 403; everyone else 404;
- a transfer to the student's own school is 422, as is a planned leaving date before the
  application date; one transfer in progress per student (a second 409);
- ``to_school_id`` names a school of the student's own county; a school of another county
  is answered exactly like an unknown id (422 on ``to_school_id``), so neither its existence
  nor its name leaks across counties. A transfer to another county goes by
  ``to_school_name`` (a school outside this county's system: the sending school records the
  receiving signature);
- a receiving school in the system chooses the class the student joins when it signs
  (``class_id``, one of its active classes; 422 without it); a school outside the system
  has no class;
- on approval (``app/transfers/departures.py``) a student going to a school in the system
  moves onto that class's roll (status ``01``); otherwise the 学籍 status becomes ``10``
  (转学) and the student is deactivated. Either way the open absence case closes as
  transferred, active return notices are struck off, open follow-ups are cancelled and the
  mentor assignment ends;
- ``left-without-transfer``: a school manager marks a student who left without an approved
  transfer as ``15`` (下落不明), i.e. a suspected dropout (防辍保学工作方案:
  leaving without the transfer procedure counts as dropping out); the student stays active
  so the school's ledgers keep counting them; a transferred student (``10``) is 409;
- a suspension (休学) is entered already approved by a school manager (``approved_by``);
  end before start is 422, overlapping another suspension of the student 409. Its days count
  like approved leave (``approved_leave_days``): the three lists show 请假 and no case opens;
  creating or ending one re-evaluates the student's case, as approving leave does;
- status flips happen on writes only, there is no background job: creation sets ``02`` (休学)
  when the suspension has started (start <= the school's today); ``end`` marks it ended
  (days from that day on count again) and sets ``05`` (复学) if the student was ``02``;
- follow-ups after a return (issue 6, item 4) are the case's follow-up tasks the engine
  created when 复学 was confirmed (1, 4 and 8 weeks later; ``GET /cases/{id}/follow-ups``);
  a case without them is 409. The engine reminds the head teacher when one falls due and
  tells the vice principal when it is still open ``task_overdue_hours`` later.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from app.alerts import cases_repo, reactions
from app.alerts.cases import visible_case
from app.alerts.tasks import follow_up_week
from app.attendance.days import local_today
from app.context import AppContext
from app.core.access import require_person
from app.core.documents import next_number
from app.core.records import school_row
from app.core.types import Schema
from app.db.models import School, SchoolClass, Student, Suspension, Transfer
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor
from app.domain.cases import TaskKind
from app.domain.roles import Role
from app.domain.students import MISSING, RESUMED, SUSPENDED, TRANSFERRED, suspension_last_day
from app.domain.transfers import TRANSFER_STATUS_LABELS, SuspensionStatus, TransferStatus
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.roster.enrollment_changes import ChangeKind, record
from app.roster.repository import student_for_update
from app.roster.students import student_for
from app.transfers import repository as transfers_repo
from app.transfers.departures import on_transfer_approved
from app.transfers.schemas import (
    FollowUpOut,
    ReceivingSignIn,
    RejectIn,
    StudentStatusOut,
    SuspensionIn,
    TransferIn,
)

_IN_PROGRESS = (
    TransferStatus.applied.value,
    TransferStatus.head_teacher_signed.value,
    TransferStatus.receiving_signed.value,
)


_SAME_SCHOOL = "不能转入本校 (a transfer to the student's own school)"
_NO_TARGET = "请填写转入学校 (to_school_id or to_school_name)"
_ORDER = "拟转出日期不能早于申请日期 (leave_on before applied_on)"
_IN_PROGRESS_ALREADY = "该学生已有办理中的转学申请 (a transfer is already in progress)"
_STEP = "转学申请不在这一步 (the transfer is not at this step: {status})"
_NOT_MANAGER = "只有学校管理者(校长、分管副校长、教务处)或县教育局可办理 (school managers only)"
_NOT_HEAD = "只有该班班主任可签字 (only the class's head teacher)"
_NOT_APPROVER = "只有转出学校的分管副校长或校长可批准 (vice principal or principal only)"
_END_BEFORE_START = "结束日期不能早于开始日期 (end_date before start_date)"
_OVERLAP = "与该学生已有的休学时间重叠 (overlaps another suspension)"
_ENDED = "该休学已结束 (the suspension has already ended)"
_TRANSFERRED = "该学生已转学 (the student has transferred)"
_NO_CLASS = "请选择接收学校的一个在用班级 (class_id: an active class of the receiving school)"
_NO_FOLLOW_UP = "只有确认复学的案例有复学后回访 (only a case whose 复学 was confirmed)"


# --- schemas --------------------------------------------------------------------------------
# These two stay beside their status enums until those move into app/domain/.


class TransferOut(Schema):
    id: int
    student_id: int
    from_school_id: int
    to_school_id: int | None
    to_school_name: str
    to_class_id: int | None = Field(description="转入班级(系统内学校)")
    number: str = Field(description="文书编号 {学校代码}-ZX-{年份}-{序号}")
    applied_on: date
    leave_on: date | None
    reason: str
    status: TransferStatus
    status_label: str
    applied_by: str
    head_teacher_signed_at: datetime | None
    head_teacher_signed_by: str | None
    receiving_signed_at: datetime | None
    receiving_signed_by: str | None
    decided_at: datetime | None = Field(description="批准或不予批准的时间")
    decided_by: str | None
    reject_reason: str | None


class SuspensionOut(Schema):
    id: int
    student_id: int
    school_id: int
    start_date: date
    end_date: date
    reason: str
    status: SuspensionStatus
    approved_by: str
    ended_on: date | None
    ended_by: str | None


def transfer_out(t: Transfer) -> TransferOut:
    assert t.id is not None
    status = TransferStatus(t.status)
    return TransferOut(
        id=t.id,
        student_id=t.student_id,
        from_school_id=t.from_school_id,
        to_school_id=t.to_school_id,
        to_school_name=t.to_school_name,
        to_class_id=t.to_class_id,
        number=t.number,
        applied_on=t.applied_on,
        leave_on=t.leave_on,
        reason=t.reason,
        status=status,
        status_label=TRANSFER_STATUS_LABELS[status],
        applied_by=t.applied_by,
        head_teacher_signed_at=t.head_teacher_signed_at,
        head_teacher_signed_by=t.head_teacher_signed_by,
        receiving_signed_at=t.receiving_signed_at,
        receiving_signed_by=t.receiving_signed_by,
        decided_at=t.decided_at,
        decided_by=t.decided_by,
        reject_reason=t.reject_reason,
    )


def suspension_out(s: Suspension) -> SuspensionOut:
    assert s.id is not None
    return SuspensionOut(
        id=s.id,
        student_id=s.student_id,
        school_id=s.school_id,
        start_date=s.start_date,
        end_date=s.end_date,
        reason=s.reason,
        status=SuspensionStatus(s.status),
        approved_by=s.approved_by,
        ended_on=s.ended_on,
        ended_by=s.ended_by,
    )


# --- helpers --------------------------------------------------------------------------------


async def _locked_student(uow: UnitOfWork, actor: Actor, student_id: int) -> Student:
    """The student, visible to the actor (else 404), locked for the write."""
    await student_for(uow, actor, student_id)
    student = await student_for_update(uow.session, student_id)
    assert student is not None
    await uow.session.refresh(student)
    return student


def _require_manager(actor: Actor, school_id: int) -> None:
    require_person(actor)
    if not access.can_manage_school(actor, school_id):
        raise Forbidden(_NOT_MANAGER)


def _sees(actor: Actor, t: Transfer) -> bool:
    return access.can_read_class(actor, t.from_school_id, t.class_id) or (
        t.to_school_id is not None and access.can_manage_school(actor, t.to_school_id)
    )


async def _transfer_for_write(
    uow: UnitOfWork, actor: Actor, transfer_id: int, step: TransferStatus | None
) -> Transfer:
    """The transfer, visible to the actor (else 404), its student locked, at ``step`` (else
    409; ``None``: any step in progress)."""
    found = await uow.session.get(Transfer, transfer_id)
    if found is None or not _sees(actor, found):
        raise NotFound("转学申请", transfer_id)
    require_person(actor)
    await student_for_update(uow.session, found.student_id)
    await uow.session.refresh(found)
    allowed = _IN_PROGRESS if step is None else (step.value,)
    if found.status not in allowed:
        raise Conflict(_STEP.format(status=TRANSFER_STATUS_LABELS[TransferStatus(found.status)]))
    return found


# --- transfers ------------------------------------------------------------------------------


async def apply(uow: UnitOfWork, ctx: AppContext, actor: Actor, data: TransferIn) -> TransferOut:
    student = await _locked_student(uow, actor, data.student_id)
    require_person(actor)
    if not access.can_edit_student(actor, student.school_id, student.class_id):
        raise Forbidden("只有学校管理者或班主任可提交转学申请 (school managers or head teacher)")
    if student.status == TRANSFERRED:
        raise Conflict(_TRANSFERRED)
    if data.to_school_id == student.school_id:
        raise Invalid.field(("body", "to_school_id"), _SAME_SCHOOL)
    if data.leave_on is not None and data.leave_on < data.applied_on:
        raise Invalid.field(("body", "leave_on"), _ORDER)
    name = (data.to_school_name or "").strip()
    if data.to_school_id is not None:
        target = await uow.session.get(School, data.to_school_id)
        own = await school_row(uow, student.school_id)
        if target is None or target.county_id != own.county_id:
            raise Invalid.field(
                ("body", "to_school_id"),
                "本县无此学校;外县学校请填 to_school_name "
                "(no such school in this county; name a school elsewhere in to_school_name)",
            )
        name = target.name
    if not name:
        raise Invalid.field(("body", "to_school_name"), _NO_TARGET)
    assert student.id is not None
    if await transfers_repo.has_transfer_in(uow.session, student.id, _IN_PROGRESS):
        raise Conflict(_IN_PROGRESS_ALREADY)
    school = await school_row(uow, student.school_id)
    now = ctx.clock()
    row = Transfer(
        student_id=student.id,
        from_school_id=student.school_id,
        class_id=student.class_id,
        to_school_id=data.to_school_id,
        to_school_name=name,
        number=await next_number(
            uow,
            Transfer,
            number=Transfer.number,
            issuer=Transfer.from_school_id,
            school=school,
            year=data.applied_on.year,
            series="ZX",
        ),
        applied_on=data.applied_on,
        leave_on=data.leave_on,
        reason=data.reason,
        status=TransferStatus.applied.value,
        applied_by=actor.tag,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(row)
    await uow.commit()
    return transfer_out(row)


async def head_teacher_sign(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, transfer_id: int
) -> TransferOut:
    t = await _transfer_for_write(uow, actor, transfer_id, TransferStatus.applied)
    if not (actor.superuser or t.class_id in actor.head_class_ids):
        raise Forbidden(_NOT_HEAD)
    t.status = TransferStatus.head_teacher_signed.value
    t.head_teacher_signed_at = t.updated_at = ctx.clock()
    t.head_teacher_signed_by = actor.tag
    return await _save(uow, t)


async def receiving_sign(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, transfer_id: int, data: ReceivingSignIn
) -> TransferOut:
    t = await _transfer_for_write(uow, actor, transfer_id, TransferStatus.head_teacher_signed)
    signer = t.to_school_id if t.to_school_id is not None else t.from_school_id
    if not access.can_manage_school(actor, signer):
        raise Forbidden("只有接收学校的管理者可签字 (a manager of the receiving school)")
    if t.to_school_id is not None:
        klass = await uow.session.get(SchoolClass, data.class_id) if data.class_id else None
        if klass is None or klass.school_id != t.to_school_id or not klass.active:
            raise Invalid.field(("body", "class_id"), _NO_CLASS)
        t.to_class_id = klass.id
    t.status = TransferStatus.receiving_signed.value
    t.receiving_signed_at = t.updated_at = ctx.clock()
    t.receiving_signed_by = actor.tag
    return await _save(uow, t)


async def approve(uow: UnitOfWork, ctx: AppContext, actor: Actor, transfer_id: int) -> TransferOut:
    t = await _transfer_for_write(uow, actor, transfer_id, TransferStatus.receiving_signed)
    approvers = (Role.vice_principal, Role.principal)
    if not (
        actor.superuser
        or any(g.role in approvers and g.school_id == t.from_school_id for g in actor.grants)
    ):
        raise Forbidden(_NOT_APPROVER)
    t.status = TransferStatus.approved.value
    t.decided_at = t.updated_at = ctx.clock()
    t.decided_by = actor.tag
    student = await uow.session.get(Student, t.student_id)
    assert student is not None
    await on_transfer_approved(uow, ctx, t, student, actor.tag)
    return await _save(uow, t)


async def reject(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, transfer_id: int, data: RejectIn
) -> TransferOut:
    t = await _transfer_for_write(uow, actor, transfer_id, None)
    if not access.can_manage_school(actor, t.from_school_id):
        raise Forbidden(_NOT_MANAGER)
    t.status = TransferStatus.rejected.value
    t.decided_at = t.updated_at = ctx.clock()
    t.decided_by = actor.tag
    t.reject_reason = data.reason
    return await _save(uow, t)


async def _save(uow: UnitOfWork, t: Transfer) -> TransferOut:
    uow.session.add(t)
    await uow.commit()
    return transfer_out(t)


async def get_transfer(uow: UnitOfWork, actor: Actor, transfer_id: int) -> TransferOut:
    found = await uow.session.get(Transfer, transfer_id)
    if found is None or not _sees(actor, found):
        raise NotFound("转学申请", transfer_id)
    return transfer_out(found)


async def list_transfers(
    uow: UnitOfWork,
    actor: Actor,
    *,
    student_id: int | None,
    status: TransferStatus | None,
) -> list[TransferOut]:
    """Transfers out of or into the caller's schools (a class's staff: that class's)."""
    rows = await transfers_repo.visible_transfers(
        uow.session,
        actor,
        student_id=student_id,
        status=status.value if status is not None else None,
    )
    return [transfer_out(t) for t in rows]


async def left_without_transfer(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, student_id: int
) -> StudentStatusOut:
    student = await _locked_student(uow, actor, student_id)
    _require_manager(actor, student.school_id)
    if student.status == TRANSFERRED:
        raise Conflict(_TRANSFERRED)
    if student.status != MISSING:
        reason = "未办理转学手续离校,按疑似辍学处理"
        await record(
            uow,
            ctx,
            student,
            ChangeKind.left_without_transfer,
            MISSING,
            actor.tag,
            reason=reason,
        )
    student.status = MISSING
    student.updated_at = ctx.clock()
    uow.session.add(student)
    await uow.commit()
    assert student.id is not None
    return StudentStatusOut(student_id=student.id, status=student.status, active=student.active)


# --- suspensions ----------------------------------------------------------------------------


async def suspend(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, student_id: int, data: SuspensionIn
) -> SuspensionOut:
    student = await _locked_student(uow, actor, student_id)
    _require_manager(actor, student.school_id)
    if data.end_date < data.start_date:
        raise Invalid.field(("body", "end_date"), _END_BEFORE_START)
    if student.status == TRANSFERRED:
        raise Conflict(_TRANSFERRED)
    for other in await _suspensions(uow, student_id):
        last = suspension_last_day(other.end_date, other.ended_on)
        if other.start_date <= data.end_date and last >= data.start_date:
            raise Conflict(_OVERLAP)
    now = ctx.clock()
    row = Suspension(
        student_id=student_id,
        school_id=student.school_id,
        class_id=student.class_id,
        start_date=data.start_date,
        end_date=data.end_date,
        reason=data.reason,
        status=SuspensionStatus.active.value,
        approved_by=actor.tag,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(row)
    if data.start_date <= local_today(await school_row(uow, student.school_id), now):
        await record(
            uow, ctx, student, ChangeKind.suspended, SUSPENDED, actor.tag, reason=data.reason
        )
        student.status = SUSPENDED
        student.updated_at = now
        uow.session.add(student)
    await uow.flush()
    await reactions.react_to_attendance(uow, ctx, [student_id], [student_id])
    await uow.commit()
    return suspension_out(row)


async def end_suspension(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, suspension_id: int
) -> SuspensionOut:
    found = await uow.session.get(Suspension, suspension_id)
    if found is None or not access.can_read_class(actor, found.school_id, found.class_id):
        raise NotFound("休学", suspension_id)
    student = await _locked_student(uow, actor, found.student_id)
    _require_manager(actor, found.school_id)
    await uow.session.refresh(found)
    if found.status != SuspensionStatus.active.value:
        raise Conflict(_ENDED)
    now = ctx.clock()
    found.status = SuspensionStatus.ended.value
    found.ended_on = local_today(await school_row(uow, found.school_id), now)
    found.ended_by = actor.tag
    found.updated_at = now
    uow.session.add(found)
    if student.status == SUSPENDED:
        await record(uow, ctx, student, ChangeKind.resumed, RESUMED, actor.tag, reason="休学结束")
        student.status = RESUMED
        student.updated_at = now
        uow.session.add(student)
    await uow.flush()
    await reactions.react_to_attendance(uow, ctx, [found.student_id], [found.student_id])
    await uow.commit()
    return suspension_out(found)


async def _suspensions(uow: UnitOfWork, student_id: int) -> list[Suspension]:
    return await transfers_repo.suspensions_of(uow.session, student_id)


async def list_suspensions(uow: UnitOfWork, actor: Actor, student_id: int) -> list[SuspensionOut]:
    await student_for(uow, actor, student_id)
    return [suspension_out(s) for s in await _suspensions(uow, student_id)]


# --- follow-ups after a return ---------------------------------------------------------------


async def follow_ups(uow: UnitOfWork, actor: Actor, case_id: int) -> list[FollowUpOut]:
    await visible_case(uow, actor, case_id)
    tasks = [
        t for t in await cases_repo.tasks(uow.session, case_id) if t.kind == TaskKind.follow_up
    ]
    if not tasks:
        raise Conflict(_NO_FOLLOW_UP)
    return [
        FollowUpOut(
            task_id=t.id or 0,
            week=follow_up_week(t),
            due_at=t.due_at,
            status=t.status,
            done_at=t.done_at,
            done_by=t.done_by,
            note=t.note,
        )
        for t in sorted(tasks, key=lambda t: (t.due_at, t.id or 0))
    ]
