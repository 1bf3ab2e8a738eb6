"""月报: a school submits its monthly report (stored as sent, versions on correction), reads
it as JSON or XLSX; the county sees who has submitted the month."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import Response

from app.api.deps import Ctx, CurrentActor, Uow
from app.core.report_files import ReportFormat
from app.core.types import Id
from app.reports import monthly_report, monthly_report_xlsx
from app.reports.files import XLSX_RESPONSES, Format, xlsx_file
from app.reports.monthly_report_schemas import (
    CorrectionIn,
    MonthlyReportIn,
    MonthlyReportOut,
    SubmissionsOut,
)

router = APIRouter(tags=["台账与指标 Ledgers & rates"])
Month = Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


@router.post(
    "/api/v1/schools/{school_id}/monthly-reports",
    status_code=status.HTTP_201_CREATED,
    summary="提交月报(学校)",
    description="按控辍状态历史生成并保存该月月报:月末疑似辍学、辍学名单,本月劝返、复学名单"
    "与数字;四个名单都为空即零报告。每月只能提交一次(再次提交 409,请用更正);未来月份 422。"
    "学校管理者(校长、分管副校长、教务处)。",
    response_model=MonthlyReportOut,
)
async def submit_monthly_report(
    school_id: Id, data: MonthlyReportIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> MonthlyReportOut:
    return await monthly_report.submit(uow, ctx, actor, school_id, data.month)


@router.post(
    "/api/v1/schools/{school_id}/monthly-reports/{month}/corrections",
    status_code=status.HTTP_201_CREATED,
    summary="更正月报(新版本,保留旧版本)",
    response_model=MonthlyReportOut,
)
async def correct_monthly_report(
    school_id: Id, month: Month, data: CorrectionIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> MonthlyReportOut:
    return await monthly_report.correct(uow, ctx, actor, school_id, month, data.reason)


@router.get(
    "/api/v1/schools/{school_id}/monthly-reports",
    summary="查看已提交的月报(默认最新版本)",
    description="提交时保存的内容,何时读取都相同;version 指定版本。学校管理者与县教育局。",
    response_model=MonthlyReportOut,
    responses=XLSX_RESPONSES,
)
async def get_monthly_report(
    school_id: Id,
    month: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")],
    uow: Uow,
    actor: CurrentActor,
    version: Annotated[int | None, Query(ge=1, le=1000)] = None,
    format: Format = ReportFormat.json,
) -> MonthlyReportOut | Response:
    out = await monthly_report.read(uow, actor, school_id, month, version)
    if format is ReportFormat.xlsx:
        return xlsx_file(monthly_report_xlsx.monthly_report_xlsx(out))
    return out


@router.get(
    "/api/v1/counties/{county_id}/monthly-reports",
    summary="各校月报提交情况(县)",
    description="该月每所学校是否已提交、版本、提交人与时间、是否逾期(截止日由县设定,默认"
    "每月 28 日)与未提交学校名单。仅县教育局;未来月份 422。",
    response_model=SubmissionsOut,
)
async def county_monthly_reports(
    county_id: Id,
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    month: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")],
) -> SubmissionsOut:
    return await monthly_report.submissions(uow, ctx, actor, county_id, month)
