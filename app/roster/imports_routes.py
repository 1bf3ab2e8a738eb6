"""The 学籍 roster import over HTTP (CSV or XLSX, dry run or for real)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile, status
from fastapi.responses import JSONResponse

from app.api.deps import Ctx, CurrentActor, Uow
from app.api.problems import PROBLEM_MEDIA_TYPE
from app.api.uploads import IMPORT_RESPONSES, bounded_import, read_upload
from app.core.tables import ImportMode
from app.core.types import RefId
from app.roster import imports
from app.roster.imports_schemas import ImportRejected, ImportReport
from app.roster.parse import read_roster

router = APIRouter(prefix="/api/v1/imports", tags=["批量导入 Import"])


_DESCRIPTION = """
上传 CSV 或 XLSX 花名册,导入到一所学校。列:姓名、学籍号、身份证号(或 性别+出生日期)、
班级(可另设 年级 列)、监护人、联系电话;可选:性别、出生日期、监护人关系、送教上门、
留守儿童、残疾儿童、单亲、孤儿、家庭经济困难(是/否)。

- `mode=all_or_nothing` (default): any bad row → nothing imported, **422** problem document
  (code `import.rows_rejected`) with `errors` (one `{loc: [body, file, row, column], msg, type}`
  per problem) and `report`.
- `mode=valid_only`: good rows are imported, **200** with the report listing the others.
- A file that is not a roster (wrong type, missing column) → 422 with `loc: [body, file]` and
  no `report`;
  larger than 10 MB, or more than 20,000 data rows (`KCBX_IMPORT_MAX_ROWS`) → 413 at once;
  a workbook that unpacks too large, or holds too many shared strings, too wide a row or too
  long a cell, or is not read within the time limit → 413 with code `import.*`.
- More imports running than `KCBX_IMPORT_MAX_CONCURRENT` → 429 `import.busy` with
  `Retry-After`.
- The report lists the first 1,000 problems (`KCBX_IMPORT_MAX_PROBLEMS`) in row order;
  `problem_count` counts all of them.
"""


@router.post(
    "/students",
    response_model=ImportReport,
    summary="批量导入学生 (CSV / XLSX roster)",
    description=_DESCRIPTION,
    responses={
        **IMPORT_RESPONSES,
        422: {
            "model": ImportRejected,
            "description": "有问题行未导入,或文件/字段无效 (rows rejected, or a bad file or field)",
        },
    },
)
async def import_students(
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 或 GBK) 或 XLSX 花名册")],
    school_id: Annotated[RefId, Form(description="导入到的学校 (target school)")],
    mode: Annotated[ImportMode, Form(description="all_or_nothing 或 valid_only")] = (
        ImportMode.all_or_nothing
    ),
) -> ImportReport | JSONResponse:
    await imports.target_school(uow, actor, school_id)
    async with bounded_import(ctx) as limits:
        data = await read_upload(file, ctx.settings.max_upload_bytes)
        roster = await asyncio.to_thread(read_roster, data, file.filename, limits)
        report = await imports.import_students(
            uow, ctx, actor, school_id, roster, mode, on_row=limits.check_time
        )
    if report.rejected and mode is ImportMode.all_or_nothing:
        body = ImportRejected.of(report).model_dump(mode="json")
        return JSONResponse(
            body, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, media_type=PROBLEM_MEDIA_TYPE
        )
    return report
