"""One simulation clock for the whole deployment (drills; never in production).

Decisions:
- the clock is one database row (``sim_clock``) holding a *frozen* simulated time: it moves
  only when someone moves it, like Stripe's test clocks. Every process (API workers, engines
  ``python -m app.jobs``) reads the row: API requests and engine ticks re-read it when their
  copy is older than ``KCBX_SIMULATION_CLOCK_TTL_SECONDS`` (0 by default: every request and
  tick, one primary-key read). A restart reads it back: it never moves the clock;
- it starts, once, at ``KCBX_SIMULATION_CLOCK_START`` (else the wall clock) when a database
  has no clock yet; a start before data already recorded refuses to start the process;
- ``POST /sim/clock {"set": t}`` goes to any instant ahead (everything on the way runs, as
  with ``advance_minutes``) or back while nothing is recorded after ``t`` (roster and
  configuration do not count: a roster imported in November may drill September). Back over
  records is 409 naming the newest record; equal is a no-op (not logged);
- moving forward steps the clock through every moment where a job can change its answer and
  runs the engine's jobs at each (``app/jobs/drill.py``). Meanwhile the move holds a lease
  on the row (real time, renewed each step): engines pause, a second move is 409. A move
  whose process dies leaves the clock at its last step (all before it done) and the lease
  runs out after two minutes. An engine tick that had already read the clock when a move
  began finishes at that time (a tick is short; what it writes is keyed, so nothing is
  written twice);
- who: the operator; county admins of the drill's county (``KCBX_DRILL_COUNTY``, a county
  id) and that county's API keys granted the ``drill`` scope; 403 otherwise (no drill county
  configured: the operator only). Outside a drill deployment (``KCBX_SIMULATION_CLOCK``, never
  in production) the endpoints are 404.
  Every move is logged (who, from, to, where it got, what fired) and listed by
  ``GET /sim/clock`` to anyone signed in, who also sees the time;
- only school time follows the clock: tokens, API keys and signatures use the wall clock.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from app.context import AppContext
from app.core.clock import SharedClock, SimClock
from app.db.models import SimClockMove, SimClockRow
from app.domain.access import Actor
from app.domain.drill import may_move_clock
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.jobs import drill
from app.jobs import sim_clock_repo as repo
from app.jobs.schemas import (
    MAX_ADVANCE_MINUTES,
    ClockMove,
    ClockMoved,
    ClockMoveOut,
    ClockOut,
)

log = logging.getLogger("kcbx.drill")

LEASE = timedelta(minutes=2)
MOVES_SHOWN = 100
_MAX_AHEAD = timedelta(minutes=MAX_ADVANCE_MINUTES)


class ClockRefused(RuntimeError):
    """The configured start is before data already recorded."""


class _ClockOff(NotFound):
    def __init__(self, production: bool) -> None:
        why = "生产环境没有模拟时钟" if production else "模拟时钟未启用"
        super().__init__(f"{why} (simulation clock is off: KCBX_SIMULATION_CLOCK)")


def _clock(ctx: AppContext) -> SimClock:
    if not ctx.settings.simulation_clock or not isinstance(ctx.clock, SimClock):
        raise _ClockOff(ctx.settings.environment == "production")
    return ctx.clock


def _moving(row: SimClockRow, wall: datetime) -> bool:
    return row.moving_until is not None and row.moving_until > wall


def _too_early(start: datetime, latest: datetime, where: str | None) -> str:
    return (
        f"模拟时钟不能设在 {start.isoformat()}:{where} 已有 {latest.isoformat()} 的记录 "
        f"(data recorded at {latest.isoformat()} in {where} is after it; drill on a fresh "
        "database, or pick a later time)"
    )


async def _row(ctx: AppContext, start: datetime, who: str) -> SimClockRow:
    """The clock's row, made at ``start`` if there is none yet."""
    async with ctx.uow() as uow:
        row = await repo.clock_row(uow.session)
        if row is not None:
            return row
        latest, where = await repo.latest_record(uow.session)
        if latest is not None and latest > start:
            raise ClockRefused(_too_early(start, latest, where))
        wall = ctx.wall_clock()
        row = SimClockRow(now=start, set_at=wall, started_at=start)
        uow.session.add(row)
        uow.session.add(
            SimClockMove(
                at=wall,
                actor_kind="system",
                actor_id=0,
                actor_name=who,
                kind="start",
                to_time=start,
                reached=start,
            )
        )
        # Another process may have made it first: theirs stands.
        with contextlib.suppress(Conflict):
            await uow.commit()
    async with ctx.uow() as uow:
        made = await repo.clock_row(uow.session)
        assert made is not None
        return made


