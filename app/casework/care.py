"""Special-group care (关爱): a student's 成长导师 (mentor), the contacts recorded with the
student, and the school's 特殊群体学生关爱台账.

Decisions:
- a mentor is assigned (``POST /students/{id}/mentor``) by a school manager who may also see
  the special-group labels: the county admin, the principal, the vice principal (教务处 403,
  since the answer would tell them whether the student is in a special group); the mentor
  must be active staff of the student's school (422) and the student must be in a special
  group (422); a new mentor replaces the current one, whose ``until`` becomes the school's
  today; naming the current mentor again changes nothing;
- care contacts are recorded and read by the current mentor, the class's head teacher and
  the school managers; others who can see the student 403, API keys 403, everyone else 404;
  a contact dated after the school's today is 422;
- the ledger lists every active special-group student of the school (labels joined with
  "、"), the current mentor, the latest contact and the number of contacts in the last 90
  days up to the school's today (a fixed window rather than the term, so the ledger reads
  the same in holidays). Only roles that may see the labels at school level (county admin,
  principal, vice principal) read it: other staff of the school 403, outside the scope 404.
"""

from __future__ import annotations

from datetime import timedelta

from app.casework import care_repo
from app.casework.care_schemas import (
    CareContactIn,
    CareContactOut,
    CareLedgerOut,
    CareLedgerRow,
    ContactKind,
    MentorIn,
    MentorOut,
)
from app.context import AppContext
from app.core.access import require_person
from app.core.report_files import ReportFile
from app.core.time import local_today
from app.core.xlsx import CellValue, Sheet, workbook_bytes
from app.db.models import CareContact, MentorAssignment, School, Staff, Student
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor
from app.domain.students import SPECIAL_GROUPS
from app.errors import Forbidden, Invalid, NotFound
from app.org.service import school_for

WINDOW_DAYS = 90

_NOT_SPECIAL = "该学生不属于特殊群体 (the student is in no special group)"
_NOT_SCHOOL_STAFF = "成长导师须为该学生所在学校的在职教职工 (mentor: staff of the school)"
_NO_MENTOR_RIGHT = "只有校长、分管副校长或县教育局可指定成长导师 (principal or county)"
_NO_CARE_RIGHT = "只有成长导师、班主任或学校管理者可登记和查看关爱记录 (mentor or managers)"
_FUTURE = "关爱日期不能晚于今天 (contacted_on in the future)"
_NO_LEDGER = "只有校长、分管副校长或县教育局可查看特殊群体台账 (principal or county)"

CONTACT_LABELS: dict[ContactKind, str] = {
    ContactKind.home_visit: "家访",
    ContactKind.phone: "电话",
    ContactKind.talk: "谈心",
    ContactKind.other: "其他",
}


# --- helpers --------------------------------------------------------------------------------


def categories(student: Student) -> list[str]:
    return [label for key, label in SPECIAL_GROUPS.items() if getattr(student, key)]


async def _student(uow: UnitOfWork, student_id: int) -> tuple[Student, School]:
    student = await uow.session.get(Student, student_id)
    if student is None:
        raise NotFound("学生", student_id)
    school = await uow.session.get(School, student.school_id)
    assert school is not None
    return student, school


async def _staff_name(uow: UnitOfWork, staff_id: int) -> str:
    person = await uow.session.get(Staff, staff_id)
    return person.name if person is not None else ""


async def _mentor_out(uow: UnitOfWork, row: MentorAssignment) -> MentorOut:
    assert row.id is not None
    return MentorOut(
        id=row.id,
        student_id=row.student_id,
        staff_id=row.staff_id,
        staff_name=await _staff_name(uow, row.staff_id),
        since=row.since,
        until=row.until,
        assigned_by=row.assigned_by,
    )


# --- mentor ---------------------------------------------------------------------------------


async def assign_mentor(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, student_id: int, data: MentorIn
) -> MentorOut:
    student, school = await _student(uow, student_id)
    if not access.can_read_class(actor, student.school_id, student.class_id):
        raise NotFound("学生", student_id)
    require_person(actor)
    if not (
        access.can_manage_school(actor, student.school_id)
        and access.can_see_special_groups(actor, student.school_id, student.class_id)
    ):
        raise Forbidden(_NO_MENTOR_RIGHT)
    if not categories(student):
        raise Invalid.field(("path", "student_id"), _NOT_SPECIAL)
    mentor = await uow.session.get(Staff, data.staff_id)
    if mentor is None or not mentor.active or mentor.school_id != student.school_id:
        raise Invalid.field(("body", "staff_id"), _NOT_SCHOOL_STAFF)
    current = await care_repo.current_mentor(uow.session, student_id)
    if current is not None and current.staff_id == data.staff_id:
        return await _mentor_out(uow, current)
    today = local_today(school, ctx.clock())
    if current is not None:
        current.until = today
        uow.session.add(current)
    row = MentorAssignment(
        student_id=student_id, staff_id=data.staff_id, since=today, assigned_by=actor.tag
    )
    uow.session.add(row)
    await uow.session.flush()
    out = await _mentor_out(uow, row)
    await uow.commit()
    return out


