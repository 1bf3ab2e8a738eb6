"""The cluster rules run in the engine's ``illness-clusters`` job, not in the roll: the roll marks
the school day (``illness_day_change``), the job looks at it within a minute, a failed look
keeps the marker, and two engines raise one alert."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from app.context import AppContext
from app.db.models import IllnessAlert, IllnessDayChange, Notification
from app.illness import clusters, detection, repo
from app.jobs.periodic import run_job
from app.jobs.runner import EngineRunner
from app.settings import Settings
from tests.helpers import MONDAY, TUESDAY, count, move, rows
from tests.illness.common import CLUSTER_JOB, at, engine_minute, reporter, sick_roll, students
from tests.world import World


async def test_the_third_roll_is_alerted_within_a_minute_by_the_engine_job(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    await reporter(world)
    a1 = await students(world, "A1", 3, 100)
    await sick_roll(client, world, a1[:2], MONDAY)
    await sick_roll(client, world, a1[2:], MONDAY, detect=False)
    # The roll itself raised nothing: it marked the day for the engine.
    assert await count(ctx, IllnessAlert) == 0
    [mark] = await rows(ctx, IllnessDayChange)
    assert (mark.school_id, mark.school_date) == (world.ids["school_A"], MONDAY)

    # The engine schedules the job every minute (the setting), and its next run raises it.
    assert CLUSTER_JOB.interval(ctx.settings) == 60
    runner = EngineRunner(ctx)
    try:
        runner.start()
        scheduled = runner.scheduler.get_job(CLUSTER_JOB.name)
        assert scheduled is not None
        assert scheduled.trigger.interval == timedelta(seconds=60)
    finally:
        await runner.stop()
    third = ctx.clock()
    await engine_minute(ctx)
    [alert] = await rows(ctx, IllnessAlert)
    assert {c["student_id"] for c in alert.cases} == set(a1)
    assert timedelta(0) < alert.created_at - third <= timedelta(minutes=1)
    notices = await rows(ctx, Notification, Notification.topic == "illness.alert")
    assert {n.role for n in notices} == {"epidemic_reporter", "principal"}
    assert all(n.created_at - third <= timedelta(minutes=1) for n in notices)
    assert await count(ctx, IllnessDayChange) == 0  # cleared with the look

    # A later run finds nothing to do and tells nobody again.
    await engine_minute(ctx)
    assert len(await rows(ctx, Notification, Notification.topic == "illness.alert")) == 2


def test_the_period_is_a_setting() -> None:
    assert CLUSTER_JOB.interval(Settings(environment="test", illness_detect_seconds=15)) == 15


async def test_a_failed_look_keeps_the_marker_and_the_next_run_raises_the_alert(
    ctx: AppContext,
    client: httpx.AsyncClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await reporter(world)
    a1 = await students(world, "A1", 3, 100)
    await sick_roll(client, world, a1, MONDAY, detect=False)
    real = clusters.look
    calls = 0

    async def broken(*args: object, **kwargs: object) -> list[IllnessAlert]:
        nonlocal calls
        calls += 1
        await real(*args, **kwargs)  # type: ignore[arg-type]  # its writes roll back
        raise RuntimeError("数据库连接中断")

    monkeypatch.setattr(clusters, "look", broken)
    move(ctx, at(MONDAY) + timedelta(minutes=1))
    assert not await run_job(ctx, CLUSTER_JOB)  # recorded as failed on the health page
    assert calls == 1
    assert await count(ctx, IllnessAlert) == 0
    assert not await rows(ctx, Notification, Notification.topic == "illness.alert")
    [mark] = await rows(ctx, IllnessDayChange)  # the day is still waiting
    assert mark.school_date == MONDAY

    monkeypatch.undo()
    await engine_minute(ctx)
    [alert] = await rows(ctx, IllnessAlert)
    assert len(alert.cases) == 3
    assert len(await rows(ctx, Notification, Notification.topic == "illness.alert")) == 2
    assert await count(ctx, IllnessDayChange) == 0


@pytest.fixture
async def engines(ctx: AppContext, database_url: str) -> AsyncIterator[list[AppContext]]:
    """Two engines of their own (pools and sessions apart from ``ctx``) on the same clock."""
    made: list[AppContext] = []
    for _ in range(2):
        other = AppContext.from_settings(Settings(environment="test", database_url=database_url))
        other.clock = ctx.clock
        made.append(other)
    yield made
    for c in made:
        await c.close()


async def test_two_engines_raise_one_alert(
    ctx: AppContext, client: httpx.AsyncClient, world: World, engines: list[AppContext]
) -> None:
    await reporter(world)
    a1 = await students(world, "A1", 4, 100)
    # Two days marked for one class: Monday's three, and Tuesday's fourth, which joins
    # Monday's alert (a school's days are claimed together, by one engine).
    await sick_roll(client, world, a1[:3], MONDAY, detect=False)
    await sick_roll(client, world, a1[3:], TUESDAY, detect=False)
    assert await count(ctx, IllnessDayChange) == 2
    move(ctx, at(TUESDAY) + timedelta(minutes=1))
    if ctx.engine.dialect.name == "postgresql":
        looked = await asyncio.gather(*(detection.look_at_changed_days(e) for e in engines))
    else:  # SQLite: one writer at a time; the second engine comes after the first
        looked = [await detection.look_at_changed_days(e) for e in engines]
    assert sorted(looked) == [0, 2]  # one engine took the school; the other found it taken
    [alert] = await rows(ctx, IllnessAlert)
    assert alert.rule_code == "resp_1d"
    assert len(alert.cases) == 4  # Tuesday's looked at after Monday's, in the same engine
    notices = await rows(ctx, Notification, Notification.topic == "illness.alert")
    assert sorted(n.role for n in notices) == ["epidemic_reporter", "principal"]
    assert await count(ctx, IllnessDayChange) == 0
    # Both engines again: nothing left to look at.
    assert [await detection.look_at_changed_days(e) for e in engines] == [0, 0]


async def test_a_roll_during_a_look_marks_the_day_again(
    ctx: AppContext, client: httpx.AsyncClient, world: World, engines: list[AppContext]
) -> None:
    """The case a roll adds while the job is looking at its day is looked at next run: the
    roll's marker waits for the look to commit, then is written again (PostgreSQL; SQLite has
    one writer at a time, so the two never overlap)."""
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL only")
    await reporter(world)
    a1 = await students(world, "A1", 3, 100)
    await sick_roll(client, world, a1[:2], MONDAY, detect=False)
    [engine] = engines[:1]
    async with engine.uow() as uow:
        days = await repo.claim_days(uow.session, world.ids["school_A"])
        assert days == [MONDAY]
        # The third child's roll comes in while this look holds the day.
        third = asyncio.create_task(sick_roll(client, world, a1[2:], MONDAY, detect=False))
        await asyncio.sleep(0.5)
        assert not third.done()  # waiting on the marker, not writing past it
        await repo.clear_days(uow.session, world.ids["school_A"], days)
        await uow.commit()
    await third
    [mark] = await rows(ctx, IllnessDayChange)  # marked again after the look
    assert mark.school_date == MONDAY
    await engine_minute(ctx)
    [alert] = await rows(ctx, IllnessAlert)
    assert len(alert.cases) == 3