def _load(ctx: AppContext, row: SimClockRow) -> None:
    clock = ctx.clock
    if isinstance(clock, SharedClock):
        clock.loaded_from(row.now, moving=_moving(row, ctx.wall_clock()))
    elif isinstance(clock, SimClock):
        clock.set(row.now)


async def attach(ctx: AppContext) -> None:
    """At start-up of every process: the stored clock, made first if the database has none."""
    if not ctx.settings.simulation_clock:
        return
    configured = ctx.settings.simulation_clock_start
    start = configured or ctx.wall_clock()
    row = await _row(ctx, start, "KCBX_SIMULATION_CLOCK_START" if configured else "start-up")
    if configured is not None and row.started_at != configured:
        log.warning(
            "KCBX_SIMULATION_CLOCK_START is %s but this database's clock started at %s and "
            "stands at %s: the stored clock is kept",
            configured.isoformat(),
            row.started_at.isoformat(),
            row.now.isoformat(),
        )
    _load(ctx, row)


async def refresh(ctx: AppContext, *, force: bool = False) -> None:
    """Bring this process's copy up to date when it is older than the TTL."""
    clock = ctx.clock
    if not ctx.settings.simulation_clock or not isinstance(clock, SharedClock):
        return
    if not force and time.monotonic() - clock.read_at < ctx.settings.simulation_clock_ttl_seconds:
        return
    async with ctx.uow() as uow:
        row = await repo.clock_row(uow.session)
    if row is None:
        await attach(ctx)
    else:
        _load(ctx, row)


async def follow(ctx: AppContext) -> bool:
    """For engine ticks: read the clock; False while a move is stepping it (the mover runs
    every job itself then, at each step's time)."""
    if not ctx.settings.simulation_clock or not isinstance(ctx.clock, SharedClock):
        return True
    await refresh(ctx, force=True)
    return not ctx.clock.moving


async def read_clock(ctx: AppContext, actor: Actor) -> ClockOut:
    clock = _clock(ctx)
    row = await _row(ctx, clock.now, "first read")
    _load(ctx, row)
    async with ctx.uow() as uow:
        moves, total = await repo.moves(uow.session, MOVES_SHOWN)
    wall = ctx.wall_clock()
    return ClockOut(
        now=row.now,
        wall_clock=wall,
        started_at=row.started_at,
        set_at=row.set_at,
        moving=_moving(row, wall),
        may_move=may_move_clock(actor, ctx.settings.drill_county),
        moves=[ClockMoveOut.model_validate(m) for m in moves],
        moves_total=total,
    )


def _move(actor: Actor, wall: datetime, kind: str, start: datetime, to: datetime) -> SimClockMove:
    return SimClockMove(
        at=wall,
        actor_kind=actor.kind.value,
        actor_id=actor.id,
        actor_name=actor.name,
        kind=kind,
        from_time=start,
        to_time=to,
    )


_BUSY = "模拟时钟正在被推进,请稍后再试 (the clock is being moved by another request)"


