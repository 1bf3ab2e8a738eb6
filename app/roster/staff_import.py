"""A school's staff and their roles from one file: one row per person and role.

- Columns: 姓名, 手机号 (联系电话), 职务 are required; 班级 (with 年级 when class names repeat
  across grades) names the class of a 班主任 or 任课教师; 初始密码 (optional, at least 8
  characters) lets the person sign in at once, otherwise a password is set later (PATCH
  /staff/{id}). Other headers are problems reported by name.
- 职务: 校长, 分管副校长 (副校长), 教务处 (教务主任), 班主任, 任课教师 (科任教师).
- A person on several rows (same 手机号) gets every role; the name must agree. A 手机号 of
  another school's staff is a problem. The class must exist (import the roster first); one
  head teacher per class and one principal per school, in the file and against the database.
- Every grant the file would add passes the staff API's rule (``access.grant_refusal``, as
  ``POST /staff/{id}/roles``): the person must be the importer's to change (all their grants
  within the importer's scope and below the importer's rank), never the importer themselves,
  and the role strictly below the importer's rank. A refused grant is a problem on its row
  (职务), so a vice principal cannot import another vice principal, a role for the principal,
  or themselves as principal; the operator's CLI (``kcbx-onboard``) runs the same check.
- Re-importing the same file changes nothing: people and grants already there are counted as
  unchanged. ``dry_run``, ``all_or_nothing`` and ``valid_only`` as for the roster.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from app.context import AppContext
from app.core.tables import DEFAULT_LIMITS, ImportMode, ReadLimits
from app.db.models import School, SchoolClass, Staff, StaffRole
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor, Grant
from app.domain.roles import ROLE_LABELS, Role
from app.errors import Forbidden
from app.org import repository as org_repo
from app.org import staff as staff_service
from app.org import staff_repo
from app.org.service import school_for
from app.roster import parse as p
from app.roster.imports import ClassIndex, RowProblems
from app.roster.onboarding_schemas import GrantPlanned, StaffReport
from app.roster.sheets import Sheet, read_sheet
from app.security.passwords import hash_password

MOBILE, ROLE, PASSWORD = "手机号", "职务", "初始密码"
READ = frozenset({p.NAME, MOBILE, ROLE, p.CLASS, p.GRADE, PASSWORD})
REQUIRED = (p.NAME, MOBILE, ROLE)
IGNORED = frozenset({"序号", "性别", "学科", "任教学科", "备注", "工号", "部门"})
ALIASES = {
    "联系电话": MOBILE,
    "手机": MOBILE,
    "电话": MOBILE,
    "手机号码": MOBILE,
    "角色": ROLE,
    "岗位": ROLE,
    "职位": ROLE,
    "任教班级": p.CLASS,
    "所带班级": p.CLASS,
    "密码": PASSWORD,
}
ROLE_NAMES = {
    "校长": Role.principal,
    "分管副校长": Role.vice_principal,
    "副校长": Role.vice_principal,
    "教务处": Role.academic_affairs,
    "教务主任": Role.academic_affairs,
    "教务": Role.academic_affairs,
    "班主任": Role.head_teacher,
    "任课教师": Role.subject_teacher,
    "科任教师": Role.subject_teacher,
    "教师": Role.subject_teacher,
}
CLASS_ROLES = frozenset({Role.head_teacher, Role.subject_teacher})
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def read(data: bytes, filename: str | None, limits: ReadLimits = DEFAULT_LIMITS) -> Sheet:
    return read_sheet(
        data,
        filename,
        read=READ,
        required=REQUIRED,
        ignored=IGNORED,
        aliases=ALIASES,
        limits=limits,
    )


@dataclass
class _Person:
    row: int
    name: str
    staff: Staff | None
    password: str = ""
    grants: dict[str, tuple[int, Role, SchoolClass | None]] = field(default_factory=dict)


def _owned(person: _Person, have: dict[int, list[StaffRole]]) -> set[str]:
    if person.staff is None:
        return set()
    return {f"{g.role}|{g.scope_key}" for g in have.get(person.staff.id or 0, [])}


def _refuse_rows(
    actor: Actor,
    school: School,
    person: _Person,
    have: dict[int, list[StaffRole]],
    problems: RowProblems,
) -> None:
    """The staff API's rule for every grant the file would add (``access.grant_refusal``):
    a refused grant is a problem on its row."""
    assert school.id is not None
    target = (
        None
        if person.staff is None
        else staff_service.as_person(person.staff, have.get(person.staff.id or 0, []))
    )
    owned = _owned(person, have)
    for key, (row, role, klass) in person.grants.items():
        if key in owned:
            continue
        grant = Grant(role, school.county_id, school.id, klass.id if klass is not None else None)
        refusal = access.grant_refusal(actor, grant, target)
        if refusal is not None:
            problems.add(row, ROLE, staff_service.REFUSALS[refusal])


async def import_staff(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    school_id: int,
    sheet: Sheet,
    mode: ImportMode = ImportMode.all_or_nothing,
    dry_run: bool = False,
    on_row: Callable[[], object] | None = None,
) -> StaffReport:
    school = await school_for(uow, actor, school_id)
    if not access.can_manage_staff(actor, school_id, school.county_id):
        raise Forbidden("需要学校管理权限 (only school managers import staff)")
    problems = RowProblems()
    for column in sheet.unknown:
        problems.add(sheet.header_row, column, f"未知列“{column}” (unknown column)")
    index = ClassIndex(await org_repo.classes_by_school(uow.session, school_id))
    people: dict[str, _Person] = {}
    held: dict[str, tuple[str, int]] = {}  # one-per-scope key → (mobile, row)
    unchanged = 0
    for row in sheet.roster.rows:
        if on_row is not None:
            on_row()
        cells, n = row.cells, row.number
        name, mobile = p.text(cells.get(p.NAME)), p.mobile_text(cells.get(MOBILE))
        role = ROLE_NAMES.get(re.sub(r"\s", "", p.text(cells.get(ROLE))))
        if not name:
            problems.add(n, p.NAME, "必填 (required)")
        if not _MOBILE.match(mobile):
            problems.add(n, MOBILE, "手机号应为11位 (an 11-digit mainland mobile number)")
        if role is None:
            known = "、".join(ROLE_NAMES)
            problems.add(n, ROLE, f"无法识别职务“{p.text(cells.get(ROLE))}”,可填:{known}")
        password = p.text(cells.get(PASSWORD))
        if password and len(password) < 8:
            problems.add(n, PASSWORD, "初始密码至少 8 位 (at least 8 characters)")
        klass: SchoolClass | None = None
        if role in CLASS_ROLES:
            found = index.find(p.text(cells.get(p.GRADE)), p.text(cells.get(p.CLASS)))
            if isinstance(found, str):
                problems.add(n, p.CLASS, found)
            else:
                klass = found
        if problems.rows & {n} or role is None:
            continue
        person = people.get(mobile)
        if person is None:
            existing = await staff_repo.staff_by_mobile(uow.session, mobile)
            if existing is not None and existing.school_id != school_id:
                problems.add(n, MOBILE, "手机号属于其他单位的教职工 (staff of another school)")
                continue
            person = people[mobile] = _Person(n, name, existing, password)
        elif person.name != name:
            problems.add(n, p.NAME, f"同一手机号在第 {person.row} 行是“{person.name}”")
            continue
        key = f"class:{klass.id}" if klass is not None else f"school:{school_id}"
        if role in (Role.head_teacher, Role.principal):
            first = held.setdefault(f"{role.value}:{key}", (mobile, n))
            if first[0] != mobile:
                what = "该班班主任" if role is Role.head_teacher else "校长"
                problems.add(n, ROLE, f"第 {first[1]} 行已是{what} (only one per scope)")
                continue
            holder = await staff_repo.unique_role_holder(
                uow.session,
                role.value,
                school_id=school_id,
                class_id=klass.id if klass is not None else None,
            )
            if holder is not None and (person.staff is None or holder != person.staff.id):
                what = "该班已有班主任" if role is Role.head_teacher else "该校已有校长"
                problems.add(n, ROLE, f"{what},请先撤销 (the role is held by someone else)")
                continue
        person.grants[f"{role.value}|{key}"] = (n, role, klass)

    existing_ids = [p_.staff.id for p_ in people.values() if p_.staff is not None and p_.staff.id]
    have = await staff_repo.grants_of(uow.session, existing_ids)
    for person in people.values():
        _refuse_rows(actor, school, person, have, problems)
    bad = problems.rows - {sheet.header_row}
    refused = bool(problems.found) and mode is ImportMode.all_or_nothing
    created: list[_Person] = []
    planned: list[tuple[_Person, Role, SchoolClass | None, int]] = []
    for person in people.values():
        owned = _owned(person, have)
        fresh = [(k, v) for k, v in person.grants.items() if v[0] not in bad]
        unchanged += sum(1 for k, _ in fresh if k in owned)
        todo = [(role, klass, row) for k, (row, role, klass) in fresh if k not in owned]
        if refused or (not todo and person.staff is not None):
            continue
        if person.staff is None and todo:
            created.append(person)
        planned += [(person, role, klass, row) for role, klass, row in todo]
    report = StaffReport(
        school_id=school_id,
        mode=mode,
        dry_run=dry_run,
        total=len(sheet.roster.rows),
        staff_created=[person.name for person in created],
        grants_added=[
            GrantPlanned(
                row=row,
                name=person.name,
                role=role,
                role_label=ROLE_LABELS[role],
                class_name=index.label(klass) if klass is not None else None,
            )
            for person, role, klass, row in sorted(planned, key=lambda x: x[3])
        ],
        unchanged=unchanged,
        rejected=len(bad | ({sheet.header_row} if sheet.unknown else set())),
        problems=sorted(problems.report(), key=lambda x: (x.row, x.column)),
    )
    if dry_run or refused or not planned:
        return report
    for person in created:
        digest = (
            await asyncio.to_thread(hash_password, person.password) if person.password else None
        )
        person.staff = Staff(
            county_id=school.county_id,
            school_id=school_id,
            name=person.name,
            mobile=next(m for m, q in people.items() if q is person),
            password_hash=digest,
        )
        uow.session.add(person.staff)
    await uow.flush()
    uow.session.add_all(
        StaffRole(
            staff_id=person.staff.id or 0 if person.staff is not None else 0,
            role=role.value,
            scope_key=f"class:{klass.id}" if klass is not None else f"school:{school_id}",
            county_id=school.county_id,
            school_id=school_id,
            class_id=klass.id if klass is not None else None,
        )
        for person, role, klass, _ in planned
    )
    await uow.commit()
    return report
