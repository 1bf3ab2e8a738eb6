"""Bulletins and reviews (item 6): the school's monthly review (月研判), the county's weekly
bulletin (县周通报) and monthly review (县月研判), and the school's 劝返复学谈话记录册.

Monthly review (月研判)
----------------------
``month`` is ``YYYY-MM``; the period is the first of the month 00:00 to the first of the next
month 00:00, school time. Alerts by level, verified within 48 h, the per-head-teacher lines,
open cases at the end and returns are the weekly bulletin's figures over that period (same
definitions and queries: ``app.reports.bulletin.period_figures``). In addition:

- **weeks**: alerts by level per week (Monday to Sunday), each week clipped to the month — so
  the first and last entries may be shorter than seven days; they add up to the month's alerts;
- **open_cases**: the cases counted in ``open_cases_at_end``, one line each (by opening time),
  with the case's highest level and ``days_open`` = (first day of the next month − the
  school-local opening date) in days.

County weekly bulletin (县周通报)
-------------------------------
For each school of the county (by id; each in its own timezone) the weekly bulletin's alerts by
level, verified within 48 h, open cases at the end of the week and returns; the county total
adds the counts (its share is computed from the summed counts).

County monthly review (县月研判)
------------------------------
``month`` as in the monthly review; each school of the county (by id) over its own month
(school-local midnights, each school in its own timezone), with the county bulletin's figures
and in addition, from the school's head-teacher lines (``period_figures``):

- **cases_opened**: the cases of the school opened in the month (the lines' ``cases`` added);
- **contacted_within_1h** / **reported_within_24h**: the lines' counts added over their
  denominators added (so a class with no case weighs nothing).

The county total adds every count and computes each share from the summed counts. ``rates`` is
``app.reports.ledgers.rates`` for the county and the school year containing the month
(September to December: that year; January to August: the year before): 辍学率, 巩固率 and,
when the county has its 适龄儿童台账, 入学率, against the targets. Those rates follow the
ledgers' definitions as of the month's last day (or today, within the month): suspected
dropouts on that day and dropouts from September to that day, from the status history, so a
month reads the same however late; only the denominator (the students on the roll) is today's.

劝返复学谈话记录册
-----------------
One row per persuasion talk of the school's cases with ``talked_on`` in ``[start, end]``, by
date then id: 日期, 学生, 班级 (the case's class), 谈话对象, 谈话人, 内容.

Access: the monthly review and the talk ledger — the school's managers and its county's admins
(other staff of the school 403, anyone else 404); the county bulletin and the county monthly
review — the county's admins (other staff of the county 403, anyone else 404).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from app.context import AppContext
from app.core.access import admin_county
from app.core.time import school_year
from app.core.types import DATE_MAX, DATE_MIN
from app.db.models import School
from app.db.uow import UnitOfWork
from app.domain.access import Actor
from app.domain.cases import LEVEL_LABELS, LEVELS, AlertStatus, Level
from app.errors import Invalid
from app.reports import ledgers, reviews_repo
from app.reports.bulletin import (
    ClassCounts,
    HeadTeachers,
    PeriodFigures,
    local_span,
    period_figures,
    rate,
    schools_period_figures,
)
from app.reports.bulletin_schemas import AlertsByLevel
from app.reports.early_warning import school_counts
from app.reports.ledgers import MAX_DAYS, managed_school
from app.reports.reviews_schemas import (
    CountyBulletinOut,
    CountyMonthlyReviewOut,
    CountyReviewLine,
    CountySchoolLine,
    MonthlyReviewOut,
    OpenCaseLine,
    TalkLedgerOut,
    TalkLedgerRow,
    WeekAlerts,
)

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(month: str) -> tuple[date, date]:
    """``YYYY-MM`` → (first day, first day of the next month)."""
    m = _MONTH.match(month)
    if m is None:
        raise Invalid.field(("query", "month"), "month 须为 YYYY-MM 格式 (must be YYYY-MM)")
    year = int(m.group(1))
    # Year 0000 matches the pattern but is no date: judged out of range like 1999 or 2101.
    first = date(year, int(m.group(2)), 1) if year >= 1 else date.min
    if not DATE_MIN <= first <= DATE_MAX:
        raise Invalid.field(
            ("query", "month"),
            f"month 须在 {DATE_MIN:%Y-%m} 至 {DATE_MAX:%Y-%m} 之间 (month out of range)",
        )
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, after


def _weeks(first: date, after: date) -> list[tuple[date, date]]:
    """Monday-to-Sunday weeks clipped to ``[first, after)``, as (first day, day after)."""
    out = []
    day = first
    while day < after:
        nxt = min(day + timedelta(days=7 - day.weekday()), after)
        out.append((day, nxt))
        day = nxt
    return out


# --- monthly review -------------------------------------------------------------------------


async def monthly_review(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, *, school_id: int, month: str
) -> MonthlyReviewOut:
    first, after = parse_month(month)
    school = await managed_school(uow, actor, school_id)
    tz = ZoneInfo(school.timezone)
    start, end = local_span(tz, first, after)
    session = uow.session
    f = await period_figures(session, school_id, start, end)

    weeks = _weeks(first, after)
    counts: dict[date, dict[str, int]] = {w: defaultdict(int) for w, _ in weeks}
    for level, raised in await reviews_repo.alerts_raised(
        session, school_id, start, end, AlertStatus.withdrawn.value
    ):
        day = raised.astimezone(tz).date()
        week = next(w for w, nxt in weeks if w <= day < nxt)
        counts[week][level] += 1
    week_lines = [
        WeekAlerts(
            week_start=w,
            week_end=nxt - timedelta(days=1),
            alerts=AlertsByLevel(
                **{lv.value: counts[w][lv.value] for lv in LEVELS},
                total=sum(counts[w][lv.value] for lv in LEVELS),
            ),
        )
        for w, nxt in weeks
    ]

    open_lines = []
    for case, student_name, class_name in await reviews_repo.cases_open_at(session, school_id, end):
        opened_on = case.opened_at.astimezone(tz).date()
        open_lines.append(
            OpenCaseLine(
                case_id=case.id or 0,
                student_id=case.student_id,
                student_name=student_name,
                class_id=case.class_id,
                class_name=class_name,
                level=case.level,
                level_label=LEVEL_LABELS[Level(case.level)] if case.level else "",
                opened_on=opened_on,
                days_open=(after - opened_on).days,
            )
        )
    return MonthlyReviewOut(
        school_id=school_id,
        school_name=school.name,
        month=month,
        month_start=first,
        month_end=after - timedelta(days=1),
        generated_at=ctx.clock(),
        alerts=f.alerts,
        verified_within_48h=f.verified_within_48h,
        head_teachers=f.head_teachers,
        open_cases_at_end=f.open_cases_at_end,
        returned=f.returned,
        weeks=week_lines,
        open_cases=open_lines,
        early_warning=await school_counts(uow, school_id),
    )


# --- county weekly bulletin and monthly review ----------------------------------------------


async def _county_figures(
    session: AsyncSession,
    county_id: int,
    first: date,
    after: date,
    *,
    head_teachers: HeadTeachers,
) -> list[tuple[School, PeriodFigures]]:
    """Each school of the county (by id) with its figures over ``[first, after)``: school-local
    midnights, each school in its own timezone."""
    schools = await reviews_repo.county_schools(session, county_id)
    spans = {s.id or 0: local_span(ZoneInfo(s.timezone), first, after) for s in schools}
    figures = await schools_period_figures(session, spans, head_teachers=head_teachers)
    return [(school, figures[school.id or 0]) for school in schools]


def _summed(figures: list[PeriodFigures]) -> PeriodFigures:
    """The county total of the schools' figures: counts added, shares from the summed counts;
    the head-teacher lines of all schools together."""
    opened = ClassCounts()
    for f in figures:
        opened.add(f.opened)
    alerts = {lv.value: sum(getattr(f.alerts, lv.value) for f in figures) for lv in LEVELS}
    n_alerts = sum(f.alerts.total for f in figures)
    return PeriodFigures(
        alerts=AlertsByLevel(**alerts, total=n_alerts),
        verified_within_48h=rate(sum(f.verified_within_48h.count for f in figures), n_alerts),
        head_teachers=[line for f in figures for line in f.head_teachers],
        open_cases_at_end=sum(f.open_cases_at_end for f in figures),
        returned=sum(f.returned for f in figures),
        opened=opened,
    )


def _bulletin_line(school_id: int, name: str, f: PeriodFigures) -> CountySchoolLine:
    return CountySchoolLine(
        school_id=school_id,
        school_name=name,
        alerts=f.alerts,
        verified_within_48h=f.verified_within_48h,
        open_cases_at_end=f.open_cases_at_end,
        returned=f.returned,
    )


def _review_line(school_id: int, name: str, f: PeriodFigures) -> CountyReviewLine:
    """The bulletin's line plus the head-teacher lines summed: cases opened, and contacts within
    1 h and reports within 24 h as summed counts over summed denominators."""
    n = f.opened
    return CountyReviewLine(
        **dict(_bulletin_line(school_id, name, f)),
        cases_opened=n.cases,
        contacted_within_1h=rate(n.contacted, n.contact_due),
        reported_within_24h=rate(n.reported, n.report_due),
    )


async def county_bulletin(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, *, county_id: int, week_start: date
) -> CountyBulletinOut:
    if week_start.weekday() != 0:
        raise Invalid.field(("query", "week_start"), "week_start 须为周一 (must be a Monday)")
    county = await admin_county(uow, actor, county_id)
    figures = await _county_figures(
        uow.session, county_id, week_start, week_start + timedelta(days=7), head_teachers=False
    )
    return CountyBulletinOut(
        county_id=county_id,
        county_name=county.name,
        week_start=week_start,
        week_end=week_start + timedelta(days=6),
        generated_at=ctx.clock(),
        schools=[_bulletin_line(s.id or 0, s.name, f) for s, f in figures],
        total=_bulletin_line(0, f"{county.name}合计", _summed([f for _, f in figures])),
    )


async def county_monthly_review(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, *, county_id: int, month: str
) -> CountyMonthlyReviewOut:
    first, after = parse_month(month)
    county = await admin_county(uow, actor, county_id)
    # Only the lines' sums are shown: the classes and head teachers are not read.
    figures = await _county_figures(uow.session, county_id, first, after, head_teachers="summed")
    return CountyMonthlyReviewOut(
        county_id=county_id,
        county_name=county.name,
        month=month,
        month_start=first,
        month_end=after - timedelta(days=1),
        generated_at=ctx.clock(),
        schools=[_review_line(s.id or 0, s.name, f) for s, f in figures],
        total=_review_line(0, f"{county.name}合计", _summed([f for _, f in figures])),
        rates=await ledgers.rates(
            uow,
            ctx,
            actor,
            county_id=county_id,
            school_id=None,
            school_year=school_year(first),
            month_end=after - timedelta(days=1),
            county_schools=[s for s, _ in figures],
        ),
    )


# The first columns of both county sheets (各校), filled by ``_alert_cells``; the 48-hour
# share is column 6.


# --- 劝返复学谈话记录册 -------------------------------------------------------------------------


async def talk_ledger(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, *, school_id: int, start: date, end: date
) -> TalkLedgerOut:
    if end < start:
        raise Invalid.field(("query", "end"), "end 不能早于 start (end before start)")
    if (end - start).days >= MAX_DAYS:
        raise Invalid.field(("query", "end"), f"最多 {MAX_DAYS} 天 (at most {MAX_DAYS} days)")
    school = await managed_school(uow, actor, school_id)
    rows = [
        TalkLedgerRow(
            talk_id=talk.id or 0,
            case_id=talk.case_id,
            talked_on=talk.talked_on,
            student_id=case.student_id,
            student_name=student_name,
            class_id=case.class_id,
            class_name=class_name,
            with_whom=talk.with_whom,
            by_whom=talk.by_whom,
            content=talk.content,
        )
        for talk, case, student_name, class_name in await reviews_repo.talks_between(
            uow.session, school_id, start, end
        )
    ]
    return TalkLedgerOut(
        school_id=school_id,
        school_name=school.name,
        start=start,
        end=end,
        generated_at=ctx.clock(),
        rows=rows,
    )
