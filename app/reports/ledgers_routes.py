"""台账与指标: the school's absence tracking record, the county's dropout ledgers, and the
dropout / retention rates against the targets, as JSON or XLSX."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.api.deps import Ctx, CurrentActor, Uow
from app.core.report_files import ReportFormat
from app.core.types import Id, SchoolDate
from app.reports import ledgers, ledgers_xlsx
from app.reports.files import XLSX_RESPONSES, Format, xlsx_file
from app.reports.ledgers_schemas import AbsenceTrackingOut, CountyLedgerOut, LedgerKind, RatesOut

router = APIRouter(tags=["台账与指标 Ledgers & rates"])


@router.get(
    "/api/v1/ledgers/absence-tracking",
    summary="学生缺勤追踪记录表(学校)",
    description="[start, end] 内(学校时区,最多 366 天)新开的每个缺勤案例一行:学生、班级、"
    "缺勤起始日期、连续缺勤天数、预警级别、联系家长时间、书面报告提交时间、处理结果、结案日期。"
    "学校管理者与县教育局可查看,其他教职工 403。口径见 app/reports/ledgers.py。",
    response_model=AbsenceTrackingOut,
    responses=XLSX_RESPONSES,
)
async def absence_tracking(
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    school_id: Id,
    start: SchoolDate,
    end: SchoolDate,
    format: Format = ReportFormat.json,
) -> AbsenceTrackingOut | Response:
    out = await ledgers.absence_tracking(uow, ctx, actor, school_id=school_id, start=start, end=end)
    if format is ReportFormat.xlsx:
        return xlsx_file(ledgers_xlsx.absence_tracking_xlsx(out))
    return out


@router.get(
    "/api/v1/ledgers/county",
    summary="疑似辍学学生台账 / 辍学学生台账(县)",
    description="来自学生的控辍状态历史(连续无故缺勤超过县定阈值、返校通知书逾期报告乡镇、"
    "未办理转学手续离校):kind=suspected_dropout 为疑似辍学,kind=dropout 为辍学;as_of(默认"
    "今天)为台账日期,读的是该日的状态,何时读取都相同;晚于今天或早于本县学校存在为 422。"
    "列:学校、学生、学籍号、班级、日期、状态、认定依据。仅县教育局。",
    response_model=CountyLedgerOut,
    responses=XLSX_RESPONSES,
)
async def county_ledger(
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    county_id: Id,
    kind: LedgerKind,
    as_of: SchoolDate | None = None,
    format: Format = ReportFormat.json,
) -> CountyLedgerOut | Response:
    out = await ledgers.county_ledger(uow, ctx, actor, county_id=county_id, kind=kind, as_of=as_of)
    if format is ReportFormat.xlsx:
        return xlsx_file(ledgers_xlsx.county_ledger_xlsx(ctx, out))
    return out


@router.get(
    "/api/v1/reports/rates",
    summary="入学率、巩固率、辍学率(县或学校)",
    description="学年(school_year 年 9月1日至次年 8月31日,默认当前学年)内:辍学率 = 认定辍学"
    "人数 / 在籍学生数,巩固率 = 1 − 辍学率;入学率 = (在读+休学+转出+外出就读) / (适龄儿童名单"
    "人数 − 免学 − 缓学),仅县级指标且该学年已导入适龄儿童台账时有值(全县合计与各乡镇),否则为 "
    "null。as_of(默认今天)为统计日期:疑似辍学按该日状态,辍学按学年初至该日;"
    "与县里设定的目标(默认小学 2%,初中 3%)比较并标出超标学校。county_id 仅县教育局;"
    "school_id 学校"
    "管理者与县教育局。",
    response_model=RatesOut,
    responses=XLSX_RESPONSES,
)
async def rates(
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    county_id: Id | None = None,
    school_id: Id | None = None,
    school_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    as_of: SchoolDate | None = None,
    format: Format = ReportFormat.json,
) -> RatesOut | Response:
    out = await ledgers.rates(
        uow,
        ctx,
        actor,
        county_id=county_id,
        school_id=school_id,
        school_year=school_year,
        as_of=as_of,
    )
    if format is ReportFormat.xlsx:
        return xlsx_file(ledgers_xlsx.rates_xlsx(out))
    return out
