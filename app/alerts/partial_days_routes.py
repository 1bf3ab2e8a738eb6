"""离校未归 (left during the day): the school's list and logging the call to the guardian."""

from __future__ import annotations

from fastapi import APIRouter, Query

from app.alerts import partial_days
from app.alerts.partial_days_schemas import LeftSchoolContactIn, LeftSchoolOut
from app.api.deps import Ctx, CurrentActor, Uow
from app.core.types import Id, SchoolDate

router = APIRouter(prefix="/api/v1")
ALERTS = "预警 Alerts"


@router.get(
    "/schools/{school_id}/left-school-alerts",
    tags=[ALERTS],
    summary="离校未归预警列表",
    description="晨检(或更早的点名)到校、午检或放学前未到且未请假的学生,按学校当地日期筛选"
    "(默认今天)。学校管理者看全校,教师看所教班级。",
)
async def list_left_school(
    school_id: Id,
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    start: SchoolDate | None = Query(default=None, alias="from", description="起(含)"),
    end: SchoolDate | None = Query(default=None, alias="to", description="止(含)"),
    status: str | None = Query(
        default=None, pattern="^(raised|contacted|withdrawn)$", description="状态"
    ),
) -> list[LeftSchoolOut]:
    return await partial_days.list_for_school(uow, ctx, actor, school_id, start, end, status)


@router.post(
    "/left-school-alerts/{alert_id}/contact",
    tags=[ALERTS],
    summary="登记离校未归的家长联系",
    description="本班班主任或学校管理者;API 密钥只读 (403)。已联系或已撤回的预警 409。",
)
async def log_left_school_contact(
    alert_id: Id, data: LeftSchoolContactIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> LeftSchoolOut:
    return await partial_days.log_contact(uow, ctx, actor, alert_id, data.note)
