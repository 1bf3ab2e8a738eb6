"""WeChat sign-in for both mini-programs, the binding codes, and what a signed-in guardian may
do: see their own children, unbind one, report an absence ahead."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from app.api.deps import Ctx, CurrentActor, Uow, oauth2
from app.core.types import Id
from app.db.models import GuardianAccount
from app.errors import Unauthorized
from app.guardians import accounts, ahead, settings_service
from app.guardians.schemas import (
    BindingCodeOut,
    GuardianChannel,
    MyChildOut,
    ParentSignInIn,
    ReportAheadIn,
    ReportAheadOut,
    StaffBindingCodeOut,
    StaffSignInIn,
)
from app.org import throttle
from app.org.staff_schemas import TokenOut

router = APIRouter(prefix="/api/v1", tags=["家长 Guardians"])


async def current_guardian(
    uow: Uow, ctx: Ctx, token: Annotated[str | None, Depends(oauth2)]
) -> GuardianAccount:
    if not token:
        raise Unauthorized("请先在家长小程序登录 (sign in through the parents' mini-program)")
    return await accounts.guardian_from_token(uow, ctx, token)


Guardian = Annotated[GuardianAccount, Depends(current_guardian)]


@router.post(
    "/students/{student_id}/guardian-binding-code",
    status_code=status.HTTP_201_CREATED,
    summary="发放家长绑定码(打印在家校联系卡上)",
    description="班主任或学校管理者;新码替换未用的旧码。码只显示这一次。",
)
async def binding_code(student_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor) -> BindingCodeOut:
    code = await accounts.issue_binding_code(uow, ctx, actor, student_id)
    return BindingCodeOut(student_id=student_id, code=code)


@router.post(
    "/wechat/parents/sign-in",
    summary="家长小程序登录(wx.login code;首次带绑定码)",
    description="微信接口错误以 502 返回,code 为 wechat_<errcode>;"
    "本服务未配置小程序时 404 (wechat.not_configured)。",
)
async def parent_sign_in(data: ParentSignInIn, uow: Uow, ctx: Ctx) -> TokenOut:
    return await accounts.parent_sign_in(uow, ctx, data.code, data.binding_code, data.mobile)


@router.post(
    "/wechat/staff/sign-in",
    summary="教师小程序登录(wx.login code;首次带手机号和密码)",
    description="微信接口错误以 502 返回,code 为 wechat_<errcode>;"
    "本服务未配置小程序时 404 (wechat.not_configured)。",
)
async def staff_sign_in(request: Request, data: StaffSignInIn, uow: Uow, ctx: Ctx) -> TokenOut:
    client = throttle.client_address(
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-for"),
        ctx.settings.trusted_proxies,
    )
    return await accounts.staff_sign_in(
        uow, ctx, data.code, data.mobile, data.password, client, data.binding_code
    )


@router.post(
    "/staff/{staff_id}/wechat-binding-code",
    status_code=status.HTTP_201_CREATED,
    summary="发放教师小程序一次性绑定码",
    description="可管理此人者(本校校长/副校长、县管理员);新码替换未用的旧码。码只显示这一次。",
)
async def staff_binding_code(
    staff_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> StaffBindingCodeOut:
    code = await accounts.issue_staff_code(uow, ctx, actor, staff_id)
    return StaffBindingCodeOut(staff_id=staff_id, code=code)


@router.delete(
    "/staff/{staff_id}/wechat",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="解除教师小程序绑定(本人或可管理此人者;留审计记录)",
)
async def unbind_staff(staff_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor) -> None:
    await accounts.unbind_staff(uow, ctx, actor, staff_id)


@router.get("/guardian/children", summary="我的孩子(家长)")
async def my_children(uow: Uow, guardian: Guardian) -> list[MyChildOut]:
    return await accounts.my_children(uow, guardian)


@router.delete(
    "/guardian/children/{student_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="解除与孩子的绑定(家长)",
)
async def unbind(student_id: Id, uow: Uow, ctx: Ctx, guardian: Guardian) -> None:
    await accounts.unbind(uow, ctx, guardian, student_id, f"guardian_account:{guardian.id}")


@router.post(
    "/guardian/absences",
    status_code=status.HTTP_201_CREATED,
    summary="家长提前报告缺席(成为待班主任审批的请假)",
)
async def report_ahead(
    data: ReportAheadIn, uow: Uow, ctx: Ctx, guardian: Guardian
) -> ReportAheadOut:
    return await ahead.report_ahead(uow, ctx, guardian, data)


@router.delete(
    "/guardian/opt-outs/{channel}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="家长恢复接收某一渠道(取消退订;须已用手机号登录)",
)
async def opt_in(channel: GuardianChannel, uow: Uow, ctx: Ctx, guardian: Guardian) -> None:
    await settings_service.opt_in(uow, ctx, guardian, channel)
