"""Legal escalation (依法控辍): the 辍学生返校通知书 given to the guardian of a red case, the
report to the township when its deadline passes, 疑似辍学 then 辍学, and 销号.

Decisions:
- periods are configuration (``CountyRules`` in ``app/alerts/county_rules.py``, set per
  county in its alert policy, a school may override): the notice gives ``notice_days`` (7)
  calendar days; the deadline is ``issued_on + notice_days`` in the school's local calendar,
  fixed when the notice is issued. When the deadline has passed by more than
  ``suspected_after_days`` (0: the school's today is after it) with the case still open, the
  notice is reported to the township and the student becomes 疑似辍学 (both dated that day);
  ``dropout_after_days`` (30) days after 疑似辍学 without return the student counts as 辍学.
  The two later periods are read when the check runs, so a county's change applies to the
  notices already out;
- a notice is issued only for an open case at red level: a case that is closed or awaiting
  re-enrolment means the student is at school (409 学生已在校); an open case below red is 409
  too; one active (issued or escalated) notice per case, a second one is 409;
- the guardian named on the notice is the one given in the request, otherwise the student's
  primary guardian (or the first one on file); none at all is 422;
- the document number is ``{school code}-{year}-{seq:03d}``, ``seq`` counting the school's
  notices of that year;
- writing (issue, escalate, strike off, check): people only (API keys 403) who manage the
  case's school (principal, vice principal, 教务处, county admin: ``access.can_manage_school``);
  others who can see the case get 403, everyone else 404. Reading (the notice, its DOCX):
  whoever may see the case;
- escalating by hand (报告乡镇) is allowed only after the deadline (before: 409) and only for
  an issued notice; 销号 needs a reason (422 without) and is allowed on any notice not yet
  struck off;
- ``check_overdue_notices`` marks a notice whose case is no longer open as complied (the
  student is back), escalates overdue ones and marks 辍学 after the further period. The
  engine runner calls it every minute (idempotent); ``POST /return-notices/check``
  runs it over the caller's schools;
- every write locks the case row first, appends a timeline entry (``case_event``) and commits
  once; the check locks all its cases at once, in case-id order (the sweep's order).
"""

from __future__ import annotations

import io
from collections.abc import Collection
from datetime import date, timedelta
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.run import Run

from app.alerts import case_repo, status_history, timeline_repo
from app.alerts import engine_repo as alerts_repo
from app.alerts.case_service import locked_case, visible_case
from app.alerts.county_rules import CountyRules, rules_for
from app.casework import return_notices_repo, township
from app.casework.return_notices_schemas import (
    CheckOut,
    DeliveryIn,
    NoticeIn,
    NoticeOut,
    StrikeOffIn,
)
from app.context import AppContext
from app.core import read_scope
from app.core.access import require_person
from app.core.documents import next_number
from app.core.records import school_row
from app.core.text import xml_safe
from app.core.time import local_today
from app.db.labels import full_class_name
from app.db.models import (
    AbsenceCase,
    Grade,
    ReturnNotice,
    School,
    SchoolClass,
    Student,
    Township,
)
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor
from app.domain.cases import CaseStatus, Level, TimelineKind
from app.domain.return_notices import (
    IN_FORCE,
    NoticeStatus,
    notice_status_label,
    struck_off_text,
)
from app.errors import Conflict, Forbidden, Invalid, NotFound

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

LEGAL_BASIS = (
    "《中华人民共和国义务教育法》第五十八条规定：适龄儿童、少年的父母或者其他法定监护人"
    "无正当理由未依照本法规定送适龄子女或者被监护人入学接受并完成义务教育的，"
    "由当地乡镇人民政府或者县级人民政府教育行政部门给予批评教育，责令限期改正。"
)

