"""The daily 因病缺勤 summary of a school (班级汇总表: the day and the 3 school days before, by
class and symptom) and its 零报告 when nobody was absent for illness; the county sees all its
schools'. Figures only — no child is named, so school managers and the county admin read it.

Counting: a student counts on each school day an illness absence covers (an illness record
from its first to its last day, a pending or approved sick leave over its dates), once in the
day's total and once under each of their symptoms.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlmodel import col, select

from app.context import AppContext
from app.core.report_files import ReportFile
from app.core.xlsx import CellValue, Sheet, workbook_bytes
from app.db.models import School, SchoolClass
from app.db.uow import UnitOfWork
from app.domain import health_access as health
from app.domain.access import Actor
from app.domain.attendance import Symptom
from app.errors import NotFound
from app.illness import repo
from app.illness.labels import SYMPTOM_LABELS
from app.illness.register import school_ref
from app.illness.schemas import CountySummaryOut, SummaryClassRow, SummaryOut

DAYS_BEFORE = 3
TOTAL = "total"


async def _summary(uow: UnitOfWork, ctx: AppContext, school: School, day: date) -> SummaryOut:
    assert school.id is not None
    ref = await school_ref(uow, ctx, school.id)
    past = ref.calendar.school_days_between(day - timedelta(days=31), day - timedelta(days=1))
    days = [*past[-DAYS_BEFORE:], day]
    start = days[0]
    records = await repo.school_records(uow.session, [school.id], start, day)
    leaves = await repo.sick_leaves(uow.session, [school.id], start, day)
    # (class, day) → student → symptoms
    seen: dict[tuple[int, date], dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in records:
        for d in days:
            if r.school_date <= d <= r.last_day and (r.returned_on is None or d < r.returned_on):
                seen[(r.class_id, d)][r.student_id].update(r.symptoms)
    for lv in leaves:
        for d in days:
            if lv.start_date <= d <= lv.end_date:
                seen[(lv.class_id, d)][lv.student_id].update(lv.symptoms)
    classes = await uow.session.exec(
        select(SchoolClass.id, SchoolClass.name)
        .where(SchoolClass.school_id == school.id, col(SchoolClass.active))
        .order_by(col(SchoolClass.id))
    )
    rows: list[SummaryClassRow] = []
    today: dict[str, int] = defaultdict(int)
    for class_id, name in classes:
        assert class_id is not None
        by_day: dict[str, dict[str, int]] = {}
        for d in days:
            students = seen.get((class_id, d), {})
            counts: dict[str, int] = {TOTAL: len(students)}
            for symptoms in students.values():
                for s in symptoms:
                    counts[s] = counts.get(s, 0) + 1
            by_day[d.isoformat()] = counts
        for s, n in by_day[day.isoformat()].items():
            today[s] += n
        rows.append(
            SummaryClassRow(
                class_id=class_id,
                class_name=name,
                by_day=by_day,
                total_today=by_day[day.isoformat()][TOTAL],
            )
        )
    open_alerts = [
        a for a in await repo.alerts_of(uow.session, [school.id], None) if a.status != "reported"
    ]
    return SummaryOut(
        school_id=school.id,
        school_name=school.name,
        day=day,
        days=days,
        zero_report=today.get(TOTAL, 0) == 0,
        classes=rows,
        by_symptom_today=dict(today),
        open_alerts=len(open_alerts),
    )


async def school_summary(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, school_id: int, day: date
) -> SummaryOut:
    school = await uow.session.get(School, school_id)
    if school is None or not health.can_read_school_illness(actor, school.county_id, school_id):
        raise NotFound("学校", school_id)
    return await _summary(uow, ctx, school, day)


async def county_summary(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, county_id: int, day: date
) -> CountySummaryOut:
    if not health.can_read_county_illness(actor, county_id):
        raise NotFound("县", county_id)
    schools = await uow.session.exec(
        select(School)
        .where(School.county_id == county_id, col(School.active))
        .order_by(col(School.id))
    )
    return CountySummaryOut(
        county_id=county_id, day=day, schools=[await _summary(uow, ctx, s, day) for s in schools]
    )


_SYMPTOMS = list(Symptom)


def _sheet(out: SummaryOut) -> Sheet:
    zero = "(零报告)" if out.zero_report else ""
    rows: list[list[CellValue]] = [
        [
            c.class_name,
            d,
            c.by_day[d.isoformat()].get(TOTAL, 0),
            *(c.by_day[d.isoformat()].get(s.value, 0) for s in _SYMPTOMS),
        ]
        for c in out.classes
        for d in out.days
    ]
    return Sheet(
        name=out.school_name,
        title=f"{out.school_name} 因病缺勤班级汇总表 {out.day.isoformat()}{zero}",
        headers=["班级", "日期", "因病缺勤人数", *(SYMPTOM_LABELS[s] for s in _SYMPTOMS)],
        rows=rows,
        widths=[14, 12, 12, *([8] * len(_SYMPTOMS))],
    )


def school_summary_xlsx(out: SummaryOut) -> ReportFile:
    return ReportFile(
        workbook_bytes([_sheet(out)]),
        f"因病缺勤汇总-{out.school_name}-{out.day.isoformat()}.xlsx",
        f"illness-summary-{out.school_id}-{out.day.isoformat()}.xlsx",
    )


def county_summary_xlsx(out: CountySummaryOut) -> ReportFile:
    return ReportFile(
        workbook_bytes([_sheet(s) for s in out.schools]),
        f"因病缺勤汇总-县-{out.day.isoformat()}.xlsx",
        f"illness-summary-county-{out.county_id}-{out.day.isoformat()}.xlsx",
    )
