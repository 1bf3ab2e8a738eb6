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
from collections.abc import Callable, Mapping
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


@dataclass
class _Reading:
    """What the rows say, checked row by row: the people by mobile and their grants."""

    problems: RowProblems
    index: ClassIndex
    people: dict[str, _Person] = field(default_factory=dict)
    # One-per-scope roles (班主任 of a class, 校长 of the school) → (mobile, row) first seen.
    held: dict[str, tuple[str, int]] = field(default_factory=dict)


@dataclass
class _Plan:
    created: list[_Person]
    planned: list[tuple[_Person, Role, SchoolClass | None, int]]
    unchanged: int
    bad: set[int]
    refused: bool


def _check_cells(
    reading: _Reading, n: int, cells: Mapping[str, p.Cell]
) -> tuple[str, str, Role | None, str, SchoolClass | None]:
    """The row's own cells: name, mobile, role, password and (for class roles) the class."""
    problems = reading.problems
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
        found = reading.index.find(p.text(cells.get(p.GRADE)), p.text(cells.get(p.CLASS)))
        if isinstance(found, str):
            problems.add(n, p.CLASS, found)
        else:
            klass = found
    return name, mobile, role, password, klass


async def _person_of(
    uow: UnitOfWork,
    reading: _Reading,
    school_id: int,
    n: int,
    name: str,
    mobile: str,
    password: str,
) -> _Person | None:
    """The row's person: the one already read with this mobile (the name must agree), else
    the school's staff member with it, else a new one; None (a problem) for another school's."""
    person = reading.people.get(mobile)
    if person is None:
        existing = await staff_repo.staff_by_mobile(uow.session, mobile)
        if existing is not None and existing.school_id != school_id:
            reading.problems.add(n, MOBILE, "手机号属于其他单位的教职工 (staff of another school)")
            return None
        person = reading.people[mobile] = _Person(n, name, existing, password)
    elif person.name != name:
        reading.problems.add(n, p.NAME, f"同一手机号在第 {person.row} 行是“{person.name}”")
        return None
    return person


async def _one_per_scope_refusal(
    uow: UnitOfWork,
    reading: _Reading,
    school_id: int,
    n: int,
    mobile: str,
    person: _Person,
    role: Role,
    klass: SchoolClass | None,
    key: str,
) -> str | None:
    """One head teacher per class and one principal per school: in the file, then against
    the database (a holder other than this person)."""
    if role not in (Role.head_teacher, Role.principal):
        return None
    first = reading.held.setdefault(f"{role.value}:{key}", (mobile, n))
    if first[0] != mobile:
        what = "该班班主任" if role is Role.head_teacher else "校长"
        return f"第 {first[1]} 行已是{what} (only one per scope)"
    holder = await staff_repo.unique_role_holder(
        uow.session,
        role.value,
        school_id=school_id,
        class_id=klass.id if klass is not None else None,
    )
    if holder is not None and (person.staff is None or holder != person.staff.id):
        what = "该班已有班主任" if role is Role.head_teacher else "该校已有校长"
        return f"{what},请先撤销 (the role is held by someone else)"
    return None


async def _read_rows(
    uow: UnitOfWork, sheet: Sheet, school_id: int, on_row: Callable[[], object] | None
) -> _Reading:
    reading = _Reading(
        RowProblems(), ClassIndex(await org_repo.classes_by_school(uow.session, school_id))
    )
    for column in sheet.unknown:
        reading.problems.add(sheet.header_row, column, f"未知列“{column}” (unknown column)")
    for row in sheet.roster.rows:
        if on_row is not None:
            on_row()
        n = row.number
        name, mobile, role, password, klass = _check_cells(reading, n, row.cells)
        if reading.problems.rows & {n} or role is None:
            continue
        person = await _person_of(uow, reading, school_id, n, name, mobile, password)
        if person is None:
            continue
        key = f"class:{klass.id}" if klass is not None else f"school:{school_id}"
        refusal = await _one_per_scope_refusal(
            uow, reading, school_id, n, mobile, person, role, klass, key
        )
        if refusal is not None:
            reading.problems.add(n, ROLE, refusal)
            continue
        person.grants[f"{role.value}|{key}"] = (n, role, klass)
    return reading


