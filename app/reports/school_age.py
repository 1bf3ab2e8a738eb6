"""The county's 适龄儿童台账 (register of school-age children, 教基厅函〔2024〕15号): the
townships' lists imported by the county bureau, each child matched to the roster, and the
入学率 (enrollment rate) of the county and its townships.

The list
--------
One list per county and school year (``school_year`` = the year it starts in: 2026 is
1 September 2026 to 31 August 2027, as in the rates; by default the one containing today,
Beijing time). A child is on a year's list once: the ID number's keyed hash — the same hash
``Student`` keeps — is unique per year; the same ID on another county's list for that year is
a row error. Name, ID number and 乡镇 are required; gender and birth date come from the ID
number.

Import (CSV in UTF-8 or GBK, or XLSX, read like the student roster; headers 姓名, 身份证号,
乡镇, 村(社区), 户籍地址, 监护人, 联系电话, 就学情况, 备注, with a few common other spellings):

- 乡镇: a township of the county, by name (spaces and full-width forms ignored), or by name
  without its 镇 / 乡 / 街道 ending when that is unambiguous (青山 → 青山镇); townships have no
  code in this system, so there is no match by code. Unknown or ambiguous → row error;
- 身份证号 checked by GB 11643 (length, check character, birth date); one that Excel turned
  into a number is refused with advice; the same ID twice in the file → the later row's error;
- 就学情况: blank, 缓学 (deferred), 免学 (exempt), 外出就读 or 随迁就读 (elsewhere); anything
  else → row error; 联系电话: a mobile or landline number (7–12 digits once ``-``, spaces and
  +86 are removed);
- ``all_or_nothing`` (default): any bad row → nothing written, 422 with one item per problem;
  ``valid_only``: the good rows are written, 200 with the report;
- a child already on the year's list is updated, not added: its name and 乡镇 and every other
  column *present in the file* are replaced (a blank cell clears the value; a column the file
  lacks leaves the value alone). Importing the same file twice changes nothing (``unchanged``).

就学状态 (the ledger's status of each child)
--------------------------------------------
The child is matched to the student with the same ID-number hash — at any school in the
system, since a child registered in one county may study in another (随迁) and the county
already holds the child's identity. The first rule that applies wins:

1. 辍学 / 疑似辍学: the student's 控辍 status today, from the status history
   (app/domain/dropout_status.py: the run of unexplained absence, a return notice reported to
   the township, leaving without a transfer) — exactly the children of the county ledgers
   辍学学生台账 / 疑似辍学学生台账 (app/reports/ledgers.py) — or the student's 学籍 status is
   ``15`` (下落不明, left without a transfer);
2. 转出: 学籍 status ``10`` (an approved transfer, signed by the receiving school);
3. 休学: an active student with status ``02``;
4. 在读: an active student with status ``01`` (在读) or ``05`` (复学);
5. otherwise (no student with this ID number, or one deactivated from a roll) the status the
   township declared: 缓学, 免学, 外出就读 (随迁就读 included);
6. otherwise 未入学: on no school's roll in the system and not explained — the children the
   township must find (防辍保学工作方案: a child not arrived within a week of term start gets a home
   visit, or the village committee is asked).

What the roster says wins over the declaration (a child declared 缓学 who is on a roll is
在读). 学校 / 班级 / 学籍号 are the matched student's (for 转出: the school they left) and are
shown only for statuses 1–4.

The ledger (``GET /counties/{id}/ledgers/school-age-children``, JSON or XLSX): the year's
children, optionally of one township (``township_id``) and of one status (``status``); rows
by township, then 村(社区) (the database's collation; none last), then import order, numbered
序号 from 1. The summary
counts the rows listed: per status (every status, zeros included) and per township. XLSX:
sheet 适龄儿童台账 (序号, 姓名, 性别, 出生日期, 身份证号 masked, 乡镇, 村(社区), 监护人, 就学状态,
学校, 班级, 学籍号, 备注) and sheet 汇总 (per township and 合计).

入学率 (enrollment rate)
-----------------------
For a county with a list for the school year, per township and for the county:
**入学率 = 已入学 / 应入学**, where 已入学 = 在读 + 休学 + 转出 + 外出就读 and 应入学 = children on
the list − 免学 − 缓学 (rounded to 4 places, null when 应入学 is 0). 转出 counts as enrolled:
the transfer was approved with the receiving school's signature. 疑似辍学, 辍学 and 未入学 count
in 应入学 only. The list has no status for a child who died or left the country: the
township records them as 免学, with the reason in 备注. Without a list for the year the rate
stays null with the reason (``ENROLLMENT_NOTE`` in ledgers.py); a school's rates carry no
入学率 (children are listed by township, not by school).

Access: the county's admins and superusers (other staff of the county 403, anyone else 404),
as the county ledgers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from pydantic_core import to_json

from app.context import AppContext
from app.core import read_scope
from app.core.access import admin_county
from app.core.gc import gc_paused
from app.core.report_files import ReportFile
from app.core.time import current_school_year
from app.core.xlsx import CellValue, Sheet, workbook_bytes
from app.db.uow import UnitOfWork
from app.domain.access import Actor
from app.domain.idcard import mask_student_no
from app.domain.return_notices import NoticeStatus
from app.domain.school_age import CHILD_STATUS_LABELS, ChildStatus, DeclaredStatus
from app.domain.students import GENDER_LABELS, MISSING, RESUMED, STUDYING, SUSPENDED, TRANSFERRED
from app.errors import NotFound
from app.reports import school_age_repo as repo
from app.reports.ledgers_schemas import EnrollmentLine
from app.reports.school_age_repo import DROPOUT, SUSPECTED
from app.reports.school_age_schemas import (
    SchoolAgeLedgerOut,
    SchoolAgeSummary,
    StatusCount,
    TownshipCount,
)

STATUS_ORDER = tuple(CHILD_STATUS_LABELS)
ENROLLED = frozenset(
    {
        ChildStatus.studying,
        ChildStatus.suspended,
        ChildStatus.transferred,
        ChildStatus.elsewhere,
    }
)
NOT_DUE = frozenset({ChildStatus.exempt, ChildStatus.deferred})
# Statuses that come from the matched student (rules 1–4): the row shows their school.
_FROM_ROSTER = frozenset(
    {
        ChildStatus.dropout,
        ChildStatus.suspected_dropout,
        ChildStatus.transferred,
        ChildStatus.suspended,
        ChildStatus.studying,
    }
)
_DECLARED_STATUS = {
    DeclaredStatus.deferred.value: ChildStatus.deferred,
    DeclaredStatus.exempt.value: ChildStatus.exempt,
    DeclaredStatus.elsewhere.value: ChildStatus.elsewhere,
}
# 学籍 status codes (JY/T 1001) as app/transfers/ (service.py, suspensions.py) sets them.
PER_SCHOOL_NOTE = (
    "入学率按县和乡镇统计(适龄儿童按乡镇登记),请查看县级指标 "
    "(computed for the county and its townships, not per school)"
)


def child_status(
    declared: str, student_status: str | None, active: bool | None, notice_level: int | None
) -> ChildStatus:
    """The rules of the module docstring, in order. ``student_status`` is the 学籍 status of
    the student with the child's ID number (None: no such student), ``notice_level`` that
    student's most serious escalated return notice (app/reports/school_age_repo.py)."""
    if student_status is not None:
        if notice_level == DROPOUT:
            return ChildStatus.dropout
        if notice_level == SUSPECTED or student_status == MISSING:
            return ChildStatus.suspected_dropout
        if student_status == TRANSFERRED:
            return ChildStatus.transferred
        if active and student_status == SUSPENDED:
            return ChildStatus.suspended
        if active and student_status in (STUDYING, RESUMED):
            return ChildStatus.studying
    return _DECLARED_STATUS.get(declared, ChildStatus.not_enrolled)


