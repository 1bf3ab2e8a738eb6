from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response
from pydantic import ValidationError

from app.api import openapi
from app.api.deps import Ctx, CurrentActor, Uow
from app.errors import AppError, Invalid
from app.schemas.attendance import (
    ATTENDANCE_BODY,
    AttendanceBatchIn,
    AttendanceEventIn,
    BatchResult,
    ClassRollOut,
    ComplianceOut,
    EventOut,
    EventResult,
    Outcome,
    RejectCode,
    StudentHistoryOut,
    ThreeListsOut,
)
from app.schemas.common import Id, SchoolDate
from app.services import attendance, attendance_queries

router = APIRouter(prefix="/api/v1", tags=["考勤 Attendance"])

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


_VALIDATION_ERROR = {"$ref": "#/components/schemas/HTTPValidationError"}


def _answer(description: str, *schemas: dict[str, str]) -> dict[str, Any]:
    schema: dict[str, Any] = schemas[0] if len(schemas) == 1 else {"anyOf": list(schemas)}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


class PayloadTooLarge(AppError):
    status = 413


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
    "answers 201 accepted, 200 duplicate, 409 (event_id reused with other content) or 422.",
    openapi_extra=_BODY_DOC,
    responses={
        200: _answer(
            "一批的结果,或单条重复记录 (a batch's results, or a single duplicate)",
            openapi.ref(BatchResult),
            openapi.ref(EventResult),
        ),
        201: _answer("单条记录已接收 (a single event accepted)", openapi.ref(EventResult)),
        409: _answer("event_id 已用于其他内容 (event_id reused)", openapi.ref(EventResult)),
        413: {"description": "批量超过上限 (batch above the limit)"},
        422: _answer(
            "单条记录被拒,或请求体无效 (a single event rejected, or a malformed body)",
            openapi.ref(EventResult),
            _VALIDATION_ERROR,
        ),
    },
)
async def post_events(request: Request, uow: Uow, ctx: Ctx, actor: CurrentActor) -> Response:
    items, single = await _read_events(request, ctx.settings.attendance_batch_limit)
    intake = await attendance.record_events(uow, ctx, actor, items)
    # The answer's JSON comes ready from the intake: no model to validate and dump again.
    if not single:
        return Response(intake.body(), media_type="application/json")
    outcome, reject = intake.outcomes[0]
    code = {
        Outcome.accepted: status.HTTP_201_CREATED,
        Outcome.duplicate: status.HTTP_200_OK,
    }.get(outcome, 409 if reject is RejectCode.conflict else 422)
    return Response(intake.results[0].encode(), status_code=code, media_type="application/json")


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
