"""The township's account (乡镇人民政府): it receives the return notices reported to it,
acknowledges them (签收), records what it did (责令限期改正 with a deadline, 批评教育, 行政处罚,
other) and may raise a report to the county; a report not acknowledged in time is raised to
the county by the daily check.

Decisions (see README, "依法控辍: the township"):
- a township user is a staff member like any other (same table, sign-in and tokens) holding
  the role ``township_officer`` bound to one 乡镇 (``staff_role.township_id``, scope key
  ``township:<id>``), granted by the county admin. The grant gives no school or class scope:
  the officer sees nothing of a school but the reports to its township (``GET
  /township-reports``), which carry what the township needs (the child, the school, the
  guardian, the notice's number and deadline) and no more;
- a report is made in the transaction that reports the notice (by hand or by the check), one
  per notice; the township's officers get an inbox notice then, beside the school's managers
  and the county (``status_history.tell_reported``);
- reading a report: its township's officers, the county admin, the school's managers (API keys
  of the county or school read too); writing (acknowledge, actions, raise): the township's
  officers only (others who can read it 403; everyone else 404, a report to another township
  included);
- a second acknowledgement is 409; an action acknowledges the report if it was not yet; an
  action needs the notice still escalated (student back or notice 销号: 409), a date neither
  before the report nor after the school's today, and for 责令限期改正 a deadline after it
  (422 naming the field); raising twice is 409;
- each action and each raise: a timeline entry on the case and a notice (outbox, same
  transaction) to the principal, the vice principal, 教务处 and the county admin; topics
  ``township.action_recorded`` and ``township_report.raised_to_county`` (webhooks too);
- a report neither acknowledged nor raised by ``reported_on + township_ack_days`` (county
  rule, default 3) is raised to the county the day after, by nobody (``raised_by`` null).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, timedelta

from sqlalchemy import ColumnElement
from sqlmodel import col

from app.alerts import status_history, timeline_repo
from app.alerts.county_rules import rules_for
from app.attendance.repository import students_brief
from app.casework import township_repo as repo
from app.casework.township_repo import ReportRow
from app.casework.township_schemas import (
    ACTION_LABELS,
    REPORT_STATUS_LABELS,
    ActionIn,
    ActionKind,
    ActionOut,
    RaiseIn,
    ReportStatus,
    TownshipReportOut,
)
from app.context import AppContext
from app.core.access import require_person
from app.core.records import school_row
from app.core.time import local_today
from app.core.types import Page
from app.db.models import ReturnNotice, School, Student, TownshipAction, TownshipReport
from app.db.uow import UnitOfWork
from app.delivery import outbox
from app.delivery.outbox import Notice
from app.domain import access
from app.domain.access import Actor
from app.domain.cases import TimelineKind
from app.domain.return_notices import NoticeStatus
from app.domain.roles import Role
from app.errors import Conflict, Forbidden, Invalid, NotFound

ACTION_TOPIC = "township.action_recorded"
RAISED_TOPIC = "township_report.raised_to_county"
REPORTED_TOPIC = "return_notice.reported_to_township"
TOLD_ROLES = (Role.principal, Role.vice_principal, Role.academic_affairs, Role.county_admin)

_NOT_OFFICER = "只有该乡镇人民政府的账号可以办理 (only the township's own officers act on it)"
_ACKED = "该报告已签收 (already acknowledged)"
_RAISED = "该报告已提请县教育局 (already raised to the county)"
_CLOSED = "学生已返校或通知书已销号,无需再处理 (the student is back or the notice is struck off)"


def status_of(r: TownshipReport) -> ReportStatus:
    if r.raised_on is not None:
        return ReportStatus.raised
    if r.acknowledged_at is not None:
        return ReportStatus.acknowledged
    return ReportStatus.received


def _action_out(a: TownshipAction) -> ActionOut:
    return ActionOut.model_validate(a, from_attributes=True)


def _out(row: ReportRow, ack_days: int, actions: list[TownshipAction]) -> TownshipReportOut:
    r = row.report
    assert r.id is not None
    status = status_of(r)
    return TownshipReportOut(
        id=r.id,
        notice_id=r.notice_id,
        notice_number=row.notice.number,
        case_id=r.case_id,
        student_id=r.student_id,
        student_name=row.student_name,
        school_id=r.school_id,
        school_name=row.school_name,
        township_id=r.township_id,
        county_id=r.county_id,
        guardian_name=row.notice.guardian_name,
        notice_deadline=row.notice.deadline,
        reported_on=r.reported_on,
        acknowledge_by=r.reported_on + timedelta(days=ack_days),
        status=status,
        status_label=REPORT_STATUS_LABELS[status],
        acknowledged_at=r.acknowledged_at,
        acknowledged_by=r.acknowledged_by,
        raised_on=r.raised_on,
        raised_by=r.raised_by,
        raise_reason=r.raise_reason,
        actions=[_action_out(a) for a in actions],
    )


async def _outs(uow: UnitOfWork, rows: list[ReportRow]) -> list[TownshipReportOut]:
    actions = await repo.actions_of(uow.session, [r.report.id for r in rows if r.report.id])
    days: dict[int, int] = {}
    out = []
    for row in rows:
        r = row.report
        if r.school_id not in days:
            rules = await rules_for(uow.session, r.county_id, r.school_id)
            days[r.school_id] = rules.township_ack_days
        out.append(_out(row, days[r.school_id], actions.get(r.id or 0, [])))
    return out


# --- the report, made when a notice is reported ---------------------------------------------


async def record_report(uow: UnitOfWork, ctx: AppContext, notice: ReturnNotice) -> None:
    """In the transaction that reports ``notice`` to the township (after a flush): the report
    and an inbox notice to each of the township's officers."""
    assert notice.id is not None and notice.reported_to_township_on is not None
    if await repo.of_notice(uow.session, notice.id) is not None:
        return
    school = await school_row(uow, notice.school_id)
    now = ctx.clock()
    uow.session.add(
        TownshipReport(
            notice_id=notice.id,
            case_id=notice.case_id,
            student_id=notice.student_id,
            school_id=notice.school_id,
            township_id=school.township_id,
            county_id=school.county_id,
            reported_on=notice.reported_to_township_on,
            created_at=now,
        )
    )
    student = await uow.session.get(Student, notice.student_id)
    name = student.name if student is not None else ""
    title = (
        f"{school.name}{name}返校通知书 {notice.number} 逾期未返校,"
        f"{notice.reported_to_township_on.isoformat()} 报告本乡镇,请签收并依法处理"
    )
    rows = [
        Notice(
            idem_key=f"reported:{notice.number}:{staff_id}",
            staff_id=staff_id,
            role=Role.township_officer,
            topic=REPORTED_TOPIC,
            title=title,
            case_id=notice.case_id,
            student_id=notice.student_id,
            school_id=notice.school_id,
            created_at=now,
        )
        for staff_id in await repo.officers(uow.session, school.township_id)
    ]
    await outbox.enqueue(uow.session, rows)