_NOT_MANAGER = (
    "只有学校管理者(校长、分管副校长、教务处)或县教育局可办理返校通知书 "
    "(only school managers or the county admin)"
)
_AT_SCHOOL = "学生已在校,不能发返校通知书 (the student is at school: the case is not open)"
_NOT_RED = "只有红色预警的案例才能发返校通知书 (only a case at red level)"
_ALREADY = "该案例已有未办结的返校通知书 (the case already has an active return notice)"
_BEFORE_DEADLINE = "返校期限未届满,不能报告乡镇 (the deadline has not passed yet)"
_NOT_ISSUED = "只有已发出、未返校的通知书才能报告乡镇 (only an issued notice is escalated)"
_STRUCK = "该通知书已销号 (the notice is already struck off)"
_NOT_IN_FORCE = "该通知书已办结或已销号 (the notice is no longer in force)"
_DELIVERED = "该通知书的送达已记录 (delivery is already recorded)"
_DELIVERY_DAY = "送达日期须在发出日期与今天之间 (between the issue date and today)"


def notice_out(n: ReturnNotice) -> NoticeOut:
    assert n.id is not None
    status = NoticeStatus(n.status)
    return NoticeOut(
        id=n.id,
        case_id=n.case_id,
        student_id=n.student_id,
        school_id=n.school_id,
        number=n.number,
        issued_on=n.issued_on,
        deadline=n.deadline,
        guardian_name=n.guardian_name,
        status=status,
        status_label=notice_status_label(status, n.delivered_on is not None),
        delivered_on=n.delivered_on,
        delivery_note=n.delivery_note,
        complied_on=n.complied_on,
        reported_to_township_on=n.reported_to_township_on,
        suspected_dropout_on=n.suspected_dropout_on,
        dropout_on=n.dropout_on,
        struck_off_on=n.struck_off_on,
        strike_off_reason=n.strike_off_reason,
        created_by=n.created_by,
    )


def chinese_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


# --- helpers --------------------------------------------------------------------------------


async def _case_for_write(uow: UnitOfWork, actor: Actor, case_id: int) -> AbsenceCase:
    row = await locked_case(uow, actor, case_id, "缺勤案例", case_id)
    require_person(actor)
    if not access.can_manage_school(actor, row.school_id):
        raise Forbidden(_NOT_MANAGER)
    return row


def _event(
    ctx: AppContext, case_id: int, kind: TimelineKind, text: str, actor: str | None
) -> dict[str, Any]:
    return timeline_repo.entry(case_id, kind, text, ctx.clock(), actor)


async def _notice_for_write(
    uow: UnitOfWork, actor: Actor, notice_id: int
) -> tuple[ReturnNotice, AbsenceCase]:
    found = await uow.session.get(ReturnNotice, notice_id)
    case_id = found.case_id if found is not None else None
    row = await locked_case(uow, actor, case_id, "返校通知书", notice_id)
    require_person(actor)
    if not access.can_manage_school(actor, row.school_id):
        raise Forbidden(_NOT_MANAGER)
    assert found is not None
    await uow.session.refresh(found)
    return found, row


async def _visible_notice(uow: UnitOfWork, actor: Actor, notice_id: int) -> ReturnNotice:
    found = await uow.session.get(ReturnNotice, notice_id)
    if found is None:
        raise NotFound("返校通知书", notice_id)
    row = await case_repo.case(uow.session, found.case_id)
    if row is None or not access.can_read_class(actor, row.school_id, row.class_id):
        raise NotFound("返校通知书", notice_id)
    return found


# --- issuing --------------------------------------------------------------------------------


