"""特殊群体关爱: a special-group student's 成长导师, the care contacts recorded with them, and
the school's 特殊群体学生关爱台账 (JSON or XLSX)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from fastapi.responses import Response

from app.api.deps import Ctx, CurrentActor, Uow
from app.casework import care
from app.casework.care_schemas import (
    CareContactIn,
    CareContactOut,
    CareLedgerOut,
    MentorIn,
    MentorOut,
)
from app.core.report_files import ReportFormat
from app.core.types import Id
from app.core.xlsx import XLSX_MEDIA_TYPE, content_disposition

router = APIRouter(prefix="/api/v1", tags=["特殊群体关爱 Care"])

_XLSX: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {XLSX_MEDIA_TYPE: {}},
        "description": "JSON,或 format=xlsx 时为 Excel 文件 (an XLSX file with format=xlsx)",
    }
}
Format = Annotated[ReportFormat, Query(description="json(默认)或 xlsx")]


@router.post(
    "/students/{student_id}/mentor",
    summary="指定成长导师",
    description="校长、分管副校长或县教育局(其他学校管理者 403)。导师须为该学生所在学校的"
    "在职教职工,学生须属于特殊群体,否则 422。新导师替换原导师(原导师截至今天)。",
)
async def assign_mentor(
    student_id: Id, data: MentorIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> MentorOut:
    return await care.assign_mentor(uow, ctx, actor, student_id, data)


@router.post(
    "/students/{student_id}/care-contacts",
    status_code=status.HTTP_201_CREATED,
    summary="登记关爱记录",
    description="成长导师、班主任或学校管理者。关爱日期晚于今天 422。",
)
async def add_contact(
    student_id: Id, data: CareContactIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> CareContactOut:
    return await care.add_contact(uow, ctx, actor, student_id, data)


@router.get(
    "/students/{student_id}/care-contacts",
    summary="关爱记录(最近的在前)",
    description="成长导师、班主任或学校管理者。",
)
async def list_contacts(student_id: Id, uow: Uow, actor: CurrentActor) -> list[CareContactOut]:
    return await care.list_contacts(uow, actor, student_id)


@router.get(
    "/ledgers/special-groups",
    summary="特殊群体学生关爱台账(学校)",
    description="该校每个特殊群体在校学生一行:学生、班级、类别、成长导师、最近关爱记录日期、"
    "近 90 天(含今天)关爱次数。仅校长、分管副校长与县教育局可查看,其他教职工 403。",
    response_model=CareLedgerOut,
    responses=_XLSX,
)
async def special_groups_ledger(
    uow: Uow, ctx: Ctx, actor: CurrentActor, school_id: Id, format: Format = ReportFormat.json
) -> CareLedgerOut | Response:
    out = await care.special_groups_ledger(uow, ctx, actor, school_id=school_id)
    if format is ReportFormat.xlsx:
        report = care.special_groups_xlsx(out)
        return Response(
            report.content,
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": content_disposition(report.filename, report.fallback)},
        )
    return out
