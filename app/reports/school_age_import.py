"""Importing a county's list of school-age children (the rules: app/reports/school_age.py)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import anyio.to_thread

from app.context import AppContext
from app.core.access import admin_county
from app.core.tables import DEFAULT_LIMITS, ImportMode, ReadLimits
from app.core.time import current_school_year
from app.db.models import SchoolAgeChild, Township
from app.db.uow import UnitOfWork
from app.domain.access import Actor
from app.domain.idcard import parse_id_number
from app.domain.school_age import DeclaredStatus
from app.reports import school_age_repo as repo
from app.reports.school_age_schemas import SchoolAgeImportReport
from app.roster import parse as p
from app.roster.imports import RowProblems, TableColumns, read_table, slices

NAME, ID_NUMBER, TOWNSHIP, VILLAGE, ADDRESS = "姓名", "身份证号", "乡镇", "村", "户籍地址"
GUARDIAN, PHONE, DECLARED, NOTE = "监护人", "联系电话", "就学情况", "备注"
COLUMNS = TableColumns(
    key=NAME,
    known=frozenset({NAME, ID_NUMBER, TOWNSHIP, VILLAGE, ADDRESS, GUARDIAN, PHONE, DECLARED, NOTE}),
    required=(NAME, ID_NUMBER, TOWNSHIP),
    aliases={
        "儿童姓名": NAME,
        **dict.fromkeys(("乡", "乡镇街道", "乡镇名称", "所属乡镇", "街道"), TOWNSHIP),
        **dict.fromkeys(
            ("村社区", "村/社区", "村居", "社区", "村委会", "村居委会", "行政村", "所在村"), VILLAGE
        ),
        **dict.fromkeys(
            ("户籍地", "户籍所在地", "户口所在地", "家庭住址", "家庭地址", "住址", "地址"), ADDRESS
        ),
        "家长": GUARDIAN,
        **dict.fromkeys(("电话", "监护人联系电话"), PHONE),
        **dict.fromkeys(("就学状态", "就读情况", "入学情况"), DECLARED),
        "说明": NOTE,
    },
)
# The header a problem names, as the template writes it.
_SHOWN = {VILLAGE: "村(社区)"}
_MAX = {NAME: 50, VILLAGE: 100, ADDRESS: 200, GUARDIAN: 50, NOTE: 500}
_DECLARED_FROM_LABEL = {
    "": DeclaredStatus.none,
    "缓学": DeclaredStatus.deferred,
    "免学": DeclaredStatus.exempt,
    **dict.fromkeys(("外出就读", "随迁就读", "外出", "随迁", "异地就读"), DeclaredStatus.elsewhere),
}
_BAD_DECLARED = (
    "就学情况应为空、缓学、免学、外出就读或随迁就读 (blank, 缓学, 免学, 外出就读 or 随迁就读)"
)
_PHONE = re.compile(r"^\d{7,12}$")
_BAD_PHONE = "联系电话应为手机号或座机号 (a mobile or landline number)"
_OTHER_COUNTY = "该儿童已在其他县 {year} 学年的名单上 (on another county's list for this year)"
# Columns → the SchoolAgeChild field they set (姓名 and 乡镇 are always present).
_FIELD_OF = {
    VILLAGE: "village",
    ADDRESS: "address",
    GUARDIAN: "guardian_name",
    PHONE: "guardian_phone",
    DECLARED: "declared",
    NOTE: "note",
}


def read_list(data: bytes, filename: str | None, limits: ReadLimits = DEFAULT_LIMITS) -> p.Roster:
    """The uploaded list as rows; ``FileError`` when it is not one, ``TooLarge`` beyond
    ``limits``."""
    return read_table(data, filename, COLUMNS, limits)


def _key(value: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value))


_ENDING = re.compile(r"(街道|镇|乡)$")


class TownshipIndex:
    """The county's townships by name, or by name without 镇 / 乡 / 街道 when unambiguous."""

    def __init__(self, townships: list[Township]) -> None:
        self._full: dict[str, list[Township]] = defaultdict(list)
        self._short: dict[str, list[Township]] = defaultdict(list)
        for t in townships:
            self._full[_key(t.name)].append(t)
            self._short[_ENDING.sub("", _key(t.name))].append(t)

    def find(self, value: str) -> Township | str:
        """The township, or why none was found."""
        if not value:
            return "必填 (required)"
        found = self._full.get(_key(value)) or self._short.get(_ENDING.sub("", _key(value)), [])
        if not found:
            return f"本县没有“{value}”这个乡镇 (no such township in this county)"
        if len(found) > 1:
            return f"“{value}”对应多个乡镇,请写全称 (ambiguous: write the full name)"
        return found[0]


@dataclass
class _Candidate:
    """A row whose ID number could be read (its other cells may still have problems)."""

    row: int
    id_number: str
    id_hash: str
    values: dict[str, object]  # SchoolAgeChild field → value


