"""One-step onboarding: the 学籍 export in one call, the staff list in another."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile, status
from fastapi.responses import JSONResponse, Response

from app.api.deps import Ctx, CurrentActor, Uow
from app.api.problems import PROBLEM_MEDIA_TYPE
from app.api.uploads import IMPORT_RESPONSES, bounded_import, read_upload
from app.core.report_files import ReportFile
from app.core.tables import ImportMode
from app.core.types import RefId
from app.core.xlsx import XLSX_MEDIA_TYPE, content_disposition
from app.roster import import_templates, imports, onboarding, staff_import
from app.roster.onboarding_schemas import RosterRejected, RosterReport, StaffRejected, StaffReport

router = APIRouter(prefix="/api/v1/imports", tags=["批量导入 Import"])

Mode = Annotated[ImportMode, Form(description="all_or_nothing(默认)或 valid_only")]
DryRun = Annotated[bool, Form(description="演练:报告将新建或修改的内容,不写入 (report only)")]
SchoolId = Annotated[RefId, Form(description="导入到的学校 (target school)")]


def _answer(report: RosterReport) -> RosterReport | JSONResponse:
    if report.problems and report.mode is ImportMode.all_or_nothing and not report.dry_run:
        return JSONResponse(
            RosterRejected.of(report).model_dump(mode="json"),
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            media_type=PROBLEM_MEDIA_TYPE,
        )
    return report


@router.post(
    "/roster",
    response_model=RosterReport,
    summary="一步导入全校学生(学籍系统导出表)",
    description=(onboarding.__doc__ or "")
    + "\n\nA dry run answers 200 with the report, problems included; a real all-or-nothing run "
    "with problems answers 422 (code `import.rows_rejected`) and writes nothing.",
    responses={
        **IMPORT_RESPONSES,
        422: {"model": RosterRejected, "description": "有问题行,未导入 (rows rejected)"},
    },
)
async def import_roster(
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    file: Annotated[UploadFile, File(description="学籍系统导出的学生名单 (CSV 或 XLSX)")],
    school_id: SchoolId,
    mode: Mode = ImportMode.all_or_nothing,
    dry_run: DryRun = False,
) -> RosterReport | JSONResponse:
    await imports.target_school(uow, actor, school_id)
    async with bounded_import(ctx) as limits:
        data = await read_upload(file, ctx.settings.max_upload_bytes)
        sheet = await asyncio.to_thread(onboarding.read, data, file.filename, limits)
        report = await onboarding.import_roster(
            uow, ctx, actor, school_id, sheet, mode, dry_run, on_row=limits.check_time
        )
    return _answer(report)


@router.post(
    "/staff",
    response_model=StaffReport,
    summary="一步导入全校教职工及其职务",
    description=(staff_import.__doc__ or "")
    + "\n\nA dry run answers 200 with the report, problems included; a real all-or-nothing run "
    "with problems answers 422 (code `import.rows_rejected`) and writes nothing.",
    responses={
        **IMPORT_RESPONSES,
        422: {"model": StaffRejected, "description": "有问题行,未导入 (rows rejected)"},
    },
)
async def import_staff(
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    file: Annotated[UploadFile, File(description="教职工名单:姓名、手机号、职务、班级 (CSV/XLSX)")],
    school_id: SchoolId,
    mode: Mode = ImportMode.all_or_nothing,
    dry_run: DryRun = False,
) -> StaffReport | JSONResponse:
    async with bounded_import(ctx) as limits:
        data = await read_upload(file, ctx.settings.max_upload_bytes)
        sheet = await asyncio.to_thread(staff_import.read, data, file.filename, limits)
        report = await staff_import.import_staff(
            uow, ctx, actor, school_id, sheet, mode, dry_run, on_row=limits.check_time
        )
    if report.problems and mode is ImportMode.all_or_nothing and not dry_run:
        return JSONResponse(
            StaffRejected.of(report).model_dump(mode="json"),
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            media_type=PROBLEM_MEDIA_TYPE,
        )
    return report


# --- import templates (导入模板) -----------------------------------------------------------

_TEMPLATE_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}
}


def _xlsx(file: ReportFile) -> Response:
    return Response(
        content=file.content,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(file.filename, file.fallback)},
    )


@router.get(
    "/templates/roster.xlsx",
    summary="下载 学籍花名册 导入模板(XLSX,含一行示例)",
    description="`POST /imports/roster` 与 `POST /imports/students` 读取的列,第 3 行为填好的示例。",
    response_class=Response,
    responses=_TEMPLATE_ANSWER,
)
async def roster_template(actor: CurrentActor) -> Response:
    return _xlsx(import_templates.roster_template())


@router.get(
    "/templates/staff.xlsx",
    summary="下载 教职工名单 导入模板(XLSX,含一行示例)",
    description="`POST /imports/staff` 读取的列,第 3 行为填好的示例。",
    response_class=Response,
    responses=_TEMPLATE_ANSWER,
)
async def staff_template(actor: CurrentActor) -> Response:
    return _xlsx(import_templates.staff_template())
