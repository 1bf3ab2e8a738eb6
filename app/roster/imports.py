"""Bulk import of students into one school from a parsed roster (app.roster.parse).

Every row is checked by the rules POST /students applies — ``StudentIn``, then
``identity_of`` / ``new_student`` — so an imported student is one the API would have accepted.
Rows are also checked against each other and the database for a repeated 学籍号 or ID number
(the first occurrence in the file wins). In ``all_or_nothing`` mode one bad row means nothing
is written; in ``valid_only`` mode the good rows are. Either way the answer is a report.

Shared with other imports of tables with Chinese headers (the county's list of school-age
children, app/reports/school_age_import.py): ``read_table`` reads a CSV or XLSX file as the roster
reader does but with the caller's columns, ``RowProblems`` collects one message per cell, and
``slices`` cuts an ``IN (...)`` lookup into parts.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio.to_thread
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from app.context import AppContext
from app.core.tables import DEFAULT_LIMITS, FileError, ImportMode, ReadLimits, TooManyRows
from app.db.labels import full_class_name
from app.db.models import Grade, Guardian, School, SchoolClass, Student
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor
from app.domain.idcard import InvalidIdNumber
from app.domain.students import reconcile_identity
from app.errors import Forbidden, Invalid
from app.org import repository as org_repo
from app.org.schemas import GRADE_NAMES
from app.org.service import school_for
from app.roster import parse as p
from app.roster import repository as students_repo
from app.roster.imports_schemas import ImportReport, RowProblem
from app.roster.schemas import GuardianIn, StudentIn
from app.roster.students import identity_of, new_student

_DEFAULT_RELATION = "监护人"
_REQUIRED_CELLS = (p.NAME, p.STUDENT_NO, p.CLASS, p.GUARDIAN, p.MOBILE)
T = TypeVar("T")
_QUERY_CHUNK = 500  # well under SQLite's and asyncpg's bound-parameter limits
# StudentIn field → the column it came from.
_COLUMN_OF: dict[str, str] = {
    "name": p.NAME,
    "student_no": p.STUDENT_NO,
    "id_number": p.ID_NUMBER,
    "gender": p.GENDER,
    "birth_date": p.BIRTH_DATE,
    "class_id": p.CLASS,
    "home_schooled": p.HOME_SCHOOLED,
    "relation": p.RELATION,
    "mobile": p.MOBILE,
    **{f: header for header, f in p.SPECIAL_GROUP_COLUMNS.items()},
}


@dataclass
class _Candidate:
    row: int
    student: Student
    guardians: list[GuardianIn]


@dataclass(frozen=True)
class TableColumns:
    """The columns of a table import: ``key`` marks the header row (a title row above it is
    skipped), ``known`` are the canonical header names read (others are ignored),
    ``required`` must be present, ``aliases`` are further spellings of known headers (after the
    roster's own: 身份证号码 → 身份证号, 监护人电话 → 联系电话, …)."""

    key: str
    known: frozenset[str]
    required: tuple[str, ...]
    aliases: Mapping[str, str] = field(default_factory=dict)


def read_table(
    data: bytes,
    filename: str | None,
    columns: TableColumns,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> p.Roster:
    """A CSV (UTF-8, GBK, UTF-16) or XLSX table, read like a roster (app.roster.parse: same
    file checks, encodings, header notes, row numbers, ``limits``) but with ``columns``;
    ``FileError`` when it is not such a table or lacks a required column."""
    raw = p.raw_rows(data, filename, limits)

    def name(cell: p.Cell) -> str:
        found = p.header_name(cell)
        return columns.aliases.get(found, found)

    head = raw[: p._HEADER_SEARCH_ROWS]
    start = next((i for i, (_, cells) in enumerate(head) if columns.key in map(name, cells)), 0)
    positions: dict[str, int] = {}
    for index, cell in enumerate(raw[start][1]):
        header = name(cell)
        if header not in columns.known:
            continue
        if header in positions:
            raise FileError(f"列“{header}”出现了两次 (column {header} appears twice)")
        positions[header] = index
    missing = [c for c in columns.required if c not in positions]
    if missing:
        raise FileError(f"缺少必填列:{'、'.join(missing)} (missing required columns)")
    rows = [
        p.Row(number, {h: p._at(cells, i) for h, i in positions.items()})
        for number, cells in raw[start + 1 :]
        if not p._blank(cells)
    ]
    if not rows:
        raise FileError("表头下没有数据行 (no rows under the header)")
    if len(rows) > limits.max_rows:
        raise TooManyRows(limits.max_rows)
    return p.Roster(frozenset(positions), rows)


@dataclass
class RowProblems:
    found: dict[tuple[int, str], str] = field(default_factory=dict)

    def add(self, row: int, column: str, message: str) -> None:
        # One message per cell: the first is the cause, later ones are its echoes.
        self.found.setdefault((row, column), message)

    def has(self, row: int, column: str) -> bool:
        return (row, column) in self.found

    @property
    def rows(self) -> set[int]:
        return {row for row, _ in self.found}

    def report(self, limit: int | None = None) -> list[RowProblem]:
        """The problems in row order; the first ``limit`` of them when given."""
        ordered = sorted(self.found.items(), key=lambda item: item[0][0])
        if limit is not None:
            ordered = ordered[:limit]
        return [RowProblem(row=r, column=c, message=m) for (r, c), m in ordered]


async def target_school(uow: UnitOfWork, actor: Actor, school_id: int) -> School:
    """The school to import into: 404 outside the caller's scope, 403 for a non-manager."""
    school = await school_for(uow, actor, school_id)
    if not access.can_manage_school(actor, school_id):
        raise Forbidden("需要学校管理权限 (only school managers import students)")
    return school


async def import_students(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    school_id: int,
    roster: p.Roster,
    mode: ImportMode = ImportMode.all_or_nothing,
    on_row: Callable[[], object] | None = None,
) -> ImportReport:
    """Check every row, then write the accepted ones and commit once."""
    school = await target_school(uow, actor, school_id)
    classes = ClassIndex(await org_repo.classes_by_school(uow.session, school_id))
    problems = RowProblems()

    def check_rows() -> list[_Candidate]:
        found = []
        for row in roster.rows:
            candidate = _check_row(ctx, school.county_id, classes, row, problems)
            if candidate is not None:
                found.append(candidate)
            if on_row is not None:
                on_row()
        _file_duplicates(found, problems)
        return found

    # Validation is CPU work (pydantic, ID check characters, blind indexes): off the loop, so
    # the roll intake and the engine go on while 20,000 rows are checked.
    candidates = await anyio.to_thread.run_sync(check_rows)
    await _database_duplicates(uow.session, candidates, problems)
    bad = problems.rows
    accepted = [c for c in candidates if c.row not in bad]
    if bad and mode is ImportMode.all_or_nothing:
        accepted = []
    if accepted:
        await _write(uow, accepted)
    return ImportReport(
        school_id=school_id,
        mode=mode,
        total=len(roster.rows),
        imported=len(accepted),
        rejected=len(bad),
        problems=problems.report(ctx.settings.import_max_problems),
        problem_count=len(problems.found),
    )


def _check_row(
    ctx: AppContext, county_id: int, classes: ClassIndex, row: p.Row, problems: RowProblems
) -> _Candidate | None:
    cells = row.cells

    def convert(column: str, read: Callable[[p.Cell], Any]) -> Any:
        try:
            return read(cells.get(column))
        except ValueError as exc:
            problems.add(row.number, column, str(exc))
            return None

    for column in _REQUIRED_CELLS:
        if not p.text(cells.get(column)):
            problems.add(row.number, column, "必填 (required)")
    klass = classes.find(p.text(cells.get(p.GRADE)), p.text(cells.get(p.CLASS)))
    if isinstance(klass, str):
        problems.add(row.number, p.CLASS, klass)
    payload = {
        "class_id": klass.id if isinstance(klass, SchoolClass) else 0,
        "name": p.text(cells.get(p.NAME)),
        "student_no": p.compact(cells.get(p.STUDENT_NO)),
        "id_number": convert(p.ID_NUMBER, p.id_text) or None,
        "gender": convert(p.GENDER, p.as_gender),
        "birth_date": convert(p.BIRTH_DATE, p.as_date),
        "home_schooled": bool(convert(p.HOME_SCHOOLED, p.as_flag)),
        "special_groups": {
            f: bool(convert(header, p.as_flag)) for header, f in p.SPECIAL_GROUP_COLUMNS.items()
        },
        "guardians": [
            {
                "name": p.text(cells.get(p.GUARDIAN)),
                "relation": p.text(cells.get(p.RELATION)) or _DEFAULT_RELATION,
                "mobile": p.mobile_text(cells.get(p.MOBILE)),
                "is_primary": True,
            }
        ],
    }
    try:
        data = StudentIn.model_validate(payload)
    except ValidationError as exc:
        for error in exc.errors():
            problems.add(row.number, _column(error["loc"]), _message(error))
        _check_identity(payload, row.number, problems)
        return None
    try:
        if isinstance(klass, SchoolClass):
            return _Candidate(row.number, new_student(ctx, klass, county_id, data), data.guardians)
        identity_of(data)
    except Invalid as exc:
        for problem in exc.problems:
            problems.add(row.number, _column(problem.loc), problem.msg)
    return None


def _check_identity(payload: dict[str, Any], row: int, problems: RowProblems) -> None:
    """Check gender and birth date against the ID number even when another cell failed,
    so the report lists all of a row's problems at once."""
    columns = (p.ID_NUMBER, p.GENDER, p.BIRTH_DATE)
    if any(problems.has(row, c) for c in columns):
        return
    try:
        reconcile_identity(payload["id_number"], payload["gender"], payload["birth_date"])
    except InvalidIdNumber as exc:
        problems.add(
            row, _COLUMN_OF[exc.args[1] if len(exc.args) > 1 else "id_number"], exc.args[0]
        )


def _column(loc: tuple[str | int, ...]) -> str:
    if loc[0] == "guardians" and loc[-1] == "name":
        return p.GUARDIAN
    names = [part for part in loc if isinstance(part, str) and part in _COLUMN_OF]
    return _COLUMN_OF[names[-1]] if names else ".".join(map(str, loc))


def _message(error: Any) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == "value_error":
        return str(ctx["error"])  # the domain's own message, Chinese first
    if kind == "string_too_short":
        return "必填 (required)"
    if kind == "string_too_long":
        return f"过长,最多 {ctx['max_length']} 个字 (at most {ctx['max_length']} characters)"
    if kind == "string_pattern_mismatch" and error["loc"][-1] == "mobile":
        return "联系电话应为11位手机号 (an 11-digit mainland mobile number)"
    return str(error["msg"])


def _file_duplicates(candidates: list[_Candidate], problems: RowProblems) -> None:
    first_no: dict[str, int] = {}
    first_id: dict[str, int] = {}
    for c in candidates:
        seen = first_no.setdefault(c.student.student_no, c.row)
        if seen != c.row:
            problems.add(c.row, p.STUDENT_NO, f"学籍号与第 {seen} 行重复 (same as row {seen})")
        if c.student.id_number_hash is not None:
            seen = first_id.setdefault(c.student.id_number_hash, c.row)
            if seen != c.row:
                problems.add(c.row, p.ID_NUMBER, f"身份证号与第 {seen} 行重复 (same as row {seen})")


async def _database_duplicates(
    session: AsyncSession, candidates: list[_Candidate], problems: RowProblems
) -> None:
    numbers = await _chunked(
        students_repo.existing_student_nos, session, [c.student.student_no for c in candidates]
    )
    hashes = await _chunked(
        students_repo.existing_id_hashes,
        session,
        [c.student.id_number_hash for c in candidates if c.student.id_number_hash],
    )
    for c in candidates:
        if c.student.student_no in numbers:
            problems.add(c.row, p.STUDENT_NO, "学籍号已存在 (a student with this 学籍号 exists)")
        if c.student.id_number_hash in hashes:
            problems.add(
                c.row, p.ID_NUMBER, "身份证号已存在 (a student with this ID number exists)"
            )


async def _chunked(
    query: Callable[[AsyncSession, Collection[str]], Awaitable[set[str]]],
    session: AsyncSession,
    values: list[str],
) -> set[str]:
    found: set[str] = set()
    for part in slices(values):
        found |= await query(session, part)
    return found


def slices(values: Sequence[T]) -> Iterator[Sequence[T]]:
    """``values`` in slices small enough for one ``IN (...)``."""
    for start in range(0, len(values), _QUERY_CHUNK):
        yield values[start : start + _QUERY_CHUNK]


async def _write(uow: UnitOfWork, accepted: list[_Candidate]) -> None:
    uow.session.add_all([c.student for c in accepted])
    await uow.flush()  # assigns the students' ids, which their guardians need
    uow.session.add_all(
        [
            Guardian(student_id=c.student.id or 0, **g.model_dump())
            for c in accepted
            for g in c.guardians
        ]
    )
    await uow.commit()


def _key(value: str) -> str:
    """Class and grade names as people type them: full-width, spaces, brackets all vary."""
    return re.sub(r"[\s()]", "", unicodedata.normalize("NFKC", value))


_JUNIOR_NAMES = {7: "初一", 8: "初二", 9: "初三"}


class ClassIndex:
    """Finds a class of the school by 年级 + 班级, or by one name such as 三年级1班."""

    def label(self, klass: SchoolClass) -> str:
        """三年级1班: the name a report shows."""
        return self._labels.get(klass.id or 0, klass.name)

    def __init__(self, pairs: Iterable[tuple[SchoolClass, Grade]]) -> None:
        self._within: dict[tuple[str, str], set[int]] = defaultdict(set)
        self._whole: dict[str, set[int]] = defaultdict(set)
        self._classes: dict[int, SchoolClass] = {}
        self._labels: dict[int, str] = {}
        for klass, grade in pairs:
            if not klass.active or klass.id is None:
                continue
            self._classes[klass.id] = klass
            self._labels[klass.id] = full_class_name(grade.name, klass.name)
            name = _key(klass.name)
            self._whole[name].add(klass.id)
            for g in self._grade_names(grade):
                self._within[(g, name)].add(klass.id)
                if not g.isdigit():  # "31班" would be ambiguous: grade 3 class 1, or class 31?
                    self._whole[g + name].add(klass.id)

    @staticmethod
    def _grade_names(grade: Grade) -> set[str]:
        names = {grade.name, GRADE_NAMES.get(grade.level, ""), str(grade.level)}
        names |= {f"{grade.level}年级", _JUNIOR_NAMES.get(grade.level, "")}
        return {_key(n) for n in names if n}

    def find(self, grade: str, klass: str) -> SchoolClass | str:
        """The class, or why none was found."""
        if not klass:
            return "必填 (required)"
        name = _key(klass)
        tries = (name, name + "班")
        ids: set[int] = set()
        for t in tries:
            ids |= self._within.get((_key(grade), t), set()) if grade else self._whole.get(t, set())
        label = f"{grade}{klass}"
        if not ids:
            return f"本校没有“{label}”这个班级 (no such class in this school)"
        if len(ids) > 1:
            return f"“{label}”对应多个班级,请填写年级 (ambiguous: add the 年级 column)"
        return self._classes[ids.pop()]
