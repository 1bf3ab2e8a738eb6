"""A county system's webhook receiver, subscribed through the API, answers 500, then holds
requests past the sender's timeout, then recovers. Every event the marks call for (a case
opened and a blue alert raised per absent pupil) arrives at least once with a valid signature,
re-sends carry the same event id and the same body, and no event is made twice."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from app.context import AppContext
from tests.faults.conftest import FaultRow, Stack, county
from tests.faults.invariants import check_all, wait_drained
from tests.faults.ledger import Ledger, event
from tests.faults.receiver import Receiver
from tests.faults.scenario import Staff, at

pytestmark = pytest.mark.faults

# A Standard Webhooks secret (whsec_ + base64 of 32 bytes): also a valid plain secret.
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
# Loopback is refused as an outbound address unless the deployment allows it.
OUTBOUND = {"outbound__allow_networks": '["127.0.0.1/32"]'}
PUPILS, ABSENT = 20, 8


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(SECRET)
    r.start()
    yield r
    r.close()


async def until(what: str, done: Callable[[], bool], within: float, alive: Callable[[], None]):
    t0 = time.monotonic()
    while not done():
        alive()
        assert time.monotonic() - t0 < within, f"{what}: not within {within} s"
        await asyncio.sleep(0.1)
    return time.monotonic() - t0


@pytest.mark.fault("webhook receiver: 500, then timeouts, then recovery")
async def test_a_receiver_failing_then_timing_out_then_recovering_gets_every_event(
    fault_ctx: AppContext, stack: Stack, fault_row: FaultRow, receiver: Receiver
) -> None:
    world, pupils = await county(fault_ctx, PUPILS)
    api = await stack.api(**OUTBOUND)
    # The sender gives up after 1 s; the receiver holds a request 4 s when told to time out.
    engine = await stack.engine("engine-1", channels__timeout_seconds="1", **OUTBOUND)
    staff = Staff(world, api.url)
    ledger = Ledger()
    db = fault_ctx.engine

    def alive() -> None:
        assert engine.alive and api.alive, stack.logs_text()

    try:
        r = await staff.client.post(
            "/api/v1/webhook-subscriptions",
            json={"county_id": world.ids["county"], "url": receiver.url, "secret": SECRET},
            headers=staff.auth("county_admin"),
        )
        assert r.status_code == 201, r.text
        tz = await staff.school_tz()
        day = await staff.today() - timedelta(days=1)
        await staff.ensure_school_day(day)
        roll = [
            event(
                sid, day, "morning", "absent" if i < ABSENT else "present", at(day, "morning", tz)
            )
            for i, sid in enumerate(pupils)
        ]
        await ledger.post_until_answered(staff.client, staff.auth("head_teacher"), roll)
        expected = {
            (kind, sid) for sid in ledger.absent_days() for kind in ("case.opened", "alert.raised")
        }
        n = len(expected)

        fault_row.recovery["every event refused with 500"] = await until(
            "500 to every event", lambda: len(receiver.ids_in("500")) >= n, 120, alive
        )
        receiver.mode = "timeout"
        fault_row.recovery["every event timed out"] = await until(
            "a timeout for every event", lambda: len(receiver.ids_in("timeout")) >= n, 180, alive
        )
        receiver.mode = "ok"
        fault_row.recovery["recovered → every event delivered"] = await until(
            "every event delivered", lambda: len(receiver.ids_in("ok")) >= n, 240, alive
        )
        await wait_drained(ledger, db, within=120)
        await asyncio.sleep(2.0)  # a late duplicate under a new id would show up here

        checks = fault_row.checks
        hits = receiver.snapshot()
        by_id: dict[str, list[bytes]] = defaultdict(list)
        what: dict[str, tuple[str, int]] = {}
        for h in hits:
            by_id[h.event_id].append(h.body)
            body = json.loads(h.body)
            what[h.event_id] = (h.event_type, int(body["data"]["student_id"]))
        delivered = {what[i] for i in receiver.ids_in("ok")}
        per_event = defaultdict(set)
        for eid, key in what.items():
            per_event[key].add(eid)
        checks.counts.update(
            expected_events=n,
            distinct_event_ids=len(by_id),
            requests=len(hits),
            by_mode={m: sum(1 for h in hits if h.mode == m) for m in ("500", "timeout", "ok")},
        )
        checks.expect(
            "each webhook event received at least once",
            expected <= delivered,
            f"missing {sorted(expected - delivered)[:5]}",
        )
        checks.expect(
            "re-sends only with the same event id (and the same body), no event made twice",
            all(len(ids) == 1 for ids in per_event.values())
            and set(per_event) == expected
            and all(len(set(bodies)) == 1 for bodies in by_id.values()),
            f"ids per event {[(k, len(v)) for k, v in per_event.items() if len(v) != 1][:5]}; "
            f"unexpected {sorted(set(per_event) - expected)[:5]}",
        )
        checks.expect(
            "every request signed (HMAC-SHA256, Standard Webhooks or X-KCBX-Signature)",
            all(h.signed for h in hits),
            f"{sum(not h.signed for h in hits)} unsigned",
        )
        await check_all(checks, ledger, db)
    finally:
        await staff.close()
