"""Reports (item 6): the three lists as a file, and the school's weekly bulletin (周通报).

The weekly bulletin — definitions
---------------------------------
The week is Monday 00:00 to the next Monday 00:00 in the school's timezone (``week_start``
must be a Monday; ``week_end`` in the output is the Sunday). All figures are for one school:

- **alerts by level**: alerts of the school raised in the week, withdrawn ones excluded
  (a withdrawn alert came from a roll that was corrected: there was no absence).
- **verified within 48 h**: of those alerts, the ones with ``verified_at - raised_at <= 48 h``.
  An alert not (yet) verified counts as not verified in time.
- **per head teacher** (one line per class of the school, with its head teacher): the cases
  opened in the week in that class (``cases``), and of them
  - **contacted within 1 h**: the case's first parent contact (reached or not) is at or before
    the due time of its *first* contact deadline (the earliest ``contact`` deadline of the
    case, whatever its state: a missed call replaces it with a later one, which does not
    count); the denominator is the cases that have a contact deadline;
  - **reported within 24 h**: the case's first written report was submitted at or before the
    due time of its first ``report`` deadline; the denominator is the cases that have one.
- **open cases at the end of the week**: cases of the school opened before the week's end and
  not closed before it (status as of Sunday 24:00).
- **returned**: cases closed in the week because the student came back (close reason
  ``returned`` 返校 or ``reenrolled`` 复学).

Shares are ``count / of`` rounded to 4 places, null when ``of`` is 0. Four statements: the
alerts; the cases, in one scan — those open at the end, the returns, and those opened with
their first deadlines, contact and report (correlated by case id, not the ids sent back as a
list); the classes; their head teachers — for one school or for all of a county's at once
(``schools_period_figures``: the county reviews take the same statements whatever the number
of schools or cases; the county monthly review, which only adds the lines up per school,
reads neither the classes nor their head teachers).

Access: the school's managers (principal, vice principal, 教务处) and its county's admins;
other staff of the school get 403, anyone else 404.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from app.attendance import queries as attendance_queries
from app.attendance.schemas import ThreeListsOut
from app.context import AppContext
from app.core.report_files import ReportFile
from app.core.xlsx import CellValue, Sheet, workbook_bytes
from app.db.labels import full_class_name
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor
from app.domain.attendance import DAY_STATUS_LABELS
from app.domain.cases import LEVEL_LABELS, LEVELS, AlertStatus, CloseReason
from app.errors import Forbidden, Invalid
from app.org import repository as org_repo
from app.org.service import school_for
from app.reports import bulletin_repo
from app.reports.bulletin_schemas import AlertsByLevel, HeadTeacherLine, Rate, WeeklyBulletinOut
from app.reports.early_warning import school_counts

VERIFY_WITHIN = timedelta(hours=48)
RETURN_REASONS = (CloseReason.returned.value, CloseReason.reenrolled.value)
_NOT_MANAGER = "周通报仅限学校管理者和县教育局 (school managers and county admins only)"


def rate(count: int, of: int) -> Rate:
    return Rate(count=count, of=of, share=round(count / of, 4) if of else None)


# --- three lists ----------------------------------------------------------------------------


async def three_lists(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    *,
    school_id: int | None,
    class_id: int | None,
    start: date,
    end: date,
) -> ThreeListsOut:
    """As JSON the report is the roll's own three lists (``GET /attendance/lists``)."""
    return await attendance_queries.three_lists(
        uow, ctx, actor, school_id=school_id, class_id=class_id, start=start, end=end
    )


