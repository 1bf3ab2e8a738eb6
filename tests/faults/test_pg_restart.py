"""PostgreSQL stopped (``pg_ctl stop -m immediate``: a crash, recovery from the WAL at the next
start) and started again while class batches are posted and the engine sweeps. The clients
resend what went unanswered; the API and the engine reconnect by themselves (their pools ping
before use) and nothing is lost or done twice.

The cluster is the suite's own (``cluster.py``), never the shared server."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

from app.context import AppContext
from tests.faults.cluster import PgCluster
from tests.faults.conftest import FaultRow, Stack, county
from tests.faults.invariants import check_all, wait_drained
from tests.faults.ledger import Ledger
from tests.faults.scenario import Staff, day_rolls, post_all

pytestmark = pytest.mark.faults

PUPILS = 600
STOP_AFTER = 10  # batches answered before the database goes
OUTAGE = 3.0  # seconds the database stays down: the fault's length, not an assertion


@pytest.mark.fault("PostgreSQL crashed (stop -m immediate) and restarted under load")
async def test_postgres_crashed_and_restarted_under_load_loses_nothing(
    fault_ctx: AppContext, stack: Stack, fault_row: FaultRow, pg_cluster: PgCluster
) -> None:
    world, pupils = await county(fault_ctx, PUPILS)
    api = await stack.api()
    engine = await stack.engine("engine-1")
    staff = Staff(world, api.url)
    ledger = Ledger()
    db = fault_ctx.engine
    in_flight = [0]
    outage: dict[str, float] = {}
    try:
        tz = await staff.school_tz()
        day = await staff.today() - timedelta(days=1)
        await staff.ensure_school_day(day)
        batches = day_rolls(pupils, day, tz, absent=lambda i: i % 4 == 0)

        async def crash_once(answered: int) -> None:
            if answered < STOP_AFTER or outage:
                return
            outage["in_flight"] = in_flight[0]
            outage["stopped"] = time.monotonic()
            await asyncio.to_thread(pg_cluster.stop, "immediate")
            await asyncio.sleep(OUTAGE)
            await asyncio.to_thread(pg_cluster.start)
            outage["up"] = time.monotonic()

        await post_all(staff, ledger, batches, on_answer=crash_once, in_flight=in_flight)
        first_answers = {eid: list(got) for eid, got in ledger.answers.items()}
        await wait_drained(
            ledger, db, within=180, alive=lambda: _alive(api.alive and engine.alive, stack)
        )
        drained_at = time.monotonic()
        await post_all(staff, ledger, batches)  # and everything once more

        checks = fault_row.checks
        lost = sum(1 for got in first_answers.values() if got[0] != "accepted")
        sweeps_failed = engine.log_text().count("engine sweep failed")
        checks.counts.update(
            in_flight_at_stop=outage.get("in_flight"),
            unanswered_sends=lost,
            http=dict(ledger.http),
            engine_sweeps_failed=sweeps_failed,
        )
        checks.expect(
            "the crash landed under load (batches in flight, sends unanswered)",
            bool(outage) and lost > 0,
            f"{outage}, {lost} events unanswered",
        )
        up = outage.get("up", float("nan"))
        after = [t for t in ledger.answered_at if t >= up]
        fault_row.recovery["database up → first batch answered"] = (after[0] - up) if after else -1
        fault_row.recovery["database up → every roll answered, all due fired"] = drained_at - up
        await check_all(checks, ledger, db)
    finally:
        await staff.close()


def _alive(ok: bool, stack: Stack) -> None:
    assert ok, f"a process exited after the database restart:\n{stack.logs_text()}"