# --- the ledger -------------------------------------------------------------------------------


async def _township_filter(uow: UnitOfWork, county_id: int, township_id: int | None) -> None:
    if township_id is None:
        return
    found = await repo.township(uow.session, township_id)
    if found is None or found.county_id != county_id:
        raise NotFound("乡镇", township_id)


@dataclass(frozen=True, slots=True)
class Register:
    """The ledger as the service builds it: the answer without its rows (``head``, its
    ``rows`` empty) and the rows as plain dicts of ``SchoolAgeRow``'s fields in its order,
    holding what the model would hold. A county's register is 50,000 rows: as models they
    cost most of the answer's time (issue 24 item 7), and the JSON and XLSX writers only
    read them."""

    head: SchoolAgeLedgerOut
    rows: list[dict[str, Any]]


# A declared status as the model checks it: one of DeclaredStatus (a stored other is an error).
_DECLARED = {d.value: d.value for d in DeclaredStatus}


async def register(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    *,
    county_id: int,
    school_year: int | None,
    township_id: int | None,
    status: ChildStatus | None,
) -> Register:
    county = await admin_county(uow, actor, county_id)
    await _township_filter(uow, county_id, township_id)
    year = (
        school_year
        if school_year is not None
        else current_school_year(ctx.clock(), ctx.default_zone())
    )
    found = await repo.register_rows(
        uow.session,
        county_id=county_id,
        school_year=year,
        township_id=township_id,
        escalated=NoticeStatus.escalated.value,
    )
    names = await repo.names_of(
        uow.session,
        {r.township_id for r in found},
        {r.school_id for r in found if r.school_id is not None},
        {r.class_id for r in found if r.class_id is not None},
    )
    with gc_paused():
        rows = _rows(found, names, status)
        del found  # freed here, before the collector is back (app/core/gc.py)
    # What building each row as a ``Row`` model would have told the access log.
    read_scope.note(r["student_id"] for r in rows)
    head = SchoolAgeLedgerOut(
        county_id=county_id,
        county_name=county.name,
        school_year=year,
        title=f"{county.name}{year}学年适龄儿童台账",
        township_id=township_id,
        status=status,
        generated_at=ctx.clock(),
        summary=_summary(rows),
        rows=[],
    )
    return Register(head, rows)


