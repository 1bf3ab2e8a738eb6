"""Any arrival order of the same events, in any batching, gives the same day statuses."""

from __future__ import annotations

import random

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from app.context import AppContext
from tests.helpers import TUESDAY, event
from tests.world import World, build_world

URL = "/api/v1/attendance-events"
CHECKS = ("morning", "noon", "dismissal")
STATUSES = ("present", "late", "absent")

observation = st.tuples(
    st.integers(0, 2),  # which student
    st.sampled_from(CHECKS),
    st.sampled_from(STATUSES),
    st.integers(0, 59),  # minute past 08:00
)


async def _clear(ctx: AppContext) -> None:
    async with ctx.engine.begin() as conn:
        await conn.execute(text("DELETE FROM attendance_event"))


async def _statuses(client: httpx.AsyncClient, world: World) -> dict[int, str]:
    r = await client.get(
        f"/api/v1/classes/{world.ids['class_A1']}/roll?date={TUESDAY}",
        headers=world.auth("head_teacher"),
    )
    return {s["student_id"]: s["day_status"] for s in r.json()["students"]}


async def _post_in_batches(
    client: httpx.AsyncClient, world: World, events: list[dict[str, object]], rnd: random.Random
) -> None:
    i = 0
    while i < len(events):
        size = rnd.randint(1, 4)
        await client.post(URL, json=events[i : i + size], headers=world.auth("head_teacher"))
        i += size


# Hypothesis runs all examples inside one test call: build the world once per call, which
# is recognised by the per-test clock object the ctx fixture installs.
_world: dict[str, object] = {}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(observation, min_size=1, max_size=10), st.randoms(use_true_random=False))
async def test_any_permutation_gives_the_same_day_statuses(
    ctx: AppContext,
    client: httpx.AsyncClient,
    observations,
    rnd,  # type: ignore[no-untyped-def]
) -> None:
    if _world.get("clock") is not ctx.clock:
        built = await build_world(ctx)
        for n in (2, 3):
            await built.add_student(f"s{n}", "class_A1", 200 + n)
        _world.update(clock=ctx.clock, world=built)
    world = _world["world"]
    assert isinstance(world, World)
    students = [world.ids["student_A1"], world.ids["s2"], world.ids["s3"]]
    events = [
        event(students[who], status, check=check, at=f"08:{minute:02d}")
        for who, check, status, minute in observations
    ]
    await _clear(ctx)
    await _post_in_batches(client, world, events, rnd)
    in_order = await _statuses(client, world)

    shuffled = list(events)
    rnd.shuffle(shuffled)
    await _clear(ctx)
    await _post_in_batches(client, world, shuffled, rnd)
    assert await _statuses(client, world) == in_order
    # Replaying everything again changes nothing.
    await _post_in_batches(client, world, events, rnd)
    assert await _statuses(client, world) == in_order
