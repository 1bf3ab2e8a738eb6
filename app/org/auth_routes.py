"""Sign-in over HTTP: tokens, sessions, signing out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import Ctx, CurrentActor, Uow
from app.context import AppContext
from app.org import auth, throttle
from app.org.staff_schemas import LoginIn, MeApiKey, MeOut, MeStaff, TokenOut

router = APIRouter(prefix="/api/v1/auth", tags=["登录 Sign-in"])


@router.post(
    "/token",
    response_model=TokenOut,
    summary="教职工登录 (OAuth2 password flow)",
    description=(
        "`username` 为手机号。Returns a bearer token for the `Authorization` header. "
        "Too many failures for one account: 429 with `Retry-After`, even for the right "
        "password; too many from one address: its wrong passwords answer 429, right ones "
        "still sign in."
    ),
    responses={429: {"description": "登录失败次数过多 (throttled; see Retry-After)"}},
)
async def token(
    request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], uow: Uow, ctx: Ctx
) -> TokenOut:
    return await auth.login(uow, ctx, form.username, form.password, _client(request, ctx))


def _client(request: Request, ctx: AppContext) -> str:
    return throttle.client_address(
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-for"),
        ctx.settings.trusted_proxies,
    )


@router.post(
    "/login",
    response_model=TokenOut,
    summary="教职工登录(JSON)",
    description=(
        "与 `POST /auth/token` 相同(同一节流、令牌有效期与撤销),只是以 JSON 提交 "
        "`{username, password}`,供生成的客户端使用。429 同上。"
    ),
    responses={429: {"description": "登录失败次数过多 (throttled; see Retry-After)"}},
)
async def login(request: Request, data: LoginIn, uow: Uow, ctx: Ctx) -> TokenOut:
    return await auth.login(uow, ctx, data.username, data.password, _client(request, ctx))


@router.get(
    "/me",
    response_model=MeOut,
    summary="当前调用者 (who am I: a staff member or an API key)",
)
async def me(uow: Uow, actor: CurrentActor) -> MeStaff | MeApiKey:
    return await auth.whoami(uow, actor)
