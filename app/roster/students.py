"""Students: create, read, update, deactivate, with special-group labels shown only to the
roles allowed to see them, ID numbers stored encrypted, and the 学籍号 and guardians' mobiles
masked for those who need neither (``app/domain/access.py``)."""

from __future__ import annotations

from app.context import AppContext
from app.core.records import get_or_404
from app.core.types import Page
from app.db.models import Guardian, School, SchoolClass, Student
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor
from app.domain.idcard import InvalidIdNumber, mask_mobile, mask_student_no, parse_id_number
from app.domain.students import Identity, reconcile_identity
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.org.service import class_for
from app.roster import repository as repo
from app.roster.schemas import (
    GuardianIn,
    GuardianOut,
    SpecialGroups,
    StudentIn,
    StudentOut,
    StudentUpdate,
)

_DUPLICATE_NO = "学籍号已存在 (duplicate 学籍号)"
_DUPLICATE_ID = "身份证号已存在 (duplicate ID number)"


def identity_of(data: StudentIn) -> Identity:
    """The student's gender and birth date, checked against the ID number (422 if they
    disagree)."""
    try:
        return reconcile_identity(
            data.id_number, data.gender.value if data.gender else None, data.birth_date
        )
    except InvalidIdNumber as exc:
        field = exc.args[1] if len(exc.args) > 1 else "id_number"
        raise Invalid.field(("body", field), exc.args[0]) from exc


async def student_for(uow: UnitOfWork, actor: Actor, student_id: int) -> Student:
    student = await uow.session.get(Student, student_id)
    if student is None or not access.can_read_class(actor, student.school_id, student.class_id):
        raise NotFound("学生", student_id)
    return student


def _out(actor: Actor, student: Student, guardians: list[Guardian]) -> StudentOut:
    out = StudentOut.model_validate(student)
    out.guardians = [GuardianOut.model_validate(g) for g in guardians]
    if not access.can_see_student_no(actor, student.school_id, student.class_id):
        out.student_no = mask_student_no(out.student_no)
    if not access.can_see_guardian_mobiles(actor, student.school_id, student.class_id):
        for g in out.guardians:
            g.mobile = mask_mobile(g.mobile)
    if access.can_see_special_groups(actor, student.school_id, student.class_id):
        out.special_groups = SpecialGroups.model_validate(student)
    return out


def _guardians(student_id: int, items: list[GuardianIn]) -> list[Guardian]:
    rows = [Guardian(student_id=student_id, **g.model_dump()) for g in items]
    if rows and not any(g.is_primary for g in rows):
        rows[0].is_primary = True
    return rows


def new_student(ctx: AppContext, klass: SchoolClass, county_id: int, data: StudentIn) -> Student:
    ident = identity_of(data)
    student = Student(
        county_id=county_id,
        school_id=klass.school_id,
        class_id=klass.id or 0,
        name=data.name,
        gender=ident.gender,
        birth_date=ident.birth_date,
        student_no=data.student_no,
        home_schooled=data.home_schooled,
        **data.special_groups.model_dump(),
    )
    if ident.id_number is not None:
        student.id_number_enc = ctx.cipher.encrypt(ident.id_number)
        student.id_number_hash = ctx.cipher.blind_index(ident.id_number)
        student.id_number_masked = parse_id_number(ident.id_number).masked
    return student


async def create_student(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, data: StudentIn
) -> StudentOut:
    klass = await class_for(uow, actor, data.class_id)
    if not access.can_manage_school(actor, klass.school_id):
        raise Forbidden("需要学校管理权限 (school managers add students)")
    student = new_student(ctx, klass, await _county_of(uow, klass), data)
    if await repo.existing_student_nos(uow.session, [student.student_no]):
        raise Conflict(_DUPLICATE_NO, "conflict.duplicate_student_no")
    if student.id_number_hash and await repo.existing_id_hashes(
        uow.session, [student.id_number_hash]
    ):
        raise Conflict(_DUPLICATE_ID, "conflict.duplicate_id_number")
    uow.session.add(student)
    await uow.flush()
    assert student.id is not None
    guardians = _guardians(student.id, data.guardians)
    uow.session.add_all(guardians)
    await uow.commit()
    return _out(actor, student, guardians)


async def _county_of(uow: UnitOfWork, klass: SchoolClass) -> int:
    return (await get_or_404(uow, School, klass.school_id, "学校")).county_id


async def get_student(uow: UnitOfWork, actor: Actor, student_id: int) -> StudentOut:
    student = await student_for(uow, actor, student_id)
    guardians = await repo.guardians_of(uow.session, [student_id])
    return _out(actor, student, guardians[student_id])


async def list_students(
    uow: UnitOfWork,
    actor: Actor,
    *,
    school_id: int | None,
    class_id: int | None,
    name: str | None,
    student_no: str | None,
    home_schooled: bool | None,
    include_inactive: bool,
    limit: int,
    offset: int,
) -> Page[StudentOut]:
    if student_no and not access.may_search_student_no(actor):
        raise Forbidden(
            "按学籍号查找需要学籍管理权限 (searching by 学籍号 needs 学籍 rights or the "
            "student_no scope)"
        )
    rows, total = await repo.list_students(
        uow.session,
        access.student_visibility(actor),
        school_id=school_id,
        class_id=class_id,
        name=name,
        student_no=student_no,
        home_schooled=home_schooled,
        include_inactive=include_inactive,
        limit=limit,
        offset=offset,
    )
    guardians = await repo.guardians_of(uow.session, [s.id for s in rows if s.id is not None])
    items = [_out(actor, s, guardians[s.id or 0]) for s in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


async def update_student(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, student_id: int, data: StudentUpdate
) -> StudentOut:
    student = await student_for(uow, actor, student_id)
    if not access.can_edit_student(actor, student.school_id, student.class_id):
        raise Forbidden("只有班主任或学校管理者可修改学生信息 (head teacher or school managers)")
    sent = data.model_dump(exclude_unset=True)
    if "class_id" in sent and data.class_id != student.class_id:
        if not access.can_manage_school(actor, student.school_id):
            raise Forbidden("调班需要学校管理权限 (moving class needs a school manager)")
        target = await class_for(uow, actor, data.class_id or 0)
        if target.school_id != student.school_id:
            raise Invalid.field(
                ("body", "class_id"),
                "跨校调动请走转学流程 (moving to another school is a transfer)",
            )
        student.class_id = target.id or 0
    if data.name is not None:
        student.name = data.name
    if data.home_schooled is not None:
        student.home_schooled = data.home_schooled
    if data.special_groups is not None:
        if not access.can_see_special_groups(actor, student.school_id, student.class_id):
            raise Forbidden("无权修改特殊群体标记 (may not change special-group labels)")
        for key, value in data.special_groups.model_dump().items():
            setattr(student, key, value)
    if data.guardians is not None:
        await repo.replace_guardians(
            uow.session, student_id, _guardians(student_id, data.guardians)
        )
    student.updated_at = ctx.clock()
    await uow.commit()
    return await get_student(uow, actor, student_id)


async def set_student_active(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, student_id: int, active: bool
) -> StudentOut:
    student = await student_for(uow, actor, student_id)
    if not access.can_manage_school(actor, student.school_id):
        raise Forbidden("需要学校管理权限 (school managers only)")
    student.active = active
    student.updated_at = ctx.clock()
    await uow.commit()
    return await get_student(uow, actor, student_id)
