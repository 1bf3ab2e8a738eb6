"""A student's 学籍 changes (转出、转入、离校、休学、复学), listed with the transfers they mostly
come from."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import CurrentActor, Uow
from app.core.types import Id
from app.roster import enrollment_changes as changes
from app.roster.schemas import EnrollmentChangeOut

router = APIRouter(prefix="/api/v1", tags=["转学与休学 Transfers and suspensions"])


@router.get(
    "/students/{student_id}/enrollment-changes",
    summary="学籍异动记录",
    description="转出、转入、未办转学手续离校、休学、复学,按日期。能查看该学生的人可查看。",
)
async def enrollment_changes(
    student_id: Id, uow: Uow, actor: CurrentActor
) -> list[EnrollmentChangeOut]:
    return await changes.list_for(uow, actor, student_id)
