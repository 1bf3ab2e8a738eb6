"""离校未归: present at 晨检, absent without leave at 午检 or 放学前 — the head teacher is told,
the call is due within the hour, the vice principal hears when it is not made, and a later
check that finds the child withdraws it. The day itself stays present: no case, no run."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from app.alerts import partial_days
from app.context import AppContext
from app.db.models import AbsenceCase, LeftSchoolAlert, Notification
from tests.helpers import MONDAY, TUESDAY, event, move, roll, rows
from tests.world import World


def beijing(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 24, hour - 8, minute, tzinfo=UTC)


async def inbox(ctx: AppContext, world: World, who: str) -> list[str]:
    found = await rows(ctx, Notification, Notification.staff_id == world.ids[who])
    return [n.topic for n in sorted(found, key=lambda n: n.id or 0)]


async def gone_at_noon(client: httpx.AsyncClient, ctx: AppContext, world: World) -> None:
    move(ctx, beijing(12, 15))
    sid = world.ids["student_A1"]
    await roll(client, world, [event(sid, "present", at="08:05")])
    await roll(client, world, [event(sid, "absent", check="noon", at="12:10")])


async def test_gone_at_noon_tells_the_head_teacher_with_a_call_due_within_the_hour_and_a_later_present_withdraws_it(  # noqa: E501
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await gone_at_noon(client, ctx, world)
    [alert] = await rows(ctx, LeftSchoolAlert)
    assert (alert.status, alert.check, alert.school_date) == ("raised", "noon", TUESDAY)
    assert alert.contact_due == beijing(13, 10)
    assert await inbox(ctx, world, "head_teacher") == ["left_school.raised"]
    [notice] = await rows(ctx, Notification, Notification.topic == "left_school.raised")
    assert notice.title.startswith("离校未归:") and "午检未到" in notice.title
    assert await rows(ctx, AbsenceCase) == []  # a present day: no case, no run

    r = await client.get(
        f"/api/v1/schools/{world.ids['school_A']}/left-school-alerts",
        headers=world.auth("head_teacher"),
    )
    assert r.status_code == 200, r.text
    [listed] = r.json()
    assert (listed["kind_label"], listed["status_label"]) == ("离校未归", "待联系家长")

    move(ctx, beijing(16, 35))
    await roll(
        client, world, [event(world.ids["student_A1"], "present", check="dismissal", at="16:30")]
    )
    [alert] = await rows(ctx, LeftSchoolAlert)
    assert alert.status == "withdrawn"
    assert await inbox(ctx, world, "head_teacher") == [
        "left_school.raised",
        "left_school.withdrawn",
    ]
    # Nothing left to escalate.
    move(ctx, beijing(17, 0))
    assert await partial_days.escalate_overdue(ctx) == 0
    assert await inbox(ctx, world, "vice_principal") == []


async def test_a_call_not_logged_within_the_hour_goes_to_the_vice_principal_once(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await gone_at_noon(client, ctx, world)
    move(ctx, beijing(13, 5))
    assert await partial_days.escalate_overdue(ctx) == 0  # not yet due
    move(ctx, beijing(13, 11))
    assert await partial_days.escalate_overdue(ctx) == 1
    assert await partial_days.escalate_overdue(ctx) == 0
    assert await inbox(ctx, world, "vice_principal") == ["left_school.overdue"]


async def test_logging_the_call_resolves_it_and_nothing_escalates(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await gone_at_noon(client, ctx, world)
    [alert] = await rows(ctx, LeftSchoolAlert)
    url = f"/api/v1/left-school-alerts/{alert.id}/contact"
    r = await client.post(url, json={"note": "家长已接回"}, headers=world.auth("head_teacher"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "contacted"
    again = await client.post(url, json={}, headers=world.auth("head_teacher"))
    assert again.status_code == 409
    other = await client.post(url, json={}, headers=world.auth("principal_B"))
    assert other.status_code == 404
    move(ctx, beijing(14, 0))
    assert await partial_days.escalate_overdue(ctx) == 0
    # The dismissal check finding the child does not undo the logged call.
    await roll(
        client, world, [event(world.ids["student_A1"], "present", check="dismissal", at="13:50")]
    )
    [alert] = await rows(ctx, LeftSchoolAlert)
    assert alert.status == "contacted"


async def test_leave_at_noon_an_absent_day_or_a_county_that_turned_it_off_raise_none(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    move(ctx, beijing(12, 15))
    a1, a2 = world.ids["student_A1"], world.ids["student_A2"]
    # A1 left with leave at noon; A2 absent all day (the day engine's case, not this).
    await roll(
        client,
        world,
        [
            event(a1, "present", at="08:05"),
            event(a1, "leave", check="noon", at="12:10", leave_type="sick"),
            event(a2, "absent", at="08:05"),
            event(a2, "absent", check="noon", at="12:10"),
        ],
        who="principal",
    )
    assert await rows(ctx, LeftSchoolAlert) == []
    [case] = await rows(ctx, AbsenceCase)
    assert case.student_id == a2

    url = f"/api/v1/alert-policies/county/{world.ids['county']}"
    r = await client.put(
        url, json={"left_school_alerts": False}, headers=world.auth("county_admin")
    )
    assert r.status_code == 200, r.text
    assert r.json()["effective"]["left_school_alerts"] is False
    await roll(client, world, [event(a1, "absent", check="dismissal", at="12:12")], "principal")
    assert await rows(ctx, LeftSchoolAlert) == []
    bad = await client.put(
        url, json={"left_school_alerts": "maybe"}, headers=world.auth("county_admin")
    )
    assert bad.status_code == 422


async def test_a_noon_absence_synced_on_a_later_day_is_a_record_not_a_call(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    move(ctx, beijing(12, 15))
    sid = world.ids["student_A1"]
    await roll(
        client,
        world,
        [
            event(sid, "present", day=MONDAY, at="08:05"),
            event(sid, "absent", day=MONDAY, check="noon", at="12:10"),
        ],
    )
    assert await rows(ctx, LeftSchoolAlert) == []
    assert await rows(ctx, AbsenceCase) == []
