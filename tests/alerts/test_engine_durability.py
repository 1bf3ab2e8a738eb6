"""The engine's durability, measured: two engines over one PostgreSQL fire each of 10,000 due
deadlines exactly once; an engine process killed (SIGKILL) in the middle of a sweep and
restarted loses nothing and fires nothing twice.

Cases and deadlines are written in bulk (Core executemany), as the intake would have left them:
an open case per student whose parent call is owed, and its contact deadline already due.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text
from sqlmodel import col

from app.alerts import sweep
from app.context import AppContext
from app.db.models import AbsenceCase, CaseEvent, Deadline, Notification, Student
from app.settings import Settings
from tests.world import World

ROOT = Path(__file__).resolve().parents[2]
# SQLite runs the same test with one engine (it has no SKIP LOCKED and one process suffices);
# 10,000 deadlines take a few seconds there too, so N is the same on both.
DUE = 10_000
KILLED = 4_000  # deadlines in the kill-and-restart test


async def due_contacts(
    ctx: AppContext, world: World, n: int, day: date, due_at: datetime
) -> list[int]:
    """``n`` students of class A1, each with an open case whose first parent call on ``day``
    is owed and a contact deadline due at ``due_at``. Returns the case ids."""
    now = ctx.clock()
    where = {
        "county_id": world.ids["county"],
        "school_id": world.ids["school_A"],
        "class_id": world.ids["class_A1"],
    }
    async with ctx.engine.begin() as conn:
        students = await conn.execute(
            insert(Student).returning(Student.id, sort_by_parameter_order=True),  # type: ignore[arg-type]
            [
                {
                    **where,
                    "name": f"学生{i}",
                    "gender": "male",
                    "birth_date": date(2016, 9, 1),
                    "student_no": f"D{i:09d}",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(n)
            ],
        )
        student_ids = [sid for (sid,) in students]
        cases = await conn.execute(
            insert(AbsenceCase).returning(AbsenceCase.id, sort_by_parameter_order=True),  # type: ignore[arg-type]
            [
                {
                    **where,
                    "student_id": sid,
                    "status": "open",
                    "episode": 1,
                    "level": "blue",
                    "opened_at": now,
                    "run": [day.isoformat()],
                    "contact_day": day,
                    "contact_attempt": 1,
                    "contact_done": False,
                    "report_round": 0,
                    "policy": {},  # the defaults
                    "work_group": [],
                    "version": 1,
                    "updated_at": now,
                }
                for sid in student_ids
            ],
        )
        case_ids = [cid for (cid,) in cases]
        await conn.execute(
            insert(Deadline),
            [
                {
                    "dedupe_key": f"{cid}:contact:{day.isoformat()}:1",
                    "case_id": cid,
                    "kind": "contact",
                    "key": f"{day.isoformat()}:1",
                    "due_at": due_at + timedelta(milliseconds=i),
                    "state": "pending",
                    "created_at": now,
                }
                for i, cid in enumerate(case_ids)
            ],
        )
    return case_ids


async def scalar(ctx: AppContext, stmt: Any) -> Any:
    async with ctx.engine.connect() as conn:
        return (await conn.execute(stmt)).scalar_one()


async def assert_each_fired_once(ctx: AppContext, world: World, case_ids: list[int]) -> None:
    """Every deadline fired; one contact.overdue timeline entry and one notice per case."""
    n = len(case_ids)
    async with ctx.engine.connect() as conn:
        states = dict(
            list(
                await conn.execute(
                    select(Deadline.state, func.count()).group_by(Deadline.state)  # type: ignore[arg-type]
                )
            )
        )
        per_case = dict(
            list(
                await conn.execute(
                    select(CaseEvent.case_id, func.count())  # type: ignore[arg-type]
                    .where(CaseEvent.kind == "contact.overdue")
                    .group_by(CaseEvent.case_id)
                )
            )
        )
        notices = list(
            await conn.execute(
                select(Notification.case_id, Notification.idem_key, Notification.staff_id).where(
                    Notification.topic == "contact.overdue"
                )
            )
        )
        unfired = await conn.scalar(
            select(func.count()).where(
                col(Deadline.fired_at).is_(None) | col(Deadline.lateness_ms).is_(None)
            )
        )
    assert states == {"fired": n}, states
    assert sorted(per_case) == sorted(case_ids)
    assert set(per_case.values()) == {1}, "a deadline fired twice"
    assert len(notices) == n
    assert len({idem for _, idem, _ in notices}) == n
    assert sorted(cid for cid, _, _ in notices) == sorted(case_ids)
    assert {staff for _, _, staff in notices} == {world.ids["vice_principal"]}
    assert unfired == 0


@pytest.fixture
async def extra_contexts() -> AsyncIterator[list[AppContext]]:
    """Engines of their own (pools and sessions apart from ``ctx``), closed after the test."""
    made: list[AppContext] = []
    yield made
    for c in made:
        await c.close()


async def test_two_engines_fire_each_of_10000_due_deadlines_exactly_once(
    ctx: AppContext, world: World, database_url: str, extra_contexts: list[AppContext]
) -> None:
    postgres = ctx.engine.dialect.name == "postgresql"
    engines = 2 if postgres else 1  # SQLite: one engine per database is the supported setup
    now = ctx.clock()
    day = now.date()
    case_ids = await due_contacts(ctx, world, DUE, day, now - timedelta(minutes=30))
    for _ in range(engines):
        other = AppContext.from_settings(Settings(environment="test", database_url=database_url))
        other.clock = ctx.clock
        extra_contexts.append(other)

    results = await asyncio.gather(*(sweep.sweep(c, now, limit=200) for c in extra_contexts))

    fired = [r.fired for r in results]
    print(f"\n{engines} engine(s) fired {fired} of {DUE} due deadlines")
    assert sum(fired) == DUE
    assert sum(r.cancelled for r in results) == 0
    await assert_each_fired_once(ctx, world, case_ids)
    # Nothing is left for a third engine.
    assert (await sweep.sweep(ctx, now)).fired == 0


# --- SIGKILL in the middle of a sweep -------------------------------------------------------


async def start_engine(database_url: str, log: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "KCBX_DATABASE_URL": database_url,
        "KCBX_ENVIRONMENT": "test",
        "KCBX_SEED_DEMO": "false",
        "KCBX_ENGINE_POLL_SECONDS": "0.2",
    }
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app.jobs", cwd=ROOT, env=env, stdout=out, stderr=out
        )


async def stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        os.kill(proc.pid, signal.SIGKILL)
    await proc.wait()


async def pending(ctx: AppContext) -> int:
    return int(await scalar(ctx, text("SELECT count(*) FROM deadline WHERE state = 'pending'")))


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def wait_for(
    ctx: AppContext,
    proc: asyncio.subprocess.Process,
    done: Any,
    log: Path,
    within: float,
    every: float = 0.01,
) -> int:
    """Poll the pending count until ``done(count)``; fail if the engine exits or time runs out."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + within
    while True:
        left = await pending(ctx)
        if done(left):
            return left
        if proc.returncode is not None or loop.time() > give_up:
            pytest.fail(f"engine stopped or timed out at {left} pending:\n{tail(log)}")
        await asyncio.sleep(every)


