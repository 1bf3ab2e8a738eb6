"""每日缺勤率 (the daily absence rate per school over a term), the console's term chart."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import Ctx, CurrentActor, Uow
from app.core.types import Id, SchoolDate
from app.reports import absence_trend
from app.reports.absence_trend_schemas import AbsenceTrendOut

router = APIRouter(tags=["报表 Reports"])


@router.get(
    "/api/v1/reports/absence-trend",
    summary="每日缺勤率(县内各校或一所学校,最多 200 天)",
    description="[start, end] 内每个上课日、每所学校:在册人数、缺勤(无故)、请假、未点名与缺勤率 "
    "(缺勤 / 已点名人数;当日未点名为 null)。与 `GET /attendance/lists` 同一口径。"
    "county_id 仅县教育局;school_id 学校管理者与县教育局。",
)
async def absence_trend_report(
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    start: SchoolDate,
    end: SchoolDate,
    county_id: Id | None = None,
    school_id: Id | None = None,
) -> AbsenceTrendOut:
    return await absence_trend.absence_trend(
        uow, ctx, actor, county_id=county_id, school_id=school_id, start=start, end=end
    )