def _check_row(
    ctx: AppContext,
    townships: TownshipIndex,
    present: frozenset[str],
    row: p.Row,
    problems: RowProblems,
) -> _Candidate | None:
    cells, n = row.cells, row.number
    values: dict[str, object] = {}

    def text(column: str) -> str | None:
        value = p.text(cells.get(column))
        if len(value) > _MAX[column]:
            most = _MAX[column]
            problems.add(n, _SHOWN.get(column, column), f"过长,最多 {most} 个字 (at most {most})")
        return value or None

    name = text(NAME)
    if name is None:
        problems.add(n, NAME, "必填 (required)")
    values["name"] = name
    parsed = None
    try:
        raw = p.id_text(cells.get(ID_NUMBER))
        if not raw:
            problems.add(n, ID_NUMBER, "必填 (required)")
        else:
            parsed = parse_id_number(raw)
    except ValueError as exc:  # InvalidIdNumber, or Excel's number
        problems.add(n, ID_NUMBER, str(exc))
    township = townships.find(p.text(cells.get(TOWNSHIP)))
    if isinstance(township, str):
        problems.add(n, TOWNSHIP, township)
    else:
        values["township_id"] = township.id
    for column in (VILLAGE, ADDRESS, GUARDIAN, NOTE):
        if column in present:
            values[_FIELD_OF[column]] = text(column)
    if PHONE in present:
        phone = p.mobile_text(cells.get(PHONE))
        if phone and not _PHONE.match(phone):
            problems.add(n, PHONE, _BAD_PHONE)
        values["guardian_phone"] = phone or None
    if DECLARED in present:
        declared = _DECLARED_FROM_LABEL.get(p.compact(cells.get(DECLARED)))
        if declared is None:
            problems.add(n, DECLARED, _BAD_DECLARED)
        else:
            values["declared"] = declared.value
    if parsed is None:
        return None
    values |= {"gender": parsed.gender, "birth_date": parsed.birth_date}
    return _Candidate(n, parsed.value, ctx.cipher.blind_index(parsed.value), values)


async def import_target(uow: UnitOfWork, actor: Actor, county_id: int) -> None:
    """Who may import a county's list: 404 outside the county, 403 for its other staff."""
    await admin_county(uow, actor, county_id)


async def import_children(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    county_id: int,
    table: p.Roster,
    *,
    school_year: int | None,
    mode: ImportMode = ImportMode.all_or_nothing,
    on_row: Callable[[], object] | None = None,
) -> SchoolAgeImportReport:
    """Check every row (calling ``on_row`` after each: the import's time limit), then add or
    update the accepted children and commit once."""
    await admin_county(uow, actor, county_id)
    year = (
        school_year
        if school_year is not None
        else current_school_year(ctx.clock(), ctx.default_zone())
    )
    townships = TownshipIndex(await repo.townships_of(uow.session, county_id))
    problems = RowProblems()
    candidates: list[_Candidate] = []
    first: dict[str, int] = {}

    def check_rows() -> None:
        for row in table.rows:
            if on_row is not None:
                on_row()
            c = _check_row(ctx, townships, table.columns, row, problems)
            if c is None:
                continue
            seen = first.setdefault(c.id_hash, c.row)
            if seen != c.row:
                problems.add(c.row, ID_NUMBER, f"身份证号与第 {seen} 行重复 (same as row {seen})")
            candidates.append(c)

    # CPU work (ID check characters, blind indexes) off the event loop.
    await anyio.to_thread.run_sync(check_rows)
    existing: dict[str, SchoolAgeChild] = {}
    for part in slices(list(first)):
        existing |= await repo.children_by_hash(uow.session, year, part)
    for c in candidates:
        found = existing.get(c.id_hash)
        if found is not None and found.county_id != county_id:
            problems.add(c.row, ID_NUMBER, _OTHER_COUNTY.format(year=year))
    bad = problems.rows
    accepted = [] if bad and mode is ImportMode.all_or_nothing else candidates
    accepted = [c for c in accepted if c.row not in bad]
    counts: Counter[str] = Counter()
    now = ctx.clock()
    for c in accepted:
        found = existing.get(c.id_hash)
        counts[_write(uow, ctx, c, found, county_id=county_id, year=year, now=now)] += 1
    if accepted:
        await uow.commit()
    return SchoolAgeImportReport(
        county_id=county_id,
        school_year=year,
        mode=mode,
        total=len(table.rows),
        imported=len(accepted),
        created=counts["created"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        rejected=len(bad),
        problems=problems.report(ctx.settings.import_max_problems),
        problem_count=len(problems.found),
    )


def _write(
    uow: UnitOfWork,
    ctx: AppContext,
    c: _Candidate,
    child: SchoolAgeChild | None,
    *,
    county_id: int,
    year: int,
    now: datetime,
) -> str:
    """Add the child, or update the one already on the list; says which (or unchanged)."""
    if child is None:
        uow.session.add(
            SchoolAgeChild(
                county_id=county_id,
                school_year=year,
                id_number_enc=ctx.cipher.encrypt(c.id_number),
                id_number_hash=c.id_hash,
                id_number_masked=parse_id_number(c.id_number).masked,
                created_at=now,
                updated_at=now,
                **c.values,  # type: ignore[arg-type]
            )
        )
        return "created"
    changed = {k: v for k, v in c.values.items() if getattr(child, k) != v}
    if not changed:
        return "unchanged"
    for k, v in changed.items():
        setattr(child, k, v)
    child.updated_at = now
    uow.session.add(child)
    return "updated"
