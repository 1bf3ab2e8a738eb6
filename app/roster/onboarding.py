"""A school's whole roster from one file in the shape of the national 学籍 system's student
export: grades and classes are created as needed, students added, moved between classes when
the file says so, and left alone when nothing changed (re-importing the same file changes
nothing).

- Columns: 姓名, 学籍号 (全国学籍号), 年级, 班级, 监护人, 联系电话 are required; 身份证件号,
  性别, 出生日期, 监护人关系 and the special-group columns are read; the export's other columns
  (民族, 户口所在地, …: ``IGNORED``) are skipped. Any other header is a problem reported by name.
- 年级 is 三年级, 3, 3年级, 初一 or 七年级; 班级 is 1班, (1)班, 1 or 三年级(1)班. A class whose
  name carries a grade must agree with the row's 年级 (a class named twice with different
  grades is reported on each disagreeing row).
- A student already in this school (same 学籍号) is unchanged, or moved when the file puts
  them in another class; other fields are not overwritten (edit them with PATCH). A 学籍号 of
  another school is a problem (a transfer is its own procedure).
- ``dry_run`` does everything the real run does inside the transaction and rolls it back: the
  report is exactly what the real run would do. ``all_or_nothing`` (default) writes nothing
  when any row has a problem; ``valid_only`` writes the good rows.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from app.context import AppContext
from app.core.tables import DEFAULT_LIMITS, ImportMode, ReadLimits
from app.db.models import Grade, SchoolClass, Student
from app.db.uow import UnitOfWork
from app.domain.access import Actor
from app.org import repository as org_repo
from app.org.schemas import GRADE_NAMES, SchoolKind
from app.roster import imports
from app.roster import parse as p
from app.roster import repository as students_repo
from app.roster.imports import ClassIndex, RowProblems
from app.roster.onboarding_schemas import MovedStudent, RosterReport
from app.roster.sheets import Sheet, read_sheet

READ = p.KNOWN
REQUIRED = (p.NAME, p.STUDENT_NO, p.GRADE, p.CLASS, p.GUARDIAN, p.MOBILE)
ALIASES = {
    "年级名称": p.GRADE,
    "所在年级": p.GRADE,
    "所在班级": p.CLASS,
    "身份证件号码": p.ID_NUMBER,
    "成员1姓名": p.GUARDIAN,
    "家庭成员1姓名": p.GUARDIAN,
    "成员1关系": p.RELATION,
    "家庭成员1关系": p.RELATION,
    "成员1联系电话": p.MOBILE,
    "家庭成员1联系电话": p.MOBILE,
    "监护人联系电话": p.MOBILE,
}
# Columns of the 学籍 export this service does not keep.
IGNORED = frozenset(
    {
        "序号",
        "学籍辅号",
        "班内学号",
        "学号",
        "身份证件类型",
        "曾用名",
        "民族",
        "国籍",
        "国籍/地区",
        "港澳台侨外",
        "政治面貌",
        "健康状况",
        "血型",
        "出生地",
        "籍贯",
        "户口所在地",
        "户口性质",
        "入学年月",
        "入学方式",
        "就读方式",
        "学生来源",
        "学籍状态",
        "现住址",
        "通信地址",
        "家庭地址",
        "家庭住址",
        "邮政编码",
        "电子信箱",
        "是否独生子女",
        "是否受过学前教育",
        "是否进城务工人员随迁子女",
        "是否需要申请资助",
        "是否享受一补",
        "是否孤儿",
        "是否烈士或优抚子女",
        "随班就读",
        "残疾类型",
        "上下学距离",
        "上下学方式",
        "是否需要乘坐校车",
        "备注",
        "成员1工作单位",
        "成员1户口所在地",
        "成员2姓名",
        "成员2关系",
        "成员2联系电话",
        "成员2工作单位",
        "成员2户口所在地",
    }
)
LEVELS = {SchoolKind.primary: range(1, 7), SchoolKind.junior_middle: range(7, 10)}
_CHINESE_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_JUNIOR = {"初一": 7, "初二": 8, "初三": 9}


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


def _norm(value: str) -> str:
    return re.sub(r"[\s()（）]", "", unicodedata.normalize("NFKC", value))


def grade_level(text: str) -> int | None:
    """3, 3年级, 三年级, 初一, 七年级 → the level; None when it names no grade."""
    value = _norm(text)
    if value in _JUNIOR:
        return _JUNIOR[value]
    value = value.removesuffix("年级")
    if value.isdigit() and 1 <= int(value) <= 9:
        return int(value)
    return _CHINESE_DIGITS.get(value)


def split_class(text: str) -> tuple[int | None, str]:
    """三年级(1)班 → (3, 1班); 1班 / (1)班 / 1 → (None, 1班)."""
    value = _norm(text)
    level = None
    for prefix in sorted(
        {*_JUNIOR, *(f"{d}年级" for d in "123456789"), *(f"{c}年级" for c in _CHINESE_DIGITS)},
        key=len,
        reverse=True,
    ):
        if value.startswith(prefix) and len(value) > len(prefix):
            level = grade_level(prefix)
            value = value[len(prefix) :]
            break
    if value.isdigit():
        value += "班"
    return level, value


@dataclass
class _Plan:
    school_id: int
    grades: dict[int, Grade] = field(default_factory=dict)
    classes: dict[tuple[int, str], SchoolClass] = field(default_factory=dict)
    grades_created: list[str] = field(default_factory=list)
    classes_created: list[str] = field(default_factory=list)
    created: list[tuple[int, str]] = field(default_factory=list)
    new_grades: list[int] = field(default_factory=list)


def _place_rows(sheet: Sheet, levels: range, problems: RowProblems) -> dict[int, tuple[int, str]]:
    """Each row's (level, class name), from 年级 and 班级; a class name carrying a grade must
    agree with the row's and with its first use in the file. Rows with a problem are left out."""
    placed: dict[int, tuple[int, str]] = {}  # row → (level, class name)
    named: dict[str, tuple[int, int]] = {}  # a class name carrying a grade → (level, first row)
    for row in sheet.roster.rows:
        grade_text = p.text(row.cells.get(p.GRADE))
        class_text = p.text(row.cells.get(p.CLASS))
        level = grade_level(grade_text) if grade_text else None
        if level is None:
            problems.add(row.number, p.GRADE, f"无法识别年级“{grade_text}” (unknown grade)")
            continue
        if level not in levels:
            problems.add(row.number, p.GRADE, f"本校没有{GRADE_NAMES[level]} (not in this school)")
            continue
        inside, name = split_class(class_text)
        if not name:
            problems.add(row.number, p.CLASS, "必填 (required)")
            continue
        if inside is not None:
            first = named.setdefault(_norm(class_text), (level, row.number))
            if inside != level or first[0] != level:
                where = f"第 {first[1]} 行为{GRADE_NAMES[first[0]]}" if first[0] != level else ""
                problems.add(
                    row.number,
                    p.CLASS,
                    f"班级“{class_text}”与年级“{grade_text}”不一致{(';' + where) if where else ''}"
                    " (the class names another grade)",
                )
                continue
        placed[row.number] = (level, name)
    return placed


