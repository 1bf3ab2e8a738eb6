"""Ledgers (台账) and rates (item 6): the school's 学生缺勤追踪记录表, the county's
疑似辍学学生台账 and 辍学学生台账, and the dropout / retention rates against the targets.

学生缺勤追踪记录表 (absence tracking)
-----------------------------------
One row per absence case of the school *opened* in ``[start, end]`` (school-local dates), by
opening time. 缺勤起始日期 / 连续缺勤天数: the earliest and the number of the days the case
counted (its run plus the days of its alerts that were not withdrawn); 预警级别: the case's
highest level; 联系家长时间: the first parent contact (reached or not); 书面报告提交时间: the
first written report; 处理结果: 处理中 (open), 待复学确认, or the close reason; 结案日期: the
school-local date of closing.

County ledgers (from the 控辍 status history, ``dropout_status``)
----------------------------------------------------------------
Each student's 疑似辍学 and 辍学 periods (``app/domain/dropout_status.py``: counted from the
run of unexplained absence, earlier by a return notice reported to the township or by leaving
without a transfer, 辍学 after ``dropout_after_days``), read **as of** a day (``as_of``, by
default today; one range condition ``valid_from <= day < valid_to``), so a day reads the same
however late:

- 疑似辍学学生台账: the 疑似辍学 periods covering the day; 日期 is the day it began;
- 辍学学生台账: the 辍学 periods covering the day; 日期 is the day it began.

认定依据: the period's (for 辍学, that of the 疑似辍学 before it): 连续无故缺勤超过阈值,
返校通知书 {number} 逾期未返校, or 未办理转学手续离校. Rows by school, date, student; the class
is the one the period was written for.

Rates
-----
For a school year ``Y`` (1 September Y to 31 August Y+1; by default the one containing today,
Beijing time), per school:

- **dropouts** (辍学): students whose 辍学 period began from 1 September to ``as_of`` (the
  year's end at most); **suspected_dropouts**: the 疑似辍学学生台账 as of ``as_of``;
- **enrolled** (分母): the students on the school's roll (``active``), plus the year's dropouts
  that are no longer active — the system keeps no roll history, so this stands for "enrolled at
  the start of the year";
- **辍学率** = dropouts / enrolled, **巩固率** = 1 − 辍学率 (both rounded to 4 places, null when
  nobody is enrolled);
- **入学率** needs the school-age children (适龄儿童) of the area: when the county has a list
  for the year (适龄儿童台账, app/reports/school_age.py, where it is defined), the county
  total's ``enrollment_rate`` and ``enrollment`` (per township) carry it; otherwise it is null,
  with the reason in ``enrollment_rate_note``. A school's rates have no 入学率.

A school is **above target** when its dropout rate exceeds the target of its kind: the county's
``dropout_target_primary`` / ``dropout_target_junior_middle`` (2% and 3% by default; set in the
county's alert policy, ``app/alerts/county_rules.py``).
Totals per kind of school compare with that kind's target; the overall total has none.

Access: the tracking record — the school's managers (principal, vice principal, 教务处) and
its county's admins (other staff of the school 403, anyone else 404). County ledgers and county
rates — the county's admins only (other staff of the county 403, anyone else 404). A school's
rates (``school_id``) — like the tracking record.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.alerts import status_repo
from app.alerts.county_rules import CountyRules, rules_for
from app.context import AppContext
from app.core.access import admin_county
from app.core.time import current_school_year
from app.core.time import school_year as year_of
from app.db.models import (
    County,
    School,
)
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor
from app.domain.cases import LEVEL_LABELS, AlertStatus, CaseStatus, CloseReason, Level
from app.domain.dropout_status import Basis, DropoutStatus
from app.domain.idcard import mask_student_no
from app.domain.return_notices import NoticeStatus
from app.errors import Forbidden, Invalid
from app.org.service import school_for
from app.reports import bulletin_repo, ledgers_repo, school_age
from app.reports.ledgers_schemas import (
    AbsenceTrackingOut,
    AbsenceTrackingRow,
    CountyLedgerOut,
    CountyLedgerRow,
    LedgerKind,
    RateLine,
    RatesOut,
    RateTargetsOut,
)

MAX_DAYS = 366


OUTCOME_LABELS: dict[str, str] = {
    CaseStatus.open.value: "处理中",
    CaseStatus.awaiting_reenrollment.value: "待复学确认",
    CloseReason.returned.value: "已返校",
    CloseReason.excused.value: "已补请假",
    CloseReason.withdrawn.value: "点名更正撤销",
    CloseReason.reenrolled.value: "已复学",
    CloseReason.transferred.value: "已转学",
}
SCHOOL_KIND_LABELS = {"primary": "小学", "junior_middle": "初中"}
LEDGER_TITLES = {
    LedgerKind.suspected_dropout: "疑似辍学学生台账",
    LedgerKind.dropout: "辍学学生台账",
}
LEDGER_STATUS = {LedgerKind.suspected_dropout: "疑似辍学", LedgerKind.dropout: "辍学"}
LEDGER_PERIOD = {
    LedgerKind.suspected_dropout: DropoutStatus.suspected_dropout.value,
    LedgerKind.dropout: DropoutStatus.dropout.value,
}
ENROLLMENT_NOTE = (
    "入学率需要该学年的适龄儿童台账,尚未导入,故为空;导入见 "
    "POST /api/v1/counties/{id}/school-age-children/import "
    "(no list of school-age children imported for the school year)"
)
_NOT_MANAGER = "台账仅限学校管理者和县教育局 (school managers and county admins only)"


def _share(count: int, of: int) -> float | None:
    return round(count / of, 4) if of else None


def _local(at: datetime | None, tz: ZoneInfo) -> datetime | None:
    return at.astimezone(tz) if at is not None else None


async def managed_school(uow: UnitOfWork, actor: Actor, school_id: int) -> School:
    school = await school_for(uow, actor, school_id)
    if not access.can_manage_school(actor, school_id):
        raise Forbidden(_NOT_MANAGER)
    return school


# --- 学生缺勤追踪记录表 -----------------------------------------------------------------------


async def absence_tracking(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, *, school_id: int, start: date, end: date
) -> AbsenceTrackingOut:
    if end < start:
        raise Invalid.field(("query", "end"), "end 不能早于 start (end before start)")
    if (end - start).days >= MAX_DAYS:
        raise Invalid.field(("query", "end"), f"最多 {MAX_DAYS} 天 (at most {MAX_DAYS} days)")
    school = await managed_school(uow, actor, school_id)
    tz = ZoneInfo(school.timezone)
    lo = datetime.combine(start, time(0), tz).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(0), tz).astimezone(UTC)
    session = uow.session
    cases = await ledgers_repo.cases_opened(session, school_id, lo, hi)
    ids = [c.id for c, _, _ in cases if c.id is not None]
    days: dict[int, set[str]] = defaultdict(set)
    contacted: dict[int, datetime] = {}
    reported: dict[int, datetime] = {}
    if ids:
        for cid, alert_days in await ledgers_repo.alert_days(
            session, ids, AlertStatus.withdrawn.value
        ):
            days[cid].update(alert_days)
        for cid, at in await bulletin_repo.first_contacts(session, ids):
            contacted[cid] = at
        for cid, at in await bulletin_repo.first_reports(session, ids):
            reported[cid] = at
    rows = []
    for case, student_name, class_name in cases:
        cid = case.id or 0
        counted = sorted(days[cid] | set(case.run))
        outcome = case.close_reason if case.status == CaseStatus.closed.value else case.status
        outcome = outcome or case.status
        closed = _local(case.closed_at, tz)
        rows.append(
            AbsenceTrackingRow(
                case_id=cid,
                student_id=case.student_id,
                student_name=student_name,
                class_id=case.class_id,
                class_name=class_name,
                start_date=date.fromisoformat(counted[0]) if counted else None,
                consecutive_days=len(counted),
                level=case.level,
                level_label=LEVEL_LABELS[Level(case.level)] if case.level else "",
                contacted_at=_local(contacted.get(cid), tz),
                reported_at=_local(reported.get(cid), tz),
                outcome=outcome,
                outcome_label=OUTCOME_LABELS.get(outcome, outcome),
                closed_on=closed.date() if closed else None,
            )
        )
    return AbsenceTrackingOut(
        school_id=school_id,
        school_name=school.name,
        start=start,
        end=end,
        generated_at=ctx.clock(),
        rows=rows,
    )


# --- county ledgers ---------------------------------------------------------------------------


async def county_ledger(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    *,
    county_id: int,
    kind: LedgerKind,
    as_of: date | None = None,
) -> CountyLedgerOut:
    county = await admin_county(uow, actor, county_id)
    on = await ledger_day(uow, ctx, county, as_of)
    session = uow.session
    found = await status_repo.periods_on(
        session, county_id=county_id, school_id=None, status=LEDGER_PERIOD[kind], on=on
    )
    students = {p.student_id for p, *_ in found}
    notices = await status_repo.reported_notice_numbers(
        session, students, NoticeStatus.struck_off.value
    )
    before = await status_repo.periods_ending(session, students)
    rows = []
    for period, school_name, student, class_name in found:
        why = period
        if period.basis == Basis.no_return.value:
            why = before.get((period.student_id, period.valid_from), period)
        notice = notices.get(period.student_id) if why.basis == Basis.return_notice.value else None
        rows.append(
            CountyLedgerRow(
                notice_id=notice[0] if notice else None,
                school_id=period.school_id,
                school_name=school_name,
                student_id=period.student_id,
                student_name=student.name,
                # Ledgers are read and printed by people: the 学籍号 masked like the ID number.
                student_no=mask_student_no(student.student_no),
                class_id=period.class_id,
                class_name=class_name,
                date=period.valid_from,
                status=LEDGER_STATUS[kind],
                basis=_basis(why.basis, why.basis_text, notice),
            )
        )
    return CountyLedgerOut(
        county_id=county_id,
        county_name=county.name,
        kind=kind,
        title=f"{county.name}{LEDGER_TITLES[kind]}",
        as_of=on,
        generated_at=ctx.clock(),
        rows=rows,
    )


def _basis(basis: str, text: str, notice: tuple[int, str] | None) -> str:
    if basis == Basis.return_notice.value and notice is not None:
        return f"返校通知书 {notice[1]} 逾期未返校"
    if basis == Basis.left_without_transfer.value:
        return "未办理转学手续离校"
    return text


async def ledger_day(
    uow: UnitOfWork, ctx: AppContext, county: County, as_of: date | None, *, asked: bool = True
) -> date:
    """The day a ledger is read as of: ``as_of``, by default today (the county's default
    timezone). A day after today is 422, as is a day before the county had a school day
    (its schools' first term, or their creation when no 校历 is loaded)."""
    today = ctx.clock().astimezone(ctx.default_zone()).date()
    if as_of is None:
        return today
    if not asked:  # a day the service chose (a review's month end): not the caller's input
        return min(as_of, today)
    if as_of > today:
        raise Invalid.field(("query", "as_of"), "as_of 不能晚于今天 (as_of is in the future)")
    began = await ledgers_repo.county_began(uow.session, county.id or 0)
    if began is None or as_of < began:
        since = began.isoformat() if began else "—"
        raise Invalid.field(
            ("query", "as_of"),
            f"as_of 早于本县学校的开始日期 {since} (before the county's schools existed)",
        )
    return as_of


# --- rates ------------------------------------------------------------------------------------


def _line(
    school_id: int | None,
    name: str,
    kind: str | None,
    counts: tuple[int, int, int],
    targets: CountyRules | None,
) -> RateLine:
    enrolled, suspected, dropouts = counts
    rate = _share(dropouts, enrolled)
    goal = targets.target_for(kind) if targets is not None else None
    return RateLine(
        school_id=school_id,
        name=name,
        kind=kind,
        enrolled=enrolled,
        suspected_dropouts=suspected,
        dropouts=dropouts,
        dropout_rate=rate,
        retention_rate=round(1 - rate, 4) if rate is not None else None,
        target=goal,
        above_target=rate is not None and goal is not None and rate > goal,
    )


async def rates(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    *,
    county_id: int | None,
    school_id: int | None,
    school_year: int | None,
    as_of: date | None = None,
    month_end: date | None = None,
    county_schools: list[School] | None = None,
) -> RatesOut:
    """``month_end``: a review's rates, as of the end of its month (or today, if sooner);
    ``county_schools``: the county's schools by id, when the caller (the county review) has
    read them already."""
    county = await _rates_county(uow, actor, county_id, school_id)
    county_id = county.id
    session = uow.session
    targets = await rules_for(session, county.id or 0)
    if school_year is None and as_of is not None:
        school_year = year_of(as_of)
    year = (
        school_year
        if school_year is not None
        else current_school_year(ctx.clock(), ctx.default_zone())
    )
    lo, hi = date(year, 9, 1), date(year + 1, 8, 31)
    if county_schools is not None and school_id is None:
        schools = county_schools
    else:
        schools = await ledgers_repo.schools(session, county_id, school_id)
    if month_end is not None:
        on = min(await ledger_day(uow, ctx, county, month_end, asked=False), hi)
    else:
        on = min(await ledger_day(uow, ctx, county, as_of), hi)
    counts = await _school_counts(uow, county_id, school_id, lo, on)
    lines, by_kind, total = _rate_lines(county, schools, counts, targets)
    # 入学率 from the 适龄儿童台账 (county only).
    enrollment = await school_age.enrollment(
        uow,
        county_id=county.id or 0,
        county_name=county.name,
        school_year=year,
        per_school=school_id is not None,
    )
    if enrollment.total is not None:
        total.enrollment_rate = enrollment.total.enrollment_rate
    return RatesOut(
        county_id=county.id or 0,
        county_name=county.name,
        school_year=year,
        period_start=lo,
        period_end=hi,
        as_of=on,
        generated_at=ctx.clock(),
        targets=RateTargetsOut(
            primary=targets.dropout_target_primary,
            junior_middle=targets.dropout_target_junior_middle,
        ),
        enrollment_rate_note=enrollment.note or ENROLLMENT_NOTE,
        enrollment=enrollment.townships,
        enrollment_total=enrollment.total,
        schools=lines,
        by_kind=by_kind,
        total=total,
        schools_above_target=[ln.school_id for ln in lines if ln.above_target and ln.school_id],
    )


async def _rates_county(
    uow: UnitOfWork, actor: Actor, county_id: int | None, school_id: int | None
) -> County:
    """The county the rates are of: the one asked for (its admins), or the school's (its
    managers); exactly one of the two is given (422)."""
    if (county_id is None) == (school_id is None):
        raise Invalid.field(
            ("query", "county_id"), "county_id 与 school_id 须且只能给一个 (exactly one of them)"
        )
    if school_id is not None:
        one = await managed_school(uow, actor, school_id)
        found = await uow.session.get(County, one.county_id)
        assert found is not None
        return found
    assert county_id is not None
    return await admin_county(uow, actor, county_id)


async def _school_counts(
    uow: UnitOfWork, county_id: int | None, school_id: int | None, lo: date, on: date
) -> dict[int, tuple[int, int, int]]:
    """Per school: (enrolled, 疑似辍学 on ``on``, 辍学 since ``lo``). A dropout no longer on
    the roll still counts among the enrolled: the rate is of the children the school had."""
    session = uow.session
    enrolled = await ledgers_repo.enrolled_by_school(session, county_id, school_id)
    dropouts: dict[int, int] = defaultdict(int)
    for sid, _, active in await status_repo.began_between(
        session,
        county_id=county_id,
        school_id=school_id,
        status=DropoutStatus.dropout.value,
        lo=lo,
        hi=on,
    ):
        dropouts[sid] += 1
        if not active:
            enrolled[sid] = enrolled.get(sid, 0) + 1
    suspects: dict[int, set[int]] = defaultdict(set)
    for period, *_ in await status_repo.periods_on(
        session,
        county_id=county_id,
        school_id=school_id,
        status=DropoutStatus.suspected_dropout.value,
        on=on,
    ):
        suspects[period.school_id].add(period.student_id)
    return {
        sid: (enrolled.get(sid, 0), len(suspects.get(sid, ())), dropouts.get(sid, 0))
        for sid in {*enrolled, *suspects, *dropouts}
    }


def _rate_lines(
    county: County,
    schools: list[School],
    counts: dict[int, tuple[int, int, int]],
    targets: CountyRules,
) -> tuple[list[RateLine], list[RateLine], RateLine]:
    """One line per school, one per kind of school, and the county's total."""
    lines: list[RateLine] = []
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for s in schools:
        sid = s.id or 0
        school_counts = counts.get(sid, (0, 0, 0))
        lines.append(_line(sid, s.name, s.kind, school_counts, targets))
        for i, n in enumerate(school_counts):
            per_kind[s.kind][i] += n
    by_kind = [
        _line(
            None, f"{county.name}{SCHOOL_KIND_LABELS.get(k, k)}合计", k, (c[0], c[1], c[2]), targets
        )
        for k, c in sorted(per_kind.items())
    ]
    total = _line(
        None,
        f"{county.name}合计",
        None,
        (
            sum(c[0] for c in per_kind.values()),
            sum(c[1] for c in per_kind.values()),
            sum(c[2] for c in per_kind.values()),
        ),
        None,
    )
    return lines, by_kind, total
