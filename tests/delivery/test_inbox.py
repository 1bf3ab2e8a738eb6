"""The in-app inbox: one's own notices, newest first; read and acknowledge are recorded, and
acknowledging a notice is not verifying its alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.context import AppContext
from tests.helpers import TUESDAY, absent, event, move, ts
from tests.world import World

NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
URL = "/api/v1/inbox"


async def box(client: httpx.AsyncClient, world: World, who: str, **params: Any) -> Any:
    r = await client.get(URL, params=params, headers=world.auth(who))
    assert r.status_code == 200, r.text
    return r.json()


async def test_the_head_teacher_reads_a_blue_notice(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await absent(client, world, TUESDAY)
    got = await box(client, world, "head_teacher", unread="true")
    assert (got["total"], got["unread"]) == (1, 1)
    notice = got["items"][0]
    assert (notice["topic"], notice["topic_label"], notice["level_label"]) == (
        "alert.raised",
        "预警",
        "蓝色预警",
    )
    assert notice["student_name"] == "学生1" and notice["staff_name"] == "head_teacher"
    assert (notice["role"], notice["role_label"]) == ("head_teacher", "班主任")
    assert notice["read_at"] is None and notice["acknowledged_at"] is None

    move(ctx, NOW + timedelta(minutes=3))
    r = await client.post(f"{URL}/{notice['id']}/read", headers=world.auth("head_teacher"))
    assert r.status_code == 200 and ts(r.json()["read_at"]) == NOW + timedelta(minutes=3)
    move(ctx, NOW + timedelta(minutes=9))
    again = await client.post(f"{URL}/{notice['id']}/read", headers=world.auth("head_teacher"))
    assert again.json()["read_at"] == r.json()["read_at"]  # the first reading is kept
    assert (await box(client, world, "head_teacher", unread="true"))["total"] == 0
    everything = await box(client, world, "head_teacher")
    assert (everything["total"], everything["unread"]) == (1, 0)
    assert (await box(client, world, "head_teacher", unread="false"))["total"] == 1


async def test_acknowledging_a_notice_records_it_on_the_alert_but_does_not_verify(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await absent(client, world, TUESDAY)
    notice = (await box(client, world, "head_teacher"))["items"][0]
    move(ctx, NOW + timedelta(minutes=5))
    r = await client.post(f"{URL}/{notice['id']}/acknowledge", headers=world.auth("head_teacher"))
    assert r.status_code == 200, r.text
    assert ts(r.json()["acknowledged_at"]) == NOW + timedelta(minutes=5)
    assert r.json()["read_at"] is not None

    alert = (
        await client.get(f"/api/v1/alerts/{notice['alert_id']}", headers=world.auth("principal"))
    ).json()
    assert alert["status"] == "raised" and alert["verified_at"] is None
    assert ts(alert["acknowledged_at"]) == NOW + timedelta(minutes=5)
    assert alert["acknowledged_by"].endswith("head_teacher")
    raised = next(g for g in alert["explanation"]["recipients"] if g["topic"] == "alert.raised")
    assert raised["staff"][0]["acknowledged_at"] is not None

    move(ctx, NOW + timedelta(minutes=20))
    again = await client.post(
        f"{URL}/{notice['id']}/acknowledge", headers=world.auth("head_teacher")
    )
    assert again.status_code == 200
    assert again.json()["acknowledged_at"] == r.json()["acknowledged_at"]
    later = (
        await client.get(f"/api/v1/alerts/{notice['alert_id']}", headers=world.auth("principal"))
    ).json()
    assert later["acknowledged_at"] == alert["acknowledged_at"]
    # Verifying stays possible and separate.
    v = await client.post(
        f"/api/v1/alerts/{notice['alert_id']}/verify", json={}, headers=world.auth("head_teacher")
    )
    assert v.status_code == 200 and v.json()["status"] == "verified"


async def test_another_persons_notice_is_not_found(world: World, client: httpx.AsyncClient) -> None:
    await absent(client, world, TUESDAY)
    notice = (await box(client, world, "head_teacher"))["items"][0]
    for who in ("vice_principal", "principal", "principal_B"):
        for action in ("read", "acknowledge"):
            r = await client.post(f"{URL}/{notice['id']}/{action}", headers=world.auth(who))
            assert r.status_code == 404, (who, action)
    r = await client.post(f"{URL}/999999/read", headers=world.auth("head_teacher"))
    assert r.status_code == 404
    assert (await box(client, world, "vice_principal"))["total"] == 0
    mine = (await box(client, world, "head_teacher"))["items"][0]
    assert mine["read_at"] is None and mine["acknowledged_at"] is None


async def test_newest_first_paginated_and_api_keys_have_no_inbox(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    sid = world.ids["student_A1"]
    await absent(client, world, TUESDAY)
    move(ctx, NOW + timedelta(minutes=30))
    r = await client.post(
        "/api/v1/attendance-events",
        json=[event(sid, "present", day=TUESDAY, at="08:30")],
        headers=world.auth("head_teacher"),
    )
    assert r.status_code == 200
    got = await box(client, world, "head_teacher")
    assert [n["topic"] for n in got["items"]] == ["alert.withdrawn", "alert.raised"]
    page = await box(client, world, "head_teacher", limit=1, offset=1)
    assert (page["total"], page["unread"], page["limit"], page["offset"]) == (2, 2, 1, 1)
    assert [n["topic"] for n in page["items"]] == ["alert.raised"]

    key = await client.post(
        "/api/v1/api-keys",
        json={"name": "小程序", "school_id": world.ids["school_A"]},
        headers=world.auth("principal"),
    )
    headers = {"X-API-Key": key.json()["key"]}
    assert (await client.get(URL, headers=headers)).status_code == 403
    notice_id = got["items"][0]["id"]
    assert (await client.post(f"{URL}/{notice_id}/read", headers=headers)).status_code == 403


async def test_a_notice_carries_its_body_the_text_the_channels_send(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await absent(client, world, TUESDAY)
    notice = (await box(client, world, "head_teacher"))["items"][0]
    body = notice["body"]
    assert body, "an alert notice has a body"
    assert "学校A" in body and "三年级A1" in body  # the school, and the class with its grade
    assert not body.startswith("【")  # the title line is not repeated: it is beside the body
    assert "学生1" not in body  # the channels' masking applies to the text as sent
    assert ("核查" in body) or ("前" in body)  # what to do, and by when