async def three_lists_xlsx(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    *,
    school_id: int | None,
    class_id: int | None,
    start: date,
    end: date,
) -> ReportFile:
    """日期, 班级, 学生, 状态: one row per student per school day, by day then class."""
    out = await attendance_queries.three_lists(
        uow, ctx, actor, school_id=school_id, class_id=class_id, start=start, end=end
    )
    school = await school_for(uow, actor, out.school_id or 0)
    classes = sorted(
        await org_repo.classes_by_school(uow.session, school.id or 0),
        key=lambda kg: (kg[1].level, kg[0].id or 0),
    )
    order = {k.id: i for i, (k, _) in enumerate(classes)}
    names = {k.id: full_class_name(g.name, k.name) for k, g in classes}
    rows: list[list[CellValue]] = []
    for day in out.days:
        entries = [*day.present, *day.leave, *day.absent, *day.not_recorded]
        entries.sort(key=lambda e: (order.get(e.class_id, len(order)), e.student_id))
        rows.extend(
            [day.date, names.get(e.class_id, ""), e.name, DAY_STATUS_LABELS[e.day_status]]
            for e in entries
        )
    who = school.name + (names.get(class_id, "") if class_id is not None else "")
    span = f"{out.start:%Y-%m-%d} 至 {out.end:%Y-%m-%d}"
    content = workbook_bytes(
        [
            Sheet(
                name="三个名单",
                title=f"{who} 三个名单(正常到校/请假/缺勤)  {span}",
                headers=("日期", "班级", "学生", "状态"),
                rows=rows,
                widths=(14, 16, 14, 12),
            )
        ]
    )
    scope = f"class-{class_id}" if class_id is not None else f"school-{school.id}"
    return ReportFile(
        content,
        f"{who}三个名单_{out.start:%Y%m%d}-{out.end:%Y%m%d}.xlsx",
        f"three-lists-{scope}-{out.start:%Y%m%d}-{out.end:%Y%m%d}.xlsx",
    )


# --- weekly bulletin ------------------------------------------------------------------------


@dataclass
class ClassCounts:
    """A class's cases opened in the period and how many were contacted / reported in time,
    each over the cases that have the deadline (or these counts added over classes)."""

    cases: int = 0
    contacted: int = 0
    contact_due: int = 0
    reported: int = 0
    report_due: int = 0

    def add(self, other: ClassCounts) -> None:
        self.cases += other.cases
        self.contacted += other.contacted
        self.contact_due += other.contact_due
        self.reported += other.reported
        self.report_due += other.report_due


@dataclass
class PeriodFigures:
    """The bulletin's figures of one school over ``[start, end)`` (UTC instants)."""

    alerts: AlertsByLevel
    verified_within_48h: Rate
    head_teachers: list[HeadTeacherLine]
    open_cases_at_end: int
    returned: int
    # The head-teacher lines' counts added over the school's classes: all the county review
    # shows of them (read without the lines when ``head_teachers`` is "summed").
    opened: ClassCounts = field(default_factory=ClassCounts)


Span = tuple[datetime, datetime]  # [start, end), UTC instants
# Head-teacher lines: one per class (True), none (False), or only their counts added per
# school (``PeriodFigures.opened``), which needs neither the classes nor their head teachers.
HeadTeachers = bool | Literal["summed"]


async def period_figures(
    session: AsyncSession,
    school_id: int,
    start: datetime,
    end: datetime,
    *,
    head_teachers: HeadTeachers = True,
) -> PeriodFigures:
    """The weekly bulletin's figures over any ``[start, end)``; the definitions above apply
    with "the week" read as the period. ``head_teachers=False`` skips the per-class lines."""
    figures = await schools_period_figures(
        session, {school_id: (start, end)}, head_teachers=head_teachers
    )
    return figures[school_id]


