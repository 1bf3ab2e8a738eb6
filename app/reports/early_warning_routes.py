"""预警名单 (the early-warning list) per class, school or county, as JSON or XLSX; a
student's absence measure."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from app.alerts.measure_schemas import AbsenceMeasureOut
from app.api.deps import Ctx, CurrentActor, Uow
from app.core.report_files import ReportFormat
from app.core.types import Id
from app.reports import early_warning as service
from app.reports.early_warning_schemas import EarlyWarningOut, SortKey, SortOrder
from app.reports.files import XLSX_RESPONSES, Format, xlsx_file

router = APIRouter(prefix="/api/v1")


@router.get(
    "/reports/early-warning",
    tags=["报表 Reports"],
    summary="预警名单(缺勤分档与间歇性缺勤)",
    description="班级、学校或县(三者择一)中处于任一缺勤分档(风险 5%–10%、中度 10%–20%、"
    "严重 ≥20%)或间歇性缺勤的学生及其统计;按 sort 排序(rate 缺课率、window_rate 近期缺课率、"
    "absent_days 无故缺勤天数、trend 一周变化、name 姓名)。统计由引擎每小时计算。"
    "班级:能查看该班者;学校:学校管理者与县;县:县教育局。term_id 不存在 422。",
    response_model=EarlyWarningOut,
    responses=XLSX_RESPONSES,
)
async def early_warning(
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    class_id: Id | None = None,
    school_id: Id | None = None,
    county_id: Id | None = None,
    term_id: Id | None = None,
    sort: SortKey = SortKey.rate,
    order: SortOrder = SortOrder.desc,
    format: Format = ReportFormat.json,
) -> EarlyWarningOut | Response:
    out = await service.early_warning(
        uow,
        ctx,
        actor,
        county_id=county_id,
        school_id=school_id,
        class_id=class_id,
        term_id=term_id,
        sort=sort,
        order=order,
    )
    if format is ReportFormat.xlsx:
        return xlsx_file(service.early_warning_xlsx(out))
    return out


@router.get(
    "/students/{student_id}/absence-measure",
    tags=["学生 Students"],
    summary="学生本学期缺勤统计(缺课率、分档、长期与间歇性缺勤)",
    description="引擎最近一次计算的结果;尚未计算(或本学期无记录)时 404。",
)
async def student_measure(student_id: Id, uow: Uow, actor: CurrentActor) -> AbsenceMeasureOut:
    return await service.student_measure(uow, actor, student_id)