# --- reading --------------------------------------------------------------------------------


async def list_reports(
    uow: UnitOfWork,
    actor: Actor,
    *,
    township_id: int | None,
    status: ReportStatus | None,
    limit: int,
    offset: int,
) -> Page[TownshipReportOut]:
    """The reports the actor may read, newest first."""
    where: list[ColumnElement[bool]] = []
    scope = repo.scope_filter(actor.superuser, actor.township_ids, actor.managed_school_ids)
    if scope is not None:
        where.append(scope)
    if township_id is not None:
        where.append(col(TownshipReport.township_id) == township_id)
    if status is ReportStatus.raised:
        where.append(col(TownshipReport.raised_on).is_not(None))
    elif status is not None:
        where.append(col(TownshipReport.raised_on).is_(None))
        ack = col(TownshipReport.acknowledged_at)
        where.append(ack.is_not(None) if status is ReportStatus.acknowledged else ack.is_(None))
    rows, total = await repo.page(uow.session, where, limit, offset)
    return Page(items=await _outs(uow, rows), total=total, limit=limit, offset=offset)


async def _readable(uow: UnitOfWork, actor: Actor, report_id: int) -> ReportRow:
    row = await repo.one(uow.session, report_id)
    if row is None:
        raise NotFound("乡镇报告 (township report)", report_id)
    r = row.report
    if not access.can_read_township_reports(actor, r.county_id, r.township_id, r.school_id):
        raise NotFound("乡镇报告 (township report)", report_id)
    return row


