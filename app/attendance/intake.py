"""Attendance intake: validate each event on its own, write the accepted ones and their
marks in one transaction, and say per event what happened.

Idempotency first: an ``event_id`` seen before with the same content is a ``duplicate``
(nothing is written twice) whatever its age, the calendar or the roster since; with different
content it is rejected as a conflict. Only events never stored are judged for age, future
dates, school days and the caller's roster. Ordering: the mark of a
(student, date, check) is the observation with the latest ``occurred_at``, so late or
out-of-order syncs converge to the same state. Who recorded an event is the caller.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter, ValidationError

from app.alerts import partial_days, reactions
from app.attendance import repository as repo
from app.attendance.schemas import (
    AttendanceEventIn,
    EventProblem,
    EventResult,
    Outcome,
    RejectCode,
)
from app.calendar.repository import school_refs
from app.context import AppContext
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor
from app.domain.attendance import Mark, fingerprint
from app.domain.schools import SchoolRef
from app.domain.students import StudentBrief
from app.illness import roll as illness_roll

_EVENT = TypeAdapter(AttendanceEventIn)
_UNKNOWN_STUDENT = "学生不存在或不在您的权限范围内 (unknown student)"
_CONFLICT = "event_id 已用于不同内容的记录 (event_id already used with different content)"


@dataclass
class Intake:
    """What one submission did: the counts and, per event in order, its ``EventResult`` as
    JSON text (what the answer is made of, byte for byte what the model would dump) with its
    outcome and reject code."""

    accepted: int
    duplicate: int
    rejected: int
    results: list[str]
    outcomes: list[tuple[Outcome, RejectCode | None]]

    def body(self) -> bytes:
        """The ``BatchResult`` of a batch, as JSON."""
        return (
            f'{{"accepted":{self.accepted},"duplicate":{self.duplicate},'
            f'"rejected":{self.rejected},"results":[{",".join(self.results)}]}}'
        ).encode()


def _recorder(actor: Actor) -> dict[str, Any]:
    return {
        "recorded_by_kind": actor.kind.value,
        "recorded_by_id": actor.id,
        "recorded_by_name": actor.name[:100],
    }


def _rejected(
    index: int, event_id: str | None, code: RejectCode, reason: str, **kw: Any
) -> EventResult:
    return EventResult(
        index=index, event_id=event_id, result=Outcome.rejected, code=code, reason=reason, **kw
    )


def _parse(index: int, raw: object) -> AttendanceEventIn | EventResult:
    if isinstance(raw, AttendanceEventIn):
        return _leave_type_checked(index, raw)
    try:
        return _leave_type_checked(index, _EVENT.validate_python(raw))
    except ValidationError as exc:
        event_id = raw.get("event_id") if isinstance(raw, dict) else None
        problems = [
            EventProblem(
                loc=[str(p) if not isinstance(p, int) else p for p in e["loc"]], msg=e["msg"]
            )
            for e in exc.errors(include_url=False)
        ]
        reason = "; ".join(
            f"{'.'.join(str(x) for x in p.loc) or 'event'}: {p.msg}" for p in problems
        )
        return _rejected(
            index,
            str(event_id) if event_id is not None else None,
            RejectCode.invalid,
            reason,
            errors=problems,
        )


def _leave_type_checked(index: int, event: AttendanceEventIn) -> AttendanceEventIn | EventResult:
    problem = event.leave_type_problem()
    if problem is None:
        return event
    return _rejected(
        index,
        str(event.event_id),
        RejectCode.invalid,
        f"leave_type: {problem}",
        errors=[EventProblem(loc=["leave_type"], msg=problem)],
    )


def _digest(event: AttendanceEventIn) -> bytes:
    return fingerprint(
        student_id=event.student_id,
        school_date=event.school_date,
        check=event.check,
        status=event.status,
        leave_type=event.leave_type,
        occurred_at=event.occurred_at,
        note=event.note,
    )


@dataclass
class _Context:
    now: datetime
    future: timedelta
    backfill: timedelta
    schools: dict[int, SchoolRef]
    # Each school's date now, worked out once per submission.
    todays: dict[int, date] = field(default_factory=dict)

    def problem(self, event: AttendanceEventIn, school_id: int) -> tuple[RejectCode, str] | None:
        """Why this event cannot be recorded at this school, or None."""
        school = self.schools[school_id]
        today = self.todays.get(school_id)
        if today is None:
            today = self.todays[school_id] = self.now.astimezone(ZoneInfo(school.timezone)).date()
        if event.school_date > today:
            return (
                RejectCode.future,
                f"日期 {event.school_date} 尚未到来 (school date is in the future)",
            )
        if event.occurred_at > self.now + self.future:
            return RejectCode.future, "点名时间晚于当前时间 (occurred_at is in the future)"
        if event.school_date < today - self.backfill:
            days = self.backfill.days
            return (
                RejectCode.too_old,
                f"日期 {event.school_date} 早于 {days} 天前,超出补录期限 "
                f"(school date more than {days} days back)",
            )
        info = school.calendar.day_info(event.school_date)
        if not info.is_school_day:
            return (
                RejectCode.not_school_day,
                f"{event.school_date} 不是上学日:{info.reason} (not a school day)",
            )
        return None


_Result = tuple[str, Outcome, RejectCode | None]


def _json(result: EventResult) -> _Result:
    """An event's result as the JSON the answer carries (as ``JSONResponse`` renders it)."""
    text = json.dumps(
        result.model_dump(mode="json"), ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )
    return text, result.result, result.code


