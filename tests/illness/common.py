"""What the illness tests share: a school with a 疫情报告人 and sick children at the roll."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import httpx

from app.context import AppContext
from app.domain.roles import Role
from app.jobs.periodic import JOBS, run_job
from tests.helpers import BEIJING, event, move, roll
from tests.world import World

REGISTER = "/api/v1/illness/register"
ALERTS = "/api/v1/illness/alerts"


def at(day: date, hm: str = "08:10") -> datetime:
    h, m = (int(x) for x in hm.split(":"))
    return datetime(day.year, day.month, day.day, h, m, tzinfo=BEIJING)


def sick(
    student_id: int,
    day: date,
    symptoms: tuple[str, ...] = ("fever", "cough"),
    **illness: Any,
) -> dict[str, Any]:
    """A child on sick leave at the morning roll, with symptoms since the night before."""
    body: dict[str, Any] = {
        "symptoms": list(symptoms),
        "onset_at": datetime(day.year, day.month, day.day, 6, 30, tzinfo=BEIJING).isoformat(),
        **illness,
    }
    return event(student_id, "leave", day=day, leave_type="sick", illness=body)


async def students(world: World, klass: str, n: int, start: int) -> list[int]:
    return [await world.add_student(f"{klass}_{i}", f"class_{klass}", start + i) for i in range(n)]


async def reporter(world: World) -> None:
    await world.add_staff("epidemic_reporter", Role.epidemic_reporter, "school_A")


CLUSTER_JOB = next(j for j in JOBS if j.name == "illness-clusters")


async def engine_minute(ctx: AppContext) -> None:
    """The engine's next ``illness-clusters`` run, a minute on (its period): the roll only
    marks the day, this is where the cluster rules look at it."""
    move(ctx, ctx.clock() + timedelta(seconds=CLUSTER_JOB.interval(ctx.settings)))
    assert await run_job(ctx, CLUSTER_JOB)


async def sick_roll(
    client: httpx.AsyncClient,
    world: World,
    ids: list[int],
    day: date,
    *,
    detect: bool = True,
    **kw: Any,
) -> None:
    """The sick children at the morning roll, then (``detect``) the engine's minute."""
    move(world.ctx, at(day))
    await roll(client, world, [sick(i, day, **kw) for i in ids], who="principal")
    if detect:
        await engine_minute(world.ctx)
