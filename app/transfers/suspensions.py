"""休学 (suspensions).

A suspension is entered already approved by a school manager (``approved_by``);
end before start is 422, overlapping another suspension of the student 409. Its days count
like approved leave (``approved_leave_days``): the three lists show 请假 and no case opens;
creating or ending one re-evaluates the student's case, as approving leave does.

Status flips happen on writes only, there is no background job: creation sets ``02`` (休学)
when the suspension has started (start <= the school's today); ``end`` marks it ended
(days from that day on count again) and sets ``05`` (复学) if the student was ``02``.
"""

from __future__ import annotations

from app.alerts import reactions
from app.context import AppContext
from app.core.records import school_row
from app.core.time import local_today
from app.db.models import Suspension
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor
from app.domain.students import RESUMED, SUSPENDED, TRANSFERRED, ChangeKind, suspension_last_day
from app.domain.transfers import SuspensionStatus
from app.errors import Conflict, Invalid, NotFound
from app.roster.enrollment_changes import record
from app.roster.students import student_for
from app.transfers import repository as transfers_repo
from app.transfers.schemas import SuspensionIn, SuspensionOut
from app.transfers.service import ALREADY_TRANSFERRED, locked_student, require_manager

_END_BEFORE_START = "结束日期不能早于开始日期 (end_date before start_date)"
_OVERLAP = "与该学生已有的休学时间重叠 (overlaps another suspension)"
_ENDED = "该休学已结束 (the suspension has already ended)"


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


async def suspend(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, student_id: int, data: SuspensionIn
) -> SuspensionOut:
    student = await locked_student(uow, actor, student_id)
    require_manager(actor, student.school_id)
    if data.end_date < data.start_date:
        raise Invalid.field(("body", "end_date"), _END_BEFORE_START)
    if student.status == TRANSFERRED:
        raise Conflict(ALREADY_TRANSFERRED)
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
    student = await locked_student(uow, actor, found.student_id)
    require_manager(actor, found.school_id)
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
