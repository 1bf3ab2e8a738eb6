"""预警名单 (the early-warning list): the students of a class, school or county in an
absence band or flagged intermittent, with their figures and trend, from the measures the
job stored (``app/reports/measures.py``) — one indexed read, never the marks. Also the counts
the weekly bulletin, the vice principal's weekly digest and the monthly review show, and the
measure on a student's page.

Who sees what: a class — whoever sees the class; a school — its managers (principal, vice
principal, 教务处) and the county; a county — the county. Sorting: ``rate`` (default,
highest first), ``window_rate``, ``absent_days``, ``trend`` or ``name``; ties by student id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.alerts.measure_schemas import AbsenceMeasureOut
from app.context import AppContext
from app.core.report_files import ReportFile
from app.core.xlsx import CellValue, Sheet, workbook_bytes
from app.db.models import SchoolClass
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.absence_measures import Band
from app.domain.access import Actor
from app.errors import Forbidden, Invalid, NotFound
from app.reports import early_warning_repo as repo
from app.reports.early_warning_schemas import (
    EarlyWarningCounts,
    EarlyWarningLine,
    EarlyWarningOut,
    SortKey,
    SortOrder,
)

_ONE_SCOPE = "须且只能指定 class_id、school_id 或 county_id 之一 (exactly one scope)"
_NOT_MANAGER = "需要学校管理者或县教育局 (school managers or the county)"


async def early_warning(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    *,
    county_id: int | None,
    school_id: int | None,
    class_id: int | None,
    term_id: int | None,
    sort: SortKey,
    order: SortOrder,
) -> EarlyWarningOut:
    given = [
        (k, v)
        for k, v in (("county_id", county_id), ("school_id", school_id), ("class_id", class_id))
        if v is not None
    ]
    if len(given) != 1:
        raise Invalid.field(("query", "class_id"), _ONE_SCOPE)
    session = uow.session
    if term_id is not None and not await repo.term_exists(session, term_id):
        raise Invalid.field(("query", "term_id"), f"学期 {term_id} 不存在 (no such term)")
    if class_id is not None:
        klass = await session.get(SchoolClass, class_id)
        if klass is None or not access.can_read_class(actor, klass.school_id, class_id):
            raise NotFound("班级", class_id)
    elif school_id is not None:
        if not access.can_read_school(actor, school_id):
            raise NotFound("学校", school_id)
        if not access.can_manage_school(actor, school_id):
            raise Forbidden(_NOT_MANAGER)
    elif county_id is not None and not access.can_read_county(actor, county_id):
        raise NotFound("县", county_id)
    found = await repo.listed(
        session, county_id=county_id, school_id=school_id, class_id=class_id, term_id=term_id
    )
    lines = [
        EarlyWarningLine.model_validate(
            {
                **AbsenceMeasureOut.fields_of(f.measure),
                "student_name": f.student_name,
                "class_id": f.measure.class_id,
                "class_name": f.class_name,
                "school_id": f.measure.school_id,
            }
        )
        for f in found
    ]
    lines.sort(key=lambda x: x.student_id)
    lines.sort(key=_sort_key(sort), reverse=order is SortOrder.desc)
    scope, ident = given[0]
    return EarlyWarningOut(
        scope=f"{scope.removesuffix('_id')}:{ident}",
        generated_at=ctx.clock(),
        sort=sort,
        order=order,
        counts=count_lines(lines),
        items=lines,
    )


def _sort_key(sort: SortKey) -> Callable[[EarlyWarningLine], Any]:
    if sort is SortKey.name:
        return lambda x: x.student_name
    if sort is SortKey.trend:
        return lambda x: x.trend if x.trend is not None else float("-inf")
    return lambda x: getattr(x, sort.value)


def count_lines(lines: list[EarlyWarningLine]) -> EarlyWarningCounts:
    return EarlyWarningCounts(
        at_risk=sum(x.band == Band.at_risk for x in lines),
        moderate=sum(x.band == Band.moderate for x in lines),
        severe=sum(x.band == Band.severe for x in lines),
        intermittent=sum(x.intermittent for x in lines),
        chronic=sum(x.chronic for x in lines),
        listed=len(lines),
    )


async def school_counts(uow: UnitOfWork, school_id: int) -> EarlyWarningCounts:
    c = await repo.counts(uow.session, school_id)
    return EarlyWarningCounts(
        at_risk=c["at_risk"],
        moderate=c["moderate"],
        severe=c["severe"],
        intermittent=c["intermittent"],
        chronic=c["chronic"],
        listed=c["listed"],
    )


def early_warning_xlsx(out: EarlyWarningOut) -> ReportFile:
    """One sheet, one line per student, in the list's order."""
    rows: list[list[CellValue]] = [
        [
            x.class_name,
            x.student_name,
            x.school_days,
            x.absent_days,
            sum(x.leave_days.values()),
            x.late_days,
            x.rate,
            x.band_label,
            "是" if x.chronic else "",
            "是" if x.intermittent else "",
            x.window_rate,
            x.trend if x.trend is not None else "",
        ]
        for x in out.items
    ]
    stamp = f"{out.generated_at:%Y%m%d}"
    sheet = Sheet(
        name="预警名单",
        title=f"缺勤预警名单({out.scope}) {out.generated_at:%Y-%m-%d}",
        headers=(
            "班级",
            "学生",
            "在籍上学日",
            "无故缺勤",
            "请假",
            "迟到",
            "缺课率",
            "分档",
            "长期缺勤",
            "间歇性缺勤",
            "近期缺课率",
            "一周变化",
        ),
        rows=rows,
        widths=(12, 12, 12, 10, 8, 8, 10, 16, 10, 12, 12, 10),
        percent_columns=frozenset({6, 10, 11}),
    )
    scope = out.scope.replace(":", "-")
    return ReportFile(
        workbook_bytes([sheet]),
        f"预警名单_{scope}_{stamp}.xlsx",
        f"early-warning-{scope}-{stamp}.xlsx",
    )


async def student_measure(uow: UnitOfWork, actor: Actor, student_id: int) -> AbsenceMeasureOut:
    """The measure on a student's page; 404 when the student is not visible or not measured."""
    student = await repo.student_place(uow.session, student_id)
    if student is None or not access.can_read_class(actor, student[0], student[1]):
        raise NotFound("学生", student_id)
    found = AbsenceMeasureOut.of(await repo.of_student(uow.session, student_id))
    if found is None:
        raise NotFound("缺勤统计", student_id)
    return found
