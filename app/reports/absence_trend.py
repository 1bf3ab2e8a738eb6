"""每日缺勤率 (daily absence rate) per school over a span of up to 200 days, e.g. a term.

Definition: for each school day of the school in [start, end] (never after the school's
today), ``absence_rate = absent / recorded`` where ``absent`` is the 缺勤 list (unexplained
absence) and ``recorded`` the students of the day's three lists (正常到校 + 请假 + 缺勤); those
not recorded (no roll taken) are left out of the rate, and a day with no roll at all has no
rate (null: a gap in the chart, never a false 0 %). ``on_roll`` adds the unrecorded. The same
day statuses as ``GET /attendance/lists``, which this report reads (one call per
school and window of at most 62 days), so the chart and the lists can never disagree.

Access: ``county_id`` for the county admin (every school of the county), ``school_id`` for
the school's managers and the county admin (as the other school reports)."""

from __future__ import annotations

from datetime import date, timedelta

from app.attendance import queries as attendance_queries
from app.context import AppContext
from app.core.access import admin_county
from app.db.uow import UnitOfWork
from app.domain.access import Actor
from app.errors import Invalid
from app.org import repository as org_repo
from app.reports.absence_trend_schemas import AbsenceTrendOut, SchoolTrend, TrendPoint
from app.reports.ledgers import managed_school

MAX_TREND_DAYS = 200


def _windows(start: date, end: date) -> list[tuple[date, date]]:
    step = attendance_queries.MAX_LIST_DAYS
    out = []
    lo = start
    while lo <= end:
        hi = min(end, lo + timedelta(days=step - 1))
        out.append((lo, hi))
        lo = hi + timedelta(days=1)
    return out


async def _school_points(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, school_id: int, start: date, end: date
) -> list[TrendPoint]:
    points = []
    for lo, hi in _windows(start, end):
        lists = await attendance_queries.three_lists(
            uow, ctx, actor, school_id=school_id, class_id=None, start=lo, end=hi
        )
        for day in lists.days:
            absent, leave, unknown = len(day.absent), len(day.leave), len(day.not_recorded)
            recorded = len(day.present) + absent + leave
            on_roll = recorded + unknown
            points.append(
                TrendPoint(
                    date=day.date,
                    on_roll=on_roll,
                    absent=absent,
                    leave=leave,
                    not_recorded=unknown,
                    absence_rate=round(absent / recorded, 4) if recorded else None,
                )
            )
    return points


async def absence_trend(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    *,
    county_id: int | None,
    school_id: int | None,
    start: date,
    end: date,
) -> AbsenceTrendOut:
    if (county_id is None) == (school_id is None):
        raise Invalid.field(
            ("query", "county_id"), "county_id 与 school_id 须且只能给一个 (exactly one of them)"
        )
    if end < start:
        raise Invalid.field(("query", "end"), "结束日期早于开始日期 (end is before start)")
    if (end - start).days + 1 > MAX_TREND_DAYS:
        raise Invalid.field(
            ("query", "end"), f"日期范围最多 {MAX_TREND_DAYS} 天 (at most {MAX_TREND_DAYS} days)"
        )
    if school_id is not None:
        schools = [await managed_school(uow, actor, school_id)]
    else:
        assert county_id is not None
        county = await admin_county(uow, actor, county_id)
        ids = (await org_repo.schools_by_county(uow.session, {county.id or 0})).get(
            county.id or 0, frozenset()
        )
        found = await org_repo.schools_by_ids(uow.session, ids)
        schools = [found[i] for i in sorted(found) if found[i].active]
    out = []
    for school in schools:
        assert school.id is not None
        points = await _school_points(uow, ctx, actor, school.id, start, end)
        out.append(SchoolTrend(school_id=school.id, school_name=school.name, points=points))
    return AbsenceTrendOut(
        county_id=county_id, school_id=school_id, start=start, end=end, schools=out
    )