@dataclass
class _Matched:
    """The placed rows against the school's students: new ones (checked), moves, unchanged."""

    candidates: list[imports._Candidate] = field(default_factory=list)
    moved: list[tuple[int, Student, SchoolClass]] = field(default_factory=list)
    unchanged: int = 0


async def _match_students(
    uow: UnitOfWork,
    ctx: AppContext,
    county_id: int,
    sheet: Sheet,
    placed: dict[int, tuple[int, str]],
    plan: _Plan,
    problems: RowProblems,
    on_row: Callable[[], object] | None,
) -> _Matched:
    index = ClassIndex(await org_repo.classes_by_school(uow.session, plan.school_id))
    numbers = [p.compact(r.cells.get(p.STUDENT_NO)) for r in sheet.roster.rows]
    known = {s.student_no: s for s in await _chunked_students(uow, numbers)}
    out = _Matched()
    for row in sheet.roster.rows:
        if on_row is not None:
            on_row()
        if row.number not in placed:
            continue
        level, name = placed[row.number]
        klass = plan.classes[(level, name)]
        existing = known.get(p.compact(row.cells.get(p.STUDENT_NO)))
        if existing is not None:
            if existing.school_id != plan.school_id:
                problems.add(
                    row.number,
                    p.STUDENT_NO,
                    "学籍号属于另一所学校,请走转学流程 (the student belongs to another school)",
                )
            elif existing.class_id == klass.id:
                out.unchanged += 1
            else:
                out.moved.append((row.number, existing, klass))
            continue
        cells = {**row.cells, p.GRADE: str(level), p.CLASS: name}
        candidate = imports._check_row(ctx, county_id, index, p.Row(row.number, cells), problems)
        if candidate is not None:
            out.candidates.append(candidate)
    imports._file_duplicates(out.candidates, problems)
    await imports._database_duplicates(uow.session, out.candidates, problems)
    return out


