"""依法控辍 (legal escalation): the 辍学生返校通知书 of a red case, the report to the township,
疑似辍学 / 辍学 and 销号."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import Response

from app.api.deps import Ctx, CurrentActor, Uow
from app.casework import return_notices
from app.casework.return_notices_schemas import (
    CheckOut,
    DeliveryIn,
    NoticeIn,
    NoticeOut,
    StrikeOffIn,
)
from app.core.types import Id
from app.core.xlsx import content_disposition

router = APIRouter(prefix="/api/v1", tags=["返校通知与销号 Return notices"])

_WHO_WRITES = (
    "学校管理者(校长、分管副校长、教务处)或县教育局;其他能查看该案例的人 403,"
    "API 密钥只读 (403)。同时在案例经过(timeline)中记一条。"
)


@router.post(
    "/cases/{case_id}/return-notice",
    status_code=status.HTTP_201_CREATED,
    summary="发出辍学生返校通知书",
    description="只对红色预警、未结案的案例:学生已在校(案例已结案或待复学确认)409;"
    "案例已有未办结的通知书 409。期限默认 7 天。监护人不填则取第一监护人。" + _WHO_WRITES,
)
async def issue_notice(
    case_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor, data: NoticeIn | None = None
) -> NoticeOut:
    return await return_notices.issue_notice(uow, ctx, actor, case_id, data or NoticeIn())


@router.get("/cases/{case_id}/return-notice", summary="案例最近的返校通知书(没有则 404)")
async def case_notice(case_id: Id, uow: Uow, actor: CurrentActor) -> NoticeOut:
    return await return_notices.case_notice(uow, actor, case_id)


@router.get(
    "/return-notices/{notice_id}/document",
    summary="返校通知书文书(DOCX,可打印)",
    response_class=Response,
    responses={200: {"content": {return_notices.DOCX_MEDIA_TYPE: {}}}},
)
async def notice_document(notice_id: Id, uow: Uow, actor: CurrentActor) -> Response:
    content, filename, fallback = await return_notices.document(uow, actor, notice_id)
    return Response(
        content=content,
        media_type=return_notices.DOCX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(filename, fallback)},
    )


@router.post(
    "/return-notices/check",
    summary="检查逾期的返校通知书",
    description="对调用者所管理的学校:学生已返校的通知书办结;期限届满仍未返校的报告乡镇并认定"
    "疑似辍学;疑似辍学满规定天数的认定辍学。学校管理者或县教育局。",
)
async def check(uow: Uow, ctx: Ctx, actor: CurrentActor) -> CheckOut:
    return await return_notices.check_for(uow, ctx, actor)


@router.post(
    "/return-notices/{notice_id}/escalate",
    summary="报告乡镇人民政府(认定疑似辍学)",
    description="只在返校期限届满后(否则 409),且只对已送达、学生未返校的通知书。" + _WHO_WRITES,
)
async def escalate(notice_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor) -> NoticeOut:
    return await return_notices.escalate(uow, ctx, actor, notice_id)


@router.post(
    "/return-notices/{notice_id}/delivery",
    summary="记录送达(通知书送达监护人)",
    description="通知书发出后状态为 已发出,记录送达后为 已送达。只对未办结的通知书(否则 409);"
    "已记录过的 409;送达日期早于发出日期或晚于今天 422。" + _WHO_WRITES,
)
async def record_delivery(
    notice_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor, data: DeliveryIn
) -> NoticeOut:
    return await return_notices.record_delivery(uow, ctx, actor, notice_id, data)


@router.post(
    "/return-notices/{notice_id}/strike-off",
    summary="销号",
    description="须填写销号原因(否则 422);已销号的 409。" + _WHO_WRITES,
)
async def strike_off(
    notice_id: Id, data: StrikeOffIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> NoticeOut:
    return await return_notices.strike_off(uow, ctx, actor, notice_id, data)