async def _back(ctx: AppContext, actor: Actor, start: datetime, target: datetime) -> ClockMoved:
    """Back: only over nothing recorded; nothing runs."""
    wall = ctx.wall_clock()
    async with ctx.uow() as uow:
        latest, where = await repo.latest_record(uow.session)
        if latest is not None and latest > target:
            raise Conflict(_too_early(target, latest, where))
        if not await repo.set_if_still(uow.session, start, target, wall):
            raise Conflict(_BUSY)
        move = _move(actor, wall, "set", start, target)
        move.reached = target
        uow.session.add(move)
        await uow.commit()
    _clock(ctx).set(target)
    return ClockMoved(now=target, previous=start, reached_target=True)


async def _forward(
    ctx: AppContext, actor: Actor, kind: str, start: datetime, target: datetime
) -> ClockMoved:
    clock = _clock(ctx)
    token = str(uuid.uuid4())
    wall = ctx.wall_clock()
    async with ctx.uow() as uow:
        if not await repo.lease(uow.session, token, start, wall + LEASE, wall):
            raise Conflict(_BUSY)
        move = _move(actor, wall, kind, start, target)
        uow.session.add(move)
        await uow.commit()
    log.info("%s %s moves the clock %s -> %s", actor.kind.value, actor.name, start, target)

    async def step_to(moment: datetime) -> bool:
        now_wall = ctx.wall_clock()
        async with ctx.uow() as uow:
            held = await repo.step(uow.session, token, moment, now_wall, now_wall + LEASE)
            await uow.commit()
        if held:
            clock.set(moment)
        return held

    if isinstance(clock, SharedClock):
        clock.moving = True
    outcome: tuple[drill.DrillResult, datetime] | None = None
    try:
        outcome = await drill.advance(ctx, target, step_to)
    finally:
        # Also when the move is cut short (an error, the request cancelled): the clock stands
        # at its last step, everything before it done, and the log says where.
        if isinstance(clock, SharedClock):
            clock.moving = False
        reached = outcome[1] if outcome else clock.now
        summary = outcome[0].summary() if outcome else {"cut_short": True}
        async with ctx.uow() as uow:
            await repo.release(uow.session, token)
            await repo.finish_move(uow.session, move.id or 0, reached, summary)
            await uow.commit()
    result = outcome[0]
    return ClockMoved(
        now=reached,
        previous=start,
        reached_target=reached == target,
        fired=result.fired,
        cancelled=result.cancelled,
        drill=summary,
    )


async def move_clock(ctx: AppContext, actor: Actor, data: ClockMove) -> ClockMoved:
    """Forward: everything due on the way runs in time order, each at its own moment."""
    clock = _clock(ctx)
    if not may_move_clock(actor, ctx.settings.drill_county):
        raise Forbidden(
            "只有运维、演练所属县(KCBX_DRILL_COUNTY)的教育局管理员或其被授予演练权限的 API 密钥"
            "可以移动模拟时钟 (the operator, or the drill county's admins and drill-scoped keys)"
        )
    row = await _row(ctx, clock.now, "first move")
    _load(ctx, row)
    if _moving(row, ctx.wall_clock()):
        raise Conflict(_BUSY)
    start = row.now
    if data.set is not None:
        target, kind = data.set.astimezone(start.tzinfo), "set"
        if target - start > _MAX_AHEAD:
            raise Invalid.field(
                ("body", "set"),
                "一次最多推进一学年 (at most a school year, 366 days, ahead at once)",
            )
    else:
        target, kind = start + timedelta(minutes=data.advance_minutes or 0), "advance"
    if target == start:
        return ClockMoved(now=start, previous=start, reached_target=True)
    if target < start:
        return await _back(ctx, actor, start, target)
    return await _forward(ctx, actor, kind, start, target)


def following(ctx: AppContext, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """An engine job that reads the shared clock first and sits out a move in progress."""

    async def run() -> None:
        try:
            go = await follow(ctx)
        except Exception:  # the database is away: the job's next tick tries again
            log.exception("reading the simulation clock failed")
            return
        if go:
            await job()

    return run
