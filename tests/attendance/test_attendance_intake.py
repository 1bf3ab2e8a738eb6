"""Posting the roll: idempotent, safe under retries, order-independent, per-event errors."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from app.context import AppContext
from app.core.clock import SimClock as Clock
from tests.helpers import TUESDAY, WEDNESDAY, event
from tests.world import World

URL = "/api/v1/attendance-events"


pytestmark = pytest.mark.world("class_of_four")


def a1(world: World) -> list[int]:
    return [world.ids["student_A1"]] + [world.ids[f"student_A1_{n}"] for n in range(2, 5)]


async def roll(client: httpx.AsyncClient, world: World, day: date = TUESDAY) -> dict[int, str]:
    r = await client.get(
        f"/api/v1/classes/{world.ids['class_A1']}/roll?date={day}",
        headers=world.auth("head_teacher"),
    )
    assert r.status_code == 200, r.text
    return {s["student_id"]: s["day_status"] for s in r.json()["students"]}


async def test_a_class_batch_is_accepted_and_replaying_it_writes_nothing_twice(
    world: World, client: httpx.AsyncClient
) -> None:
    ids = a1(world)
    batch = {"events": [event(ids[0], "absent")] + [event(s) for s in ids[1:]]}
    first = await client.post(URL, json=batch, headers=world.auth("head_teacher"))
    assert first.status_code == 200
    assert (first.json()["accepted"], first.json()["rejected"]) == (4, 0)
    state = await roll(client, world)
    assert state[ids[0]] == "absent" and state[ids[1]] == "present"

    again = await client.post(URL, json=batch, headers=world.auth("head_teacher"))
    assert again.json()["duplicate"] == 4 and again.json()["accepted"] == 0
    assert await roll(client, world) == state
    history = await client.get(
        f"/api/v1/students/{ids[0]}/attendance-events?start={TUESDAY}&end={TUESDAY}",
        headers=world.auth("head_teacher"),
    )
    assert len(history.json()) == 1
    assert history.json()[0]["recorded_by_name"] == "head_teacher"


async def test_same_event_id_with_different_content_is_a_conflict(
    world: World, client: httpx.AsyncClient
) -> None:
    sid = world.ids["student_A1"]
    e = event(sid, "absent")
    assert (await client.post(URL, json=e, headers=world.auth("head_teacher"))).status_code == 201
    assert (await client.post(URL, json=e, headers=world.auth("head_teacher"))).status_code == 200
    changed = {**e, "status": "present"}
    r = await client.post(URL, json=changed, headers=world.auth("head_teacher"))
    assert r.status_code == 409 and r.json()["code"] == "conflict.event_id_reused"
    assert r.json()["result"]["code"] == "conflict"
    assert (await roll(client, world))[sid] == "absent"


async def test_a_later_observation_corrects_and_history_is_kept(
    world: World, client: httpx.AsyncClient
) -> None:
    sid = world.ids["student_A1"]
    wrong = event(sid, "absent", at="08:05")
    fixed = event(sid, "present", at="08:40", note="家长送到校")
    # The correction arrives first (a phone syncing late sends the older one afterwards).
    await client.post(URL, json=[fixed], headers=world.auth("principal"))
    await client.post(URL, json=[wrong], headers=world.auth("head_teacher"))
    assert (await roll(client, world))[sid] == "present"
    history = (
        await client.get(
            f"/api/v1/students/{sid}/attendance-events?start={TUESDAY}&end={TUESDAY}",
            headers=world.auth("principal"),
        )
    ).json()
    assert [(h["status"], h["current"], h["recorded_by_name"]) for h in history] == [
        ("absent", False, "head_teacher"),
        ("present", True, "principal"),
    ]


async def test_absent_at_morning_present_at_noon_is_a_late_arrival(
    world: World, client: httpx.AsyncClient
) -> None:
    sid = world.ids["student_A1"]
    await client.post(
        URL,
        json=[event(sid, "absent"), event(sid, "present", check="noon", at="08:55")],
        headers=world.auth("head_teacher"),
    )
    assert (await roll(client, world))[sid] == "late"


async def test_bad_events_are_rejected_with_reasons_and_the_rest_go_on(
    world: World, client: httpx.AsyncClient
) -> None:
    ids = a1(world)
    naive = event(ids[2])
    naive["occurred_at"] = "2026-11-24T08:05:00"
    batch = [
        event(ids[0]),  # fine
        event(world.ids["student_B1"]),  # another school: unknown to this head teacher
        event(999_999),  # unknown student
        {**event(ids[1]), "check": "evening"},  # unknown check
        naive,  # no UTC offset
        event(ids[3], day=WEDNESDAY),  # tomorrow
        event(ids[3], day=date(2026, 10, 1)),  # 国庆节: not a school day
        event(ids[3], "leave"),  # leave without its type
    ]
    r = await client.post(URL, json=batch, headers=world.auth("head_teacher"))
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["result"] for x in results] == ["accepted"] + ["rejected"] * 7
    codes = [x["code"] for x in results[1:]]
    assert codes == [
        "unknown_student",
        "unknown_student",
        "invalid",
        "invalid",
        "future",
        "not_school_day",
        "invalid",
    ]
    assert results[4]["errors"][0]["loc"] == ["occurred_at"]
    assert "国庆节" in results[6]["reason"]
    state = await roll(client, world)
    assert state[ids[0]] == "present"
    assert state[ids[1]] == state[ids[2]] == state[ids[3]] == "not_recorded"


async def test_make_up_saturday_is_a_school_day_and_national_day_week_is_not(
    world: World, client: httpx.AsyncClient
) -> None:
    sid = world.ids["student_A1"]
    saturday = date(2026, 10, 10)
    r = await client.post(URL, json=event(sid, day=saturday), headers=world.auth("head_teacher"))
    assert r.status_code == 201, r.text
    for d in range(1, 8):
        r = await client.post(
            URL, json=event(sid, day=date(2026, 10, d)), headers=world.auth("head_teacher")
        )
        assert r.status_code == 422 and r.json()["code"] == "attendance.not_school_day"
        assert r.json()["result"]["code"] == "not_school_day"


async def test_a_2027_date_does_not_crash_and_is_marked_unverified(
    world: World, ctx: AppContext, client: httpx.AsyncClient
) -> None:
    assert isinstance(ctx.clock, Clock)
    ctx.clock.now = datetime(2027, 1, 5, 2, 0, tzinfo=UTC)
    sid = world.ids["student_A1"]
    day = date(2027, 1, 5)
    r = await client.post(URL, json=event(sid, day=day), headers=world.auth("head_teacher"))
    assert r.status_code == 201, r.text
    r = await client.get(
        f"/api/v1/classes/{world.ids['class_A1']}/roll?date={day}",
        headers=world.auth("head_teacher"),
    )
    assert r.json()["day"]["verified"] is False
    assert r.json()["day"]["is_school_day"] is True


async def test_batch_limits_and_malformed_bodies(world: World, client: httpx.AsyncClient) -> None:
    sid = world.ids["student_A1"]
    too_many = [event(sid, event_id=str(uuid.uuid4())) for _ in range(501)]
    r = await client.post(URL, json=too_many, headers=world.auth("head_teacher"))
    assert r.status_code == 413
    r = await client.post(
        URL,
        content=b'{"events": [',
        headers={**world.auth("head_teacher"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert (await roll(client, world))[sid] == "not_recorded"


async def test_home_schooled_students_are_never_absent(
    world: World, client: httpx.AsyncClient
) -> None:
    sid = world.ids["student_A1"]
    await client.patch(
        f"/api/v1/students/{sid}", json={"home_schooled": True}, headers=world.auth("principal")
    )
    await client.post(URL, json=event(sid, "absent"), headers=world.auth("head_teacher"))
    assert (await roll(client, world))[sid] == "present"


async def test_recorded_by_comes_from_the_api_key(world: World, client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/api-keys",
        json={"name": "小程序", "school_id": world.ids["school_A"]},
        headers=world.auth("principal"),
    )
    key = r.json()["key"]
    sid = world.ids["student_A2"]
    r = await client.post(URL, json=event(sid, "absent"), headers={"X-API-Key": key})
    assert r.status_code == 201
    history = await client.get(
        f"/api/v1/students/{sid}/attendance-events", headers=world.auth("principal")
    )
    assert history.json()[0]["recorded_by_kind"] == "api_key"
    assert history.json()[0]["recorded_by_name"] == "小程序"


async def test_a_stored_roll_resent_past_the_backfill_window_is_a_duplicate(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    """Idempotency first: the class's roll of a Tuesday, accepted then, re-posted unchanged
    100 days later, after the day was closed in the calendar and a pupil left, is four
    duplicates — not ``too_old``, ``not_school_day`` or ``unknown_student``. A changed event
    under a stored id is still a conflict; only a new event is judged for its age."""
    ids = a1(world)
    batch = [event(ids[0], "absent")] + [event(s) for s in ids[1:]]
    first = await client.post(URL, json=batch, headers=world.auth("head_teacher"))
    assert first.json()["accepted"] == 4, first.text
    closed = await client.post(
        f"/api/v1/schools/{world.ids['school_A']}/calendar-overrides",
        json={"date": TUESDAY.isoformat(), "kind": "closure", "reason": "大雪停课"},
        headers=world.auth("principal"),
    )
    assert closed.status_code == 201, closed.text
    left = await client.delete(f"/api/v1/students/{ids[3]}", headers=world.auth("principal"))
    assert left.status_code == 200, left.text  # and one pupil has left the roster since
    assert isinstance(ctx.clock, Clock)
    ctx.clock.now += timedelta(days=100)

    again = await client.post(URL, json=batch, headers=world.auth("head_teacher"))
    assert again.status_code == 200, again.text
    body = again.json()
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (0, 4, 0), body
    assert {r["result"] for r in body["results"]} == {"duplicate"}
    one = await client.post(URL, json=batch[1], headers=world.auth("head_teacher"))
    assert one.status_code == 200 and one.json()["result"] == "duplicate", one.text

    changed = {**batch[0], "status": "present"}
    new = event(ids[0], "present", at="09:00")
    r = await client.post(URL, json=[changed, new], headers=world.auth("head_teacher"))
    assert [x["code"] for x in r.json()["results"]] == ["conflict", "too_old"], r.text
    history = await client.get(
        f"/api/v1/students/{ids[0]}/attendance-events?start={TUESDAY}&end={TUESDAY}",
        headers=world.auth("head_teacher"),
    )
    assert len(history.json()) == 1 and history.json()[0]["status"] == "absent"
