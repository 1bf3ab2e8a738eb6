"""The school's monthly report (月报, 控辍保学常态化报告): a stored, submitted document.

Decisions:
- what is sent is stored as sent (``monthly_report.content``, JSON) and never regenerated:
  the figures and four lists — 疑似辍学 and 辍学 on the month's last day (or on the day of
  submission, for the month in progress), 劝返 (statuses ended by the child's return in the
  month) and 复学 (ended by 复学 confirmed in the month) — read from the 控辍 status history
  (``app/domain/dropout_status.py``), plus the students on the roll when submitted. With all
  four lists empty it is a **零报告**;
- a month is submitted once (a second submission is 409); a correction
  (``POST …/{month}/corrections`` with a reason) is a new version counted afresh, the old
  versions kept and listed; reading answers the latest version unless ``version`` is given;
- a month in the future is 422 (submitting or reading the county's view); the current month
  may be submitted from its first day;
- each county sets the day of the month schools submit by (``monthly_report_day``, default
  28, 1–28, in its alert policy); the county's view of a month lists each school, whether and
  when it submitted, and ``late`` — first submitted after the due day, or still missing once
  it has passed;
- who: the school's managers (principal, vice principal, 教务处; people, not API keys) submit
  and correct; they and the county admin read; the county's view is the county admin's.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from app.alerts import status_repo
from app.alerts.county_rules import rules_for
from app.context import AppContext
from app.core.access import admin_county, require_person
from app.core.time import local_today
from app.db.models import DropoutStatusPeriod, MonthlyReport, School, Student
from app.db.uow import UnitOfWork
from app.domain.access import Actor
from app.domain.dropout_status import Basis, DropoutStatus
from app.domain.idcard import mask_student_no
from app.errors import Conflict, Invalid, NotFound
from app.reports import monthly_report_repo as repo
from app.reports.ledgers import managed_school
from app.reports.monthly_report_schemas import (
    MonthlyReportOut,
    ReportContent,
    ReportFigures,
    ReportLine,
    SubmissionLine,
    SubmissionsOut,
    VersionLine,
)
from app.reports.reviews import parse_month
from app.reports.reviews_repo import county_schools

_TWICE = "该月月报已提交;如需更正请提交更正版本 (already submitted: send a correction)"
_NONE = "该月月报尚未提交 (month not submitted)"


def _future(loc: tuple[str, ...]) -> Invalid:
    return Invalid.field(loc, "月份不能晚于本月 (a month in the future)")


def _line(p: DropoutStatusPeriod, student: Student, klass: str, on: date) -> ReportLine:
    return ReportLine(
        student_id=p.student_id,
        student_name=student.name,
        student_no=mask_student_no(student.student_no),
        class_name=klass,
        since=on,
        basis=p.basis_text,
    )


async def _content(
    uow: UnitOfWork, school: School, first: date, after: date, today: date
) -> ReportContent:
    session = uow.session
    sid = school.id or 0
    as_of = min(after - timedelta(days=1), today)
    lists: dict[str, list[ReportLine]] = {}
    began: dict[str, int] = {}
    for status in (DropoutStatus.suspected_dropout, DropoutStatus.dropout):
        found = await status_repo.periods_on(
            session, county_id=None, school_id=sid, status=status.value, on=as_of
        )
        lists[status.value] = [_line(p, s, c, p.valid_from) for p, _, s, c in found]
        new = await status_repo.began_between(
            session, county_id=None, school_id=sid, status=status.value, lo=first, hi=as_of
        )
        began[status.value] = len({student for _, student, _ in new})
    ended: dict[str, list[ReportLine]] = {}
    for basis in (Basis.returned, Basis.resumed):
        found = await status_repo.periods_ended_between(session, sid, basis.value, first, as_of)
        ended[basis.value] = [_line(p, s, c, p.valid_to or as_of) for p, _, s, c in found]
    suspected, dropouts = lists["suspected_dropout"], lists["dropout"]
    back, resumed = ended["returned"], ended["resumed"]
    return ReportContent(
        as_of=as_of,
        figures=ReportFigures(
            enrolled=await repo.enrolled(session, sid),
            suspected_dropouts=len(suspected),
            dropouts=len(dropouts),
            new_suspected=began["suspected_dropout"],
            new_dropouts=began["dropout"],
            persuaded_back=len(back),
            resumed=len(resumed),
        ),
        suspected_dropouts=suspected,
        dropouts=dropouts,
        persuaded_back=back,
        resumed=resumed,
    )


def _out(school: School, row: MonthlyReport, all_: list[MonthlyReport]) -> MonthlyReportOut:
    return MonthlyReportOut(
        id=row.id or 0,
        school_id=row.school_id,
        school_name=school.name,
        county_id=row.county_id,
        month=row.month,
        version=row.version,
        zero_report=row.zero_report,
        report_label="零报告" if row.zero_report else "月报",
        submitted_by=row.submitted_by,
        submitted_at=row.submitted_at,
        correction_reason=row.correction_reason,
        content=ReportContent.model_validate(row.content),
        versions=[
            VersionLine(
                version=v.version,
                submitted_by=v.submitted_by,
                submitted_at=v.submitted_at,
                correction_reason=v.correction_reason,
            )
            for v in all_
        ],
    )


async def _store(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    school: School,
    month: str,
    version: int,
    reason: str | None,
) -> MonthlyReport:
    first, after = parse_month(month)
    today = local_today(school, ctx.clock())
    if first > today:
        raise _future(("body", "month") if version == 1 else ("path", "month"))
    content = await _content(uow, school, first, after, today)
    zero = not (
        content.suspected_dropouts or content.dropouts or content.persuaded_back or content.resumed
    )
    row = MonthlyReport(
        school_id=school.id or 0,
        county_id=school.county_id,
        month=month,
        version=version,
        zero_report=zero,
        content=content.model_dump(mode="json"),
        correction_reason=reason,
        submitted_by=actor.tag,
        submitted_at=ctx.clock(),
    )
    uow.session.add(row)
    await uow.flush()  # a simultaneous second submission: the unique key, 409
    return row


async def submit(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, school_id: int, month: str
) -> MonthlyReportOut:
    school = await managed_school(uow, actor, school_id)
    require_person(actor)
    parse_month(month)
    if await repo.versions(uow.session, school_id, month):
        raise Conflict(_TWICE)
    row = await _store(uow, ctx, actor, school, month, 1, None)
    await uow.commit()
    return _out(school, row, [row])


async def correct(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, school_id: int, month: str, reason: str
) -> MonthlyReportOut:
    school = await managed_school(uow, actor, school_id)
    require_person(actor)
    parse_month(month)
    old = await repo.versions(uow.session, school_id, month)
    if not old:
        raise NotFound(_NONE, month)
    row = await _store(uow, ctx, actor, school, month, old[-1].version + 1, reason)
    await uow.commit()
    return _out(school, row, [*old, row])


async def read(
    uow: UnitOfWork, actor: Actor, school_id: int, month: str, version: int | None
) -> MonthlyReportOut:
    school = await managed_school(uow, actor, school_id)
    parse_month(month)
    all_ = await repo.versions(uow.session, school_id, month)
    chosen = [v for v in all_ if version is None or v.version == version]
    if not chosen:
        raise NotFound(_NONE, month if version is None else f"{month} v{version}")
    return _out(school, chosen[-1], all_)


async def submissions(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, county_id: int, month: str
) -> SubmissionsOut:
    """Who has submitted the month, who has not, who was late."""
    county = await admin_county(uow, actor, county_id)
    first, _ = parse_month(month)
    rules = await rules_for(uow.session, county_id)
    due = first.replace(day=rules.monthly_report_day)
    schools = await county_schools(uow.session, county_id)
    latest = await repo.latest_of_county(uow.session, county_id, month)
    lines: list[SubmissionLine] = []
    any_today = None
    for s in schools:
        today = local_today(s, ctx.clock())
        any_today = today if any_today is None else max(any_today, today)
        r = latest.get(s.id or 0)
        if r is None:
            late = today > due
        else:
            v1 = (await repo.versions(uow.session, s.id or 0, month))[0]
            late = v1.submitted_at.astimezone(ZoneInfo(s.timezone)).date() > due
        lines.append(
            SubmissionLine(
                school_id=s.id or 0,
                school_name=s.name,
                submitted=r is not None,
                version=r.version if r else None,
                zero_report=r.zero_report if r else None,
                submitted_by=r.submitted_by if r else None,
                submitted_at=r.submitted_at if r else None,
                late=late,
            )
        )
    if any_today is not None and first > any_today:
        raise _future(("query", "month"))
    return SubmissionsOut(
        county_id=county_id,
        county_name=county.name,
        month=month,
        due_on=due,
        schools=lines,
        missing=[ln.school_id for ln in lines if not ln.submitted],
    )
