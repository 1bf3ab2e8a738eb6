"""What each console page shows, gathered from the existing services (the same functions the
API's routes call, with the same access checks): no query of its own, no SQL.

- county (县教育局): today's roll completion by school, open alerts (未核查) by level by
  school, the 疑似辍学 / 辍学 ledgers, the rates against the targets, the term chart, the
  illness cluster alerts (疫情预警) of every school;
- school (校长、分管副校长、教务处): the same for one school, today's three lists, the weekly
  bulletin, open cases with their next and overdue deadlines and open tasks, its classes
  (drill-down), the roles nobody holds (岗位空缺), the school's 疫情预警;
- class (班主任, or a manager drilling down): today's roll, the class's open cases with the
  next deadline, the inbox;
- case: one case with its timeline.

The term chart covers the current term of the school's calendar (the first school's for a
county); without a term, the last 60 days."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from app.alerts import case_service, vacancies, vacancies_repo
from app.alerts.case_schemas import CaseDetail, CaseOut, DeadlineOut, TaskOut
from app.attendance import queries as attendance_queries
from app.attendance.schemas import ClassRollOut, ComplianceOut, DayListsOut, MissingRoll
from app.calendar import service as calendar_service
from app.context import AppContext
from app.core.time import local_today
from app.db.uow import UnitOfWork
from app.delivery import inbox
from app.delivery.schemas import InboxPage, NotificationOut
from app.domain import access
from app.domain.access import Actor
from app.domain.cases import LEVELS, AlertStatus, CaseStatus
from app.domain.illness import SCOPE_LABELS, Scope
from app.errors import Forbidden
from app.illness import alerts as illness_alerts
from app.illness.schemas import IllnessAlertOut
from app.org import service as org_service
from app.org.schemas import ClassOut, SchoolOut
from app.reports import absence_trend, bulletin, ledgers
from app.reports.absence_trend_schemas import AbsenceTrendOut
from app.reports.bulletin_schemas import WeeklyBulletinOut
from app.reports.ledgers_schemas import CountyLedgerOut, LedgerKind, RatesOut

PAGE = 500
TREND_FALLBACK_DAYS = 60
NO_COUNTY = "此页面仅限县教育局 (county admins only)"
NO_SCHOOL = "此页面仅限学校管理者(校长、分管副校长、教务处)与县教育局"
NO_CLASS = "您不是任何班级的班主任,也不管理学校"


@dataclass
class CaseLine:
    """An open case with what is owed: the next deadline, the overdue ones, open tasks."""

    case: CaseOut
    next_deadline: DeadlineOut | None
    overdue: list[DeadlineOut]
    open_tasks: list[TaskOut]


@dataclass
class SchoolLine:
    school: SchoolOut
    missing: list[MissingRoll]
    alerts: dict[str, int]  # level → open (未核查) alerts


@dataclass
class IllnessLine:
    """An illness cluster alert as the console lists it: figures only, never a child's name or
    symptoms (the page is for managers; the 疫情报告人 reads the cases through the API)."""

    alert: IllnessAlertOut
    school_name: str
    scope_label: str
    timezone: str

    @property
    def pending(self) -> bool:
        return self.alert.status != "reported"


@dataclass
class CountyPage:
    county_id: int
    county_name: str
    today: date
    lines: list[SchoolLine]
    rates: RatesOut
    suspected: CountyLedgerOut
    dropouts: CountyLedgerOut
    trend: AbsenceTrendOut
    illness: list[IllnessLine]


@dataclass
class SchoolPage:
    school: SchoolOut
    today: date
    line: SchoolLine
    rates: RatesOut
    lists: DayListsOut | None
    week_start: date
    bulletin: WeeklyBulletinOut
    open_cases: list[CaseLine]
    classes: list[ClassOut]
    trend: AbsenceTrendOut
    vacant: str | None
    illness: list[IllnessLine]


@dataclass
class ClassPage:
    klass: ClassOut
    school: SchoolOut
    roll: ClassRollOut
    open_cases: list[CaseLine]
    inbox: InboxPage | None = None
    head_classes: list[ClassOut] = field(default_factory=list)


def home_path(actor: Actor) -> str:
    """Where a signed-in person lands: the widest page their roles open."""
    if actor.county_ids:
        return "/console/county"
    if actor.managed_school_ids:
        return f"/console/schools/{min(actor.managed_school_ids)}"
    if actor.head_class_ids:
        return "/console/teacher"
    return "/console/forbidden"


async def _open_alerts(uow: UnitOfWork, actor: Actor, school_id: int) -> dict[str, int]:
    out = {}
    for level in LEVELS:
        page = await case_service.list_alerts(
            uow,
            actor,
            level=level,
            status=AlertStatus.raised,
            school_id=school_id,
            class_id=None,
            student_id=None,
            case_id=None,
            raised_from=None,
            raised_to=None,
            limit=1,
            offset=0,
        )
        out[level.value] = page.total
    out["total"] = sum(out.values())
    return out


async def _case_lines(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, rows: list[CaseOut]
) -> list[CaseLine]:
    """Each open case's detail (the API's ``GET /cases/{id}``): one read per open case."""
    out = []
    for row in rows:
        detail = await case_service.get_case(uow, ctx, actor, row.id)
        owed = sorted((d for d in detail.pending_deadlines if d.owed), key=lambda d: d.due_at)
        out.append(
            CaseLine(
                case=row,
                next_deadline=next((d for d in owed if not d.overdue), None),
                overdue=[d for d in owed if d.overdue],
                open_tasks=[t for t in detail.tasks if t.done_at is None],
            )
        )
    return out


async def _vacant(uow: UnitOfWork, school_id: int) -> str | None:
    """The roles nobody holds, worded as the daily 岗位空缺 notice words them."""
    found = await vacancies_repo.vacancies(uow.session, [school_id])
    return vacancies.vacancy_title(found[0]) if found and found[0].any else None


async def _term_span(
    uow: UnitOfWork, actor: Actor, school_id: int, today: date
) -> tuple[date, date]:
    for term in await calendar_service.list_terms(uow, actor, school_id):
        if term.start_date <= today <= term.end_date:
            return term.start_date, today
    return today - timedelta(days=TREND_FALLBACK_DAYS - 1), today


async def _illness(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    schools: list[SchoolOut],
    *,
    county_id: int | None,
) -> list[IllnessLine]:
    """The illness cluster alerts (``GET /illness/alerts``), newest first, with the school's
    name and timezone for the page."""
    by_id = {s.id: s for s in schools}
    found = await illness_alerts.list_alerts(
        uow, ctx, actor, school_id=None if county_id else schools[0].id, county_id=county_id
    )
    return [
        IllnessLine(
            alert=a,
            school_name=by_id[a.school_id].name if a.school_id in by_id else str(a.school_id),
            scope_label=SCOPE_LABELS[Scope(a.scope)],
            timezone=by_id[a.school_id].timezone if a.school_id in by_id else schools[0].timezone,
        )
        for a in found
    ]


async def _school_line(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, school: SchoolOut
) -> SchoolLine:
    compliance: ComplianceOut = await attendance_queries.roll_compliance(
        uow, ctx, actor, school_id=school.id, day=None, grace_minutes=None
    )
    return SchoolLine(
        school=school, missing=compliance.missing, alerts=await _open_alerts(uow, actor, school.id)
    )


async def county_page(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, county_id: int | None
) -> CountyPage:
    county_id = county_id if county_id is not None else min(actor.county_ids, default=0)
    if not access.can_manage_county(actor, county_id):
        raise Forbidden(NO_COUNTY)
    county = await org_service.get_county(uow, actor, county_id)
    schools = (
        await org_service.list_schools(
            uow, actor, county_id=county_id, township_id=None, kind=None, limit=PAGE, offset=0
        )
    ).items
    lines = [await _school_line(uow, ctx, actor, s) for s in schools]
    today = local_today(schools[0], ctx.clock()) if schools else ctx.clock().date()
    start, end = await _term_span(uow, actor, schools[0].id, today) if schools else (today, today)
    return CountyPage(
        county_id=county_id,
        county_name=county.name,
        today=today,
        lines=lines,
        rates=await ledgers.rates(
            uow, ctx, actor, county_id=county_id, school_id=None, school_year=None
        ),
        suspected=await ledgers.county_ledger(
            uow, ctx, actor, county_id=county_id, kind=LedgerKind.suspected_dropout
        ),
        dropouts=await ledgers.county_ledger(
            uow, ctx, actor, county_id=county_id, kind=LedgerKind.dropout
        ),
        trend=await absence_trend.absence_trend(
            uow, ctx, actor, county_id=county_id, school_id=None, start=start, end=end
        ),
        illness=await _illness(uow, ctx, actor, schools, county_id=county_id) if schools else [],
    )


async def school_page(uow: UnitOfWork, ctx: AppContext, actor: Actor, school_id: int) -> SchoolPage:
    school = await org_service.get_school(uow, actor, school_id)
    if not access.can_manage_school(actor, school_id):
        raise Forbidden(NO_SCHOOL)
    today = local_today(school, ctx.clock())
    week_start = today - timedelta(days=today.weekday())
    lists = await bulletin.three_lists(
        uow, ctx, actor, school_id=school_id, class_id=None, start=today, end=today
    )
    open_cases = await case_service.list_cases(
        uow,
        actor,
        status=CaseStatus.open,
        level=None,
        school_id=school_id,
        class_id=None,
        student_id=None,
        limit=PAGE,
        offset=0,
    )
    classes = await org_service.list_classes(
        uow, actor, school_id=school_id, grade_id=None, limit=PAGE, offset=0
    )
    start, end = await _term_span(uow, actor, school_id, today)
    return SchoolPage(
        school=school,
        today=today,
        line=await _school_line(uow, ctx, actor, school),
        rates=await ledgers.rates(
            uow, ctx, actor, county_id=None, school_id=school_id, school_year=None
        ),
        lists=lists.days[0] if lists.days else None,
        week_start=week_start,
        bulletin=await bulletin.weekly_bulletin(
            uow, ctx, actor, school_id=school_id, week_start=week_start
        ),
        open_cases=await _case_lines(uow, ctx, actor, open_cases.items),
        classes=classes.items,
        trend=await absence_trend.absence_trend(
            uow, ctx, actor, county_id=None, school_id=school_id, start=start, end=end
        ),
        vacant=await _vacant(uow, school_id),
        illness=await _illness(uow, ctx, actor, [school], county_id=None),
    )


async def class_page(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, class_id: int, *, with_inbox: bool
) -> ClassPage:
    klass = await org_service.get_class(uow, actor, class_id)
    school = await org_service.get_school(uow, actor, klass.school_id)
    roll = await attendance_queries.class_roll(uow, ctx, actor, class_id, None)
    open_cases = await case_service.list_cases(
        uow,
        actor,
        status=CaseStatus.open,
        level=None,
        school_id=None,
        class_id=class_id,
        student_id=None,
        limit=PAGE,
        offset=0,
    )
    page = ClassPage(
        klass=klass,
        school=school,
        roll=roll,
        open_cases=await _case_lines(uow, ctx, actor, open_cases.items),
    )
    if with_inbox:
        page.inbox = await inbox.list_inbox(uow, actor, unread=None, limit=20, offset=0)
    return page


async def teacher_page(uow: UnitOfWork, ctx: AppContext, actor: Actor) -> ClassPage:
    if not actor.head_class_ids:
        raise Forbidden(NO_CLASS)
    first = min(actor.head_class_ids)
    page = await class_page(uow, ctx, actor, first, with_inbox=True)
    page.head_classes = [
        await org_service.get_class(uow, actor, c) for c in sorted(actor.head_class_ids)
    ]
    return page


async def case_page(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, case_id: int
) -> tuple[CaseDetail, SchoolOut]:
    case = await case_service.get_case(uow, ctx, actor, case_id)
    return case, await org_service.get_school(uow, actor, case.school_id)


async def mark_read(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, notification_id: int
) -> NotificationOut:
    """The inbox's 标为已读, as ``POST /inbox/{id}/read`` does it."""
    return await inbox.mark_read(uow, ctx, actor, notification_id)


async def school_timezone(uow: UnitOfWork, actor: Actor, school_id: int) -> str:
    return (await org_service.get_school(uow, actor, school_id)).timezone