def _accepted(index: int, event_id: str) -> _Result:
    """The hot path of a whole class's roll, built without a model: an ``event_id`` is a
    UUID's canonical text, which JSON carries as it is."""
    text = (
        f'{{"index":{index},"event_id":"{event_id}","result":"accepted",'
        '"code":null,"reason":null,"errors":[]}'
    )
    return text, Outcome.accepted, None


@dataclass
class _Sorted:
    """A batch's events after the checks that need no stored event: the candidates to
    record (first occurrence of each id), and the refused, judged once the stored are known."""

    candidates: dict[str, tuple[int, AttendanceEventIn, bytes, StudentBrief]]
    # Refused on today's terms (roster, age, future, calendar): idempotency comes first.
    refused: list[tuple[int, str, bytes, EventResult]]


async def record_events(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, items: Sequence[object]
) -> Intake:
    """Parse, lock the roll's students, sort the events (visible, in time, in term), judge
    the refused against what is stored, record the rest in one statement, judge the ids not
    inserted, react (cases, the child gone at noon, illness), commit. One reading of the
    clock serves the whole request, taken once the students' locks are held (a roll that
    waited for another is judged at the time it is judged)."""
    results: list[_Result | None] = [None] * len(items)
    parsed: list[tuple[int, AttendanceEventIn]] = []
    for i, raw in enumerate(items):
        got = _parse(i, raw)
        if isinstance(got, EventResult):
            results[i] = _json(got)
        else:
            parsed.append((i, got))
    visible = await _lock_and_see(uow, ctx, actor, {e.student_id for _, e in parsed})
    now = ctx.clock()
    check = _Context(
        now=now,
        future=timedelta(minutes=ctx.settings.attendance_future_minutes),
        backfill=timedelta(days=ctx.settings.attendance_backfill_days),
        schools=await ctx.cache.schools.get_many(
            {s.school_id for s in visible.values()},
            lambda ids: school_refs(uow.session, ids),
        ),
    )
    batch = _sort(parsed, visible, check, results)
    if batch.refused:
        await _judge_refused(uow, batch.refused, results)
    rows = _event_rows(batch.candidates)
    recorded = await repo.record(uow.session, rows, {**_recorder(actor), "received_at": now})
    await _judge_recorded(uow, batch.candidates, recorded.inserted, results)
    fresh = [r for r in rows if r["event_id"] in recorded.inserted]
    await _react(uow, ctx, actor, batch, fresh, recorded, now)
    await uow.commit()
    return _summary(results, len(items))


async def _lock_and_see(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, named: set[int]
) -> dict[int, StudentBrief]:
    """The roll's students locked first (``reactions.lock_roll``: one roll at a time per
    student, before anything is recorded), with their brief when the cache misses it; those
    active and the caller's to record."""
    locked = False

    async def lock_and_load(ids: set[int]) -> dict[int, StudentBrief]:
        nonlocal locked
        locked = True
        return await reactions.lock_roll_and_brief(uow, named, ids)

    students = await ctx.cache.students.get_many(named, lock_and_load)
    if not locked:
        await reactions.lock_roll(uow, named)
    return {
        sid: s
        for sid, s in students.items()
        if s.active and access.can_read_class(actor, s.school_id, s.class_id)
    }


