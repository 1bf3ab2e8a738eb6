"""The three lists, leave explaining absences, a student's history, roll compliance."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from app.context import AppContext
from app.core.clock import SimClock as Clock
from tests.helpers import MONDAY, TUESDAY, event
from tests.world import World

URL = "/api/v1/attendance-events"


pytestmark = pytest.mark.world("late_and_leave")


async def test_three_lists_for_a_school(world: World, client: httpx.AsyncClient) -> None:
    ids = world.ids
    await client.post(
        URL,
        json=[
            event(ids["student_A1"], "present", day=MONDAY),
            event(ids["late_one"], "late", day=MONDAY),
            event(ids["on_leave"], "absent", day=MONDAY),
            event(ids["student_A1"], "absent"),
            event(ids["late_one"], "present"),
            event(ids["on_leave"], "absent"),
        ],
        headers=world.auth("head_teacher"),
    )
    r = await client.post(
        "/api/v1/leaves",
        json={
            "student_id": ids["on_leave"],
            "start_date": str(TUESDAY),
            "end_date": str(TUESDAY),
            "leave_type": "personal",
            "reason": "家中有事",
            "approve": True,
        },
        headers=world.auth("head_teacher"),
    )
    assert r.status_code == 201, r.text
    r = await client.get(
        f"/api/v1/attendance/lists?school_id={ids['school_A']}&start={MONDAY}&end=2026-11-30",
        headers=world.auth("academic_affairs"),
    )
    assert r.status_code == 200, r.text
    days = r.json()["days"]
    assert [d["date"] for d in days] == ["2026-11-23", "2026-11-24"]  # no future days

    def names(day: dict[str, list[dict[str, object]]], key: str) -> set[object]:
        return {e["student_id"] for e in day[key]}

    monday, tuesday = days
    assert names(monday, "present") == {ids["student_A1"], ids["late_one"]}
    assert names(monday, "absent") == {ids["on_leave"]}
    assert names(monday, "not_recorded") == {ids["student_A2"]}
    assert names(tuesday, "absent") == {ids["student_A1"]}
    assert names(tuesday, "leave") == {ids["on_leave"]}  # approved leave explains it


async def test_a_head_teacher_lists_only_their_class(
    world: World, client: httpx.AsyncClient
) -> None:
    r = await client.get(
        f"/api/v1/attendance/lists?school_id={world.ids['school_A']}&start={TUESDAY}&end={TUESDAY}",
        headers=world.auth("head_teacher"),
    )
    everyone = {e["student_id"] for e in r.json()["days"][0]["not_recorded"]}
    assert world.ids["student_A2"] not in everyone and world.ids["student_A1"] in everyone
    r = await client.get(
        f"/api/v1/attendance/lists?class_id={world.ids['class_B1']}&start={TUESDAY}&end={TUESDAY}",
        headers=world.auth("head_teacher"),
    )
    assert r.status_code == 404


async def test_list_range_is_checked(world: World, client: httpx.AsyncClient) -> None:
    base = f"/api/v1/attendance/lists?school_id={world.ids['school_A']}"
    r = await client.get(f"{base}&start=2026-11-24&end=2026-11-01", headers=world.auth("principal"))
    assert r.status_code == 422
    r = await client.get(f"{base}&start=2026-01-01&end=2026-11-01", headers=world.auth("principal"))
    assert r.status_code == 422


async def test_student_history_counts_days(world: World, client: httpx.AsyncClient) -> None:
    sid = world.ids["student_A1"]
    await client.post(
        URL,
        json=[event(sid, "absent", day=MONDAY), event(sid, "present")],
        headers=world.auth("head_teacher"),
    )
    r = await client.get(
        f"/api/v1/students/{sid}/attendance?start=2026-11-20&end={TUESDAY}",
        headers=world.auth("head_teacher"),
    )
    body = r.json()
    # Fri 20, Mon 23, Tue 24 are school days; the weekend is not listed.
    assert [d["date"] for d in body["days"]] == ["2026-11-20", "2026-11-23", "2026-11-24"]
    assert [d["day_status"] for d in body["days"]] == ["not_recorded", "absent", "present"]
    assert body["counts"]["absent"] == 1 and body["counts"]["present"] == 1


async def test_classes_whose_roll_was_not_taken_in_time(
    world: World, ctx: AppContext, client: httpx.AsyncClient
) -> None:
    assert isinstance(ctx.clock, Clock)
    ctx.clock.now = datetime(2026, 11, 24, 0, 20, tzinfo=UTC)  # 08:20: grace not over
    base = f"/api/v1/attendance/compliance?school_id={world.ids['school_A']}"
    r = await client.get(base, headers=world.auth("principal"))
    assert r.json()["missing"] == []
    ctx.clock.now = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00
    await client.post(URL, json=event(world.ids["student_A1"]), headers=world.auth("head_teacher"))
    r = await client.get(base, headers=world.auth("principal"))
    missing = r.json()["missing"]
    assert [(m["class_name"], m["check"]) for m in missing] == [("三年级A2", "morning")]
    assert missing[0]["due_at"].startswith("2026-11-24T08:30:00+08:00")
    # A head teacher sees only their own class, whose roll is taken.
    r = await client.get(base, headers=world.auth("head_teacher"))
    assert r.json()["missing"] == []
