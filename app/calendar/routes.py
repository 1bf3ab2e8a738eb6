"""School calendars over HTTP: terms, 调休 and holiday overrides, the national calendar."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from app.api.deps import Ctx, CurrentActor, Uow
from app.calendar import service as calendar
from app.calendar.schemas import (
    CalendarOverrideIn,
    CalendarOverrideOut,
    CountyOverridesOut,
    NationalCalendarOut,
    NationalYearIn,
    NationalYearOut,
    SchoolCalendarOut,
    TermIn,
    TermOut,
    TermUpdate,
)
from app.core.types import Id, SchoolDate

router = APIRouter(prefix="/api/v1", tags=["校历 School calendar"])

Year = Annotated[int, Path(ge=2000, le=2100, description="公历年份 (year)")]


@router.get("/schools/{school_id}/calendar", summary="校历:逐日是否上学日")
async def school_calendar(
    school_id: Id,
    uow: Uow,
    actor: CurrentActor,
    start: Annotated[date, Query(description="开始日期 (first day)")],
    end: Annotated[date, Query(description="结束日期,含当天;最多 366 天 (last day, inclusive)")],
) -> SchoolCalendarOut:
    return await calendar.school_calendar(uow, actor, school_id, start, end)


@router.post("/schools/{school_id}/terms", status_code=status.HTTP_201_CREATED, summary="新建学期")
async def create_term(school_id: Id, data: TermIn, uow: Uow, actor: CurrentActor) -> TermOut:
    return await calendar.create_term(uow, actor, school_id, data)


@router.get("/schools/{school_id}/terms", summary="学期列表")
async def list_terms(school_id: Id, uow: Uow, actor: CurrentActor) -> list[TermOut]:
    return await calendar.list_terms(uow, actor, school_id)


@router.get("/terms/{term_id}", summary="学期详情")
async def get_term(term_id: Id, uow: Uow, actor: CurrentActor) -> TermOut:
    return await calendar.get_term(uow, actor, term_id)


@router.patch("/terms/{term_id}", summary="修改学期(日期、假期)")
async def update_term(term_id: Id, data: TermUpdate, uow: Uow, actor: CurrentActor) -> TermOut:
    return await calendar.update_term(uow, actor, term_id, data)


@router.delete("/terms/{term_id}", status_code=status.HTTP_204_NO_CONTENT, summary="删除学期")
async def delete_term(term_id: Id, uow: Uow, actor: CurrentActor) -> Response:
    await calendar.delete_term(uow, actor, term_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/schools/{school_id}/calendar-overrides",
    status_code=status.HTTP_201_CREATED,
    summary="新增停课日或补课日",
)
async def create_override(
    school_id: Id, data: CalendarOverrideIn, uow: Uow, actor: CurrentActor
) -> CalendarOverrideOut:
    return await calendar.create_override(uow, actor, school_id, data)


@router.post(
    "/counties/{county_id}/calendar-overrides",
    status_code=status.HTTP_201_CREATED,
    summary="全县停课日或补课日 (county admin: one entry per school)",
)
async def create_county_override(
    county_id: Id, data: CalendarOverrideIn, uow: Uow, actor: CurrentActor
) -> CountyOverridesOut:
    return await calendar.create_county_override(uow, actor, county_id, data)


@router.get("/schools/{school_id}/calendar-overrides", summary="停课日、补课日列表")
async def list_overrides(
    school_id: Id,
    uow: Uow,
    actor: CurrentActor,
    start: Annotated[SchoolDate | None, Query(description="从该日起 (from)")] = None,
    end: Annotated[SchoolDate | None, Query(description="到该日止 (to, inclusive)")] = None,
) -> list[CalendarOverrideOut]:
    return await calendar.list_overrides(uow, actor, school_id, start=start, end=end)


@router.delete(
    "/calendar-overrides/{override_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="删除停课日或补课日",
)
async def delete_override(override_id: Id, uow: Uow, actor: CurrentActor) -> Response:
    await calendar.delete_override(uow, actor, override_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/national-calendar", summary="国家节假日安排:已导入年份与日历包覆盖年份")
async def national_calendar(uow: Uow, actor: CurrentActor) -> NationalCalendarOut:
    return await calendar.national_calendar(uow, actor)


@router.get("/national-calendar/{year}", summary="某年已导入的节假日安排")
async def get_national_year(year: Year, uow: Uow, actor: CurrentActor) -> NationalYearOut:
    return await calendar.get_national_year(uow, actor, year)


@router.put(
    "/national-calendar/{year}",
    summary="导入或替换某年的国务院节假日安排 (operator only)",
)
async def put_national_year(
    year: Year, data: NationalYearIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> NationalYearOut:
    return await calendar.put_national_year(uow, actor, year, data, ctx.clock())
