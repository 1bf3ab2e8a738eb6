"""Counties and townships over HTTP."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import CurrentActor, IncludeInactive, Limit, Offset, Uow
from app.core.types import Id, Page
from app.org import service as org
from app.org.schemas import (
    CountyIn,
    CountyOut,
    CountyUpdate,
    TownshipIn,
    TownshipOut,
    TownshipUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["县与乡镇 Counties & townships"])


@router.post("/counties", status_code=status.HTTP_201_CREATED, summary="新建县 (operators)")
async def create_county(data: CountyIn, uow: Uow, actor: CurrentActor) -> CountyOut:
    return await org.create_county(uow, actor, data)


@router.get("/counties", summary="县列表")
async def list_counties(
    uow: Uow,
    actor: CurrentActor,
    limit: Limit = 50,
    offset: Offset = 0,
    include_inactive: IncludeInactive = False,
) -> Page[CountyOut]:
    return await org.list_counties(
        uow, actor, limit=limit, offset=offset, include_inactive=include_inactive
    )


@router.get("/counties/{county_id}", summary="县详情")
async def get_county(county_id: Id, uow: Uow, actor: CurrentActor) -> CountyOut:
    return await org.get_county(uow, actor, county_id)


@router.patch("/counties/{county_id}", summary="修改县")
async def update_county(
    county_id: Id, data: CountyUpdate, uow: Uow, actor: CurrentActor
) -> CountyOut:
    return await org.update_county(uow, actor, county_id, data)


@router.delete("/counties/{county_id}", summary="停用县 (deactivate)")
async def deactivate_county(county_id: Id, uow: Uow, actor: CurrentActor) -> CountyOut:
    return await org.update_county(uow, actor, county_id, None, active=False)


@router.post("/townships", status_code=status.HTTP_201_CREATED, summary="新建乡镇")
async def create_township(data: TownshipIn, uow: Uow, actor: CurrentActor) -> TownshipOut:
    return await org.create_township(uow, actor, data)


@router.get("/townships", summary="乡镇列表")
async def list_townships(
    uow: Uow,
    actor: CurrentActor,
    county_id: Id | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    include_inactive: IncludeInactive = False,
) -> Page[TownshipOut]:
    return await org.list_townships(
        uow,
        actor,
        county_id=county_id,
        limit=limit,
        offset=offset,
        include_inactive=include_inactive,
    )


@router.get("/townships/{township_id}", summary="乡镇详情")
async def get_township(township_id: Id, uow: Uow, actor: CurrentActor) -> TownshipOut:
    return await org.get_township(uow, actor, township_id)


@router.patch("/townships/{township_id}", summary="修改乡镇")
async def update_township(
    township_id: Id, data: TownshipUpdate, uow: Uow, actor: CurrentActor
) -> TownshipOut:
    return await org.update_township(uow, actor, township_id, data)


@router.delete("/townships/{township_id}", summary="停用乡镇 (deactivate)")
async def deactivate_township(township_id: Id, uow: Uow, actor: CurrentActor) -> TownshipOut:
    return await org.update_township(uow, actor, township_id, None, active=False)
