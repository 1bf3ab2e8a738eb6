"""Configuring delivery: robots, routes, quiet hours, webhook subscriptions — bad input is a
clear 422 and stores nothing."""

from __future__ import annotations

import httpx

from tests.world import World


async def test_a_route_needs_its_robot_configured_first(
    world: World, client: httpx.AsyncClient
) -> None:
    base = f"/api/v1/schools/{world.ids['school_A']}"
    body = {"routes": {"head_teacher": ["wecom_robot", "sms"]}}
    r = await client.put(f"{base}/delivery", json=body, headers=world.auth("principal"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "routes", "head_teacher", 0]
    r = await client.put(
        f"{base}/channels/wecom_robot",
        json={"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"},
        headers=world.auth("principal"),
    )
    assert r.status_code == 200 and r.json()["has_secret"] is False
    r = await client.put(f"{base}/delivery", json=body, headers=world.auth("principal"))
    assert r.status_code == 200, r.text
    assert r.json()["routes"] == {"head_teacher": ["wecom_robot", "sms"]}
    assert r.json()["quiet_start"] == "22:00:00"


async def test_dingtalk_needs_its_secret_and_urls_must_be_urls(
    world: World, client: httpx.AsyncClient
) -> None:
    base = f"/api/v1/schools/{world.ids['school_A']}/channels"
    r = await client.put(
        f"{base}/dingtalk_robot",
        json={"url": "https://oapi.dingtalk.com/robot/send?access_token=t"},
        headers=world.auth("principal"),
    )
    assert r.status_code == 422
    r = await client.put(
        f"{base}/wecom_robot", json={"url": "not a url"}, headers=world.auth("principal")
    )
    assert r.status_code == 422
    r = await client.put(
        f"{base}/pigeon", json={"url": "https://x.example"}, headers=world.auth("principal")
    )
    assert r.status_code == 422
    r = await client.get(
        f"/api/v1/schools/{world.ids['school_A']}/delivery", headers=world.auth("principal")
    )
    assert r.json()["configured_channels"] == []


async def test_webhook_subscriptions(world: World, client: httpx.AsyncClient) -> None:
    url = "/api/v1/webhook-subscriptions"
    ok = {
        "county_id": world.ids["county"],
        "url": "https://county.example/hook",
        "secret": "whsec_" + "c2VjcmV0" * 4,
        "events": ["alert.raised", "case.closed"],
    }
    for bad in (
        {**ok, "url": "ftp//nope"},
        {**ok, "secret": "s" * 24},  # not whsec_<base64>
        {**ok, "secret": "whsec_c2hvcnQ="},  # 5 bytes: too short a key
        {**ok, "events": ["alert.exploded"]},
    ):
        r = await client.post(url, json=bad, headers=world.auth("county_admin"))
        assert r.status_code == 422, bad
    assert (await client.get(url, headers=world.auth("county_admin"))).json() == []
    r = await client.post(url, json=ok, headers=world.auth("county_admin"))
    assert r.status_code == 201
    assert r.json()["secret"] is None  # a secret the county chose is not echoed
    r = await client.post(url, json=ok, headers=world.auth("principal"))
    assert r.status_code == 403
    listed = await client.get(url, headers=world.auth("county_admin"))
    assert [s["url"] for s in listed.json()] == ["https://county.example/hook"]


async def test_teachers_cannot_change_delivery(world: World, client: httpx.AsyncClient) -> None:
    r = await client.put(
        f"/api/v1/schools/{world.ids['school_A']}/delivery",
        json={"routes": {}},
        headers=world.auth("head_teacher"),
    )
    assert r.status_code == 403
    r = await client.put(
        f"/api/v1/schools/{world.ids['school_A']}/delivery",
        json={"routes": {}},
        headers=world.auth("principal_B"),
    )
    assert r.status_code == 404
