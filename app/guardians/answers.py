"""A guardian's answer through the signed link (issue 22 item 2); no sign-in.

Decisions:
- the link names the guardian (mobile), the school, the children and the day; it is refused
  (401) when forged, tampered with or expired (real clock), and an answer for a child it does
  not name is 404 — nothing written;
- each child of a link is answered once (409 after); every guardian may make at most
  ``guardian_answers_per_hour`` answers an hour (429);
- the answer is a reached contact on the child's open case, logged by ``guardian:<masked
  mobile>``: the engine counts it as the 1-hour contact when it is in time, so no vice
  principal escalation follows;
- ill (with at least one symptom) → a pending sick leave for that day with onset now and the
  symptoms (the illness register reads sick leaves); family reason → a pending personal
  leave; the head teacher approves either through the leave path. A leave already covering
  the day is kept, not doubled;
- "don't know" → at once a notice to the head teacher and the vice principal;
- every read of the page is a guardian read, logged (``kcbx.guardians.access``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from app.alerts import engine
from app.alerts import engine_repo as alerts_repo
from app.attendance import leaves_repo
from app.context import AppContext
from app.db.models import (
    GuardianAnswer,
    GuardianNotice,
    GuardianSettings,
    LeaveRequest,
    ParentContact,
    School,
    Student,
)
from app.db.uow import UnitOfWork
from app.delivery import outbox
from app.delivery.outbox import Notice
from app.domain.cases import ContactLogged
from app.domain.idcard import mask_mobile
from app.domain.roles import Role
from app.errors import Conflict, FieldProblem, Invalid, NotFound, RateLimited, Unauthorized
from app.guardians import links
from app.guardians import repository as repo
from app.guardians.links import AnswerLink
from app.guardians.masking import masked
from app.guardians.schemas import (
    ANSWER_LABELS,
    Answer,
    AnswerIn,
    AnswerOut,
    AnswerPageOut,
    ChildOut,
)

access_log = logging.getLogger("kcbx.guardians.access")
UNKNOWN_TOPIC = "guardian.unknown"


def _tag(mobile: str) -> str:
    return f"guardian:{mask_mobile(mobile)}"


async def read_link(uow: UnitOfWork, ctx: AppContext, token: str) -> AnswerLink:
    """What a valid link names; 401 for a forged, tampered or expired one."""
    notice_id, signature = links.notice_id_of(token)
    notice = await uow.session.get(GuardianNotice, notice_id)
    if notice is None:
        raise Unauthorized(links.REFUSED)
    links.check(
        ctx.settings.secret_key,
        signature,
        notice_id=notice_id,
        mobile=notice.mobile,
        day=notice.school_date,
        expires_at=notice.link_expires_at,
        now=ctx.wall_clock(),
    )
    return AnswerLink(
        notice_id=notice_id,
        mobile=notice.mobile,
        school_id=notice.school_id,
        student_ids=tuple(notice.student_ids),
        day=notice.school_date,
    )


async def answer_page(uow: UnitOfWork, ctx: AppContext, token: str) -> AnswerPageOut:
    link = await read_link(uow, ctx, token)
    s = uow.session
    school = await s.get(School, link.school_id)
    config = await s.get(GuardianSettings, link.school_id)
    pupils = await repo.students(s, link.student_ids)
    done = await repo.answers_of(s, link.notice_id)
    access_log.info(
        "guardian read: %s school %s students %s day %s",
        _tag(link.mobile),
        link.school_id,
        list(link.student_ids),
        link.day,
    )
    how = config.name_mask if config else "middle"
    return AnswerPageOut(
        school=school.name if school else "",
        school_date=link.day,
        children=[
            ChildOut(
                student_id=sid,
                name=masked(pupils[sid].name, how) if sid in pupils else "",
                answered=Answer(done[sid].answer) if sid in done else None,
            )
            for sid in link.student_ids
        ],
    )


def _problems(data: AnswerIn) -> list[FieldProblem]:
    if data.answer is Answer.ill and not data.symptoms:
        return [FieldProblem(("body", "symptoms"), "生病须至少选一项症状 (ill needs a symptom)")]
    if data.answer is not Answer.ill and data.symptoms:
        return [FieldProblem(("body", "symptoms"), "仅生病时填写症状 (symptoms are for ill only)")]
    return []


async def answer(uow: UnitOfWork, ctx: AppContext, token: str, data: AnswerIn) -> AnswerOut:
    link = await read_link(uow, ctx, token)
    s = uow.session
    if data.student_id not in link.student_ids:
        raise NotFound("学生", data.student_id)
    problems = _problems(data)
    if problems:
        raise Invalid(problems)
    now = ctx.clock()
    limit = ctx.settings.guardian_answers_per_hour
    if await repo.answers_since(s, link.mobile, now - timedelta(hours=1)) >= limit:
        raise RateLimited("回复过于频繁,请稍后再试 (too many answers)", retry_after=3600)
    if data.student_id in await repo.answers_of(s, link.notice_id):
        raise Conflict("已回复过该孩子的情况 (this child was already answered with this link)")
    pupil = (await repo.students(s, [data.student_id])).get(data.student_id)
    if pupil is None or pupil.school_id != link.school_id:
        raise NotFound("学生", data.student_id)
    tag = _tag(link.mobile)
    label = ANSWER_LABELS[data.answer]
    note = f"家长回复:{label}" + (f"({data.note})" if data.note else "")
    case = await repo.open_case_for_update(s, data.student_id)
    counted = False
    if case is not None and link.day.isoformat() in case.run:
        await engine.apply_event(uow, ctx, case, ContactLogged(True, now), tag)
        s.add(
            ParentContact(
                case_id=case.id or 0,
                at=now,
                logged_by=tag,
                answered_by="监护人",
                reached=True,
                reason_category={Answer.ill: "illness", Answer.family: "other"}.get(data.answer),
                reason_note=note[:500],
            )
        )
        counted = True
    leave_id = None
    if data.answer in (Answer.ill, Answer.family):
        leave_id = await _leave(uow, link, pupil.class_id, data, tag, note, now)
    escalated = False
    if data.answer is Answer.dont_know:
        escalated = await _escalate(uow, link, pupil, case.id if case else None, now)
    s.add(
        GuardianAnswer(
            notice_id=link.notice_id,
            mobile=link.mobile,
            school_id=link.school_id,
            student_id=data.student_id,
            school_date=link.day,
            answer=data.answer.value,
            symptoms=[x.value for x in data.symptoms],
            note=data.note,
            case_id=case.id if case else None,
            leave_id=leave_id,
            at=now,
        )
    )
    try:
        await uow.commit()
    except IntegrityError as exc:  # the same answer, concurrently
        raise Conflict("已回复过该孩子的情况 (already answered)") from exc
    return AnswerOut(
        student_id=data.student_id,
        answer=data.answer,
        counted_as_contact=counted,
        leave_id=leave_id,
        escalated=escalated,
    )


async def _leave(
    uow: UnitOfWork,
    link: AnswerLink,
    class_id: int,
    data: AnswerIn,
    tag: str,
    note: str,
    now: datetime,
) -> int | None:
    s = uow.session
    if await leaves_repo.overlapping(s, data.student_id, link.day, link.day):
        return None
    ill = data.answer is Answer.ill
    leave = LeaveRequest(
        student_id=data.student_id,
        school_id=link.school_id,
        class_id=class_id,
        start_date=link.day,
        end_date=link.day,
        leave_type="sick" if ill else "personal",
        reason=note[:500],
        onset_at=now if ill else None,
        symptoms=list(dict.fromkeys(x.value for x in data.symptoms)),
        status="pending",
        requested_by=tag,
        created_at=now,
    )
    s.add(leave)
    await uow.flush()
    return leave.id


async def _escalate(
    uow: UnitOfWork, link: AnswerLink, pupil: Student, case_id: int | None, now: datetime
) -> bool:
    s = uow.session
    people: list[tuple[int, Role]] = []
    for role in (Role.head_teacher, Role.vice_principal):
        found = await alerts_repo.recipients(
            s,
            role,
            county_id=pupil.county_id,
            school_id=pupil.school_id,
            class_id=pupil.class_id,
        )
        people += [(sid, role) for sid, _ in found]
    await outbox.enqueue(
        s,
        [
            Notice(
                idem_key=f"guardian-unknown:{pupil.id}:{link.day}:{staff_id}",
                staff_id=staff_id,
                role=role,
                topic=UNKNOWN_TOPIC,
                title=f"家长不清楚孩子去向:{pupil.name}",
                body=f"{pupil.name}今日未到校,家长回复不清楚孩子去向,请立即核实。",
                case_id=case_id,
                student_id=pupil.id,
                school_id=pupil.school_id,
                created_at=now,
            )
            for staff_id, role in people
        ],
    )
    return bool(people)
