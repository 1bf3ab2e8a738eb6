"""Counties, townships, schools, grades and classes."""

from __future__ import annotations

from app.core.access import require_key_scope
from app.core.records import apply_changes
from app.core.types import Page
from app.db.labels import full_class_name
from app.db.models import County, Grade, School, SchoolClass, Township
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor
from app.errors import Forbidden, Invalid, NotFound
from app.org import repository as repo
from app.org.schemas import (
    GRADE_NAMES,
    ClassIn,
    ClassOut,
    ClassUpdate,
    CountyIn,
    CountyOut,
    CountyUpdate,
    GradeIn,
    GradeOut,
    GradeUpdate,
    SchoolIn,
    SchoolKind,
    SchoolOut,
    SchoolUpdate,
    TownshipIn,
    TownshipOut,
    TownshipUpdate,
)

_NOT_COUNTY_ADMIN = "需要县教育局管理员权限 (county administrators only)"
_NOT_MANAGER = "需要学校管理权限:校长、分管副校长或教务处 (school managers only)"


# --- counties -------------------------------------------------------------------------------


def _may_set(actor: Actor, allowed: bool, refusal: str) -> None:
    """The county's record, its townships and schools: 403 unless the actor manages them; an
    API key also needs the ``school_settings`` scope (keys sync, they do not act)."""
    if not allowed:
        raise Forbidden(refusal)
    require_key_scope(actor, access.KeyScope.school_settings)


async def _county(uow: UnitOfWork, actor: Actor, county_id: int) -> County:
    county = await uow.session.get(County, county_id)
    if county is None or not access.can_read_county(actor, county_id):
        raise NotFound("县", county_id)
    return county


async def create_county(uow: UnitOfWork, actor: Actor, data: CountyIn) -> CountyOut:
    if not actor.superuser:
        raise Forbidden("只有系统运维可创建县 (only operators create counties)")
    county = County(name=data.name, code=data.code)
    uow.session.add(county)
    await uow.commit()
    return CountyOut.model_validate(county)


async def get_county(uow: UnitOfWork, actor: Actor, county_id: int) -> CountyOut:
    return CountyOut.model_validate(await _county(uow, actor, county_id))


