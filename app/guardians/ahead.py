"""Absences reported ahead by a signed-in guardian (issue 22 item 3): today (until the
school's cut-off, default the morning check) or a future range, a reason, symptoms for
illness. It becomes a pending leave through the leave table the head teacher decides on
(``requested_by`` ``guardian_account:<id>``), and an unexplained absence it covers sends no
guardian notice (``notices`` leaves out students with a pending leave). Limits are
configuration: ``KCBX_GUARDIAN_REPORT_MAX_DAYS`` consecutive days at most without the
school's approval (one report, or several joined to the guardians' unapproved ones),
``KCBX_GUARDIAN_REPORT_AHEAD_DAYS`` ahead at most. A past day, a range beyond the limits, a
child not the guardian's (404), a range overlapping another leave (409): nothing written."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.attendance import leaves_repo
from app.context import AppContext
from app.db.models import GuardianAccount, GuardianSettings, LeaveRequest, School, Student
from app.db.uow import UnitOfWork
from app.errors import Conflict, FieldProblem, Invalid, NotFound
from app.guardians import repository as repo
from app.guardians.accounts import children_of
from app.guardians.schemas import ReportAheadIn, ReportAheadOut
from app.settings import Settings

access_log = logging.getLogger("kcbx.guardians.access")


def consecutive_run(start: date, end: date, others: Sequence[tuple[date, date]]) -> int:
    """Calendar days of the unbroken run [start, end] makes with the ranges it touches or
    overlaps (transitively): a guardian cannot pass the limit with several short reports.
    A day between two ranges (a weekend not reported) breaks the run."""
    lo, hi = start, end
    ranges = sorted(others)
    grown = True
    while grown:
        grown = False
        for a, b in ranges:
            touches = a <= hi + timedelta(days=1) and b >= lo - timedelta(days=1)
            if touches and (a < lo or b > hi):
                lo, hi = min(lo, a), max(hi, b)
                grown = True
    return (hi - lo).days + 1


async def report_ahead(
    uow: UnitOfWork, ctx: AppContext, account: GuardianAccount, data: ReportAheadIn
) -> ReportAheadOut:
    s = uow.session
    student, school = await _child(uow, account, data.student_id)
    config = await s.get(GuardianSettings, school.id)
    now = ctx.clock()
    cutoff = config.report_cutoff if config else school.morning_check
    problems = [
        *_date_problems(data, now.astimezone(ZoneInfo(school.timezone)), cutoff, ctx.settings),
        *_symptom_problems(data),
    ]
    if not problems:
        problems += await _run_problems(uow, student, data, ctx.settings)
    if problems:
        raise Invalid(problems)
    if await leaves_repo.overlapping(s, student.id or 0, data.start_date, data.end_date):
        raise Conflict("与已有请假重叠 (overlaps another leave)")
    leave = _pending_leave(student, account, data, now)
    s.add(leave)
    await uow.commit()
    access_log.info("guardian %s reported ahead for student %s", account.id, student.id)
    return ReportAheadOut(leave_id=leave.id or 0, status="pending")


async def _child(
    uow: UnitOfWork, account: GuardianAccount, student_id: int
) -> tuple[Student, School]:
    """The guardian's child and their school (404 for anyone else's child)."""
    if student_id not in await children_of(uow, account):
        raise NotFound("学生", student_id)
    student = await uow.session.get(Student, student_id)
    school = await uow.session.get(School, student.school_id) if student else None
    if student is None or school is None:
        raise NotFound("学生", student_id)
    return student, school


def _date_problems(
    data: ReportAheadIn, local: datetime, cutoff: time, settings: Settings
) -> list[FieldProblem]:
    """The range against the school's today (``local``: now in its timezone) and cut-off,
    and the limits: how far ahead, how many days in one report."""
    problems: list[FieldProblem] = []
    today = local.date()
    if data.start_date < today:
        problems.append(FieldProblem(("body", "start_date"), "不能报告过去的日期 (a past date)"))
    elif data.start_date == today and local >= datetime.combine(today, cutoff, local.tzinfo):
        problems.append(
            FieldProblem(
                ("body", "start_date"),
                f"今天 {cutoff:%H:%M} 后不能再报告,请联系班主任 (past today's cut-off)",
            )
        )
    elif data.start_date > today + timedelta(days=settings.guardian_report_ahead_days):
        problems.append(FieldProblem(("body", "start_date"), "报告日期太远 (too far ahead)"))
    days = (data.end_date - data.start_date).days + 1
    if days < 1:
        problems.append(FieldProblem(("body", "end_date"), "结束日期早于开始日期 (before start)"))
    elif days > settings.guardian_report_max_days:
        problems.append(
            FieldProblem(
                ("body", "end_date"),
                f"一次最多报告 {settings.guardian_report_max_days} 天,更长请联系班主任 "
                "(beyond the limit per report)",
            )
        )
    return problems


def _symptom_problems(data: ReportAheadIn) -> list[FieldProblem]:
    """Symptoms go with illness, and illness has at least one."""
    ill = data.reason == "ill"
    if ill and not data.symptoms:
        return [FieldProblem(("body", "symptoms"), "生病须至少选一项症状 (ill needs one)")]
    if not ill and data.symptoms:
        return [FieldProblem(("body", "symptoms"), "仅生病时填写症状 (for ill only)")]
    return []


async def _run_problems(
    uow: UnitOfWork, student: Student, data: ReportAheadIn, settings: Settings
) -> list[FieldProblem]:
    """The limit of consecutive unapproved days, counted with the family's reports before."""
    run = consecutive_run(
        data.start_date,
        data.end_date,
        await repo.unapproved_family_leaves(uow.session, student.id or 0),
    )
    if run <= settings.guardian_report_max_days:
        return []
    return [
        FieldProblem(
            ("body", "end_date"),
            f"连同已报告未批准的请假共连续 {run} 天,超过 "
            f"{settings.guardian_report_max_days} 天,请联系班主任 "
            "(with the unapproved reports before it, beyond the limit of consecutive days)",
        )
    ]


def _pending_leave(
    student: Student, account: GuardianAccount, data: ReportAheadIn, now: datetime
) -> LeaveRequest:
    ill = data.reason == "ill"
    return LeaveRequest(
        student_id=student.id or 0,
        school_id=student.school_id,
        class_id=student.class_id,
        start_date=data.start_date,
        end_date=data.end_date,
        leave_type="sick" if ill else "personal",
        reason=("家长报告:" + data.note)[:500] if data.note else "家长报告",
        onset_at=now if ill else None,
        symptoms=list(dict.fromkeys(x.value for x in data.symptoms)),
        status="pending",
        requested_by=f"guardian_account:{account.id}",
        created_at=now,
    )
