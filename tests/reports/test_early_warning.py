"""预警名单: the students in a band or intermittent, per class, school and county, in JSON and
XLSX; entering the list tells the head teacher and the mentor once; the vice principal's weekly
digest; the bulletin's counts; the measure on the student's page and the case."""

from __future__ import annotations

from datetime import date

import httpx

from app.context import AppContext
from app.db.models import Notification
from app.reports import measures
from tests.helpers import TUESDAY, event, roll, rows
from tests.reports.test_measures import add_term, forty_days
from tests.world import World

URL = "/api/v1/reports/early-warning"


async def chronic_student(ctx: AppContext, world: World, client: httpx.AsyncClient) -> None:
    """student_A1: 3 sick days and 2 unexplained in 40 school days (12.5%, moderate)."""
    await add_term(client, world)
    r = await client.post(
        f"/api/v1/students/{world.ids['student_A1']}/mentor",
        json={"staff_id": world.ids["subject_teacher"]},
        headers=world.auth("principal"),
    )
    assert r.status_code in (200, 201), r.text
    events, _ = await forty_days(ctx, world, world.ids["student_A1"])
    # Everyone else present: measured, not listed.
    days = [date.fromisoformat(e["school_date"]) for e in events]
    events += [event(world.ids["student_A2"], "present", day=d) for d in days]
    await roll(client, world, events, "principal")
    await measures.compute_all(ctx)


async def topics(ctx: AppContext, world: World, who: str, prefix: str) -> list[str]:
    found = await rows(ctx, Notification, Notification.staff_id == world.ids[who])
    return [n.topic for n in found if n.topic.startswith(prefix)]


async def test_the_list_per_class_school_and_county_with_figures_sorted(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await chronic_student(ctx, world, client)
    for who, query in (
        ("head_teacher", {"class_id": world.ids["class_A1"]}),
        ("principal", {"school_id": world.ids["school_A"]}),
        ("county_admin", {"county_id": world.ids["county"], "sort": "name", "order": "asc"}),
    ):
        r = await client.get(URL, params=query, headers=world.auth(who))
        assert r.status_code == 200, r.text
        body = r.json()
        [line] = body["items"]
        assert line["student_id"] == world.ids["student_A1"]
        assert (line["rate"], line["band"], line["band_label"]) == (
            0.125,
            "moderate",
            "中度(10%–20%)",
        )
        assert (line["absent_days"], line["leave_days"], line["chronic"]) == (2, {"sick": 3}, True)
        assert body["counts"]["moderate"] == 1 and body["counts"]["listed"] == 1
    x = await client.get(
        URL + ".xlsx",
        params={"class_id": world.ids["class_A1"]},
        headers=world.auth("head_teacher"),
    )
    assert x.status_code == 200
    assert x.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    assert x.content[:2] == b"PK"


async def test_bad_scopes_and_terms_are_refused(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await chronic_student(ctx, world, client)
    auth = world.auth("principal")
    none = await client.get(URL, headers=auth)
    both = await client.get(
        URL,
        params={"class_id": world.ids["class_A1"], "school_id": world.ids["school_A"]},
        headers=auth,
    )
    term = await client.get(
        URL, params={"school_id": world.ids["school_A"], "term_id": 999999}, headers=auth
    )
    sort = await client.get(
        URL, params={"school_id": world.ids["school_A"], "sort": "x"}, headers=auth
    )
    for r, field in ((none, "class_id"), (both, "class_id"), (term, "term_id"), (sort, "sort")):
        assert r.status_code == 422, r.text
        assert field in r.text
    teacher = await client.get(
        URL, params={"school_id": world.ids["school_A"]}, headers=world.auth("head_teacher")
    )
    assert teacher.status_code == 403
    other = await client.get(
        URL, params={"class_id": world.ids["class_A1"]}, headers=world.auth("principal_B")
    )
    assert other.status_code == 404


async def test_entering_the_list_tells_head_teacher_and_mentor_once_and_the_vice_principal_weekly(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await chronic_student(ctx, world, client)
    await measures.compute_all(ctx)  # again: nothing new
    assert await topics(ctx, world, "head_teacher", "early_warning") == ["early_warning.entered"]
    assert await topics(ctx, world, "subject_teacher", "early_warning") == ["early_warning.entered"]
    [notice] = await rows(
        ctx,
        Notification,
        Notification.staff_id == world.ids["head_teacher"],
        Notification.topic == "early_warning.entered",
    )
    assert "中度" in notice.title
    assert await topics(ctx, world, "vice_principal", "early_warning") == ["early_warning.digest"]
    # The bulletin shows the counts.
    r = await client.get(
        "/api/v1/reports/weekly-bulletin",
        params={"school_id": world.ids["school_A"], "week_start": "2026-11-23"},
        headers=world.auth("principal"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["early_warning"]["moderate"] == 1
    assert r.json()["early_warning"]["chronic"] == 1


async def test_the_students_page_shows_the_measure(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await chronic_student(ctx, world, client)
    r = await client.get(
        f"/api/v1/students/{world.ids['student_A1']}/absence-measure",
        headers=world.auth("head_teacher"),
    )
    assert r.status_code == 200, r.text
    assert (r.json()["band"], r.json()["school_days"]) == ("moderate", 40)
    hidden = await client.get(
        f"/api/v1/students/{world.ids['student_A1']}/absence-measure",
        headers=world.auth("principal_B"),
    )
    assert hidden.status_code == 404


async def test_the_case_and_the_monthly_review_show_the_measure_and_the_bands(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await chronic_student(ctx, world, client)
    sid = world.ids["student_A1"]
    await roll(client, world, [event(sid, "absent", day=TUESDAY, at="08:07")], "principal")
    case = await client.get(f"/api/v1/students/{sid}/case", headers=world.auth("principal"))
    assert case.status_code == 200, case.text
    assert case.json()["absence_measure"]["band"] == "moderate"
    review = await client.get(
        "/api/v1/reports/monthly-review",
        params={"school_id": world.ids["school_A"], "month": "2026-11"},
        headers=world.auth("principal"),
    )
    assert review.status_code == 200, review.text
    counts = review.json()["early_warning"]
    assert (counts["moderate"], counts["severe"], counts["listed"]) == (1, 0, 1)
