"""``kill -9`` of one of two engine processes in the middle of a sweep: the other drains what
the killed one had claimed (its transaction died with it), and a restarted engine fires
nothing twice.

Both engines meet the backlog at once, however long posting takes on a loaded machine: they
are started, held still (SIGSTOP) while a roll of a past school day is posted — every parent
call, due 1 hour after the absence was found, is then overdue — and let go together
(SIGCONT). Engine 1 is killed while its transaction holds a claim."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.context import AppContext
from tests.faults.conftest import FaultRow, Stack, county
from tests.faults.invariants import (
    check_cases,
    check_deadlines,
    check_intake,
    due_contacts_fired,
    rows,
    wait_drained,
)
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
        first.resume()
        second.resume()
        # Wait for the sweep to be under way (some fired, some pending) with engine-1 holding
        # a claim, and kill it there.
        give_up = time.monotonic() + 180
        while True:
            due, fired, pending = await due_contacts_fired(ledger, db)
            if fired > 0 and pending > 0 and await in_sweep(db, first):
                break
            assert time.monotonic() < give_up, f"no sweep seen: {fired}/{due} fired"
            assert first.alive and second.alive, stack.logs_text()
            await asyncio.sleep(0.01)
        first.kill9()
        killed_at = time.monotonic()
        fault_row.checks.counts.update(
            posting_s=round(posted - t0, 1), fired_before_kill=fired, pending_at_kill=pending
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
        await check_intake(checks, ledger, db)
        cases = await check_cases(checks, ledger, db)
        await check_deadlines(checks, ledger, db, cases)
        checks.verify()
    finally:
        await staff.close()
