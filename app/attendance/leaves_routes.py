"""Leave requests (请假) over HTTP: list, read, approve, reject."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from app.api.deps import Ctx, CurrentActor, Limit, Offset, Uow
from app.attendance import leaves
from app.attendance.leaves_schemas import LeaveIn, LeaveOut, RejectIn
from app.core.types import Id, Page, SchoolDate
from app.domain.attendance import LeaveStatus, LeaveType

router = APIRouter(prefix="/api/v1/leaves", tags=["请假 Leave"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="申请请假",
    description="任何能查看该班的人都可申请;`approve=true` 直接批准(仅班主任、学校管理者、"
    "县教育局)。病假须填发病时间和至少一项症状。最长 60 天(更长请办理休学);"
    " overlapping a pending or approved leave of the same student answers 409.",
)
async def create_leave(data: LeaveIn, uow: Uow, ctx: Ctx, actor: CurrentActor) -> LeaveOut:
    return await leaves.create_leave(uow, ctx, actor, data)


@router.get("", summary="请假列表 (scoped to the caller's classes or school)")
async def list_leaves(
    uow: Uow,
    actor: CurrentActor,
    student_id: Id | None = None,
    class_id: Id | None = None,
    school_id: Id | None = None,
    status: LeaveStatus | None = None,
    leave_type: LeaveType | None = None,
    covering: SchoolDate | None = Query(
        default=None, description="包含该日期的请假 (covering a date)"
    ),
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[LeaveOut]:
    return await leaves.list_leaves(
        uow,
        actor,
        student_id=student_id,
        class_id=class_id,
        school_id=school_id,
        status=status,
        leave_type=leave_type,
        covering=covering,
        limit=limit,
        offset=offset,
    )


@router.get("/{leave_id}", summary="请假详情")
async def get_leave(leave_id: Id, uow: Uow, actor: CurrentActor) -> LeaveOut:
    return await leaves.get_leave(uow, actor, leave_id)


@router.post("/{leave_id}/approve", summary="批准请假 (pending → approved)")
async def approve_leave(leave_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor) -> LeaveOut:
    return await leaves.approve_leave(uow, ctx, actor, leave_id)


@router.post("/{leave_id}/reject", summary="驳回请假 (pending → rejected)")
async def reject_leave(
    leave_id: Id, data: RejectIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> LeaveOut:
    return await leaves.reject_leave(uow, ctx, actor, leave_id, data)


@router.post(
    "/{leave_id}/cancel",
    summary="撤销请假 (pending/approved → cancelled)",
    description="申请人本人、班主任、学校管理者或县教育局可撤销。",
)
async def cancel_leave(leave_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor) -> LeaveOut:
    return await leaves.cancel_leave(uow, ctx, actor, leave_id)
