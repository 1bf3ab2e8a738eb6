"""A transfer takes effect on its leaving date (issue 19, item 5), on the simulation clock: a
transfer approved on Wednesday for Friday keeps the child on the old school's roll on
Thursday (the roll is taken there; the receiving school sees an incoming student), and the
engine's job moves the child at the start of Friday in the school's timezone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx

from app.context import AppContext
from app.transfers.moves import move_due_transfers
from tests.helpers import EVENTS, event, move, post, roll
from tests.transfers.test_transfers import application, student
from tests.world import World

WEDNESDAY, THURSDAY, FRIDAY = date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27)


async def test_approved_on_wednesday_for_friday(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    sid = world.ids["student_A1"]
    move(ctx, datetime(2026, 11, 25, 1, 0, tzinfo=UTC))  # Wednesday 09:00 in Beijing
    body = application(world, applied_on="2026-11-25", leave_on="2026-11-27")
    r = await post(client, world, "principal", "/api/v1/transfers", body)
    assert r.status_code == 201, r.text
    base = f"/api/v1/transfers/{r.json()['id']}"
    assert (await post(client, world, "head_teacher", f"{base}/head-teacher-sign")).is_success
    sign = {"class_id": world.ids["class_B1"]}
    assert (await post(client, world, "principal_B", f"{base}/receiving-sign", sign)).is_success
    r = await post(client, world, "vice_principal", f"{base}/approve")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["incoming"], r.json()["moved_at"]) == (
        "approved",
        True,
        None,
    )
    # Approved, not yet moved: still on class A1's roll; a second transfer is 409.
    assert (await student(ctx, sid)).class_id == world.ids["class_A1"]
    again = await post(client, world, "principal", "/api/v1/transfers", body)
    assert again.status_code == 409

    move(ctx, datetime(2026, 11, 26, 1, 0, tzinfo=UTC))  # Thursday 09:00
    assert await move_due_transfers(ctx) == 0
    await roll(client, world, [event(sid, "present", day=THURSDAY)], "head_teacher")
    url = f"/api/v1/students/{sid}"
    assert (await client.get(url, headers=world.auth("head_teacher"))).status_code == 200
    assert (await client.get(url, headers=world.auth("principal_B"))).status_code == 404
    incoming = (await client.get(base, headers=world.auth("principal_B"))).json()
    assert incoming["incoming"] is True and incoming["to_class_id"] == world.ids["class_B1"]

    move(ctx, datetime(2026, 11, 26, 15, 59, tzinfo=UTC))  # Thursday 23:59: not yet
    assert await move_due_transfers(ctx) == 0
    move(ctx, datetime(2026, 11, 26, 16, 1, tzinfo=UTC))  # Friday 00:01 in Beijing
    assert await move_due_transfers(ctx) == 1
    assert await move_due_transfers(ctx) == 0  # once
    after = await student(ctx, sid)
    assert (after.school_id, after.class_id) == (world.ids["school_B"], world.ids["class_B1"])
    done = (await client.get(base, headers=world.auth("principal_B"))).json()
    assert done["incoming"] is False and done["moved_at"] is not None
    assert (await client.get(url, headers=world.auth("head_teacher"))).status_code == 404
    assert (await client.get(url, headers=world.auth("principal_B"))).status_code == 200
    # Friday's roll is the receiving school's: class A1's head teacher can no longer take it.
    r = await client.post(
        EVENTS, json=[event(sid, "present", day=FRIDAY)], headers=world.auth("head_teacher")
    )
    assert r.status_code != 200 or r.json()["accepted"] == 0, r.text
    r = await client.get(f"{url}/enrollment-changes", headers=world.auth("principal_B"))
    assert [c["kind"] for c in r.json()] == ["transfer_out", "transfer_in"]
