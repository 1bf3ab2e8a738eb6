"""Staff, their roles and API keys over HTTP."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import Ctx, CurrentActor, IncludeInactive, Limit, Offset, Uow
from app.core.types import Id, Page
from app.domain.roles import Role
from app.org import staff
from app.org.staff_schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    GrantIn,
    StaffIn,
    StaffOut,
    StaffUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["教职工与密钥 Staff & API keys"])


@router.post("/staff", status_code=status.HTTP_201_CREATED, summary="新建教职工")
async def create_staff(data: StaffIn, uow: Uow, actor: CurrentActor) -> StaffOut:
    return await staff.create_staff(uow, actor, data)


@router.get("/staff", summary="教职工列表")
async def list_staff(
    uow: Uow,
    actor: CurrentActor,
    school_id: Id | None = None,
    role: Role | None = None,
    class_id: Id | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    include_inactive: IncludeInactive = False,
) -> Page[StaffOut]:
    return await staff.list_staff(
        uow,
        actor,
        school_id=school_id,
        role=role,
        class_id=class_id,
        include_inactive=include_inactive,
        limit=limit,
        offset=offset,
    )


@router.get("/staff/{staff_id}", summary="教职工详情")
async def get_staff(staff_id: Id, uow: Uow, actor: CurrentActor) -> StaffOut:
    return await staff.get_staff(uow, actor, staff_id)


@router.patch("/staff/{staff_id}", summary="修改教职工")
async def update_staff(
    staff_id: Id, data: StaffUpdate, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> StaffOut:
    return await staff.update_staff(uow, ctx.settings, actor, staff_id, data)


@router.delete("/staff/{staff_id}", summary="停用教职工 (deactivate)")
async def deactivate_staff(staff_id: Id, uow: Uow, actor: CurrentActor) -> StaffOut:
    return await staff.set_staff_active(uow, actor, staff_id, False)


@router.post("/staff/{staff_id}/roles", status_code=status.HTTP_201_CREATED, summary="授予角色")
async def add_role(staff_id: Id, data: GrantIn, uow: Uow, actor: CurrentActor) -> StaffOut:
    return await staff.add_grant(uow, actor, staff_id, data)


@router.delete("/staff/{staff_id}/roles/{grant_id}", summary="撤销角色")
async def remove_role(staff_id: Id, grant_id: Id, uow: Uow, actor: CurrentActor) -> StaffOut:
    return await staff.remove_grant(uow, actor, staff_id, grant_id)


@router.post(
    "/api-keys",
    status_code=status.HTTP_201_CREATED,
    summary="新建 API 密钥 (shown once)",
    description="县级系统用 `X-API-Key` 头调用。The key is shown only in this answer.",
)
async def create_api_key(data: ApiKeyIn, uow: Uow, ctx: Ctx, actor: CurrentActor) -> ApiKeyCreated:
    return await staff.create_api_key(uow, actor, data, ctx.clock())


@router.get("/api-keys", summary="API 密钥列表")
async def list_api_keys(uow: Uow, actor: CurrentActor) -> list[ApiKeyOut]:
    return await staff.list_api_keys(uow, actor)


@router.delete("/api-keys/{key_id}", summary="吊销 API 密钥 (revoke)")
async def revoke_api_key(key_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor) -> ApiKeyOut:
    return await staff.revoke_api_key(uow, actor, key_id, ctx.clock())