async def get_report(uow: UnitOfWork, actor: Actor, report_id: int) -> TownshipReportOut:
    return (await _outs(uow, [await _readable(uow, actor, report_id)]))[0]


# --- the township's writes ------------------------------------------------------------------


async def _for_township(uow: UnitOfWork, actor: Actor, report_id: int) -> ReportRow:
    """The report locked, for one of its township's officers (404 / 403 otherwise)."""
    row = await _readable(uow, actor, report_id)
    require_person(actor)
    if not access.can_act_for_township(actor, row.report.township_id):
        raise Forbidden(_NOT_OFFICER)
    locked = await uow.session.get(
        TownshipReport, report_id, with_for_update=True, populate_existing=True
    )
    assert locked is not None
    return ReportRow(locked, row.notice, row.student_name, row.school_name)


def _acknowledge(r: TownshipReport, actor: Actor, ctx: AppContext) -> dict[str, object]:
    r.acknowledged_at = ctx.clock()
    r.acknowledged_by = actor.tag
    text = f"乡镇人民政府已签收返校通知书报告({actor.name})"
    return timeline_repo.entry(
        r.case_id, TimelineKind.township_acknowledged, text, ctx.clock(), actor.tag
    )


async def acknowledge(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, report_id: int
) -> TownshipReportOut:
    row = await _for_township(uow, actor, report_id)
    if row.report.acknowledged_at is not None:
        raise Conflict(_ACKED)
    entry = _acknowledge(row.report, actor, ctx)
    uow.session.add(row.report)
    await timeline_repo.write(uow.session, [entry])
    await uow.commit()
    return (await _outs(uow, [row]))[0]


def _check_dates(data: ActionIn, reported_on: date, today: date) -> None:
    if data.taken_on > today:
        raise Invalid.field(
            ("body", "taken_on"), "处理日期不能晚于今天 (taken_on is in the future)"
        )
    if data.taken_on < reported_on:
        raise Invalid.field(
            ("body", "taken_on"),
            f"处理日期不能早于报告乡镇的日期 {reported_on} (taken_on before the report)",
        )
    if data.kind is ActionKind.order_correction and data.deadline is None:
        raise Invalid.field(
            ("body", "deadline"), "责令限期改正须填写改正期限 (deadline required for this kind)"
        )
    if data.deadline is not None and data.deadline <= data.taken_on:
        raise Invalid.field(
            ("body", "deadline"), "改正期限须晚于处理日期 (deadline must follow taken_on)"
        )


