"""A transfer of a student whose case already closed: the case machine's ``TransferredOut`` on
the closed case cancels the follow-up checks after the 复学 and strikes off the return notice
still in force, with its timeline entry; the case itself stays closed as re-enrolled."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from app.context import AppContext
from tests.helpers import WEDNESDAY, event, move, post, red_case
from tests.transfers.test_transfers import approved_transfer
from tests.world import World


async def test_a_transfer_during_the_follow_up_weeks(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    sid = world.ids["student_A1"]
    case = await red_case(client, world)
    base = f"/api/v1/cases/{case['id']}"
    r = await post(client, world, "principal", f"{base}/return-notice", {"guardian_name": "王某"})
    assert r.status_code in (200, 201), r.text
    number = r.json()["number"]
    # Back on Wednesday and 复学 confirmed before the notices' check has run: the case is
    # closed, its follow-ups are open and its notice is still in force.
    move(ctx, datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
    events = [event(sid, "present", day=WEDNESDAY)]
    r = await client.post("/api/v1/attendance-events", json=events, headers=world.auth("principal"))
    assert r.status_code == 200, r.text
    r = await post(client, world, "head_teacher", f"{base}/reenrollment")
    assert r.status_code == 200, r.text

    await approved_transfer(client, world, to_school_id=None, to_school_name="外省某小学")

    got = (await client.get(base, headers=world.auth("principal"))).json()
    assert (got["status"], got["close_reason"]) == ("closed", "reenrolled")
    follow_ups = [t for t in got["tasks"] if t["kind"] == "follow_up"]
    assert [t["status"] for t in follow_ups] == ["cancelled"] * 3
    assert {t["note"] for t in follow_ups} == {"学生已转学至外省某小学"}
    notice = (await client.get(f"{base}/return-notice", headers=world.auth("principal"))).json()
    reason = "已办理转学手续,转入外省某小学"
    assert (notice["status"], notice["struck_off_on"], notice["strike_off_reason"]) == (
        "struck_off",
        "2026-11-25",
        reason,
    )
    struck = [e for e in got["timeline"] if e["kind"] == "return_notice.struck_off"]
    assert [e["text"] for e in struck] == [f"返校通知书 {number} 销号:{reason}"]
