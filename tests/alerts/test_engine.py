"""The engine against the database: cases from the roll, deadlines that fire on time, late
after downtime, never for a closed case; the simulation clock; policies per school."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.alerts import sweep
from app.context import AppContext
from app.db.models import AbsenceCase, Alert, CaseEvent, Deadline, Notification
from tests.helpers import FRIDAY, MONDAY, TUESDAY, WEDNESDAY, absent, clock, event, rows
from tests.world import World

URL = "/api/v1/attendance-events"


async def inbox(ctx: AppContext, world: World, who: str) -> list[str]:
    found = await rows(ctx, Notification, Notification.staff_id == world.ids[who])
    return [n.topic for n in sorted(found, key=lambda n: n.id)]


async def test_an_absence_opens_a_case_with_a_blue_alert_to_the_head_teacher(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await absent(client, world, TUESDAY)
    [case] = await rows(ctx, AbsenceCase)
    assert (case.status, case.level, case.run) == ("open", "blue", ["2026-11-24"])
    [alert] = await rows(ctx, Alert)
    assert alert.recipient_role == "head_teacher"
    assert alert.verify_due == clock(ctx).now + timedelta(hours=48)
    assert await inbox(ctx, world, "head_teacher") == ["alert.raised"]
    deadlines = {d.kind: d.due_at for d in await rows(ctx, Deadline)}
    # 1 hour after the check that found the absence (08:05 Beijing), 24 h for the report.
    assert deadlines["contact"] == datetime(2026, 11, 24, 1, 5, tzinfo=UTC)
    assert deadlines["report"] == clock(ctx).now + timedelta(hours=24)


async def test_friday_and_monday_absent_is_yellow_three_days_red(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await absent(client, world, FRIDAY, MONDAY)
    assert [a.level for a in await rows(ctx, Alert)] == ["blue", "yellow"]
    assert await inbox(ctx, world, "vice_principal") == ["alert.raised"]
    await absent(client, world, TUESDAY)
    assert [a.level for a in await rows(ctx, Alert)] == ["blue", "yellow", "red"]
    assert await inbox(ctx, world, "principal") == ["alert.raised"]
    [case] = await rows(ctx, AbsenceCase)
    assert {m["part"] for m in case.work_group} == {"lead", "member"}


async def test_overdue_contact_tells_the_vice_principal_once(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await absent(client, world, TUESDAY)
    clock(ctx).now += timedelta(minutes=10)  # 09:10 Beijing: the 09:05 call is overdue
    first = await sweep.sweep(ctx)
    again = await sweep.sweep(ctx)
    assert (first.fired, again.fired) == (1, 0)
    assert await inbox(ctx, world, "vice_principal") == ["contact.overdue"]
    [fired] = await rows(ctx, Deadline, Deadline.kind == "contact")
    assert fired.state == "fired" and fired.lateness_ms == 5 * 60 * 1000


async def test_after_downtime_the_backlog_fires_in_due_order_marked_late(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await absent(client, world, TUESDAY)
    clock(ctx).now += timedelta(days=3)  # the engine was down for three days
    result = await sweep.sweep(ctx)
    assert result.fired == 3  # contact, report, verification: none skipped
    fired = sorted(await rows(ctx, Deadline), key=lambda d: d.due_at)
    assert all(d.state == "fired" for d in fired)
    assert [d.kind for d in fired] == ["contact", "report", "verify"]
    assert all(d.lateness_ms and d.lateness_ms > 60_000 for d in fired)
    late = await rows(ctx, CaseEvent, CaseEvent.kind == "deadline.late")
    assert len(late) == 3
    escalated = await inbox(ctx, world, "vice_principal")
    assert escalated.count("alert.escalated") == 1  # blue unverified → vice principal


async def test_deadlines_of_a_closed_case_never_fire(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await absent(client, world, TUESDAY)
    clock(ctx).now = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)  # Wednesday 08:30
    sid = world.ids["student_A1"]
    await client.post(URL, json=event(sid, day=WEDNESDAY), headers=world.auth("head_teacher"))
    [case] = await rows(ctx, AbsenceCase)
    assert (case.status, case.close_reason) == ("closed", "returned")
    clock(ctx).now += timedelta(days=5)
    result = await sweep.sweep(ctx)
    assert result.fired == 0 and result.cancelled == 3
    assert await inbox(ctx, world, "vice_principal") == []


async def test_a_correction_withdraws_the_alert_and_tells_the_head_teacher(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await absent(client, world, TUESDAY)
    sid = world.ids["student_A1"]
    await client.post(
        URL, json=event(sid, "present", at="08:30"), headers=world.auth("head_teacher")
    )
    [alert] = await rows(ctx, Alert)
    assert alert.status == "withdrawn"
    [case] = await rows(ctx, AbsenceCase)
    assert (case.status, case.close_reason) == ("closed", "withdrawn")
    assert await inbox(ctx, world, "head_teacher") == ["alert.raised", "alert.withdrawn"]


async def test_simulation_clock_drills_a_week_in_order(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    r = await client.post(
        "/api/v1/sim/clock", json={"advance_minutes": 5}, headers=world.auth("principal")
    )
    assert r.status_code == 404  # off unless enabled
    ctx.settings.simulation_clock = True
    ctx.settings.drill_county = world.ids["county"]
    try:
        await absent(client, world, TUESDAY)
        principal = await client.post(
            "/api/v1/sim/clock", json={"advance_minutes": 5}, headers=world.auth("principal")
        )
        assert principal.status_code == 403  # the clock is the whole deployment's
        r = await client.post(
            "/api/v1/sim/clock",
            json={"advance_minutes": 7 * 24 * 60},
            headers=world.auth("county_admin"),
        )
        assert r.status_code == 200, r.text
        assert r.json()["fired"] == 3
        assert r.json()["now"].startswith("2026-12-01T01:00:00")
        fired = await rows(ctx, Deadline)
        assert all(d.lateness_ms == 0 for d in fired)  # each fired at its own due time
        back = await client.post(
            "/api/v1/sim/clock",
            json={"set": "2026-11-01T00:00:00Z"},
            headers=world.auth("county_admin"),
        )
        assert back.status_code == 409
    finally:
        ctx.settings.simulation_clock, ctx.settings.drill_county = False, None


async def test_a_school_policy_applies_to_new_cases_only(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await absent(client, world, MONDAY)  # a case opens under the default policy
    r = await client.put(
        f"/api/v1/alert-policies/school/{world.ids['school_A']}",
        json={"yellow_days": 3, "red_days": 5},
        headers=world.auth("principal"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["effective"]["yellow_days"] == 3
    await absent(client, world, TUESDAY)
    assert [a.level for a in await rows(ctx, Alert)] == ["blue", "yellow"]  # kept its snapshot
    bad = await client.put(
        f"/api/v1/alert-policies/school/{world.ids['school_A']}",
        json={"yellow_days": 4, "red_days": 3},
        headers=world.auth("principal"),
    )
    assert bad.status_code == 422
    teacher = await client.put(
        f"/api/v1/alert-policies/school/{world.ids['school_A']}",
        json={"yellow_days": 2},
        headers=world.auth("head_teacher"),
    )
    assert teacher.status_code == 403


async def test_engine_health_shows_the_oldest_overdue_deadline(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await absent(client, world, TUESDAY)
    clock(ctx).now += timedelta(hours=2)
    r = await client.get("/api/v1/engine/health", headers=world.auth("principal"))
    assert r.json()["pending_overdue"] == 1
    assert r.json()["oldest_overdue_seconds"] == pytest.approx(115 * 60)  # due 01:05Z
