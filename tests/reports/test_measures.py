"""Chronic and intermittent absence against the database, on the simulation clock: the
periodic job computes each student's measures over the current term and stores them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from app.calendar.repository import school_refs
from app.context import AppContext
from app.db.models import AbsenceMeasure
from app.reports import measures
from tests.helpers import TUESDAY, event, move, roll, rows
from tests.world import World

AUTUMN = {"name": "秋季学期", "start_date": "2026-09-01", "end_date": "2027-01-22"}


def morning(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)  # 09:00 Beijing


async def add_term(client: httpx.AsyncClient, world: World) -> None:
    r = await client.post(
        f"/api/v1/schools/{world.ids['school_A']}/terms",
        json=AUTUMN,
        headers=world.auth("principal"),
    )
    assert r.status_code == 201, r.text


async def school_days(ctx: AppContext, world: World, start: date, end: date) -> list[date]:
    async with ctx.uow() as uow:
        ref = (await school_refs(uow.session, {world.ids["school_A"]}))[world.ids["school_A"]]
    return ref.calendar.school_days_between(start, end)


async def forty_days(
    ctx: AppContext, world: World, sid: int
) -> tuple[list[dict[str, Any]], set[date]]:
    """The last 40 school days to Tuesday: sick leave on three, unexplained absence on two,
    present on the rest (12.5% missed); the events, and the sick days."""
    days = (await school_days(ctx, world, date(2026, 9, 1), TUESDAY))[-40:]
    sick, absent = set(days[5:8]), {days[20], days[33]}
    events = [
        event(sid, "leave", day=d, leave_type="sick")
        if d in sick
        else event(sid, "absent" if d in absent else "present", day=d)
        for d in days
    ]
    return events, sick


async def measure_of(ctx: AppContext, world: World, student: str) -> AbsenceMeasure:
    assert await measures.compute_all(ctx) > 0
    [row] = await rows(ctx, AbsenceMeasure, AbsenceMeasure.student_id == world.ids[student])
    return row


async def test_a_child_absent_every_monday_is_intermittent_in_week_three(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await add_term(client, world)
    sid = world.ids["student_A1"]
    days = await school_days(ctx, world, date(2026, 10, 26), date(2026, 11, 23))
    mondays = [d for d in days if d.weekday() == 0]
    assert len(mondays) == 5
    flagged = []
    for d in days:
        move(ctx, morning(d))
        status = "absent" if d.weekday() == 0 else "present"
        await roll(client, world, [event(sid, status, day=d)], "principal")
        if d.weekday() == 0:
            flagged.append((await measure_of(ctx, world, "student_A1")).intermittent)
            listed = await client.get(
                "/api/v1/reports/early-warning",
                params={"class_id": world.ids["class_A1"]},
                headers=world.auth("head_teacher"),
            )
            assert listed.status_code == 200, listed.text
            flagged.append([x["student_id"] for x in listed.json()["items"] if x["intermittent"]])
    assert flagged == [False, [], False, [], True, [sid], True, [sid], True, [sid]]
    final = await measure_of(ctx, world, "student_A1")
    assert (final.school_days, final.absent_days, final.as_of) == (len(days), 5, mondays[-1])
    assert final.window_absent == 4  # the last 20 school days hold four of the Mondays


async def test_three_sick_days_and_two_unexplained_in_forty_are_chronic_at_12_5_percent(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await add_term(client, world)
    sid = world.ids["student_A2"]
    events, sick = await forty_days(ctx, world, sid)
    await roll(client, world, events, "principal")
    m = await measure_of(ctx, world, "student_A2")
    assert (m.school_days, m.absent_days, m.leave_days, m.late_days) == (40, 2, {"sick": 3}, 0)
    assert (m.rate, m.band, m.chronic, m.intermittent) == (0.125, "moderate", True, False)
    # Whatever the reasons: the same five days unexplained give the same rate and band.
    await roll(client, world, [event(sid, "absent", day=d, at="08:06") for d in sick], "principal")
    again = await measure_of(ctx, world, "student_A2")
    assert (again.rate, again.band, again.chronic, again.absent_days) == (
        0.125,
        "moderate",
        True,
        5,
    )
    assert again.intermittent  # three unexplained days within 20 school days now
    # A student with no marks this term is counted from nothing: no days, no band.
    other = await measure_of(ctx, world, "student_A1")
    assert (other.school_days, other.band) == (0, "none")


async def test_thresholds_out_of_range_are_422_with_the_field_and_change_nothing(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    url = f"/api/v1/alert-policies/county/{world.ids['county']}"
    admin = world.auth("county_admin")
    ok = await client.put(url, json={"chronic_percent": 12.5}, headers=admin)
    assert ok.status_code == 200, ok.text
    for body, field in (
        ({"intermittent_window_days": 2}, "intermittent_window_days"),  # < red_days (3)
        ({"measure_window_days": 2}, "measure_window_days"),
        ({"chronic_percent": 150}, "chronic_percent"),
        ({"band_severe_percent": 101}, "band_severe_percent"),
        ({"measure_window_days": 400}, "measure_window_days"),  # more than a school year
        ({"band_at_risk_percent": 15}, "band_moderate_percent"),  # bands out of order
    ):
        r = await client.put(url, json=body, headers=admin)
        assert r.status_code == 422, (body, r.text)
        assert field in str(r.json()), r.text
    after = await client.get(url, headers=admin)
    assert after.json()["overrides"] == {"chronic_percent": 12.5}
    assert after.json()["effective"]["intermittent_window_days"] == 20


async def test_the_job_uses_the_countys_thresholds(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await add_term(client, world)
    url = f"/api/v1/alert-policies/county/{world.ids['county']}"
    r = await client.put(
        url,
        json={"chronic_min_days": 5, "intermittent_absences": 2, "intermittent_window_days": 5},
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 200, r.text
    sid = world.ids["student_A1"]
    days = (await school_days(ctx, world, date(2026, 9, 1), TUESDAY))[-5:]
    statuses = ["absent", "present", "present", "absent", "present"]
    await roll(
        client,
        world,
        [event(sid, s, day=d) for s, d in zip(statuses, days, strict=True)],
        "principal",
    )
    m = await measure_of(ctx, world, "student_A1")
    assert (m.school_days, m.rate, m.band, m.chronic, m.intermittent) == (
        5,
        0.4,
        "severe",
        True,
        True,
    )
    assert m.previous_rate is None  # no week before the first five days
    assert timedelta(0) <= ctx.clock() - m.computed_at