# What a row shows of each status: (status, its value, its label, whether the matched
# student's school is shown), looked up once per row by identity of the status.
_SHOWN = {s: (s, s.value, CHILD_STATUS_LABELS[s], s in _FROM_ROSTER) for s in ChildStatus}


def _rows(
    found: list[repo.RegisterRow], names: repo.Names, only: ChildStatus | None
) -> list[dict[str, Any]]:
    """The rows (``Register``), numbered from 1, of ``only``'s status when given. Many
    children share everything their status depends on (a handful of combinations for
    50,000 children), so each combination's status is worked out once. A ledger for
    people: the 学籍号 masked like the ID number beside it."""
    shown: dict[tuple[Any, ...], tuple[ChildStatus, str, str, bool]] = {}
    declared_as = _DECLARED
    townships, schools, classes = names
    rows: list[dict[str, Any]] = []
    append = rows.append
    seq = 0
    for r in found:
        key = (r.declared, r.student_status, r.student_active, r.notice_level)
        what = shown.get(key)
        if what is None:
            what = shown[key] = _SHOWN[child_status(*key)]
        if only is not None and what[0] is not only:
            continue
        seq += 1
        # One dict per row (SchoolAgeRow's fields in its order: the JSON answer is this dump)
        no = r.student_no
        shows_school = what[3]
        append(
            {
                "seq": seq,
                "child_id": r.child_id,
                "name": r.name,
                "gender": r.gender,
                "birth_date": r.birth_date,
                "id_number_masked": r.id_number_masked,
                "township_id": r.township_id,
                "township_name": townships[r.township_id],
                "village": r.village,
                "address": r.address,
                "guardian_name": r.guardian_name,
                "guardian_phone": r.guardian_phone,
                "declared": declared_as[r.declared],
                "status": what[1],
                "status_label": what[2],
                "student_id": r.student_id if shows_school else None,
                "school_id": r.school_id if shows_school else None,
                "school_name": schools.get(r.school_id) if shows_school else None,
                "class_id": r.class_id if shows_school else None,
                "class_name": classes.get(r.class_id) if shows_school else None,
                "student_no": mask_student_no(no) if shows_school and no else None,
                "note": r.note,
            }
        )
    return rows


def _summary(rows: list[dict[str, Any]]) -> SchoolAgeSummary:
    per: Counter[tuple[int, str]] = Counter((r["township_id"], r["status"]) for r in rows)
    names = {r["township_id"]: r["township_name"] for r in rows}
    overall: Counter[str] = Counter()
    for (_, s), n in per.items():
        overall[s] += n
    return SchoolAgeSummary(
        total=len(rows),
        by_status=[
            StatusCount(status=s, label=CHILD_STATUS_LABELS[s], count=overall[s.value])
            for s in STATUS_ORDER
        ],
        by_township=[
            TownshipCount(
                township_id=tid,
                township_name=names[tid],
                total=sum(per[(tid, s.value)] for s in STATUS_ORDER),
                counts={s: per[(tid, s.value)] for s in STATUS_ORDER},
            )
            for tid in sorted(names)
        ],
    )


def register_json(reg: Register) -> bytes:
    """The register's JSON answer, byte for byte ``SchoolAgeLedgerOut``'s dump (aliases, every
    field): the head dumped by its model and the rows as they are, all encoded in one
    pydantic-core pass."""
    body = reg.head.model_dump(mode="json", by_alias=True)
    body["rows"] = reg.rows
    return to_json(body)