def _sort(
    parsed: list[tuple[int, AttendanceEventIn]],
    visible: dict[int, StudentBrief],
    check: _Context,
    results: list[_Result | None],
) -> _Sorted:
    """Candidates (first occurrence of each id; a later one is a duplicate or a conflict at
    once) and the refused (unknown student, or today's terms)."""
    batch = _Sorted({}, [])
    for i, event in parsed:
        eid = str(event.event_id)
        digest = _digest(event)
        student = visible.get(event.student_id)
        if student is None:
            why = _rejected(i, eid, RejectCode.unknown_student, _UNKNOWN_STUDENT)
            batch.refused.append((i, eid, digest, why))
            continue
        problem = check.problem(event, student.school_id)
        if problem is not None:
            batch.refused.append((i, eid, digest, _rejected(i, eid, *problem)))
            continue
        earlier = batch.candidates.get(eid)
        if earlier is not None:
            same = earlier[2] == digest
            results[i] = _json(
                EventResult(index=i, event_id=eid, result=Outcome.duplicate)
                if same
                else _rejected(i, eid, RejectCode.conflict, _CONFLICT)
            )
            continue
        batch.candidates[eid] = (i, event, digest, student)
    return batch


async def _judge_refused(
    uow: UnitOfWork,
    refused: list[tuple[int, str, bytes, EventResult]],
    results: list[_Result | None],
) -> None:
    """An event id stored before is judged by its content alone, whatever its age, the
    calendar or the roster since: the same content is a retry (``duplicate``), another a
    conflict. Only events never stored are refused for today's reasons. Nothing is disclosed:
    "duplicate" needs the event's random id and its whole content."""
    stored = await repo.content_hashes(uow.session, {eid for _, eid, _, _ in refused})
    for i, eid, digest, why in refused:
        if eid not in stored:
            results[i] = _json(why)
        elif stored[eid] == digest:
            results[i] = _json(EventResult(index=i, event_id=eid, result=Outcome.duplicate))
        else:
            results[i] = _json(_rejected(i, eid, RejectCode.conflict, _CONFLICT))


def _event_rows(
    candidates: dict[str, tuple[int, AttendanceEventIn, bytes, StudentBrief]],
) -> list[dict[str, Any]]:
    return [
        {
            "event_id": eid,
            "content_hash": digest,
            "student_id": event.student_id,
            "school_id": student.school_id,
            "class_id": student.class_id,
            "school_date": event.school_date,
            "check": event.check.value,
            "status": event.status.value,
            "leave_type": event.leave_type.value if event.leave_type else None,
            "occurred_at": event.occurred_at,
            "note": event.note,
        }
        for eid, (_, event, digest, student) in candidates.items()
    ]


async def _judge_recorded(
    uow: UnitOfWork,
    candidates: dict[str, tuple[int, AttendanceEventIn, bytes, StudentBrief]],
    inserted: set[str],
    results: list[_Result | None],
) -> None:
    """Ids not inserted were there already: the same content is a retry, other a clash."""
    known = await repo.content_hashes(uow.session, set(candidates) - inserted)
    for eid, (i, _, digest, _) in candidates.items():
        if eid in inserted:
            results[i] = _accepted(i, eid)
        elif known.get(eid) == digest:
            results[i] = _json(EventResult(index=i, event_id=eid, result=Outcome.duplicate))
        else:
            results[i] = _json(_rejected(i, eid, RejectCode.conflict, _CONFLICT))


async def _react(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    batch: _Sorted,
    fresh: list[dict[str, Any]],
    recorded: repo.Recorded,
    now: datetime,
) -> None:
    """The day is decided: the alert engine judges the students whose marks changed, the
    child gone at noon (离校未归), then illness surveillance takes the accepted events."""
    await reactions.react_to_attendance(
        uow,
        ctx,
        {r["student_id"] for r in fresh},
        {r["student_id"] for r in fresh if r["status"] == Mark.absent.value},
        recorded.hints,
        locked=True,
        now=now,
    )
    await partial_days.react(
        uow,
        ctx,
        [(r["student_id"], r["school_date"], r["check"], r["status"]) for r in fresh],
        now=now,
    )
    # Issue 21: illness surveillance takes the accepted events.
    await illness_roll.after_roll(
        uow,
        ctx,
        actor,
        [(batch.candidates[eid][1], batch.candidates[eid][3]) for eid in recorded.inserted],
        with_records=recorded.illness,
        now=now,
    )


def _summary(results: list[_Result | None], n: int) -> Intake:
    final = [r for r in results if r is not None]
    assert len(final) == n
    counts = dict.fromkeys(Outcome, 0)
    for _, outcome, _ in final:
        counts[outcome] += 1
    return Intake(
        accepted=counts[Outcome.accepted],
        duplicate=counts[Outcome.duplicate],
        rejected=counts[Outcome.rejected],
        results=[text for text, _, _ in final],
        outcomes=[(outcome, code) for _, outcome, code in final],
    )