async def issue_notice(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    case_id: int,
    data: NoticeIn,
) -> NoticeOut:
    row = await _case_for_write(uow, actor, case_id)
    if row.status != CaseStatus.open.value:
        raise Conflict(_AT_SCHOOL)
    if row.level != Level.red.value:
        raise Conflict(_NOT_RED)
    if await return_notices_repo.case_has_notice(uow.session, case_id, IN_FORCE):
        raise Conflict(_ALREADY)
    guardian = data.guardian_name or await return_notices_repo.first_guardian_name(
        uow.session, row.student_id
    )
    if not guardian:
        raise Invalid.field(
            ("body", "guardian_name"), "学生没有登记监护人,请填写监护人姓名 (no guardian on file)"
        )
    school = await school_row(uow, row.school_id)
    rules = await rules_for(uow.session, school.county_id, school.id)
    today = local_today(school, ctx.clock())
    now = ctx.clock()
    notice = ReturnNotice(
        case_id=case_id,
        student_id=row.student_id,
        school_id=row.school_id,
        number=await next_number(
            uow,
            ReturnNotice,
            number=ReturnNotice.number,
            issuer=ReturnNotice.school_id,
            school=school,
            year=today.year,
        ),
        issued_on=today,
        deadline=today + timedelta(days=rules.notice_days),
        guardian_name=guardian,
        status=NoticeStatus.issued.value,
        created_by=actor.tag,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(notice)
    text = (
        f"发出辍学生返校通知书 {notice.number},监护人 {guardian},"
        f"限 {chinese_date(notice.deadline)} 前返校"
    )
    await timeline_repo.write(
        uow.session,
        [_event(ctx, case_id, TimelineKind.return_notice_issued, text, actor.tag)],
    )
    await uow.commit()
    return notice_out(notice)


async def case_notice(uow: UnitOfWork, actor: Actor, case_id: int) -> NoticeOut:
    """The case's latest notice (404 if none)."""
    await visible_case(uow, actor, case_id)
    found = await return_notices_repo.latest_of_case(uow.session, case_id)
    if found is None:
        raise NotFound("该案例的返校通知书 (return notice of case)", case_id)
    return notice_out(found)


# --- escalation and 销号 ---------------------------------------------------------------------


def _escalate(
    ctx: AppContext, n: ReturnNotice, today: date, actor: str | None, how: str
) -> dict[str, Any]:
    n.status = NoticeStatus.escalated.value
    n.reported_to_township_on = today
    n.suspected_dropout_on = today
    n.updated_at = ctx.clock()
    text = f"返校通知书 {n.number} 期限已过未返校,{how}报告乡镇人民政府,认定为疑似辍学"
    return _event(ctx, n.case_id, TimelineKind.return_notice_escalated, text, actor)


async def escalate(uow: UnitOfWork, ctx: AppContext, actor: Actor, notice_id: int) -> NoticeOut:
    notice, row = await _notice_for_write(uow, actor, notice_id)
    if notice.status != NoticeStatus.issued.value:
        raise Conflict(_NOT_ISSUED)
    if row.status != CaseStatus.open.value:
        raise Conflict(_AT_SCHOOL)
    today = local_today(await school_row(uow, row.school_id), ctx.clock())
    if today <= notice.deadline:
        raise Conflict(_BEFORE_DEADLINE)
    uow.session.add(notice)
    await timeline_repo.write(uow.session, [_escalate(ctx, notice, today, actor.tag, "")])
    await uow.flush()
    await status_history.tell_reported(
        uow, ctx, notice.student_id, notice.case_id, notice.number, today
    )
    await township.record_report(uow, ctx, notice)
    await status_history.refresh(uow, ctx, [notice.student_id])
    await uow.commit()
    return notice_out(notice)


async def record_delivery(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, notice_id: int, data: DeliveryIn
) -> NoticeOut:
    """送达: the guardian has the notice. Recorded once (a second record 409); only on a notice
    still in force (issued or escalated), on a day neither before its issue nor in the future."""
    notice, row = await _notice_for_write(uow, actor, notice_id)
    if notice.status not in IN_FORCE:
        raise Conflict(_NOT_IN_FORCE)
    if notice.delivered_on is not None:
        raise Conflict(_DELIVERED)
    today = local_today(await school_row(uow, row.school_id), ctx.clock())
    on = data.delivered_on or today
    if on < notice.issued_on or on > today:
        raise Invalid.field(("body", "delivered_on"), _DELIVERY_DAY)
    notice.delivered_on, notice.delivery_note = on, data.note or None
    notice.updated_at = ctx.clock()
    uow.session.add(notice)
    text = f"返校通知书 {notice.number} 已送达监护人({chinese_date(on)})"
    if data.note:
        text += f":{data.note}"
    await timeline_repo.write(
        uow.session,
        [_event(ctx, notice.case_id, TimelineKind.return_notice_delivered, text, actor.tag)],
    )
    await uow.commit()
    return notice_out(notice)


async def strike_off(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, notice_id: int, data: StrikeOffIn
) -> NoticeOut:
    notice, row = await _notice_for_write(uow, actor, notice_id)
    if notice.status == NoticeStatus.struck_off.value:
        raise Conflict(_STRUCK)
    notice.status = NoticeStatus.struck_off.value
    notice.struck_off_on = local_today(await school_row(uow, row.school_id), ctx.clock())
    notice.strike_off_reason = data.reason
    notice.updated_at = ctx.clock()
    uow.session.add(notice)
    text = struck_off_text(notice.number, data.reason)
    await timeline_repo.write(
        uow.session,
        [_event(ctx, notice.case_id, TimelineKind.return_notice_struck_off, text, actor.tag)],
    )
    await uow.flush()
    await status_history.refresh(uow, ctx, [notice.student_id])
    await uow.commit()
    return notice_out(notice)


# --- the daily check ------------------------------------------------------------------------


async def _check(
    uow: UnitOfWork,
    ctx: AppContext,
    school_ids: Collection[int] | None,
) -> CheckOut:
    found = await return_notices_repo.in_schools(uow.session, school_ids, IN_FORCE)
    # Every case first, in one statement in case-id order: the order the sweep and every
    # other engine job lock cases in, so the check and a sweep cannot deadlock.
    rows = await alerts_repo.cases_by_id(uow.session, {n.case_id for n in found}, lock=True)
    # The notices again, as they stand now that their cases are locked.
    notices = await return_notices_repo.reread(
        uow.session, [n.id for n in found if n.id is not None]
    )
    counts = CheckOut(complied=0, escalated=0, dropout=0)
    reported: list[ReturnNotice] = []
    schools: dict[int, tuple[School, CountyRules]] = {}
    events: list[dict[str, Any]] = []
    for n in notices:
        row = rows[n.case_id]
        if n.status not in IN_FORCE:
            continue
        if n.school_id not in schools:
            school = await school_row(uow, n.school_id)
            rules = await rules_for(uow.session, school.county_id, school.id)
            schools[n.school_id] = school, rules
        school, policy = schools[n.school_id]
        today = local_today(school, ctx.clock())
        event: dict[str, Any] | None = None
        if row.status != CaseStatus.open.value:
            n.status = NoticeStatus.complied.value
            n.complied_on = today
            text = f"学生已返校,返校通知书 {n.number} 办结"
            event = _event(ctx, n.case_id, TimelineKind.return_notice_complied, text, None)
            counts.complied += 1
        elif n.status == NoticeStatus.issued.value:
            if today > n.deadline + timedelta(days=policy.suspected_after_days):
                event = _escalate(ctx, n, today, None, "系统自动")
                counts.escalated += 1
                reported.append(n)
        elif (
            n.dropout_on is None
            and n.suspected_dropout_on is not None
            and today >= n.suspected_dropout_on + timedelta(days=policy.dropout_after_days)
        ):
            n.dropout_on = today
            text = (
                f"疑似辍学满 {policy.dropout_after_days} 天仍未返校,认定为辍学"
                f"(返校通知书 {n.number})"
            )
            event = _event(ctx, n.case_id, TimelineKind.return_notice_dropout, text, None)
            counts.dropout += 1
        if event is not None:
            n.updated_at = ctx.clock()
            uow.session.add(n)
            events.append(event)
    await timeline_repo.write(uow.session, events)
    await uow.flush()
    for n in reported:
        assert n.reported_to_township_on is not None
        await status_history.tell_reported(
            uow, ctx, n.student_id, n.case_id, n.number, n.reported_to_township_on
        )
        await township.record_report(uow, ctx, n)
    counts.raised_to_county = await township.raise_unacknowledged(uow, ctx, school_ids)
    # The 控辍 status as days pass: notices just reported, 疑似辍学 old enough to be 辍学.
    await status_history.sweep(uow, ctx, school_ids, [n.student_id for n in reported])
    await uow.commit()
    return counts


async def check_overdue_notices(
    ctx: AppContext,
    school_ids: Collection[int] | None = None,
) -> CheckOut:
    """The pass over active notices (all schools unless ``school_ids``), each school under
    its county's rules; the engine runner calls it every minute (it is idempotent)."""
    async with ctx.uow() as uow:
        return await _check(uow, ctx, school_ids)


async def check_for(uow: UnitOfWork, ctx: AppContext, actor: Actor) -> CheckOut:
    require_person(actor)
    if not (actor.superuser or actor.managed_school_ids):
        raise Forbidden(_NOT_MANAGER)
    scope = None if actor.superuser else actor.managed_school_ids
    return await _check(uow, ctx, scope)


# --- the printable document -----------------------------------------------------------------


def _font(run: Run, size: float, bold: bool = False) -> None:
    run.font.name = "宋体"
    run.font.size = Pt(size)
    run.font.bold = bold
    rpr = run._element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")


async def document(uow: UnitOfWork, actor: Actor, notice_id: int) -> tuple[bytes, str, str]:
    """The notice as DOCX: bytes, file name and an ASCII fallback name."""
    n = await _visible_notice(uow, actor, notice_id)
    read_scope.note_one(n.student_id)  # the access log ties the printed notice to the child
    student = await uow.session.get(Student, n.student_id)
    school = await school_row(uow, n.school_id)
    assert student is not None
    klass = await uow.session.get(SchoolClass, student.class_id)
    grade = await uow.session.get(Grade, klass.grade_id) if klass else None
    township = await uow.session.get(Township, school.township_id)
    class_name = full_class_name(grade.name if grade else None, klass.name if klass else None)
    township_name = township.name if township else "当地乡镇"

    doc = Document()
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run("辍学生返校通知书"), 22, bold=True)
    number = doc.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _font(number.add_run(xml_safe(f"编号：{n.number}")), 12)
    _font(doc.add_paragraph().add_run(xml_safe(f"{n.guardian_name}（家长/监护人）：")), 14)
    paragraphs = (
        f"您的子女（被监护人）{student.name}系我校{class_name}学生，"
        "近期无正当理由连续多日未到校上课。"
        "经学校多次劝返，至今仍未返校。",
        LEGAL_BASIS,
        f"请您于{chinese_date(n.deadline)}前送{student.name}返校复学。"
        f"逾期未返校的，学校将依法报告{township_name}人民政府，"
        "由乡镇人民政府给予批评教育，责令限期改正。",
        "特此通知。",
    )
    for text in paragraphs:
        p = doc.add_paragraph()
        p.paragraph_format.first_line_indent = Pt(28)
        _font(p.add_run(xml_safe(text)), 14)
    doc.add_paragraph()
    for text in (f"{school.name}（盖章）", chinese_date(n.issued_on)):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _font(p.add_run(xml_safe(text)), 14)
    p = doc.add_paragraph()
    _font(p.add_run("监护人签收：____________    签收日期：______年____月____日"), 12)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue(), f"辍学生返校通知书-{n.number}.docx", f"return-notice-{n.id}.docx"