async def test_an_engine_killed_in_a_sweep_and_restarted_loses_nothing_and_fires_nothing_twice(
    ctx: AppContext, world: World, database_url: str, tmp_path: Path
) -> None:
    # The engine process reads the wall clock: these deadlines are an hour overdue by it.
    wall = datetime.now(UTC)
    case_ids = await due_contacts(ctx, world, KILLED, wall.date(), wall - timedelta(hours=1))
    log = tmp_path / "engine.log"
    first = await start_engine(database_url, log)
    second: asyncio.subprocess.Process | None = None
    try:
        # The first batch is committed; later ones are in flight when the kill lands.
        await wait_for(ctx, first, lambda left: left < KILLED, log, within=60)
        os.kill(first.pid, signal.SIGKILL)
        await first.wait()
        left = await pending(ctx)
        print(f"\nkilled with {KILLED - left} fired, {left} pending")
        assert 0 < left < KILLED, "the kill did not land in the middle of the sweep"

        second = await start_engine(database_url, log)
        await wait_for(ctx, second, lambda left: left == 0, log, within=120, every=0.1)
    finally:
        await stop(first)
        if second is not None:
            await stop(second)
    await assert_each_fired_once(ctx, world, case_ids)
    async with ctx.engine.connect() as conn:
        late = await conn.scalar(
            select(func.count()).where(CaseEvent.kind == "deadline.late")  # type: ignore[arg-type]
        )
    assert late == KILLED  # each marked late once, by whichever engine fired it
