from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import Ctx, CurrentActor, Uow
from app.schemas.staff import StaffOut, TokenOut
from app.services import auth, staff

router = APIRouter(prefix="/api/v1/auth", tags=["登录 Sign-in"])


@router.post(
    "/token",
    response_model=TokenOut,
    summary="教职工登录 (OAuth2 password flow)",
    description="`username` 为手机号。Returns a bearer token for the `Authorization` header.",
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], uow: Uow, ctx: Ctx
) -> TokenOut:
    return await auth.login(uow, ctx, form.username, form.password)


@router.get("/me", response_model=StaffOut, summary="当前登录的教职工 (who am I)")
async def me(uow: Uow, actor: CurrentActor) -> StaffOut:
    return await staff.get_staff(uow, actor, actor.id)
