"""The 控辍 status and township events as a county system receives them: delivered by the
delivery worker to a real local HTTP receiver and verified there with the
``standardwebhooks`` library (the published Standard Webhooks scheme), once each."""

from __future__ import annotations

from datetime import date

import httpx
from standardwebhooks import Webhook

from app.context import AppContext
from tests.delivery.test_webhook_outbound import SUBS, CountyReceiver, county, worker
from tests.helpers import post
from tests.status.test_dropout_status_api import SCHOOL_DAYS as DAYS
from tests.status.test_dropout_status_api import absent_days, at, with_term
from tests.status.test_township import REPORTS, officer, reported
from tests.world import World

__all__ = ["county"]  # the receiver fixture, served on 127.0.0.1

EVENTS = [
    "student.suspected_dropout",
    "student.dropout",
    "return_notice.reported_to_township",
    "township.action_recorded",
    "township_report.raised_to_county",
]


async def test_status_and_township_events_reach_a_county_system_signed(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    county: tuple[str, CountyReceiver],
) -> None:
    base, receiver = county
    await with_term(world, client)
    body = {"county_id": world.ids["county"], "url": f"{base}/in", "events": EVENTS}
    r = await client.post(SUBS, json=body, headers=world.auth("county_admin"))
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    await officer(client, world, "township", world.ids["township_county"])
    await reported(client, world, ctx)  # 12 September: reported, 疑似辍学
    [report] = (await client.get(REPORTS, headers=world.auth("township"))).json()["items"]
    action = {"kind": "education", "taken_on": "2026-09-12", "note": "批评教育监护人"}
    r = await post(client, world, "township", f"{REPORTS}/{report['id']}/actions", action)
    assert r.status_code == 200, r.text
    r = await post(
        client, world, "township", f"{REPORTS}/{report['id']}/raise", {"reason": "拒不改正"}
    )
    assert r.status_code == 200, r.text
    await absent_days(client, world, ctx, "student_A1", DAYS[5:8])
    at(ctx, date(2026, 10, 12))  # 30 days of 疑似辍学: 辍学
    await post(client, world, "county_admin", "/api/v1/return-notices/check")
    w = worker(ctx)
    for _ in range(5):
        await w.tick()
    verified = [Webhook(secret).verify(g.body, g.headers) for g in receiver.got]
    types = [v["type"] for v in verified]
    assert sorted(types) == sorted(EVENTS), types  # each once, whoever was told inside
    for v in verified:
        assert v["data"]["student_id"] == world.ids["student_A1"]
        assert v["data"]["school_id"] == world.ids["school_A"]
        assert v["data"]["case_id"] == report["case_id"]