def _plan(
    reading: _Reading,
    sheet: Sheet,
    have: dict[int, list[StaffRole]],
    mode: ImportMode,
) -> _Plan:
    """Which people to create and which grants to add; grants already held are unchanged."""
    bad = reading.problems.rows - {sheet.header_row}
    refused = bool(reading.problems.found) and mode is ImportMode.all_or_nothing
    plan = _Plan([], [], 0, bad, refused)
    for person in reading.people.values():
        owned = _owned(person, have)
        fresh = [(k, v) for k, v in person.grants.items() if v[0] not in bad]
        plan.unchanged += sum(1 for k, _ in fresh if k in owned)
        todo = [(role, klass, row) for k, (row, role, klass) in fresh if k not in owned]
        if refused or (not todo and person.staff is not None):
            continue
        if person.staff is None and todo:
            plan.created.append(person)
        plan.planned += [(person, role, klass, row) for role, klass, row in todo]
    return plan


def _report(
    reading: _Reading,
    sheet: Sheet,
    plan: _Plan,
    school_id: int,
    mode: ImportMode,
    dry_run: bool,
) -> StaffReport:
    return StaffReport(
        school_id=school_id,
        mode=mode,
        dry_run=dry_run,
        total=len(sheet.roster.rows),
        staff_created=[person.name for person in plan.created],
        grants_added=[
            GrantPlanned(
                row=row,
                name=person.name,
                role=role,
                role_label=ROLE_LABELS[role],
                class_name=reading.index.label(klass) if klass is not None else None,
            )
            for person, role, klass, row in sorted(plan.planned, key=lambda x: x[3])
        ],
        unchanged=plan.unchanged,
        rejected=len(plan.bad | ({sheet.header_row} if sheet.unknown else set())),
        problems=sorted(reading.problems.report(), key=lambda x: (x.row, x.column)),
    )


async def _write(uow: UnitOfWork, reading: _Reading, plan: _Plan, school: School) -> None:
    """The new staff (passwords hashed off the event loop), then every planned grant."""
    assert school.id is not None
    for person in plan.created:
        digest = (
            await asyncio.to_thread(hash_password, person.password) if person.password else None
        )
        person.staff = Staff(
            county_id=school.county_id,
            school_id=school.id,
            name=person.name,
            mobile=next(m for m, q in reading.people.items() if q is person),
            password_hash=digest,
        )
        uow.session.add(person.staff)
    await uow.flush()
    uow.session.add_all(
        StaffRole(
            staff_id=person.staff.id or 0 if person.staff is not None else 0,
            role=role.value,
            scope_key=f"class:{klass.id}" if klass is not None else f"school:{school.id}",
            county_id=school.county_id,
            school_id=school.id,
            class_id=klass.id if klass is not None else None,
        )
        for person, role, klass, _ in plan.planned
    )


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
    """Read and check every row, check each grant against the staff API's rule, plan, report;
    write (one commit) unless a dry run, refused, or nothing to add."""
    school = await school_for(uow, actor, school_id)
    if not access.can_manage_staff(actor, school_id, school.county_id):
        raise Forbidden("需要学校管理权限 (only school managers import staff)")
    reading = await _read_rows(uow, sheet, school_id, on_row)
    existing = [q.staff.id for q in reading.people.values() if q.staff is not None and q.staff.id]
    have = await staff_repo.grants_of(uow.session, existing)
    for person in reading.people.values():
        _refuse_rows(actor, school, person, have, reading.problems)
    plan = _plan(reading, sheet, have, mode)
    report = _report(reading, sheet, plan, school_id, mode, dry_run)
    if dry_run or plan.refused or not plan.planned:
        return report
    await _write(uow, reading, plan, school)
    await uow.commit()
    return report
