"""报表 (reports): the three lists and the weekly bulletin, as JSON or XLSX."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from app.api.deps import Ctx, CurrentActor, Uow
from app.attendance.schemas import ThreeListsOut
from app.core.report_files import ReportFormat
from app.core.types import Id, SchoolDate
from app.reports import bulletin as reports
from app.reports.bulletin_schemas import WeeklyBulletinOut
from app.reports.files import XLSX_RESPONSES, Format, xlsx_file

router = APIRouter(prefix="/api/v1/reports", tags=["报表 Reports"])


@router.get(
    "/three-lists",
    summary="三个名单报表:正常到校 / 请假 / 缺勤",
    description="按班级或学校,[start, end] 内每个上课日(最多 62 天)。XLSX 每行一名学生一天:"
    "日期、班级、学生、状态(正常到校/迟到/请假/缺勤/未点名)。",
    response_model=ThreeListsOut,
    responses=XLSX_RESPONSES,
)
async def three_lists(
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    start: SchoolDate,
    end: SchoolDate,
    school_id: Id | None = None,
    class_id: Id | None = None,
    format: Format = ReportFormat.json,
) -> ThreeListsOut | Response:
    if format is ReportFormat.xlsx:
        return xlsx_file(
            await reports.three_lists_xlsx(
                uow, ctx, actor, school_id=school_id, class_id=class_id, start=start, end=end
            )
        )
    return await reports.three_lists(
        uow, ctx, actor, school_id=school_id, class_id=class_id, start=start, end=end
    )


@router.get(
    "/weekly-bulletin",
    summary="周通报(学校)",
    description="一周(周一至周日,学校时区)的预警、48小时核查率、各班主任 1小时联系率与"
    "24小时报告率、周末未结案数、返校数;口径见 app/reports/bulletin.py。week_start 须为周一"
    "(否则 422)。学校管理者与县教育局可查看,班主任等 403。",
    response_model=WeeklyBulletinOut,
    responses=XLSX_RESPONSES,
)
async def weekly_bulletin(
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    school_id: Id,
    week_start: SchoolDate,
    format: Format = ReportFormat.json,
) -> WeeklyBulletinOut | Response:
    out = await reports.weekly_bulletin(uow, ctx, actor, school_id=school_id, week_start=week_start)
    if format is ReportFormat.xlsx:
        return xlsx_file(reports.weekly_bulletin_xlsx(out))
    return out
