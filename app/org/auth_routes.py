"""Sign-in over HTTP: tokens, sessions, signing out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import Ctx, CurrentActor, Uow
from app.org import auth
from app.org.staff_schemas import MeApiKey, MeOut, MeStaff, TokenOut

router = APIRouter(prefix="/api/v1/auth", tags=["登录 Sign-in"])


@router.post(
    "/token",
    response_model=TokenOut,
    summary="教职工登录 (OAuth2 password flow)",
    description=(
        "`username` 为手机号。Returns a bearer token for the `Authorization` header. "
        "Too many failures for one account or from one address: 429 with `Retry-After`."
    ),
    responses={429: {"description": "登录失败次数过多 (throttled; see Retry-After)"}},
)
async def token(
    request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], uow: Uow, ctx: Ctx
) -> TokenOut:
    client = request.client.host if request.client else "unknown"
    return await auth.login(uow, ctx, form.username, form.password, client)


@router.get(
    "/me",
    response_model=MeOut,
    summary="当前调用者 (who am I: a staff member or an API key)",
)
async def me(uow: Uow, actor: CurrentActor) -> MeStaff | MeApiKey:
    return await auth.whoami(uow, actor)
