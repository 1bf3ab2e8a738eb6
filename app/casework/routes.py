"""联合劝返 (joint persuasion): home visits, persuasion talks and the 一人一策 plan of a case."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import Ctx, CurrentActor, Uow
from app.casework import service as casework
from app.casework.schemas import HomeVisitIn, HomeVisitOut, PlanIn, PlanOut, TalkIn, TalkOut
from app.core.types import Id

router = APIRouter(prefix="/api/v1", tags=["劝返 Persuasion"])

_WHO_WRITES = (
    "联合劝返工作组成员(分管副校长、本班班主任和任课教师)、本班班主任或学校管理者;"
    "其他能查看该案例的人 403,API 密钥只读 (403)。案例已结案 409,且不写入任何记录。"
    "同时在案例经过(timeline)中记一条。"
)


@router.post(
    "/cases/{case_id}/home-visits",
    status_code=status.HTTP_201_CREATED,
    summary="登记联合家访记录",
    description="日期不能晚于学校当地今天(422);参加人员中的本校教职工须填写其编号。" + _WHO_WRITES,
)
async def record_home_visit(
    case_id: Id, data: HomeVisitIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> HomeVisitOut:
    return await casework.record_home_visit(uow, ctx, actor, case_id, data)


@router.get("/cases/{case_id}/home-visits", summary="联合家访记录(按日期)")
async def list_home_visits(case_id: Id, uow: Uow, actor: CurrentActor) -> list[HomeVisitOut]:
    return await casework.list_home_visits(uow, actor, case_id)


@router.post(
    "/cases/{case_id}/talks",
    status_code=status.HTTP_201_CREATED,
    summary="登记劝返复学谈话记录",
    description="日期不能晚于学校当地今天(422)。" + _WHO_WRITES,
)
async def record_talk(
    case_id: Id, data: TalkIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> TalkOut:
    return await casework.record_talk(uow, ctx, actor, case_id, data)


@router.get("/cases/{case_id}/talks", summary="劝返复学谈话记录(按日期)")
async def list_talks(case_id: Id, uow: Uow, actor: CurrentActor) -> list[TalkOut]:
    return await casework.list_talks(uow, actor, case_id)


@router.put(
    "/cases/{case_id}/plan",
    summary="制定或修改一人一策方案",
    description="每个案例一份,整体替换。每项措施的责任人须为本校教职工,复查日期须按先后顺序"
    "(否则 422)。" + _WHO_WRITES,
)
async def put_plan(case_id: Id, data: PlanIn, uow: Uow, ctx: Ctx, actor: CurrentActor) -> PlanOut:
    return await casework.put_plan(uow, ctx, actor, case_id, data)


@router.get("/cases/{case_id}/plan", summary="一人一策方案(尚未制定则 404)")
async def get_plan(case_id: Id, uow: Uow, actor: CurrentActor) -> PlanOut:
    return await casework.get_plan(uow, actor, case_id)
