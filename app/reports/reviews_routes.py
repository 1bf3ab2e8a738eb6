"""通报与研判: the school's and the county's monthly review (月研判), the county's weekly bulletin
(县周通报) and the school's 劝返复学谈话记录册, as JSON or XLSX."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.api.deps import Ctx, CurrentActor, Uow
from app.core.report_files import ReportFormat
from app.core.types import Id, SchoolDate
from app.reports import reviews, reviews_xlsx
from app.reports.files import XLSX_RESPONSES, Format, xlsx_file
from app.reports.reviews_schemas import (
    CountyBulletinOut,
    CountyMonthlyReviewOut,
    MonthlyReviewOut,
    TalkLedgerOut,
)

router = APIRouter(tags=["通报与研判 Bulletins & reviews"])


@router.get(
    "/api/v1/reports/monthly-review",
    summary="月研判(学校)",
    description="一个月(学校时区)的周通报各项指标,加分周预警分级与月末未结案案例(级别、"
    "已开案天数);口径见 app/reports/reviews.py。month 为 YYYY-MM(否则 422)。"
    "学校管理者与县教育局可查看,其他教职工 403。",
    response_model=MonthlyReviewOut,
    responses=XLSX_RESPONSES,
)
async def monthly_review(
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    school_id: Id,
    month: Annotated[str, Query(description="YYYY-MM", examples=["2026-11"])],
    format: Format = ReportFormat.json,
) -> MonthlyReviewOut | Response:
    out = await reviews.monthly_review(uow, ctx, actor, school_id=school_id, month=month)
    if format is ReportFormat.xlsx:
        return xlsx_file(reviews_xlsx.monthly_review_xlsx(out))
    return out


@router.get(
    "/api/v1/reports/county-bulletin",
    summary="周通报(县)",
    description="一周(周一至周日)县内各校的预警分级、48小时核查率、周末未结案数、返校数,及全县合计。"
    "week_start 须为周一(否则 422)。仅限县教育局,县内其他教职工 403。",
    response_model=CountyBulletinOut,
    responses=XLSX_RESPONSES,
)
async def county_bulletin(
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    county_id: Id,
    week_start: SchoolDate,
    format: Format = ReportFormat.json,
) -> CountyBulletinOut | Response:
    out = await reviews.county_bulletin(uow, ctx, actor, county_id=county_id, week_start=week_start)
    if format is ReportFormat.xlsx:
        return xlsx_file(reviews_xlsx.county_bulletin_xlsx(out))
    return out


@router.get(
    "/api/v1/reports/county-monthly-review",
    summary="月研判(县)",
    description="一个月县内各校(各按本校时区)的预警分级、48小时核查率、本月新开案例、1小时内联系率、"
    "24小时内报告率(各班主任合计)、月末未结案数、返校数,及全县合计;另附该月所在学年的辍学率、"
    "巩固率(有适龄儿童台账时含入学率)与目标。口径见 app/reports/reviews.py。"
    "month 为 YYYY-MM(否则 422)。仅限县教育局,县内其他教职工 403。",
    response_model=CountyMonthlyReviewOut,
    responses=XLSX_RESPONSES,
)
async def county_monthly_review(
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    county_id: Id,
    month: Annotated[str, Query(description="YYYY-MM", examples=["2026-11"])],
    format: Format = ReportFormat.json,
) -> CountyMonthlyReviewOut | Response:
    out = await reviews.county_monthly_review(uow, ctx, actor, county_id=county_id, month=month)
    if format is ReportFormat.xlsx:
        return xlsx_file(reviews_xlsx.county_monthly_review_xlsx(out))
    return out


@router.get(
    "/api/v1/ledgers/persuasion-talks",
    summary="劝返复学谈话记录册(学校)",
    description="[start, end] 内(最多 366 天)的每次劝返复学谈话一行:日期、学生、班级、谈话对象、"
    "谈话人、内容。学校管理者与县教育局可查看,其他教职工 403。",
    response_model=TalkLedgerOut,
    responses=XLSX_RESPONSES,
)
async def persuasion_talks(
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    school_id: Id,
    start: SchoolDate,
    end: SchoolDate,
    format: Format = ReportFormat.json,
) -> TalkLedgerOut | Response:
    out = await reviews.talk_ledger(uow, ctx, actor, school_id=school_id, start=start, end=end)
    if format is ReportFormat.xlsx:
        return xlsx_file(reviews_xlsx.talk_ledger_xlsx(out))
    return out
