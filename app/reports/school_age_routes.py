"""适龄儿童台账: the county imports the townships' lists of school-age children and reads the
register, each child's 就学状态 computed from the roster (rules: app/reports/school_age.py)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi.responses import JSONResponse, Response

from app.api.deps import Ctx, CurrentActor, Uow
from app.api.problems import PROBLEM_MEDIA_TYPE
from app.api.uploads import IMPORT_RESPONSES, bounded_import, read_upload
from app.core.report_files import ReportFormat
from app.core.tables import ImportMode
from app.core.types import Id
from app.domain.school_age import ChildStatus
from app.reports import school_age, school_age_import
from app.reports.files import XLSX_RESPONSES, Format, xlsx_file
from app.reports.school_age_schemas import (
    SchoolAgeImportRejected,
    SchoolAgeImportReport,
    SchoolAgeLedgerOut,
)

router = APIRouter(prefix="/api/v1/counties/{county_id}", tags=["适龄儿童台账 School-age children"])

_YEAR = "学年:该年 9月1日 至 次年 8月31日,默认当前学年 (the year the school year starts in)"
_IMPORT = """
上传乡镇的适龄儿童名单(CSV,UTF-8 或 GBK;或 XLSX),导入县的某一学年名单。列:**姓名、身份证号、
乡镇**(必填),村(社区)、户籍地址、监护人、联系电话、就学情况(空 / 缓学 / 免学 / 外出就读 /
随迁就读)、备注。乡镇按本县乡镇名称匹配;身份证号按 GB 11643 校验;同一身份证号在文件中出现两次
为错误;已在该学年名单上的儿童按文件更新(重复导入不产生重复)。仅县教育局(其他本县人员 403)。

- `mode=all_or_nothing` (default): any bad row → nothing imported, **422** with `detail`
  (one `{loc: [body, file, row, column], msg, type}` per problem) and `report`.
- `mode=valid_only`: good rows are imported, **200** with the report listing the others.
- `school_year` and `mode` may be sent as form fields or in the query string.
- A file that is not such a list (wrong type, missing column) → 422 with `loc: [body, file]`;
  larger than 10 MB → 413.
"""


@router.post(
    "/school-age-children/import",
    response_model=SchoolAgeImportReport,
    summary="导入适龄儿童名单 (CSV / XLSX)",
    description=_IMPORT,
    responses={
        **IMPORT_RESPONSES,
        422: {
            "model": SchoolAgeImportRejected,
            "description": "有问题行未导入,或文件/字段无效 (rows rejected, or a bad file or field)",
        },
    },
)
async def import_children(
    county_id: Id,
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 或 GBK) 或 XLSX 名单")],
    school_year: Annotated[int | None, Form(ge=2000, le=2100, description=_YEAR)] = None,
    mode: Annotated[ImportMode | None, Form(description="all_or_nothing 或 valid_only")] = None,
    school_year_query: Annotated[
        int | None, Query(alias="school_year", ge=2000, le=2100, description=_YEAR)
    ] = None,
    mode_query: Annotated[ImportMode | None, Query(alias="mode")] = None,
) -> SchoolAgeImportReport | JSONResponse:
    await school_age_import.import_target(uow, actor, county_id)
    year = school_year if school_year is not None else school_year_query
    how = mode or mode_query or ImportMode.all_or_nothing
    async with bounded_import(ctx) as limits:
        data = await read_upload(file, ctx.settings.max_upload_bytes)
        table = await asyncio.to_thread(school_age_import.read_list, data, file.filename, limits)
        report = await school_age_import.import_children(
            uow, ctx, actor, county_id, table, school_year=year, mode=how, on_row=limits.check_time
        )
    if report.rejected and how is ImportMode.all_or_nothing:
        body = SchoolAgeImportRejected.of(report).model_dump(mode="json")
        return JSONResponse(
            body, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, media_type=PROBLEM_MEDIA_TYPE
        )
    return report


@router.get(
    "/ledgers/school-age-children",
    summary="适龄儿童台账(县)",
    description="该学年名单上的每个儿童一行:序号、姓名、性别、出生日期、身份证号(脱敏)、乡镇、"
    "村(社区)、监护人、就学状态、学校、班级、学籍号、备注;就学状态按身份证号与在籍学生匹配计算"
    "(在读、休学、转出、疑似辍学、辍学,否则名单上的缓学 / 免学 / 外出就读,否则未入学),并按就学"
    "状态、按乡镇汇总。可按 township_id、status 筛选。仅县教育局。",
    response_model=SchoolAgeLedgerOut,
    responses=XLSX_RESPONSES,
)
async def register(
    county_id: Id,
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    school_year: Annotated[int | None, Query(ge=2000, le=2100, description=_YEAR)] = None,
    township_id: Id | None = None,
    status: ChildStatus | None = None,
    format: Format = ReportFormat.json,
) -> Response:
    out = await school_age.register(
        uow,
        ctx,
        actor,
        county_id=county_id,
        school_year=school_year,
        township_id=township_id,
        status=status,
    )
    if format is ReportFormat.xlsx:
        return xlsx_file(school_age.register_xlsx(ctx, out))
    # Serialised in one pass by pydantic-core from the rows' dicts (school_age.Register):
    # returned as a model, FastAPI would dump it, validate the dump against
    # ``response_model`` again and encode that — for 50,000 rows most of the answer's time
    # (issue 24 item 7). The shape, byte for byte, is ``response_model``'s.
    return Response(school_age.register_json(out), media_type="application/json")
