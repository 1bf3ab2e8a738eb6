"""Issue 21: the report reaches a county system as a signed ``illness.cluster`` webhook and is
stored as sent; a report not filed in time is escalated to the county once."""

from __future__ import annotations

from datetime import timedelta

import httpx
from standardwebhooks import Webhook

from app.context import AppContext
from app.db.models import IllnessAlert, IllnessReport, Notification
from app.domain.roles import Role
from app.illness.clusters import escalate_overdue
from tests.delivery.test_webhook_outbound import CountyReceiver, county, subscribe, worker
from tests.helpers import MONDAY, move, rows
from tests.illness.common import ALERTS, at, reporter, sick_roll, students
from tests.world import World

__all__ = ["county"]  # the receiver fixture


async def _cluster(client: httpx.AsyncClient, world: World) -> list[int]:
    await reporter(world)
    a1 = await students(world, "A1", 3, 400)
    await sick_roll(client, world, a1, MONDAY)
    return a1


async def test_the_report_reaches_a_local_receiver_signed_and_is_stored(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    county: tuple[str, CountyReceiver],
) -> None:
    base, receiver = county
    r = await subscribe(client, world, f"{base}/in", events=["illness.cluster"])
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    await world.add_staff("health", Role.county_health, "county")
    a1 = await _cluster(client, world)
    [alert] = (await client.get(ALERTS, headers=world.auth("epidemic_reporter"))).json()
    assert alert["count"] == 3 and not alert["masked"]
    assert {c["student_id"] for c in alert["cases"]} == set(a1)
    # The head teacher of the class is not told of the school's cluster; a subject teacher
    # cannot file the report.
    url = f"{ALERTS}/{alert['id']}/report"
    denied = await client.post(url, json={}, headers=world.auth("subject_teacher"))
    assert denied.status_code == 404
    move(ctx, at(MONDAY, "09:00"))
    r = await client.post(
        url, json={"note": "已电话报告县疾控"}, headers=world.auth("epidemic_reporter")
    )
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["reported_by"].startswith("staff:")
    assert any(x.startswith("webhook:") for x in report["recipients"])
    assert any(x.startswith(f"staff:{world.ids['health']}:") for x in report["recipients"])
    again = await client.post(url, json={}, headers=world.auth("epidemic_reporter"))
    assert again.status_code == 409

    await worker(ctx).tick()
    [got] = receiver.got
    body = Webhook(secret).verify(got.body, got.headers)
    assert body["type"] == "illness.cluster" and body["id"] == f"illness:{alert['id']}"
    data = body["data"]
    assert data["count"] == 3 and data["rule"]["code"] == "resp_1d"
    assert {c["student_id"] for c in data["cases"]} == set(a1)
    assert all(set(c["symptom_labels"]) == {"发热", "咳嗽"} for c in data["cases"])
    assert all(c["onset_at"] for c in data["cases"])
    [stored] = await rows(ctx, IllnessReport)
    assert stored.payload == {k: v for k, v in data.items() if k in stored.payload}
    assert stored.note == "已电话报告县疾控"
    [row] = await rows(ctx, IllnessAlert)
    assert row.status == "reported"
    # The day's 因病缺勤 summary shows the same figures (and the alert, now reported).
    q = {"school_id": world.ids["school_A"], "day": MONDAY.isoformat()}
    r = await client.get("/api/v1/illness/summary", params=q, headers=world.auth("principal"))
    assert r.status_code == 200, r.text
    [a1_row] = [c for c in r.json()["classes"] if c["class_id"] == world.ids["class_A1"]]
    assert a1_row["by_day"][MONDAY.isoformat()] == {"total": 3, "fever": 3, "cough": 3}
    assert r.json()["open_alerts"] == 0
    # Filed in time: nothing to escalate.
    move(ctx, at(MONDAY) + timedelta(hours=25))
    assert await escalate_overdue(ctx) == 0


async def test_a_report_not_filed_within_24_hours_goes_to_the_county_once(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await world.add_staff("health", Role.county_health, "county")
    await _cluster(client, world)
    move(ctx, at(MONDAY) + timedelta(hours=23, minutes=59))
    assert await escalate_overdue(ctx) == 0
    move(ctx, at(MONDAY) + timedelta(hours=24, minutes=1))
    assert await escalate_overdue(ctx) == 1
    assert await escalate_overdue(ctx) == 0  # once
    told = await rows(ctx, Notification, Notification.topic == "illness.overdue")
    assert {n.staff_id for n in told} == {world.ids["county_admin"], world.ids["health"]}
    [alert] = await rows(ctx, IllnessAlert)
    assert alert.status == "escalated"
