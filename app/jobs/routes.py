"""The engine's health, the Prometheus scrape and the drills' shared simulated clock."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from app.api.deps import ActorOrScraper, Ctx, CurrentActor, Uow, require_scraper
from app.jobs import health as engine_health_service
from app.jobs import metrics, sim_clock
from app.jobs.schemas import ClockMove, ClockMoved, ClockOut, EngineHealthOut

router = APIRouter(tags=["预警规则与引擎 Alert policy & engine"])


@router.get(
    "/api/v1/engine/health",
    summary="引擎状态:最早的逾期未触发期限 (oldest overdue deadline)",
    description="Anyone signed in, or a monitoring system with the scrape token "
    "(KCBX_METRICS_TOKEN) as its bearer token.",
)
async def engine_health(uow: Uow, ctx: Ctx, caller: ActorOrScraper) -> EngineHealthOut:
    return await engine_health_service.health(uow, ctx)


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(require_scraper)])
async def prometheus_metrics(uow: Uow, ctx: Ctx) -> Response:
    """Prometheus text format; off (404) unless KCBX_METRICS_TOKEN is set, then that bearer."""
    return Response(await metrics.exposition(uow, ctx), media_type=metrics.CONTENT_TYPE)


@router.get(
    "/api/v1/sim/clock",
    summary="模拟时钟:当前模拟时间与移动记录 (when enabled)",
    description="The deployment's one simulated (school) time, shared by every API worker and "
    "engine, and its moves (who, from, to, what fired), newest first. 404 unless "
    "KCBX_SIMULATION_CLOCK=true (never in production).",
)
async def read_clock(ctx: Ctx, actor: CurrentActor) -> ClockOut:
    return await sim_clock.read_clock(ctx, actor)


@router.post(
    "/api/v1/sim/clock",
    summary="设置或推进模拟时钟,期间到期的事项按时间顺序触发",
    description="Only with KCBX_SIMULATION_CLOCK=true (refused in production); the operator, "
    "and the admins and drill-scoped keys of the county KCBX_DRILL_COUNTY names. "
    "Forward (`advance_minutes`, or `set` "
    "ahead; at most a school year at once): every deadline and periodic job (roll, task, "
    "care and return-notice reminders, deliveries with their retries and quiet hours) runs "
    "at each simulated moment it would have run, in time order. Back (`set`): only while "
    "nothing is recorded after the target, else 409 saying what is.",
    responses={
        403: {"description": "not allowed to move the clock"},
        409: {"description": "back over recorded data, or another move in progress"},
    },
)
async def move_clock(move: ClockMove, ctx: Ctx, actor: CurrentActor) -> ClockMoved:
    return await sim_clock.move_clock(ctx, actor, move)
