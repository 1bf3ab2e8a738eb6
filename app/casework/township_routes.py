"""The township's account (乡镇人民政府): reports to the township, acknowledgement, actions and
raising a report to the county."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import Ctx, CurrentActor, Limit, Offset, Uow
from app.casework import township
from app.casework.township_schemas import ActionIn, RaiseIn, ReportStatus, TownshipReportOut
from app.core.types import Id, Page

router = APIRouter(prefix="/api/v1", tags=["乡镇人民政府 Township"])

_WHO_WRITES = (
    "只有该乡镇人民政府的账号(township_officer);能查看该报告的其他人 403,"
    "其他乡镇与无关人员 404。同时在案例经过(timeline)中记一条。"
)


@router.get(
    "/township-reports",
    summary="报告乡镇的返校通知书(乡镇人民政府、县教育局、学校管理者)",
    description="乡镇账号只看到报告本乡镇的;县教育局看全县;学校管理者看本校。最新的在前。",
)
async def list_reports(
    uow: Uow,
    actor: CurrentActor,
    limit: Limit = 50,
    offset: Offset = 0,
    township_id: Annotated[Id | None, Query(description="只看这个乡镇的")] = None,
    status: Annotated[
        ReportStatus | None,
        Query(description="received 待签收 / acknowledged 已签收 / raised 已提请县教育局"),
    ] = None,
) -> Page[TownshipReportOut]:
    return await township.list_reports(
        uow, actor, township_id=township_id, status=status, limit=limit, offset=offset
    )


@router.get("/township-reports/{report_id}", summary="一份乡镇报告及其处理记录")
async def get_report(report_id: Id, uow: Uow, actor: CurrentActor) -> TownshipReportOut:
    return await township.get_report(uow, actor, report_id)


@router.post(
    "/township-reports/{report_id}/acknowledge",
    summary="乡镇签收",
    description="已签收的 409。" + _WHO_WRITES,
)
async def acknowledge(report_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor) -> TownshipReportOut:
    return await township.acknowledge(uow, ctx, actor, report_id)


@router.post(
    "/township-reports/{report_id}/actions",
    summary="登记乡镇的处理(责令限期改正、批评教育、行政处罚、其他)",
    description="处理日期不早于报告日、不晚于今天,责令限期改正须填晚于处理日期的期限(422);"
    "学生已返校或通知书已销号 409;未签收的同时签收。通知校长、分管副校长、教务处和县教育局。"
    + _WHO_WRITES,
)
async def record_action(
    report_id: Id, data: ActionIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> TownshipReportOut:
    return await township.record_action(uow, ctx, actor, report_id, data)


@router.post(
    "/township-reports/{report_id}/raise",
    summary="提请县教育局",
    description="已提请的 409。通知校长、分管副校长、教务处和县教育局。" + _WHO_WRITES,
)
async def raise_to_county(
    report_id: Id, data: RaiseIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> TownshipReportOut:
    return await township.raise_to_county(uow, ctx, actor, report_id, data)
