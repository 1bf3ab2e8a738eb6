"""``kill -9`` of the API server (``make run``'s process, engine inside) while class batches are
in flight; the clients resend what went unanswered to the restarted server, then resend
everything once more, as an app unsure of what arrived does. Nothing is stored twice, every
resend of a stored event answers ``duplicate``, and the engine that comes back with the server
fires what fell due."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from app.context import AppContext
from tests.faults.conftest import FaultRow, Stack, county
from tests.faults.invariants import check_all, wait_drained
from tests.faults.ledger import Ledger
from tests.faults.scenario import Staff, day_rolls, post_all

pytestmark = pytest.mark.faults

PUPILS = 600  # three checks each: 1,800 events in 36 batches; every fourth pupil absent
KILL_AFTER = 12  # batches answered before the kill


@pytest.mark.fault("kill -9 of the API server mid-batch, client resending")
async def test_the_api_killed_mid_batch_and_restarted_stores_every_event_once(
    fault_ctx: AppContext, stack: Stack, fault_row: FaultRow
) -> None:
    world, pupils = await county(fault_ctx, PUPILS)
    api = await stack.api(engine_in_process=True)
    staff = Staff(world, api.url)
    ledger = Ledger()
    db = fault_ctx.engine
    in_flight = [0]
    killed: dict[str, float] = {}
    try:
        tz = await staff.school_tz()
        day = await staff.today() - timedelta(days=1)
        await staff.ensure_school_day(day)
        batches = day_rolls(pupils, day, tz, absent=lambda i: i % 4 == 0)

        async def kill_once(answered: int) -> None:
            if answered < KILL_AFTER or killed:
                return
            killed["in_flight"] = in_flight[0]
            api.kill9()
            killed["at"] = time.monotonic()
            api.start()  # its supervisor brings it back on the same port
            killed["ready"] = await api.wait_ready()

        await post_all(staff, ledger, batches, on_answer=kill_once, in_flight=in_flight)
        first_answers = {eid: list(got) for eid, got in ledger.answers.items()}
        await wait_drained(ledger, db, within=180)
        drained_at = time.monotonic()
        # Unsure what arrived, every client sends its whole roll again.
        await post_all(staff, ledger, batches)

        checks = fault_row.checks
        lost = sum(1 for got in first_answers.values() if got[0] != "accepted")
        checks.counts.update(
            in_flight_at_kill=killed.get("in_flight"), unanswered_sends=lost, http=dict(ledger.http)
        )
        checks.expect(
            "the kill landed mid-batch (batches in flight, sends unanswered)",
            bool(killed) and killed["in_flight"] > 0 and lost > 0,
            f"{killed}, {lost} events unanswered",
        )
        fault_row.recovery["kill → API ready"] = killed.get("ready", float("nan"))
        fault_row.recovery["kill → every roll answered, all due fired"] = drained_at - killed.get(
            "at", drained_at
        )
        await check_all(checks, ledger, db)
    finally:
        await staff.close()