async def record_action(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, report_id: int, data: ActionIn
) -> TownshipReportOut:
    row = await _for_township(uow, actor, report_id)
    r = row.report
    notice = await uow.session.get(ReturnNotice, r.notice_id, populate_existing=True)
    assert notice is not None
    if notice.status != NoticeStatus.escalated.value:
        raise Conflict(_CLOSED)
    school = await school_row(uow, r.school_id)
    _check_dates(data, r.reported_on, local_today(school, ctx.clock()))
    now = ctx.clock()
    entries = []
    if r.acknowledged_at is None:
        entries.append(_acknowledge(r, actor, ctx))
        uow.session.add(r)
    action = TownshipAction(
        report_id=report_id,
        kind=data.kind.value,
        taken_on=data.taken_on,
        deadline=data.deadline,
        note=data.note,
        recorded_by=actor.tag,
        recorded_at=now,
    )
    uow.session.add(action)
    label = ACTION_LABELS[data.kind]
    until = f",限 {data.deadline.isoformat()} 前改正" if data.deadline else ""
    text = f"乡镇人民政府 {data.taken_on.isoformat()} {label}{until}:{data.note}"
    entries.append(
        timeline_repo.entry(r.case_id, TimelineKind.township_action, text[:500], now, actor.tag)
    )
    await timeline_repo.write(uow.session, entries)
    await uow.flush()
    await _tell(
        uow,
        ctx,
        r,
        ACTION_TOPIC,
        f"{row.student_name}:{text}",
        f"township_action:{action.id}",
        TOLD_ROLES,
    )
    await uow.commit()
    return (await _outs(uow, [row]))[0]


def _raise(
    r: TownshipReport, today: date, actor: str | None, reason: str, ctx: AppContext
) -> dict[str, object]:
    r.raised_on = today
    r.raised_by = actor
    r.raise_reason = reason
    text = f"乡镇报告提请县教育局:{reason}"
    return timeline_repo.entry(
        r.case_id, TimelineKind.township_raised, text[:500], ctx.clock(), actor
    )


async def raise_to_county(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, report_id: int, data: RaiseIn
) -> TownshipReportOut:
    row = await _for_township(uow, actor, report_id)
    r = row.report
    if r.raised_on is not None:
        raise Conflict(_RAISED)
    today = local_today(await school_row(uow, r.school_id), ctx.clock())
    entry = _raise(r, today, actor.tag, data.reason, ctx)
    uow.session.add(r)
    await timeline_repo.write(uow.session, [entry])
    await _tell(
        uow, ctx, r, RAISED_TOPIC, f"{row.student_name}:{data.reason}", f"raised:{r.id}", TOLD_ROLES
    )
    await uow.commit()
    return (await _outs(uow, [row]))[0]


async def raise_unacknowledged(
    uow: UnitOfWork, ctx: AppContext, school_ids: Collection[int] | None
) -> int:
    """In the daily check's transaction: reports not acknowledged within the county's
    ``township_ack_days`` are raised to the county. Returns how many."""
    raised = 0
    schools: dict[int, tuple[School, int]] = {}
    entries = []
    for r in await repo.unacknowledged(uow.session, school_ids, NoticeStatus.escalated.value):
        if r.school_id not in schools:
            school = await school_row(uow, r.school_id)
            rules = await rules_for(uow.session, school.county_id, school.id)
            schools[r.school_id] = school, rules.township_ack_days
        school, days = schools[r.school_id]
        today = local_today(school, ctx.clock())
        if today <= r.reported_on + timedelta(days=days):
            continue
        reason = f"报告乡镇后 {days} 天内乡镇人民政府未签收"
        entries.append(_raise(r, today, None, reason, ctx))
        uow.session.add(r)
        student = await uow.session.get(Student, r.student_id)
        title = f"{student.name if student else ''}返校通知书报告:{reason},请县教育局督办"
        await _tell(uow, ctx, r, RAISED_TOPIC, title, f"raised:{r.id}", TOLD_ROLES)
        raised += 1
    await timeline_repo.write(uow.session, entries)
    return raised


async def _tell(
    uow: UnitOfWork,
    ctx: AppContext,
    r: TownshipReport,
    topic: str,
    title: str,
    cause: str,
    roles: Iterable[Role],
) -> None:
    students = await ctx.cache.students.get_many(
        [r.student_id], lambda s: students_brief(uow.session, s)
    )
    student = students.get(r.student_id)
    if student is None:
        return
    await status_history.tell(
        uow,
        ctx,
        student=student,
        county_id=r.county_id,
        case_id=r.case_id,
        topic=topic,
        title=title,
        cause=cause,
        roles=roles,
    )
