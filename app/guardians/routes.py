"""The family over HTTP: a school's guardian-notice settings (staff), and the answer link's
page, answer and opt-out (no sign-in: the signed link is the credential)."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import Ctx, CurrentActor, Uow
from app.core.types import Id
from app.guardians import answers, replies, settings_service
from app.guardians.schemas import (
    AnswerIn,
    AnswerOut,
    AnswerPageOut,
    GuardianSettingsIn,
    GuardianSettingsOut,
    OptOutIn,
    SmsReplyIn,
    SmsReplyOut,
    Token,
)

router = APIRouter(prefix="/api/v1", tags=["家长 Guardians"])


@router.get("/schools/{school_id}/guardian-notices", summary="家长未到校通知设置")
async def get_settings(school_id: Id, uow: Uow, actor: CurrentActor) -> GuardianSettingsOut:
    return await settings_service.get_settings(uow, actor, school_id)


@router.put(
    "/schools/{school_id}/guardian-notices",
    summary="设置家长未到校通知(学校管理者)",
    description="晨检后宽限分钟数、免打扰时段、家长渠道(回退顺序)、孩子姓名的显示方式。"
    "法律依据:个人信息保护法 第13条第一款第三项(履行法定职责:预防未成年人犯罪法 第34条)。",
)
async def put_settings(
    school_id: Id, data: GuardianSettingsIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> GuardianSettingsOut:
    return await settings_service.put_settings(uow, ctx, actor, school_id, data)


@router.get("/guardian-answers/{token}", summary="家长回复页(签名链接,无需登录)")
async def answer_page(token: Token, uow: Uow, ctx: Ctx) -> AnswerPageOut:
    return await answers.answer_page(uow, ctx, token)


@router.post(
    "/guardian-answers/{token}",
    summary="家长回复孩子未到校的原因",
    description="ill 生病(须选症状)/ family 家中有事 / on_the_way 在路上 / dont_know 不清楚。"
    "每个孩子每条链接只能回复一次;伪造、过期的链接 401。",
)
async def post_answer(token: Token, data: AnswerIn, uow: Uow, ctx: Ctx) -> AnswerOut:
    return await answers.answer(uow, ctx, token, data)


@router.post(
    "/guardian-answers/{token}/opt-out",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="家长退订某一渠道",
)
async def opt_out(token: Token, data: OptOutIn, uow: Uow, ctx: Ctx) -> None:
    await settings_service.opt_out(uow, ctx, token, data)


@router.post(
    "/sms/replies/tencent/{secret}",
    summary="家长短信回复(腾讯云短信回复回调)",
    description="回复 1 生病(可加症状:发烧、咳嗽…)、2 家中有事、3 在路上、4 不清楚;"
    "作用于该手机号最新且未过期的通知。地址末段为 KCBX_GUARDIAN_SMS_REPLY_TOKEN,未配置时 404。",
)
async def tencent_sms_reply(secret: Token, data: SmsReplyIn, ctx: Ctx) -> SmsReplyOut:
    return await replies.tencent_reply(ctx, secret, data)