async def schools_period_figures(
    session: AsyncSession, spans: Mapping[int, Span], *, head_teachers: HeadTeachers = True
) -> dict[int, PeriodFigures]:
    """``period_figures`` of each school over its own span (a county's schools, each in its
    own timezone) in a fixed number of statements whatever the number of schools: each reads
    the rows of every school over the envelope of the spans, and each row is counted here for
    its school's span only (the envelope is at most a day wider than any span)."""
    if not spans:
        return {}
    ids = sorted(spans)
    lo = min(s for s, _ in spans.values())
    hi = max(e for _, e in spans.values())

    def within(school_id: int, at: datetime | None) -> bool:
        start, end = spans[school_id]
        return at is not None and start <= at < end

    levels: dict[int, Counter[str]] = defaultdict(Counter)
    in_time: Counter[int] = Counter()
    for sid, level, raised, verified in await bulletin_repo.alerts_raised(
        session, ids, lo, hi, AlertStatus.withdrawn.value
    ):
        if within(sid, raised):
            levels[sid][level] += 1
            if verified and verified - raised <= VERIFY_WITHIN:
                in_time[sid] += 1
    open_at_end: Counter[int] = Counter()
    returned: Counter[int] = Counter()
    per_class: dict[tuple[int, int], ClassCounts] = defaultdict(ClassCounts)
    first_end = min(e for _, e in spans.values())
    for row in await bulletin_repo.cases_of_period(
        session, ids, lo, hi, first_end, RETURN_REASONS, times=bool(head_teachers)
    ):
        sid, _, class_id, opened, closed, reason, counted, *times = row
        start, end = spans[sid]
        if opened < end and (closed is None or closed >= end):
            open_at_end[sid] += 1
        if reason in RETURN_REASONS and within(sid, closed):
            returned[sid] += 1
        if counted and start <= opened < end:
            _count_case(per_class[(sid, class_id)], *times)
    lines = await _head_teacher_lines(session, spans, per_class) if head_teachers is True else {}
    sums: dict[int, ClassCounts] = defaultdict(ClassCounts)
    for (sid, _), counts in per_class.items():
        sums[sid].add(counts)
    out = {}
    names = [lv.value for lv in LEVELS]
    for sid in ids:
        mine = levels.get(sid, Counter())
        total = sum(mine.values())
        out[sid] = PeriodFigures(
            alerts=AlertsByLevel(**{n: mine[n] for n in names}, total=total),
            verified_within_48h=rate(in_time[sid], total),
            head_teachers=lines.get(sid, []),
            open_cases_at_end=open_at_end[sid],
            returned=returned[sid],
            opened=sums.get(sid, ClassCounts()),
        )
    return out


def _count_case(
    line: ClassCounts,
    contact_due: datetime | None,
    report_due: datetime | None,
    contacted: datetime | None,
    reported: datetime | None,
) -> None:
    """A case opened in the period, counted in its class's line: contacted (reported) in time
    when its first contact (report) is at or before its first such deadline's due time."""
    line.cases += 1
    if contact_due is not None:
        line.contact_due += 1
        line.contacted += int(contacted is not None and contacted <= contact_due)
    if report_due is not None:
        line.report_due += 1
        line.reported += int(reported is not None and reported <= report_due)


async def _head_teacher_lines(
    session: AsyncSession,
    spans: Mapping[int, Span],
    per_class: Mapping[tuple[int, int], ClassCounts],
) -> dict[int, list[HeadTeacherLine]]:
    """Each school's lines, one per class (its active ones and any with a case of the span):
    the classes and their head teachers, each read for all the schools at once."""
    classes = sorted(
        (
            (k, g)
            for k, g in await org_repo.classes_by_schools(session, spans)
            if k.active or (k.school_id, k.id) in per_class
        ),
        key=lambda kg: (kg[1].level, kg[0].id or 0),
    )
    heads = await org_repo.head_teachers_of_schools(session, spans)
    lines: dict[int, list[HeadTeacherLine]] = {sid: [] for sid in spans}
    none = ClassCounts()
    for k, g in classes:
        kid = k.id or 0
        n = per_class.get((k.school_id, kid), none)
        head = heads.get(kid)
        lines[k.school_id].append(
            HeadTeacherLine(
                class_id=kid,
                class_name=full_class_name(g.name, k.name),
                head_teacher_id=head[0] if head else None,
                head_teacher_name=head[1] if head else None,
                cases=n.cases,
                contacted_within_1h=rate(n.contacted, n.contact_due),
                reported_within_24h=rate(n.reported, n.report_due),
            )
        )
    return lines


