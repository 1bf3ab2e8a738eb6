"""The roll's HTTP face: posting attendance events, a class's roll, the three lists, a student's
attendance.

Decision (issue 23): the roll is posted through three operations on one intake.
``POST /attendance-events`` (``attendance_events_create``) stays as it was, any body shape, its
200 a batch's ``BatchResult`` or a duplicate single event's ``EventResult``. For generated
clients, which should need no hand-written narrowing of the answer, ``POST
/attendance-events/batch`` (``attendance_events_batch_create``) takes only ``{"events": [...]}``
and answers only ``BatchResult``, and ``POST /attendance-events/single``
(``attendance_events_single_create``) takes one event and answers only ``EventResult`` (201
accepted, 200 duplicate) or a problem. Two operations rather than a ``kind`` discriminator: the
answers stay byte for byte what the intake writes, and the types need no ``switch`` at all."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response
from pydantic import ValidationError

from app.api import openapi
from app.api.deps import Ctx, CurrentActor, Uow
from app.api.errors import problem_response
from app.api.problems import PROBLEM_MEDIA_TYPE, ValidationProblem
from app.attendance import intake as attendance
from app.attendance import queries as attendance_queries
from app.attendance.schemas import (
    ATTENDANCE_BODY,
    AttendanceBatchIn,
    AttendanceEventIn,
    BatchResult,
    ClassRollOut,
    ComplianceOut,
    EventOut,
    EventRejected,
    EventResult,
    Outcome,
    RejectCode,
    StudentHistoryOut,
    ThreeListsOut,
)
from app.core import metrics
from app.core.types import Id, SchoolDate
from app.errors import Invalid, PayloadTooLarge

router = APIRouter(prefix="/api/v1", tags=["考勤 Attendance"])
BATCH_PATH = "/api/v1/attendance-events/batch"
SINGLE_PATH = "/api/v1/attendance-events/single"

_BODY_DOC = openapi.json_body(
    {
        "oneOf": [
            openapi.ref(AttendanceBatchIn),
            {"type": "array", "items": openapi.ref(AttendanceEventIn), "maxItems": 500},
            openapi.ref(AttendanceEventIn),
        ]
    },
    '一个班的点名(最多 500 条),或一条记录。A class\'s roll: `{"events": [...]}` or a bare '
    "array (up to 500); or a single event object.",
)


_TOO_LARGE = {"description": "批量超过上限 (batch above the limit; code payload_too_large)"}
# What a single event is answered beyond 200, on both paths that take one.
_SINGLE_ANSWERS: dict[int | str, dict[str, Any]] = {
    201: {
        "description": "单条记录已接收 (a single event accepted)",
        "content": {"application/json": {"schema": openapi.ref(EventResult)}},
    },
    409: {
        "description": "event_id 已用于不同内容 (a single event reusing an event_id)",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": openapi.ref(EventRejected)}},
    },
    422: {
        "description": "请求体或单条记录有误 (a malformed body: ValidationProblem; or a "
        "single event refused: EventRejected)",
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {"anyOf": [openapi.ref(EventRejected), openapi.ref(ValidationProblem)]}
            }
        },
    },
}


async def _read_events(request: Request, limit: int) -> tuple[list[Any], bool]:
    """The events of the body, and whether it was a single event. A body whose events are all
    well-formed is parsed in one pass; otherwise each event is judged on its own later."""
    raw = await request.body()
    if len(raw) > limit * 4096:
        raise PayloadTooLarge(f"请求体过大,每批最多 {limit} 条 (body too large)")
    try:
        whole = ATTENDANCE_BODY.validate_json(raw)
    except ValidationError:
        pass
    else:
        if isinstance(whole, AttendanceEventIn):
            return [whole], True
        events = whole.events if isinstance(whole, AttendanceBatchIn) else whole
        if 0 < len(events) <= limit:
            return list(events), False
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid.field(("body",), f"JSON 格式错误 (malformed JSON): {exc}") from exc
    except RecursionError as exc:
        raise Invalid.field(("body",), "JSON 嵌套过深 (JSON nested too deeply)") from exc
    if isinstance(body, dict) and "events" in body:
        body = body["events"]
        if not isinstance(body, list):
            raise Invalid.field(("body", "events"), "events 应为数组 (events must be a list)")
    if isinstance(body, dict):
        return [body], True
    if not isinstance(body, list) or not body:
        raise Invalid.field(("body",), "应为一条记录或记录数组 (an event or a list of events)")
    if len(body) > limit:
        raise PayloadTooLarge(
            f"每批最多 {limit} 条,收到 {len(body)} 条 (at most {limit} events per batch)"
        )
    return body, False


@router.post(
    "/attendance-events",
    summary="提交点名记录(一日三查)",
    description="Each event is judged on its own: the answer lists it as `accepted`, "
    "`duplicate` (same `event_id`, same content: nothing written twice) or `rejected` with "
    "the reason; the rest of the batch goes on. A batch answers 200. A single event "
    "answers 201 accepted, 200 duplicate, 409 (event_id reused with other content) or 422. "
    "Its 200 is a `BatchResult` or an `EventResult`: a generated client that wants one answer "
    "type calls `POST /attendance-events/batch` or `POST /attendance-events/single` (the same "
    "intake, one body shape and one answer type each).",
    response_model=None,
    openapi_extra=_BODY_DOC,
    responses={
        200: {
            "description": "一批的结果;或单条记录重复提交 (a batch's results; or a single "
            "event already recorded: an EventResult with result=duplicate)",
            "content": {
                "application/json": {
                    "schema": {"anyOf": [openapi.ref(BatchResult), openapi.ref(EventResult)]}
                }
            },
        },
        **_SINGLE_ANSWERS,
        413: _TOO_LARGE,
    },
)
async def post_events(request: Request, uow: Uow, ctx: Ctx, actor: CurrentActor) -> Response:
    return await _take_roll(request, uow, ctx, actor, None)


@router.post(
    BATCH_PATH.removeprefix("/api/v1"),
    summary="提交一个班的点名(一批)",
    description='A class\'s roll, `{"events": [...]}` (up to the batch limit): always answers '
    "200 with a `BatchResult`, each event `accepted`, `duplicate` or `rejected` with the "
    "reason. The same intake as `POST /attendance-events`, with one answer type, so a "
    "generated client needs no narrowing. A single event object is refused (422).",
    response_model=None,
    openapi_extra=openapi.json_body(
        openapi.ref(AttendanceBatchIn), "一个班的点名 (a class's roll, up to 500 events)"
    ),
    responses={
        200: {
            "description": "一批的结果 (the batch's results)",
            "content": {"application/json": {"schema": openapi.ref(BatchResult)}},
        },
        413: _TOO_LARGE,
    },
)
async def post_batch(request: Request, uow: Uow, ctx: Ctx, actor: CurrentActor) -> Response:
    return await _take_roll(request, uow, ctx, actor, False)


@router.post(
    SINGLE_PATH.removeprefix("/api/v1"),
    summary="提交一条点名记录",
    description="One event: 201 accepted, 200 duplicate (same `event_id`, same content), both "
    "an `EventResult`; 409 (event_id reused with other content) or 422, a problem document "
    "with the `result` a batch would have listed. A batch body is refused (422).",
    response_model=None,
    openapi_extra=openapi.json_body(openapi.ref(AttendanceEventIn), "一条记录 (one event)"),
    responses={
        200: {
            "description": "已记录过的同一条 (already recorded: result=duplicate)",
            "content": {"application/json": {"schema": openapi.ref(EventResult)}},
        },
        **_SINGLE_ANSWERS,
    },
)
async def post_single(request: Request, uow: Uow, ctx: Ctx, actor: CurrentActor) -> Response:
    return await _take_roll(request, uow, ctx, actor, True)


_WRONG_SHAPE = {
    False: f'应为一批记录 {{"events": [...]}};单条记录请用 POST {SINGLE_PATH} '
    '(a batch: {"events": [...]})',
    True: f"应为一条记录;一批请用 POST {BATCH_PATH} (one event object)",
}


async def _take_roll(
    request: Request, uow: Uow, ctx: Ctx, actor: CurrentActor, want_single: bool | None
) -> Response:
    """The three roll operations: ``want_single`` None takes any shape (the original path),
    False only a batch, True only one event; a body of the other shape is a 422 naming the
    operation it belongs to, with nothing written."""
    items, single = await _read_events(request, ctx.settings.attendance_batch_limit)
    if want_single is not None and single is not want_single:
        raise Invalid.field(("body",), _WRONG_SHAPE[want_single])
    with metrics.INTAKE_SECONDS.time():
        intake = await attendance.record_events(uow, ctx, actor, items)
    metrics.intake(intake.accepted, intake.duplicate, intake.rejected)
    # The answer's JSON comes ready from the intake: no model to validate and dump again.
    if not single:
        return Response(intake.body(), media_type="application/json")
    outcome, reject = intake.outcomes[0]
    if outcome is not Outcome.rejected:
        code = status.HTTP_201_CREATED if outcome is Outcome.accepted else status.HTTP_200_OK
        return Response(intake.results[0].encode(), status_code=code, media_type="application/json")
    return _rejected_event(EventResult.model_validate_json(intake.results[0]), reject)


def _rejected_event(result: EventResult, reject: RejectCode | None) -> Response:
    """A single event refused: a problem document like every other 4xx, its ``result`` the
    same item a batch would have listed."""
    errors: list[dict[str, object]] = [
        {"loc": e.loc, "msg": e.msg, "type": "value_error"} for e in result.errors
    ]
    extra = {"result": result.model_dump(mode="json")}
    if reject is RejectCode.conflict:
        return problem_response(409, result.reason or "", "conflict.event_id_reused", **extra)
    if reject is RejectCode.invalid or reject is None:
        detail = result.reason or "; ".join(e.msg for e in result.errors)
        return problem_response(422, detail, "validation_failed", errors=errors, **extra)
    loc = (
        ["body", "student_id"] if reject is RejectCode.unknown_student else ["body", "school_date"]
    )
    errors = errors or [{"loc": loc, "msg": result.reason or "", "type": reject.value}]
    return problem_response(
        422, result.reason or "", f"attendance.{reject.value}", errors=errors, **extra
    )


@router.get("/classes/{class_id}/roll", summary="班级点名表(某日)")
async def class_roll(
    class_id: Id,
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    day: Annotated[
        SchoolDate | None, Query(alias="date", description="默认今天 (school's today)")
    ] = None,
) -> ClassRollOut:
    return await attendance_queries.class_roll(uow, ctx, actor, class_id, day)


@router.get(
    "/attendance/lists",
    summary="三个名单:正常到校 / 请假 / 缺勤",
    description="For a class or a school, each school day in [start, end] (at most 62 days).",
)
async def three_lists(
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    start: SchoolDate,
    end: SchoolDate,
    school_id: Id | None = None,
    class_id: Id | None = None,
) -> ThreeListsOut:
    return await attendance_queries.three_lists(
        uow, ctx, actor, school_id=school_id, class_id=class_id, start=start, end=end
    )


@router.get("/students/{student_id}/attendance", summary="学生考勤记录")
async def student_history(
    student_id: Id,
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    start: SchoolDate | None = None,
    end: SchoolDate | None = None,
) -> StudentHistoryOut:
    return await attendance_queries.student_history(uow, ctx, actor, student_id, start, end)


@router.get(
    "/students/{student_id}/attendance-events",
    summary="点名原始记录与更正历史 (who recorded what, when)",
)
async def student_events(
    student_id: Id,
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    start: SchoolDate | None = None,
    end: SchoolDate | None = None,
) -> list[EventOut]:
    return await attendance_queries.student_events(uow, ctx, actor, student_id, start, end)


@router.get(
    "/attendance/compliance",
    summary="未按时点名的班级 (rolls not taken by check time + grace)",
)
async def compliance(
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    school_id: Id | None = None,
    day: Annotated[SchoolDate | None, Query(alias="date")] = None,
    grace_minutes: Annotated[int | None, Query(ge=0, le=600)] = None,
) -> ComplianceOut:
    return await attendance_queries.roll_compliance(
        uow, ctx, actor, school_id=school_id, day=day, grace_minutes=grace_minutes
    )