# --- care contacts --------------------------------------------------------------------------


async def _carer_student(uow: UnitOfWork, actor: Actor, student_id: int) -> tuple[Student, School]:
    """The student, if the actor is their mentor, head teacher or a school manager."""
    student, school = await _student(uow, student_id)
    mentor = await care_repo.current_mentor(uow.session, student_id)
    is_mentor = mentor is not None and mentor.staff_id == actor.id and actor.manages_people
    if not is_mentor and not access.can_read_class(actor, student.school_id, student.class_id):
        raise NotFound("学生", student_id)
    require_person(actor)
    if not is_mentor and not access.can_edit_student(actor, student.school_id, student.class_id):
        raise Forbidden(_NO_CARE_RIGHT)
    return student, school


def _contact_out(row: CareContact, staff_name: str) -> CareContactOut:
    assert row.id is not None
    kind = ContactKind(row.kind)
    return CareContactOut(
        id=row.id,
        student_id=row.student_id,
        staff_id=row.staff_id,
        staff_name=staff_name,
        contacted_on=row.contacted_on,
        kind=kind,
        kind_label=CONTACT_LABELS[kind],
        note=row.note,
    )


async def add_contact(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, student_id: int, data: CareContactIn
) -> CareContactOut:
    _, school = await _carer_student(uow, actor, student_id)
    if data.contacted_on > local_today(school, ctx.clock()):
        raise Invalid.field(("body", "contacted_on"), _FUTURE)
    row = CareContact(
        student_id=student_id,
        staff_id=actor.id,
        contacted_on=data.contacted_on,
        kind=data.kind.value,
        note=data.note,
    )
    uow.session.add(row)
    await uow.session.flush()
    out = _contact_out(row, await _staff_name(uow, actor.id))
    await uow.commit()
    return out


async def list_contacts(uow: UnitOfWork, actor: Actor, student_id: int) -> list[CareContactOut]:
    await _carer_student(uow, actor, student_id)
    rows = await care_repo.contacts_with_staff(uow.session, student_id)
    return [_contact_out(row, name) for row, name in rows]


# --- 特殊群体学生关爱台账 ---------------------------------------------------------------------


async def special_groups_ledger(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, *, school_id: int
) -> CareLedgerOut:
    school = await school_for(uow, actor, school_id)
    if actor.kind is not access.ActorKind.staff or not (
        actor.superuser or school_id in actor.sensitive_school_ids
    ):
        raise Forbidden(_NO_LEDGER)
    today = local_today(school, ctx.clock())
    start = today - timedelta(days=WINDOW_DAYS - 1)
    session = uow.session
    students = await care_repo.special_group_students(session, school_id, SPECIAL_GROUPS)
    ids = [s.id for s, _ in students if s.id is not None]
    mentors = await care_repo.mentor_names(session, ids)
    last = await care_repo.last_contacts(session, ids)
    counts = await care_repo.contact_counts(session, ids, start, today)
    rows: list[CareLedgerRow] = []
    for s, class_name in students:
        assert s.id is not None
        rows.append(
            CareLedgerRow(
                student_id=s.id,
                student_name=s.name,
                class_name=class_name,
                categories="、".join(categories(s)),
                mentor_name=mentors.get(s.id),
                last_contact_on=last.get(s.id),
                contacts=counts.get(s.id, 0),
            )
        )
    assert school.id is not None
    return CareLedgerOut(
        school_id=school.id, school_name=school.name, as_of=today, window_start=start, rows=rows
    )


LEDGER_HEADERS = ("学生", "班级", "类别", "成长导师", "最近关爱记录日期", "近90天关爱次数")


def special_groups_xlsx(out: CareLedgerOut) -> ReportFile:
    rows: list[list[CellValue]] = [
        [r.student_name, r.class_name, r.categories, r.mentor_name, r.last_contact_on, r.contacts]
        for r in out.rows
    ]
    title = f"{out.school_name}特殊群体学生关爱台账(截至 {out.as_of.isoformat()})"
    content = workbook_bytes(
        [Sheet("关爱台账", title, LEDGER_HEADERS, rows, widths=(12, 10, 24, 12, 18, 16))]
    )
    day = out.as_of.isoformat()
    return ReportFile(
        content,
        f"{out.school_name}特殊群体学生关爱台账-{day}.xlsx",
        f"special-groups-{out.school_id}-{day}.xlsx",
    )