# The XLSX's columns (序号, 姓名, 性别, 出生日期, 身份证号, 乡镇, 村(社区), 监护人, 就学状态,
# 学校, 班级, 学籍号, 备注), picked from a row.
_XLSX_COLUMNS = itemgetter(
    "seq",
    "name",
    "gender",
    "birth_date",
    "id_number_masked",
    "township_name",
    "village",
    "guardian_name",
    "status_label",
    "school_name",
    "class_name",
    "student_no",
    "note",
)


def register_xlsx(ctx: AppContext, reg: Register) -> ReportFile:
    with gc_paused():  # 50,000 lists of cells, no cycles
        return _register_xlsx(ctx, reg)


def _register_xlsx(ctx: AppContext, reg: Register) -> ReportFile:
    out = reg.head
    rows: list[list[CellValue]] = []
    for r in reg.rows:
        cells = list(_XLSX_COLUMNS(r))
        cells[2] = GENDER_LABELS.get(cells[2], cells[2])
        rows.append(cells)
    summary: list[list[CellValue]] = [
        [t.township_name, t.total, *(t.counts[s] for s in STATUS_ORDER)]
        for t in out.summary.by_township
    ]
    summary.append(["合计", out.summary.total, *(c.count for c in out.summary.by_status)])
    day = out.generated_at.astimezone(ctx.default_zone())
    content = workbook_bytes(
        [
            Sheet(
                name="适龄儿童台账",
                title=f"{out.title}  {day:%Y-%m-%d}",
                headers=(
                    "序号",
                    "姓名",
                    "性别",
                    "出生日期",
                    "身份证号",
                    "乡镇",
                    "村(社区)",
                    "监护人",
                    "就学状态",
                    "学校",
                    "班级",
                    "学籍号",
                    "备注",
                ),
                rows=rows,
                widths=(6, 10, 6, 12, 22, 12, 14, 10, 10, 18, 10, 22, 24),
            ),
            Sheet(
                name="汇总",
                title=f"{out.title}  汇总",
                headers=("乡镇", "合计", *(CHILD_STATUS_LABELS[s] for s in STATUS_ORDER)),
                rows=summary,
                widths=(14, 8, *(8 for _ in STATUS_ORDER)),
            ),
        ]
    )
    return ReportFile(
        content,
        f"{out.title}_{day:%Y%m%d}.xlsx",
        f"school-age-children-county-{out.county_id}-{out.school_year}-{day:%Y%m%d}.xlsx",
    )


# --- 入学率 -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Enrollment:
    """入学率 for the county rates: ``note`` is None when the county has no list for the
    year (the rates' own note then applies)."""

    townships: list[EnrollmentLine]
    total: EnrollmentLine | None
    note: str | None


def _enrollment_line(township_id: int | None, name: str, c: Counter[ChildStatus]) -> EnrollmentLine:
    children = sum(c.values())
    due = children - sum(c[s] for s in NOT_DUE)
    enrolled = sum(c[s] for s in ENROLLED)
    return EnrollmentLine(
        township_id=township_id,
        name=name,
        children=children,
        exempt=c[ChildStatus.exempt],
        deferred=c[ChildStatus.deferred],
        due=due,
        enrolled=enrolled,
        enrollment_rate=round(enrolled / due, 4) if due else None,
    )


async def enrollment(
    uow: UnitOfWork, *, county_id: int, county_name: str, school_year: int, per_school: bool
) -> Enrollment:
    """The county's 入学率 for the year, per township and in total (for a school's rates,
    ``per_school``, only the note saying why there is none)."""
    session = uow.session
    if per_school:
        listed = await repo.has_list(session, county_id, school_year)
        return Enrollment([], None, PER_SCHOOL_NOTE if listed else None)
    groups = await repo.status_groups(
        session,
        county_id=county_id,
        school_year=school_year,
        escalated=NoticeStatus.escalated.value,
    )
    if not groups:
        return Enrollment([], None, None)
    per: dict[int, Counter[ChildStatus]] = defaultdict(Counter)
    for g in groups:
        status = child_status(g.declared, g.student_status, g.student_active, g.notice_level)
        per[g.township_id][status] += g.children
    names = {
        t.id: t.name for t in await repo.townships_of(session, county_id, include_inactive=True)
    }
    total: Counter[ChildStatus] = Counter()
    for c in per.values():
        total.update(c)
    line = _enrollment_line(None, f"{county_name}合计", total)
    return Enrollment(
        townships=[_enrollment_line(t, names.get(t, str(t)), per[t]) for t in sorted(per)],
        total=line,
        note=(
            "入学率 = (在读+休学+转出+外出就读) / (名单人数 − 免学 − 缓学),据 "
            f"{school_year} 学年适龄儿童台账({line.children} 人) "
            "(enrolled / children on the list less 免学 and 缓学)"
        ),
    )
