"""晨检, 午检 and 放学前 of one class posted at the same moment, with students newly absent in
all three: the README promises every event is judged on its own, so each batch answers 200
with every event accepted, and the cases and alerts are those sequential posting would give."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from app.context import AppContext
from tests.faults.conftest import FaultRow, Stack, county
from tests.faults.invariants import check_all, wait_drained
from tests.faults.ledger import Ledger, event
from tests.faults.scenario import CHECK_TIMES, Staff, at

pytestmark = pytest.mark.faults

ROUNDS = 6  # one class's three rolls at once, six times (a fresh group of pupils each)
GROUP = 12  # per round: 6 absent at every check, 3 absent at 晨检 only (late), 3 present


@pytest.mark.fault("three rolls of one class at the same moment (newly absent students)")
async def test_three_checks_of_one_class_posted_at_once_are_each_judged(
    fault_ctx: AppContext, stack: Stack, fault_row: FaultRow
) -> None:
    world, pupils = await county(fault_ctx, ROUNDS * GROUP)
    api = await stack.api(engine_in_process=True)  # make run's shape: the engine in the server
    staff = Staff(world, api.url)
    ledger = Ledger()
    try:
        tz = await staff.school_tz()
        day = await staff.today() - timedelta(days=1)
        await staff.ensure_school_day(day)
        for r in range(ROUNDS):
            group = pupils[r * GROUP : (r + 1) * GROUP]

            def status(i: int, check: str) -> str:
                if i < 6:
                    return "absent"
                if i < 9:
                    return "absent" if check == "morning" else "present"
                return "present"

            rolls = [
                [
                    event(sid, day, check, status(i, check), at(day, check, tz))
                    for i, sid in enumerate(group)
                ]
                for check in CHECK_TIMES
            ]
            # The head teacher's app and the county system's sync land together.
            senders = ["head_teacher", "county_admin", "head_teacher"]
            await asyncio.gather(
                *(
                    ledger.post(staff.client, staff.auth(w), roll)
                    for w, roll in zip(senders, rolls, strict=True)
                )
            )
        checks = fault_row.checks
        statuses = dict(ledger.http)
        checks.counts.update(rounds=ROUNDS, batches=ledger.batches, http=statuses)
        judged = [eid for eid, got in ledger.answers.items() if got != ["accepted"]]
        checks.expect(
            "every batch 200, every event judged on its own (accepted)",
            statuses == {"200": ledger.batches} and not judged,
            f"answers {statuses}; first refusals {ledger.refused[:2]}; "
            f"{len(judged)} events not accepted",
        )
        drained = await wait_drained(ledger, fault_ctx.engine, within=120)
        fault_row.recovery["engine drained"] = drained
        await check_all(checks, ledger, fault_ctx.engine)
    finally:
        await staff.close()
