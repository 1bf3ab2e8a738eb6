"""``kill -9`` of one of two engine processes in the middle of a sweep: the other drains what
the killed one had claimed (its transaction died with it), and a restarted engine fires
nothing twice.

Deterministic on a loaded machine: both engines are started and held still (SIGSTOP) while a
roll of a past school day is posted (every parent call, due 1 hour after the absence was
found, is then overdue). Engine 1 is let go until its transaction holds a claim of deadlines
and frozen there — a process stalled mid-transaction — while engine 2 fires everything else;
then engine 1 is killed, and engine 2 must fire what it had claimed."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.context import AppContext
from tests.faults.conftest import FaultRow, Stack, county
from tests.faults.invariants import check_all, due_contacts_fired, rows, wait_drained
from tests.faults.ledger import Ledger, event
from tests.faults.procs import Engine, local_tcp_ports
from tests.faults.scenario import Staff, at, post_all

pytestmark = pytest.mark.faults

ABSENT = 1500  # three claims of 500: both engines busy at once


async def in_sweep(db: AsyncEngine, engine: Engine) -> bool:
    """Whether one of ``engine``'s database sessions is inside a sweep now: its transaction
    holds the table lock that claiming deadlines (``FOR UPDATE``) or marking them takes —
    not merely a delivery transaction of the same process."""
    assert engine.proc is not None
    ports = local_tcp_ports(engine.proc.pid)
    if not ports:
        return False
    got = await rows(
        db,
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.relation = 'deadline'::regclass "
        "AND l.mode IN ('RowShareLock', 'RowExclusiveLock') AND a.client_port = ANY(:ports)",
        ports=sorted(ports),
    )
    return bool(got[0][0])


async def lockable(db: AsyncEngine) -> int:
    """Due pending deadlines nobody holds: what a claim could take now (probed, rolled back)."""
    async with db.connect() as conn:
        trans = await conn.begin()
        got = await conn.execute(
            text(
                "SELECT count(*) FROM (SELECT id FROM deadline WHERE state = 'pending' "
                "AND due_at <= now() FOR UPDATE SKIP LOCKED) AS free"
            )
        )
        n = int(got.scalar_one())
        await trans.rollback()
    return n


@pytest.mark.fault("kill -9 of one of two engines mid-sweep")
async def test_an_engine_killed_mid_sweep_beside_another_loses_nothing_and_fires_nothing_twice(
    fault_ctx: AppContext, stack: Stack, fault_row: FaultRow
) -> None:
    world, pupils = await county(fault_ctx, ABSENT)
    api = await stack.api()
    first = await stack.engine("engine-1")
    second = await stack.engine("engine-2")
    staff = Staff(world, api.url)
    ledger = Ledger()
    db = fault_ctx.engine
    try:
        day = await staff.today() - timedelta(days=1)
        await staff.ensure_school_day(day)
        tz = await staff.school_tz()
        t0 = time.monotonic()
        first.pause()
        second.pause()
        events = [event(sid, day, "morning", "absent", at(day, "morning", tz)) for sid in pupils]
        await post_all(staff, ledger, [events[i : i + 50] for i in range(0, len(events), 50)])
        posted = time.monotonic()
        # Engine 1 takes its first claim; it is frozen there (its transaction open, holding
        # the claimed rows) and engine 2 let go beside it, to fire all it can get.
        first.resume()
        give_up = time.monotonic() + 120
        while True:
            if await in_sweep(db, first):
                first.pause()
                if await in_sweep(db, first):
                    break
                first.resume()
            assert time.monotonic() < give_up, "engine 1 never seen holding a claim"
            assert first.alive, first.tail()
            await asyncio.sleep(0.005)
        second.resume()
        while True:  # until what is left is engine 1's claim alone
            _, fired, pending = await due_contacts_fired(ledger, db)
            if pending and not await lockable(db) and not await in_sweep(db, second):
                break
            assert time.monotonic() < give_up, f"engine 2 did not get the rest: {pending} left"
            assert second.alive, second.tail()
            await asyncio.sleep(0.05)
        _, fired, pending = await due_contacts_fired(ledger, db)  # settled: one snapshot
        first.kill9()
        killed_at = time.monotonic()
        fault_row.checks.counts.update(
            posting_s=round(posted - t0, 1),
            fired_before_kill=fired,
            claimed_by_killed_engine=pending,
        )
        fault_row.checks.expect(
            "the kill landed mid-sweep (the killed engine held a claim)",
            0 < pending < ABSENT,
            f"{pending} pending at the kill",
        )

        def survivor_alive() -> None:
            assert second.alive, f"the surviving engine exited:\n{second.tail()}"

        await wait_drained(ledger, db, within=180, alive=survivor_alive)
        fault_row.recovery["kill → all due fired (survivor)"] = time.monotonic() - killed_at
        # The killed engine comes back (as its supervisor would restart it): nothing refires.
        first.start()
        await first.wait_ready()
        await asyncio.sleep(1.0)  # a few of its 0.2 s sweeps; the checks below are the assertion

        checks = fault_row.checks
        await check_all(checks, ledger, db)
    finally:
        await staff.close()
