"""Alert policies per county and school over HTTP."""

from __future__ import annotations

from fastapi import APIRouter

from app.alerts import policy_settings
from app.alerts.policy_schemas import (
    PolicyIn,
    PolicyOut,
)
from app.api.deps import Ctx, CurrentActor, Uow
from app.core.types import Id

router = APIRouter(prefix="/api/v1", tags=["预警规则与引擎 Alert policy & engine"])


@router.get("/alert-policies/county/{county_id}", summary="县级预警规则")
async def get_county_policy(county_id: Id, uow: Uow, actor: CurrentActor) -> PolicyOut:
    return await policy_settings.county_policy(uow, actor, county_id)


@router.put(
    "/alert-policies/county/{county_id}",
    summary="设置县级预警规则 (applies to cases opened afterwards)",
    description="预警阈值与接收人(新开案例生效,进行中的案例保留开案时的规则);"
    "返校通知书期限、疑似辍学与辍学认定天数(新发通知书的期限按发出时的规则,后两项在每次检查时读取);"
    "小学、初中辍学率控制目标(比例)。未填写的项沿用上一级(默认值来自种子文件)。",
)
async def put_county_policy(
    county_id: Id, data: PolicyIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> PolicyOut:
    return await policy_settings.put_policy(uow, ctx, actor, data, county_id=county_id)


@router.get("/alert-policies/school/{school_id}", summary="学校预警规则(含生效值)")
async def get_school_policy(school_id: Id, uow: Uow, actor: CurrentActor) -> PolicyOut:
    return await policy_settings.school_policy(uow, actor, school_id)


@router.put("/alert-policies/school/{school_id}", summary="设置学校预警规则")
async def put_school_policy(
    school_id: Id, data: PolicyIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> PolicyOut:
    return await policy_settings.put_policy(uow, ctx, actor, data, school_id=school_id)