def local_span(tz: ZoneInfo, first: date, after_last: date) -> tuple[datetime, datetime]:
    """School-local midnights of ``first`` and ``after_last``, as UTC instants."""
    return (
        datetime.combine(first, time(0), tz).astimezone(UTC),
        datetime.combine(after_last, time(0), tz).astimezone(UTC),
    )


async def weekly_bulletin(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, *, school_id: int, week_start: date
) -> WeeklyBulletinOut:
    if week_start.weekday() != 0:
        raise Invalid.field(("query", "week_start"), "week_start 须为周一 (must be a Monday)")
    school = await school_for(uow, actor, school_id)
    if not access.can_manage_school(actor, school_id):
        raise Forbidden(_NOT_MANAGER)
    start, end = local_span(ZoneInfo(school.timezone), week_start, week_start + timedelta(days=7))
    f = await period_figures(uow.session, school_id, start, end)
    return WeeklyBulletinOut(
        school_id=school_id,
        school_name=school.name,
        week_start=week_start,
        week_end=week_start + timedelta(days=6),
        generated_at=ctx.clock(),
        alerts=f.alerts,
        verified_within_48h=f.verified_within_48h,
        head_teachers=f.head_teachers,
        open_cases_at_end=f.open_cases_at_end,
        returned=f.returned,
        early_warning=await school_counts(uow, school_id),
    )


def summary_sheet(
    title: str,
    alerts: AlertsByLevel,
    verified: Rate,
    open_at_end: int,
    returned: int,
    period: str,
) -> Sheet:
    """The 概况 sheet of a bulletin or review; ``period`` names it: 周 or 月."""
    rows: list[list[CellValue]] = [
        *([LEVEL_LABELS[lv], getattr(alerts, lv.value), None] for lv in LEVELS),
        ["预警合计", alerts.total, None],
        ["48小时内核查", verified.count, verified.share],
        [f"{period}末未结案案例", open_at_end, None],
        [f"本{period}返校结案", returned, None],
    ]
    return Sheet(
        name="概况",
        title=title,
        headers=("指标", "数量", "占比"),
        rows=rows,
        widths=(20, 10, 10),
        percent_columns=frozenset({2}),
    )


def head_teacher_sheet(title: str, lines: list[HeadTeacherLine]) -> Sheet:
    """The 班主任 sheet: per class, contacts within 1 h and reports within 24 h."""
    rows: list[list[CellValue]] = [
        [
            line.class_name,
            line.head_teacher_name or "",
            line.cases,
            line.contacted_within_1h.count,
            line.contacted_within_1h.share,
            line.reported_within_24h.count,
            line.reported_within_24h.share,
        ]
        for line in lines
    ]
    return Sheet(
        name="班主任",
        title=title,
        headers=(
            "班级",
            "班主任",
            "缺勤案例数",
            "1小时内联系数",
            "1小时内联系率",
            "24小时内报告数",
            "24小时内报告率",
        ),
        rows=rows,
        widths=(14, 14, 12, 14, 14, 15, 15),
        percent_columns=frozenset({4, 6}),
    )


def weekly_bulletin_xlsx(out: WeeklyBulletinOut) -> ReportFile:
    """Two sheets: 概况 (the school's figures) and 班主任 (one line per class)."""
    span = f"{out.week_start:%Y-%m-%d} 至 {out.week_end:%Y-%m-%d}"
    content = workbook_bytes(
        [
            summary_sheet(
                f"{out.school_name} 控辍保学周通报  {span}",
                out.alerts,
                out.verified_within_48h,
                out.open_cases_at_end,
                out.returned,
                "周",
            ),
            head_teacher_sheet(f"{out.school_name} 班主任落实情况  {span}", out.head_teachers),
        ]
    )
    return ReportFile(
        content,
        f"{out.school_name}周通报_{out.week_start:%Y%m%d}.xlsx",
        f"weekly-bulletin-school-{out.school_id}-{out.week_start:%Y%m%d}.xlsx",
    )