async def list_counties(
    uow: UnitOfWork, actor: Actor, *, limit: int, offset: int, include_inactive: bool = False
) -> Page[CountyOut]:
    rows, total = await repo.list_counties(
        uow.session,
        within=None if actor.superuser else {g.county_id for g in actor.grants},
        include_inactive=include_inactive,
        limit=limit,
        offset=offset,
    )
    return Page(
        items=[CountyOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


async def update_county(
    uow: UnitOfWork, actor: Actor, county_id: int, data: CountyUpdate | None, *, active: bool = True
) -> CountyOut:
    county = await _county(uow, actor, county_id)
    _may_set(actor, access.can_manage_county(actor, county_id), _NOT_COUNTY_ADMIN)
    if data is not None:
        apply_changes(county, data)
    county.active = active
    await uow.commit()
    return CountyOut.model_validate(county)


# --- townships ------------------------------------------------------------------------------


async def _township(uow: UnitOfWork, actor: Actor, township_id: int) -> Township:
    township = await uow.session.get(Township, township_id)
    if township is None or not access.can_read_county(actor, township.county_id):
        raise NotFound("乡镇", township_id)
    return township


async def create_township(uow: UnitOfWork, actor: Actor, data: TownshipIn) -> TownshipOut:
    await _county(uow, actor, data.county_id)
    _may_set(actor, access.can_manage_county(actor, data.county_id), _NOT_COUNTY_ADMIN)
    township = Township(county_id=data.county_id, name=data.name)
    uow.session.add(township)
    await uow.commit()
    return TownshipOut.model_validate(township)


async def get_township(uow: UnitOfWork, actor: Actor, township_id: int) -> TownshipOut:
    return TownshipOut.model_validate(await _township(uow, actor, township_id))


async def list_townships(
    uow: UnitOfWork,
    actor: Actor,
    *,
    county_id: int | None,
    limit: int,
    offset: int,
    include_inactive: bool = False,
) -> Page[TownshipOut]:
    rows, total = await repo.list_townships(
        uow.session,
        within_counties=None if actor.superuser else {g.county_id for g in actor.grants},
        county_id=county_id,
        include_inactive=include_inactive,
        limit=limit,
        offset=offset,
    )
    return Page(
        items=[TownshipOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


async def update_township(
    uow: UnitOfWork,
    actor: Actor,
    township_id: int,
    data: TownshipUpdate | None,
    *,
    active: bool = True,
) -> TownshipOut:
    township = await _township(uow, actor, township_id)
    _may_set(actor, access.can_manage_county(actor, township.county_id), _NOT_COUNTY_ADMIN)
    if data is not None:
        apply_changes(township, data)
    township.active = active
    await uow.commit()
    return TownshipOut.model_validate(township)


# --- schools --------------------------------------------------------------------------------


async def school_for(uow: UnitOfWork, actor: Actor, school_id: int) -> School:
    school = await uow.session.get(School, school_id)
    if school is None or not access.can_read_school(actor, school_id):
        raise NotFound("学校", school_id)
    return school


async def create_school(
    uow: UnitOfWork, actor: Actor, data: SchoolIn, *, default_timezone: str | None = None
) -> SchoolOut:
    """``default_timezone`` (the configured one) applies when the request names no timezone."""
    township = await _township(uow, actor, data.township_id)
    _may_set(actor, access.can_manage_county(actor, township.county_id), _NOT_COUNTY_ADMIN)
    fields = data.model_dump()
    if default_timezone is not None and "timezone" not in data.model_fields_set:
        fields["timezone"] = default_timezone
    school = School(county_id=township.county_id, **fields)
    uow.session.add(school)
    await uow.commit()
    return SchoolOut.model_validate(school)


async def get_school(uow: UnitOfWork, actor: Actor, school_id: int) -> SchoolOut:
    return SchoolOut.model_validate(await school_for(uow, actor, school_id))


async def list_schools(
    uow: UnitOfWork,
    actor: Actor,
    *,
    county_id: int | None,
    township_id: int | None,
    kind: SchoolKind | None,
    limit: int,
    offset: int,
    include_inactive: bool = False,
) -> Page[SchoolOut]:
    rows, total = await repo.list_schools(
        uow.session,
        access.school_visibility(actor),
        county_id=county_id,
        township_id=township_id,
        kind=kind.value if kind else None,
        include_inactive=include_inactive,
        limit=limit,
        offset=offset,
    )
    return Page(
        items=[SchoolOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


async def update_school(
    uow: UnitOfWork, actor: Actor, school_id: int, data: SchoolUpdate
) -> SchoolOut:
    """School managers may change their school's timezone and check times."""
    school = await school_for(uow, actor, school_id)
    _may_set(actor, access.can_manage_school(actor, school_id), _NOT_MANAGER)
    apply_changes(school, data)
    if not (school.morning_check < school.noon_check < school.dismissal_check):
        raise Invalid.field(
            ("body", "noon_check"),
            "晨检、午检、放学前须按时间先后 (checks must be in order of the day)",
        )
    await uow.commit()
    return SchoolOut.model_validate(school)


async def set_school_active(
    uow: UnitOfWork, actor: Actor, school_id: int, active: bool
) -> SchoolOut:
    school = await school_for(uow, actor, school_id)
    _may_set(actor, access.can_manage_county(actor, school.county_id), _NOT_COUNTY_ADMIN)
    school.active = active
    await uow.commit()
    return SchoolOut.model_validate(school)


# --- grades ---------------------------------------------------------------------------------


def _grade_fits(kind: str, level: int) -> bool:
    return level <= 6 if kind == SchoolKind.primary else level >= 7


async def _grade(uow: UnitOfWork, actor: Actor, grade_id: int) -> Grade:
    grade = await uow.session.get(Grade, grade_id)
    if grade is None or not access.can_read_school(actor, grade.school_id):
        raise NotFound("年级", grade_id)
    return grade


async def create_grade(uow: UnitOfWork, actor: Actor, data: GradeIn) -> GradeOut:
    school = await school_for(uow, actor, data.school_id)
    if not access.can_manage_school(actor, school.id or 0):
        raise Forbidden(_NOT_MANAGER)
    if not _grade_fits(school.kind, data.level):
        raise Invalid.field(
            ("body", "level"),
            "小学为1–6年级,初中为7–9年级 (primary: grades 1–6, junior middle: 7–9)",
        )
    grade = Grade(
        school_id=data.school_id, level=data.level, name=data.name or GRADE_NAMES[data.level]
    )
    uow.session.add(grade)
    await uow.commit()
    return GradeOut.model_validate(grade)


async def get_grade(uow: UnitOfWork, actor: Actor, grade_id: int) -> GradeOut:
    return GradeOut.model_validate(await _grade(uow, actor, grade_id))


async def list_grades(
    uow: UnitOfWork, actor: Actor, *, school_id: int | None, limit: int, offset: int
) -> Page[GradeOut]:
    rows, total = await repo.list_grades(
        uow.session,
        access.school_visibility(actor),
        school_id=school_id,
        limit=limit,
        offset=offset,
    )
    return Page(
        items=[GradeOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


async def update_grade(
    uow: UnitOfWork, actor: Actor, grade_id: int, data: GradeUpdate | None, *, active: bool = True
) -> GradeOut:
    grade = await _grade(uow, actor, grade_id)
    if not access.can_manage_school(actor, grade.school_id):
        raise Forbidden(_NOT_MANAGER)
    if data is not None:
        apply_changes(grade, data)
    grade.active = active
    await uow.commit()
    return GradeOut.model_validate(grade)


# --- classes --------------------------------------------------------------------------------


async def class_for(uow: UnitOfWork, actor: Actor, class_id: int) -> SchoolClass:
    klass = await uow.session.get(SchoolClass, class_id)
    if klass is None or not access.can_read_class(actor, klass.school_id, class_id):
        raise NotFound("班级", class_id)
    return klass


async def _class_out(uow: UnitOfWork, klass: SchoolClass) -> ClassOut:
    return (await _classes_out(uow, [klass]))[0]


async def _classes_out(uow: UnitOfWork, classes: list[SchoolClass]) -> list[ClassOut]:
    heads = await repo.head_teachers(uow.session, [c.id for c in classes if c.id is not None])
    grades = await repo.grade_names(uow.session, {c.grade_id for c in classes})
    out = []
    for c in classes:
        head = heads.get(c.id or 0)
        item = ClassOut.model_validate(c)
        item.full_name = full_class_name(grades.get(c.grade_id), c.name)
        if head:
            item.head_teacher_id, item.head_teacher_name = head
        out.append(item)
    return out


async def create_class(uow: UnitOfWork, actor: Actor, data: ClassIn) -> ClassOut:
    grade = await _grade(uow, actor, data.grade_id)
    if not access.can_manage_school(actor, grade.school_id):
        raise Forbidden(_NOT_MANAGER)
    klass = SchoolClass(school_id=grade.school_id, grade_id=grade.id or 0, name=data.name)
    uow.session.add(klass)
    await uow.commit()
    return await _class_out(uow, klass)


async def get_class(uow: UnitOfWork, actor: Actor, class_id: int) -> ClassOut:
    return await _class_out(uow, await class_for(uow, actor, class_id))


async def list_classes(
    uow: UnitOfWork,
    actor: Actor,
    *,
    school_id: int | None,
    grade_id: int | None,
    limit: int,
    offset: int,
    include_inactive: bool = False,
) -> Page[ClassOut]:
    rows, total = await repo.list_classes(
        uow.session,
        access.student_visibility(actor),
        school_id=school_id,
        grade_id=grade_id,
        include_inactive=include_inactive,
        limit=limit,
        offset=offset,
    )
    return Page(items=await _classes_out(uow, rows), total=total, limit=limit, offset=offset)


async def update_class(
    uow: UnitOfWork, actor: Actor, class_id: int, data: ClassUpdate | None, *, active: bool = True
) -> ClassOut:
    klass = await class_for(uow, actor, class_id)
    if not access.can_manage_school(actor, klass.school_id):
        raise Forbidden(_NOT_MANAGER)
    if data is not None:
        apply_changes(klass, data)
    klass.active = active
    await uow.commit()
    return await _class_out(uow, klass)
