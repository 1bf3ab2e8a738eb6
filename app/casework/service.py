"""联合劝返 (joint persuasion) casework: home-visit records, persuasion talks (劝返复学谈话记录)
and the case's 一人一策 return plan.

Decisions:
- reading: whoever may see the case (``access.can_read_class``), API keys included; anything
  else answers 404;
- writing: people only (API keys 403); the members of the case's work group (vice principal,
  head teacher and subject teachers of the class, named on the case at red), the class's head
  teacher and the school's managers (``access.can_edit_student``); others who can see the case
  get 403;
- a closed case takes no more records: 409 and nothing written;
- dates (visit, talk) are school-local and may not be after the school's today; a plan's
  review dates are in strictly increasing order; staff named (plan owners, staff
  participants) must be active staff of the case's school (home school or a role there):
  otherwise 422 naming the field;
- every write locks the case row first, appends a timeline entry (``case_event``) in the same
  transaction, and commits once. The plan is one per case: PUT replaces it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from app.alerts import timeline_repo
from app.alerts.case_schemas import REASON_LABELS, ReasonCategory
from app.alerts.case_service import locked_case, visible_case
from app.casework import repository as casework_repo
from app.casework.schemas import (
    MEASURE_LABELS,
    OUTCOME_LABELS,
    PARTICIPANT_LABELS,
    HomeVisitIn,
    HomeVisitOut,
    MeasureKind,
    MeasureOut,
    ParticipantKind,
    ParticipantOut,
    PlanIn,
    PlanOut,
    TalkIn,
    TalkOut,
    VisitOutcome,
)
from app.context import AppContext
from app.core.access import require_person
from app.core.time import local_today
from app.db.models import (
    AbsenceCase,
    HomeVisit,
    PersuasionTalk,
    ReturnPlan,
    School,
)
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor
from app.domain.cases import CaseStatus, TimelineKind
from app.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from app.org.staff_repo import staff_names

_NOT_PERSUADER = (
    "只有联合劝返工作组成员、本班班主任或学校管理者可登记 "
    "(only the case's work group, the class's head teacher or school managers)"
)
_CLOSED = "该案例已结案,不能再登记劝返记录 (the case is closed)"
_FUTURE = "日期不能晚于学校当地今天 (the date is in the future)"
_NOT_STAFF = "不是本校在职教职工 (not active staff of the case's school)"


# --- who may act ----------------------------------------------------------------------------


def _in_work_group(actor: Actor, row: AbsenceCase) -> bool:
    return any(int(str(m.get("staff_id"))) == actor.id for m in row.work_group)


async def _case_for_write(uow: UnitOfWork, actor: Actor, case_id: int) -> AbsenceCase:
    row = await locked_case(uow, actor, case_id, "缺勤案例", case_id)
    require_person(actor)
    if not (
        access.can_edit_student(actor, row.school_id, row.class_id) or _in_work_group(actor, row)
    ):
        raise Forbidden(_NOT_PERSUADER)
    if row.status == CaseStatus.closed.value:
        raise Conflict(_CLOSED)
    return row


# --- checks ---------------------------------------------------------------------------------


async def _today(uow: UnitOfWork, ctx: AppContext, row: AbsenceCase) -> date:
    school = await uow.session.get(School, row.school_id)
    assert school is not None
    return local_today(school, ctx.clock())


async def _timeline(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, case_id: int, kind: TimelineKind, text: str
) -> None:
    entry = timeline_repo.entry(case_id, kind, text, ctx.clock(), actor.tag)
    await timeline_repo.write(uow.session, [entry])


# --- shaping --------------------------------------------------------------------------------


def _visit_out(v: HomeVisit) -> HomeVisitOut:
    assert v.id is not None
    outcome = VisitOutcome(v.outcome)
    participants = []
    for p in v.participants:
        kind = ParticipantKind(str(p["kind"]))
        staff_id = p.get("staff_id")
        participants.append(
            ParticipantOut(
                name=str(p["name"]),
                kind=kind,
                kind_label=PARTICIPANT_LABELS[kind],
                staff_id=int(staff_id) if staff_id is not None else None,
            )
        )
    return HomeVisitOut(
        id=v.id,
        case_id=v.case_id,
        visited_on=v.visited_on,
        place=v.place,
        participants=participants,
        met=v.met,
        summary=v.summary,
        outcome=outcome,
        outcome_label=OUTCOME_LABELS[outcome],
        recorded_by=v.recorded_by,
        created_at=v.created_at,
    )


async def _plan_out(uow: UnitOfWork, p: ReturnPlan) -> PlanOut:
    assert p.id is not None
    names = await staff_names(uow.session, {int(m["owner_staff_id"]) for m in p.measures})
    cause = ReasonCategory(p.cause)
    measures = []
    for m in p.measures:
        kind, owner = MeasureKind(str(m["kind"])), int(m["owner_staff_id"])
        measures.append(
            MeasureOut(
                kind=kind,
                kind_label=MEASURE_LABELS[kind],
                description=str(m["description"]),
                owner_staff_id=owner,
                owner_name=names.get(owner, ""),
                review_dates=[date.fromisoformat(d) for d in m["review_dates"]],
            )
        )
    return PlanOut(
        id=p.id,
        case_id=p.case_id,
        cause=cause,
        cause_label=REASON_LABELS[cause],
        cause_note=p.cause_note,
        measures=measures,
        updated_at=p.updated_at,
        updated_by=p.updated_by,
    )


# --- home visits ----------------------------------------------------------------------------


async def record_home_visit(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, case_id: int, data: HomeVisitIn
) -> HomeVisitOut:
    row = await _case_for_write(uow, actor, case_id)
    problems: list[FieldProblem] = []
    if data.visited_on > await _today(uow, ctx, row):
        problems.append(FieldProblem(("body", "visited_on"), _FUTURE))
    named = {p.staff_id for p in data.participants if p.staff_id is not None}
    known = await casework_repo.school_staff(uow.session, row.school_id, named)
    for i, p in enumerate(data.participants):
        loc: tuple[str | int, ...] = ("body", "participants", i, "staff_id")
        if p.staff_id is not None and p.kind is not ParticipantKind.staff:
            problems.append(
                FieldProblem(loc, "只有学校教职工才填写 staff_id (staff_id only for kind=staff)")
            )
        elif p.staff_id is not None and p.staff_id not in known:
            problems.append(FieldProblem(loc, _NOT_STAFF))
    if problems:
        raise Invalid(problems)
    visit = HomeVisit(
        case_id=case_id,
        visited_on=data.visited_on,
        place=data.place,
        participants=[
            {"name": p.name, "kind": p.kind.value, "staff_id": p.staff_id}
            for p in data.participants
        ],
        met=data.met,
        summary=data.summary,
        outcome=data.outcome.value,
        recorded_by=actor.tag,
        created_at=ctx.clock(),
    )
    uow.session.add(visit)
    text = (
        f"联合家访 {data.visited_on.isoformat()} {data.place},"
        f"见到 {data.met},结果:{OUTCOME_LABELS[data.outcome]}"
    )
    await _timeline(uow, ctx, actor, case_id, TimelineKind.home_visit_recorded, text)
    await uow.commit()
    return _visit_out(visit)


async def list_home_visits(uow: UnitOfWork, actor: Actor, case_id: int) -> list[HomeVisitOut]:
    await visible_case(uow, actor, case_id)
    return [_visit_out(v) for v in await casework_repo.home_visits(uow.session, case_id)]


# --- persuasion talks -----------------------------------------------------------------------


async def record_talk(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, case_id: int, data: TalkIn
) -> TalkOut:
    row = await _case_for_write(uow, actor, case_id)
    if data.talked_on > await _today(uow, ctx, row):
        raise Invalid.field(("body", "talked_on"), _FUTURE)
    talk = PersuasionTalk(
        case_id=case_id,
        talked_on=data.talked_on,
        with_whom=data.with_whom,
        by_whom=data.by_whom,
        content=data.content,
        recorded_by=actor.tag,
        created_at=ctx.clock(),
    )
    uow.session.add(talk)
    text = f"劝返复学谈话 {data.talked_on.isoformat()},谈话人 {data.by_whom},对象 {data.with_whom}"
    await _timeline(uow, ctx, actor, case_id, TimelineKind.talk_recorded, text)
    await uow.commit()
    return TalkOut.model_validate(talk)


async def list_talks(uow: UnitOfWork, actor: Actor, case_id: int) -> list[TalkOut]:
    await visible_case(uow, actor, case_id)
    return [TalkOut.model_validate(t) for t in await casework_repo.talks(uow.session, case_id)]


# --- 一人一策 -------------------------------------------------------------------------------


async def _plan_problems(uow: UnitOfWork, row: AbsenceCase, data: PlanIn) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    known = await casework_repo.school_staff(
        uow.session, row.school_id, {m.owner_staff_id for m in data.measures}
    )
    for i, m in enumerate(data.measures):
        if m.owner_staff_id not in known:
            problems.append(FieldProblem(("body", "measures", i, "owner_staff_id"), _NOT_STAFF))
        if any(b <= a for a, b in zip(m.review_dates, m.review_dates[1:], strict=False)):
            problems.append(
                FieldProblem(
                    ("body", "measures", i, "review_dates"),
                    "复查日期须按先后顺序且不重复 (review dates must be in increasing order)",
                )
            )
    return problems


async def put_plan(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, case_id: int, data: PlanIn
) -> PlanOut:
    row = await _case_for_write(uow, actor, case_id)
    problems = await _plan_problems(uow, row, data)
    if problems:
        raise Invalid(problems)
    measures: list[dict[str, Any]] = [
        {
            "kind": m.kind.value,
            "description": m.description,
            "owner_staff_id": m.owner_staff_id,
            "review_dates": [d.isoformat() for d in m.review_dates],
        }
        for m in data.measures
    ]
    now = ctx.clock()
    plan = await casework_repo.plan(uow.session, case_id)
    if plan is None:
        plan = ReturnPlan(case_id=case_id, cause="", updated_at=now, updated_by="")
    plan.cause = data.cause.value
    plan.cause_note = data.cause_note or None
    plan.measures = measures
    plan.updated_at = now
    plan.updated_by = actor.tag
    uow.session.add(plan)
    kinds = "、".join(MEASURE_LABELS[m.kind] for m in data.measures)
    text = f"一人一策方案已更新:原因 {REASON_LABELS[data.cause]};措施 {kinds}"
    await _timeline(uow, ctx, actor, case_id, TimelineKind.plan_updated, text)
    await uow.commit()
    return await _plan_out(uow, plan)


async def get_plan(uow: UnitOfWork, actor: Actor, case_id: int) -> PlanOut:
    await visible_case(uow, actor, case_id)
    plan = await casework_repo.plan(uow.session, case_id)
    if plan is None:
        raise NotFound("该案例的一人一策方案 (return plan of case)", case_id)
    return await _plan_out(uow, plan)