async def import_roster(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    school_id: int,
    sheet: Sheet,
    mode: ImportMode = ImportMode.all_or_nothing,
    dry_run: bool = False,
    on_row: Callable[[], object] | None = None,
) -> RosterReport:
    """Place the rows in grades and classes (created as needed, inside the transaction), match
    them against the school's students, drop what refused rows alone needed, report; a dry
    run or a refused all-or-nothing import rolls back, otherwise one commit."""
    school = await imports.target_school(uow, actor, school_id)
    problems = RowProblems()
    for column in sheet.unknown:
        problems.add(sheet.header_row, column, f"未知列“{column}” (unknown column)")
    placed = _place_rows(sheet, LEVELS[SchoolKind(school.kind)], problems)
    plan = await _grades_and_classes(uow, school_id, set(placed.values()))
    matched = await _match_students(
        uow, ctx, school.county_id, sheet, placed, plan, problems, on_row
    )
    bad = problems.rows - {sheet.header_row}
    refused = bool(problems.found) and mode is ImportMode.all_or_nothing
    accepted = [] if refused else [c for c in matched.candidates if c.row not in bad]
    moving = [] if refused else [m for m in matched.moved if m[0] not in bad]
    await _drop_unused(
        uow, plan, {placed[r] for r in [c.row for c in accepted] + [m[0] for m in moving]}
    )
    report = RosterReport(
        school_id=school_id,
        mode=mode,
        dry_run=dry_run,
        total=len(sheet.roster.rows),
        grades_created=[] if refused else plan.grades_created,
        classes_created=[] if refused else plan.classes_created,
        students_created=len(accepted),
        students_moved=[
            MovedStudent(
                row=r,
                student_no=s.student_no,
                name=s.name,
                from_class=_label(plan, s.class_id),
                to_class=_label(plan, k.id),
            )
            for r, s, k in moving
        ],
        unchanged=matched.unchanged,
        rejected=len(bad | ({sheet.header_row} if sheet.unknown else set())),
        problems=sorted(problems.report(), key=lambda x: (x.row, x.column)),
    )
    if dry_run or refused:
        await uow.session.rollback()
        return report
    for _, student, klass in moving:
        student.class_id = klass.id or 0
    if accepted:
        await imports._write(uow, accepted)  # commits
    else:
        await uow.commit()
    return report


async def _drop_unused(uow: UnitOfWork, plan: _Plan, used: set[tuple[int, str]]) -> None:
    """Grades and classes created for rows that were then refused are not kept."""
    for key in [k for k in plan.created if k not in used]:
        level, name = key
        await uow.session.delete(plan.classes.pop(key))
        plan.classes_created.remove(f"{plan.grades[level].name}{name}")
    await uow.flush()  # the classes go before their grades (no ORM relationship orders them)
    keep = {level for level, _ in plan.classes}
    for level in [lv for lv in plan.new_grades if lv not in keep]:
        plan.grades_created.remove(plan.grades[level].name)
        await uow.session.delete(plan.grades.pop(level))
    await uow.flush()


async def _chunked_students(uow: UnitOfWork, numbers: list[str]) -> list[Student]:
    found: list[Student] = []
    for part in imports.slices(sorted(set(numbers))):
        found += await students_repo.students_by_numbers(uow.session, part)
    return found


def _label(plan: _Plan, class_id: int | None) -> str:
    for (level, name), klass in plan.classes.items():
        if klass.id == class_id:
            return f"{plan.grades[level].name}{name}"
    return f"#{class_id}"


async def _grades_and_classes(
    uow: UnitOfWork, school_id: int, wanted: set[tuple[int, str]]
) -> _Plan:
    """The school's grades and classes, with those the file needs added (flushed, so they
    have ids; the caller commits or rolls back)."""
    plan = _Plan(school_id)
    for klass, grade in await org_repo.classes_by_school(uow.session, school_id):
        plan.grades.setdefault(grade.level, grade)
        if klass.active:
            plan.classes.setdefault((grade.level, _norm(klass.name)), klass)
    for grade in await org_repo.grades_by_school(uow.session, school_id):
        plan.grades.setdefault(grade.level, grade)
    for level in sorted({lv for lv, _ in wanted} - plan.grades.keys()):
        grade = Grade(school_id=school_id, level=level, name=GRADE_NAMES[level])
        uow.session.add(grade)
        plan.grades[level] = grade
        plan.grades_created.append(grade.name)
        plan.new_grades.append(level)
    await uow.flush()
    for level, name in sorted(wanted - plan.classes.keys()):
        grade = plan.grades[level]
        klass = SchoolClass(school_id=school_id, grade_id=grade.id or 0, name=name)
        uow.session.add(klass)
        plan.classes[(level, name)] = klass
        plan.classes_created.append(f"{grade.name}{name}")
        plan.created.append((level, name))
    await uow.flush()
    return plan
