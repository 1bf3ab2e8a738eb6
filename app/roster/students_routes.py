"""Students over HTTP: list, read, change, deactivate."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import Ctx, CurrentActor, IncludeInactive, Limit, Offset, Uow
from app.core.types import Id, Page
from app.roster import students
from app.roster.schemas import StudentIn, StudentOut, StudentUpdate

router = APIRouter(prefix="/api/v1/students", tags=["学生 Students"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="新建学生",
    description="身份证号校验码按 GB 11643 校验;性别、出生日期可由身份证号推出。"
    " A duplicate 学籍号 or ID number answers 409.",
)
async def create_student(data: StudentIn, uow: Uow, ctx: Ctx, actor: CurrentActor) -> StudentOut:
    return await students.create_student(uow, ctx, actor, data)


@router.get("", summary="学生列表 (scoped to the caller's classes or school)")
async def list_students(
    uow: Uow,
    actor: CurrentActor,
    school_id: Id | None = None,
    class_id: Id | None = None,
    name: str | None = None,
    student_no: str | None = None,
    home_schooled: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    include_inactive: IncludeInactive = False,
) -> Page[StudentOut]:
    return await students.list_students(
        uow,
        actor,
        school_id=school_id,
        class_id=class_id,
        name=name,
        student_no=student_no,
        home_schooled=home_schooled,
        include_inactive=include_inactive,
        limit=limit,
        offset=offset,
    )


@router.get("/{student_id}", summary="学生详情")
async def get_student(student_id: Id, uow: Uow, actor: CurrentActor) -> StudentOut:
    return await students.get_student(uow, actor, student_id)


@router.patch("/{student_id}", summary="修改学生(班主任可改监护人)")
async def update_student(
    student_id: Id, data: StudentUpdate, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> StudentOut:
    return await students.update_student(uow, ctx, actor, student_id, data)


@router.delete("/{student_id}", summary="停用学生 (deactivate)")
async def deactivate_student(student_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor) -> StudentOut:
    return await students.set_student_active(uow, ctx, actor, student_id, False)
