"""转学 (transfers) and 休学 (suspensions); a student who left without a transfer; the
follow-up checks after a return."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, status

from app.api.deps import Ctx, CurrentActor, Uow
from app.core.types import Id
from app.domain.transfers import TransferStatus
from app.transfers import follow_ups as follow_up_checks
from app.transfers import service as transfers
from app.transfers import suspensions
from app.transfers.schemas import (
    FollowUpOut,
    ReceivingSignIn,
    RejectIn,
    StudentStatusOut,
    SuspensionIn,
    SuspensionOut,
    TransferIn,
    TransferOut,
)

router = APIRouter(prefix="/api/v1", tags=["转学与休学 Transfers and suspensions"])

_STEPS = (
    "流程:申请 → 班主任签字 → 接收学校签字 → 分管副校长(或校长)批准;不在这一步 409,"
    "能查看但无权办理 403,API 密钥 403,看不到的 404。"
)


@router.post(
    "/transfers",
    status_code=status.HTTP_201_CREATED,
    summary="提交转学申请",
    description="学校管理者或该班班主任。转入本校 422;拟转出日期早于申请日期 422;"
    "已有办理中的申请 409。转入学校在系统内填 to_school_id,否则填 to_school_name。",
)
async def apply(data: TransferIn, uow: Uow, ctx: Ctx, actor: CurrentActor) -> TransferOut:
    return await transfers.apply(uow, ctx, actor, data)


@router.get("/transfers", summary="转学申请列表(转出或转入调用者的学校)")
async def list_transfers(
    uow: Uow,
    actor: CurrentActor,
    student_id: Id | None = None,
    status: TransferStatus | None = None,
) -> list[TransferOut]:
    return await transfers.list_transfers(uow, actor, student_id=student_id, status=status)


@router.get("/transfers/{transfer_id}", summary="转学申请")
async def get_transfer(transfer_id: Id, uow: Uow, actor: CurrentActor) -> TransferOut:
    return await transfers.get_transfer(uow, actor, transfer_id)


@router.post(
    "/transfers/{transfer_id}/head-teacher-sign",
    summary="班主任签字",
    description="该班班主任。" + _STEPS,
)
async def head_teacher_sign(
    transfer_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> TransferOut:
    return await transfers.head_teacher_sign(uow, ctx, actor, transfer_id)


@router.post(
    "/transfers/{transfer_id}/receiving-sign",
    summary="接收学校签字",
    description="接收学校(系统内)的管理者签字并选择转入班级(class_id 必填);"
    "系统外的学校由转出学校的管理者登记其签字。" + _STEPS,
)
async def receiving_sign(
    transfer_id: Id,
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    data: Annotated[ReceivingSignIn | None, Body()] = None,
) -> TransferOut:
    return await transfers.receiving_sign(uow, ctx, actor, transfer_id, data or ReceivingSignIn())


@router.post(
    "/transfers/{transfer_id}/approve",
    summary="批准转学",
    description="转出学校的分管副校长或校长。批准后:转入系统内学校的学生转到接收学校所选班级"
    "(学籍状态 01);转往系统外学校的学生学籍状态为 10(转学)并停用。进行中的缺勤案例以"
    "“已转学”结案,未办结的返校通知书销号,复学后回访取消。" + _STEPS,
)
async def approve(transfer_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor) -> TransferOut:
    return await transfers.approve(uow, ctx, actor, transfer_id)


@router.post(
    "/transfers/{transfer_id}/reject",
    summary="不予批准",
    description="转出学校的管理者,批准前的任何一步;须填写原因。" + _STEPS,
)
async def reject(
    transfer_id: Id, data: RejectIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> TransferOut:
    return await transfers.reject(uow, ctx, actor, transfer_id, data)


@router.post(
    "/students/{student_id}/left-without-transfer",
    summary="未办转学手续离校(疑似辍学)",
    description="学校管理者。学籍状态设为 15(下落不明),即疑似辍学(计入县疑似辍学学生台账);"
    "学生仍在册,台账照常统计;确认复学后恢复为 05。已转学的学生 409。",
)
async def left_without_transfer(
    student_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> StudentStatusOut:
    return await transfers.left_without_transfer(uow, ctx, actor, student_id)


@router.post(
    "/students/{student_id}/suspensions",
    status_code=status.HTTP_201_CREATED,
    summary="登记休学",
    description="学校管理者(登记即批准)。结束日期早于开始日期 422;与已有休学重叠 409。"
    "休学期间不算缺勤(按请假统计)。已开始的休学登记时即把学籍状态设为 02(休学);"
    "没有后台任务,状态只在登记和结束时改变。",
)
async def suspend(
    student_id: Id, data: SuspensionIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> SuspensionOut:
    return await suspensions.suspend(uow, ctx, actor, student_id, data)


@router.get("/students/{student_id}/suspensions", summary="学生的休学记录")
async def list_suspensions(student_id: Id, uow: Uow, actor: CurrentActor) -> list[SuspensionOut]:
    return await suspensions.list_suspensions(uow, actor, student_id)


@router.post(
    "/suspensions/{suspension_id}/end",
    summary="结束休学(复学)",
    description="学校管理者。从今天起按正常考勤;学籍状态 02 改为 05(复学)。已结束的 409。",
)
async def end_suspension(
    suspension_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> SuspensionOut:
    return await suspensions.end_suspension(uow, ctx, actor, suspension_id)


@router.get(
    "/cases/{case_id}/follow-ups",
    summary="返校后回访(第 1、4、8 周)",
    description="确认复学时为班主任建立的回访任务(确认后第 1、4、8 周到期),与案例的其他任务"
    "一样存储和办理;没有回访任务的案例 409。",
)
async def follow_ups(case_id: Id, uow: Uow, actor: CurrentActor) -> list[FollowUpOut]:
    return await follow_up_checks.follow_ups(uow, actor, case_id)
