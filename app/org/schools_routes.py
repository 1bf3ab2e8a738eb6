"""Schools, grades and classes over HTTP."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import Ctx, CurrentActor, IncludeInactive, Limit, Offset, Uow
from app.core.types import Id, Page
from app.org import service as org
from app.org.schemas import (
    ClassIn,
    ClassOut,
    ClassUpdate,
    GradeIn,
    GradeOut,
    GradeUpdate,
    SchoolIn,
    SchoolKind,
    SchoolOut,
    SchoolUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["学校、年级、班级 Schools, grades, classes"])


@router.post("/schools", status_code=status.HTTP_201_CREATED, summary="新建学校 (county admin)")
async def create_school(data: SchoolIn, uow: Uow, ctx: Ctx, actor: CurrentActor) -> SchoolOut:
    return await org.create_school(uow, actor, data, default_timezone=ctx.settings.default_timezone)


@router.get("/schools", summary="学校列表")
async def list_schools(
    uow: Uow,
    actor: CurrentActor,
    county_id: Id | None = None,
    township_id: Id | None = None,
    kind: SchoolKind | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    include_inactive: IncludeInactive = False,
) -> Page[SchoolOut]:
    return await org.list_schools(
        uow,
        actor,
        county_id=county_id,
        township_id=township_id,
        kind=kind,
        limit=limit,
        offset=offset,
        include_inactive=include_inactive,
    )


@router.get("/schools/{school_id}", summary="学校详情")
async def get_school(school_id: Id, uow: Uow, actor: CurrentActor) -> SchoolOut:
    return await org.get_school(uow, actor, school_id)


@router.patch("/schools/{school_id}", summary="修改学校(时区、一日三查时间)")
async def update_school(
    school_id: Id, data: SchoolUpdate, uow: Uow, actor: CurrentActor
) -> SchoolOut:
    return await org.update_school(uow, actor, school_id, data)


@router.delete("/schools/{school_id}", summary="停用学校 (deactivate)")
async def deactivate_school(school_id: Id, uow: Uow, actor: CurrentActor) -> SchoolOut:
    return await org.set_school_active(uow, actor, school_id, False)


@router.post("/grades", status_code=status.HTTP_201_CREATED, summary="新建年级")
async def create_grade(data: GradeIn, uow: Uow, actor: CurrentActor) -> GradeOut:
    return await org.create_grade(uow, actor, data)


@router.get("/grades", summary="年级列表")
async def list_grades(
    uow: Uow,
    actor: CurrentActor,
    school_id: Id | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[GradeOut]:
    return await org.list_grades(uow, actor, school_id=school_id, limit=limit, offset=offset)


@router.get("/grades/{grade_id}", summary="年级详情")
async def get_grade(grade_id: Id, uow: Uow, actor: CurrentActor) -> GradeOut:
    return await org.get_grade(uow, actor, grade_id)


@router.patch("/grades/{grade_id}", summary="修改年级")
async def update_grade(grade_id: Id, data: GradeUpdate, uow: Uow, actor: CurrentActor) -> GradeOut:
    return await org.update_grade(uow, actor, grade_id, data)


@router.delete("/grades/{grade_id}", summary="停用年级 (deactivate)")
async def deactivate_grade(grade_id: Id, uow: Uow, actor: CurrentActor) -> GradeOut:
    return await org.update_grade(uow, actor, grade_id, None, active=False)


@router.post("/classes", status_code=status.HTTP_201_CREATED, summary="新建班级")
async def create_class(data: ClassIn, uow: Uow, actor: CurrentActor) -> ClassOut:
    return await org.create_class(uow, actor, data)


@router.get("/classes", summary="班级列表 (teachers see their own classes)")
async def list_classes(
    uow: Uow,
    actor: CurrentActor,
    school_id: Id | None = None,
    grade_id: Id | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    include_inactive: IncludeInactive = False,
) -> Page[ClassOut]:
    return await org.list_classes(
        uow,
        actor,
        school_id=school_id,
        grade_id=grade_id,
        limit=limit,
        offset=offset,
        include_inactive=include_inactive,
    )


@router.get("/classes/{class_id}", summary="班级详情")
async def get_class(class_id: Id, uow: Uow, actor: CurrentActor) -> ClassOut:
    return await org.get_class(uow, actor, class_id)


@router.patch("/classes/{class_id}", summary="修改班级")
async def update_class(class_id: Id, data: ClassUpdate, uow: Uow, actor: CurrentActor) -> ClassOut:
    return await org.update_class(uow, actor, class_id, data)


@router.delete("/classes/{class_id}", summary="停用班级 (deactivate)")
async def deactivate_class(class_id: Id, uow: Uow, actor: CurrentActor) -> ClassOut:
    return await org.update_class(uow, actor, class_id, None, active=False)
