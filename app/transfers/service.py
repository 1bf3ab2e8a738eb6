"""转学 (transfers) and a student who left without a transfer. 休学 (suspensions) are in
``app/transfers/suspensions.py``, the follow-up checks after a return in
``app/transfers/follow_ups.py``.

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
  so the school's ledgers keep counting them; a transferred student (``10``) is 409.
"""

from __future__ import annotations

from app.alerts import status_history
from app.context import AppContext
from app.core.access import require_person
from app.core.documents import next_number
from app.core.records import school_row
from app.core.time import local_today
from app.db.models import School, SchoolClass, Student, Transfer
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor
from app.domain.students import (
    MISSING,
    TRANSFERRED,
    ChangeKind,
)
from app.domain.transfers import TRANSFER_STATUS_LABELS, TransferStatus
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.roster.enrollment_changes import record
from app.roster.repository import student_for_update
from app.roster.students import student_for
from app.transfers import repository as transfers_repo
from app.transfers.departures import on_transfer_approved
from app.transfers.schemas import (
    ReceivingSignIn,
    RejectIn,
    StudentStatusOut,
    TransferIn,
    TransferOut,
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
ALREADY_TRANSFERRED = "该学生已转学 (the student has transferred)"
_NO_CLASS = "请选择接收学校的一个在用班级 (class_id: an active class of the receiving school)"


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
        moved_at=t.moved_at,
        incoming=status is TransferStatus.approved and t.moved_at is None,
    )


# --- helpers --------------------------------------------------------------------------------


async def locked_student(uow: UnitOfWork, actor: Actor, student_id: int) -> Student:
    """The student, visible to the actor (else 404), locked for the write."""
    await student_for(uow, actor, student_id)
    student = await student_for_update(uow.session, student_id)
    assert student is not None
    await uow.session.refresh(student)
    return student


def require_manager(actor: Actor, school_id: int) -> None:
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
    student = await locked_student(uow, actor, data.student_id)
    require_person(actor)
    if not access.can_edit_student(actor, student.school_id, student.class_id):
        raise Forbidden("只有学校管理者或班主任可提交转学申请 (school managers or head teacher)")
    if student.status == TRANSFERRED:
        raise Conflict(ALREADY_TRANSFERRED)
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
    if await transfers_repo.has_transfer_in(
        uow.session, student.id, _IN_PROGRESS
    ) or await transfers_repo.awaiting_move(uow.session, TransferStatus.approved.value, student.id):
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
    if not access.can_approve_transfer(actor, t.from_school_id):
        raise Forbidden(_NOT_APPROVER)
    t.status = TransferStatus.approved.value
    t.decided_at = t.updated_at = ctx.clock()
    t.decided_by = actor.tag
    sending = await school_row(uow, t.from_school_id)
    if t.leave_on is None or t.leave_on <= local_today(sending, ctx.clock()):
        student = await uow.session.get(Student, t.student_id)
        assert student is not None
        await on_transfer_approved(uow, ctx, t, student, actor.tag)
        t.moved_at = ctx.clock()
    # Otherwise the student stays on the roll until the leaving date (app/transfers/moves.py).
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
    student = await locked_student(uow, actor, student_id)
    require_manager(actor, student.school_id)
    if student.status == TRANSFERRED:
        raise Conflict(ALREADY_TRANSFERRED)
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
    await uow.flush()
    await status_history.refresh(uow, ctx, [student_id])  # 疑似辍学 at once
    await uow.commit()
    assert student.id is not None
    return StudentStatusOut(student_id=student.id, status=student.status, active=student.active)
