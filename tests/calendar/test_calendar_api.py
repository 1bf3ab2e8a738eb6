"""The school calendar admin API: terms, overrides, the day-by-day view and the national
holiday lists, seen as a principal, a teacher and a county admin would see them."""

from __future__ import annotations

from typing import Any

import httpx

from app.context import AppContext
from app.seed.calendar import seed_demo_terms
from tests.world import World

AUTUMN = {"name": "秋季学期", "start_date": "2026-09-01", "end_date": "2027-01-22"}


def _url(world: World, school: str, path: str) -> str:
    return f"/api/v1/schools/{world.ids['school_' + school]}/{path}"


async def _add_term(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], who: str = "principal"
) -> httpx.Response:
    return await client.post(_url(world, "A", "terms"), json=body, headers=world.auth(who))


async def _days(
    client: httpx.AsyncClient, world: World, start: str, end: str, who: str = "principal"
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    r = await client.get(
        _url(world, "A", "calendar"), params={"start": start, "end": end}, headers=world.auth(who)
    )
    assert r.status_code == 200, r.text
    body = r.json()
    return {d["date"]: d for d in body["days"]}, body


async def test_national_day_week_and_makeup_saturday(
    world: World, client: httpx.AsyncClient
) -> None:
    r = await _add_term(client, world, AUTUMN)
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "秋季学期"

    days, body = await _days(client, world, "2026-08-31", "2026-10-11", who="head_teacher")
    # 调休: Saturday 10 October is worked in lieu of National Day.
    assert days["2026-10-10"]["is_school_day"] is True
    assert days["2026-10-10"]["kind"] == "makeup_workday"
    assert "调休" in days["2026-10-10"]["reason"]
    for d in range(1, 8):
        day = days[f"2026-10-0{d}"]
        assert day["is_school_day"] is False
        assert day["kind"] == "national_holiday"
        assert day["verified"] is True
    assert days["2026-10-11"]["is_school_day"] is False  # an ordinary Sunday
    assert days["2026-08-31"]["kind"] == "between_terms"  # the day before term
    assert days["2026-09-01"]["is_school_day"] is True
    assert days["2026-09-01"]["term"] == "秋季学期"
    # September 2026: 22 weekdays, less Mid-autumn Friday 25th, plus Sunday 20th (调休).
    school_days = [d for d, v in days.items() if v["is_school_day"]]
    assert len([d for d in school_days if d.startswith("2026-09")]) == 22
    assert days["2026-09-20"]["is_school_day"] is True
    assert days["2026-09-25"]["is_school_day"] is False
    assert body["school_days"] == len(school_days) == 22 + 3  # and 8–10 October
    assert body["unverified_days"] == 0

    listed = await client.get(_url(world, "A", "terms"), headers=world.auth("subject_teacher"))
    assert [t["name"] for t in listed.json()] == ["秋季学期"]


async def test_overlapping_term_is_refused_and_nothing_is_stored(
    world: World, client: httpx.AsyncClient
) -> None:
    assert (await _add_term(client, world, AUTUMN)).status_code == 201
    overlapping = {"name": "寒假补课", "start_date": "2027-01-20", "end_date": "2027-02-10"}
    r = await _add_term(client, world, overlapping)
    assert r.status_code == 422
    problem = r.json()["errors"][0]
    assert problem["loc"] == ["body", "start_date"]
    assert "重叠" in problem["msg"]

    terms = (await client.get(_url(world, "A", "terms"), headers=world.auth("principal"))).json()
    assert [t["name"] for t in terms] == ["秋季学期"]
    days, _ = await _days(client, world, "2027-02-01", "2027-02-05")
    assert not any(d["is_school_day"] for d in days.values())


async def test_break_outside_term_and_reversed_dates_are_refused(
    world: World, client: httpx.AsyncClient
) -> None:
    outside = {
        **AUTUMN,
        "breaks": [{"name": "寒假", "start_date": "2027-01-20", "end_date": "2027-02-20"}],
    }
    r = await _add_term(client, world, outside)
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "breaks", 0]
    assert "寒假" in r.json()["errors"][0]["msg"]

    reversed_ = {"name": "春季学期", "start_date": "2027-07-10", "end_date": "2027-03-01"}
    r = await _add_term(client, world, reversed_)
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "end_date"]

    terms = (await client.get(_url(world, "A", "terms"), headers=world.auth("principal"))).json()
    assert terms == []


async def test_break_inside_term_edit_and_delete(world: World, client: httpx.AsyncClient) -> None:
    autumn_break = {"name": "秋假", "start_date": "2026-11-09", "end_date": "2026-11-13"}
    r = await _add_term(client, world, {**AUTUMN, "breaks": [autumn_break]})
    assert r.status_code == 201
    term = r.json()
    assert [b["name"] for b in term["breaks"]] == ["秋假"]
    days, _ = await _days(client, world, "2026-11-09", "2026-11-16")
    assert days["2026-11-10"]["is_school_day"] is False
    assert days["2026-11-10"]["kind"] == "term_break"
    assert days["2026-11-16"]["is_school_day"] is True

    # Replace the breaks and end the term earlier.
    r = await client.patch(
        f"/api/v1/terms/{term['id']}",
        json={
            "end_date": "2027-01-15",
            "breaks": [{"name": "期中放假", "start_date": "2026-11-12", "end_date": "2026-11-13"}],
        },
        headers=world.auth("vice_principal"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["end_date"] == "2027-01-15"
    assert [b["name"] for b in r.json()["breaks"]] == ["期中放假"]
    days, _ = await _days(client, world, "2026-11-09", "2027-01-18")
    assert days["2026-11-10"]["is_school_day"] is True
    assert days["2026-11-12"]["kind"] == "term_break"
    assert days["2027-01-15"]["term"] == "秋季学期"
    assert days["2027-01-18"]["kind"] == "between_terms"

    # Shrinking the term so its break falls outside is refused, and changes nothing.
    r = await client.patch(
        f"/api/v1/terms/{term['id']}",
        json={"end_date": "2026-11-12"},
        headers=world.auth("academic_affairs"),
    )
    assert r.status_code == 422
    got = (await client.get(f"/api/v1/terms/{term['id']}", headers=world.auth("principal"))).json()
    assert got["end_date"] == "2027-01-15"
    assert len(got["breaks"]) == 1

    # Moving it onto another term is refused too.
    spring = {"name": "春季学期", "start_date": "2027-03-01", "end_date": "2027-07-09"}
    assert (await _add_term(client, world, spring)).status_code == 201
    r = await client.patch(
        f"/api/v1/terms/{term['id']}",
        json={"end_date": "2027-03-05"},
        headers=world.auth("principal"),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "start_date"]

    r = await client.delete(f"/api/v1/terms/{term['id']}", headers=world.auth("principal"))
    assert r.status_code == 204
    terms = (await client.get(_url(world, "A", "terms"), headers=world.auth("principal"))).json()
    assert [t["name"] for t in terms] == ["春季学期"]
    days, _ = await _days(client, world, "2026-11-16", "2026-11-16")
    assert days["2026-11-16"]["is_school_day"] is False
    assert days["2026-11-16"]["kind"] == "between_terms"


async def test_closure_and_extra_school_day(world: World, client: httpx.AsyncClient) -> None:
    assert (await _add_term(client, world, AUTUMN)).status_code == 201
    url = _url(world, "A", "calendar-overrides")
    snow = {"date": "2026-11-25", "kind": "closure", "reason": "大雪停课"}
    makeup = {"date": "2026-11-28", "kind": "extra_school_day", "reason": "补课"}
    r = await client.post(url, json=snow, headers=world.auth("principal"))
    assert r.status_code == 201, r.text
    snow_id = r.json()["id"]
    r = await client.post(url, json=makeup, headers=world.auth("academic_affairs"))
    assert r.status_code == 201

    days, body = await _days(client, world, "2026-11-23", "2026-11-29")
    assert days["2026-11-25"]["is_school_day"] is False  # a Wednesday in term
    assert days["2026-11-25"]["kind"] == "school_closure"
    assert days["2026-11-28"]["is_school_day"] is True  # a Saturday
    assert days["2026-11-28"]["kind"] == "extra_school_day"
    assert body["school_days"] == 5  # Mon–Fri less Wednesday, plus Saturday

    # One override per date.
    r = await client.post(
        url, json={**snow, "kind": "extra_school_day"}, headers=world.auth("principal")
    )
    assert r.status_code == 409
    assert "2026-11-25" in r.json()["detail"]

    listed = await client.get(
        url, params={"start": "2026-11-26", "end": "2026-11-30"}, headers=world.auth("head_teacher")
    )
    assert [(o["date"], o["kind"]) for o in listed.json()] == [("2026-11-28", "extra_school_day")]
    everything = await client.get(url, headers=world.auth("principal"))
    assert len(everything.json()) == 2

    # Others cannot remove it; the principal can, and the Wednesday is a school day again.
    assert (
        await client.delete(
            f"/api/v1/calendar-overrides/{snow_id}", headers=world.auth("principal_B")
        )
    ).status_code == 404
    assert (
        await client.delete(
            f"/api/v1/calendar-overrides/{snow_id}", headers=world.auth("head_teacher")
        )
    ).status_code == 403
    r = await client.delete(
        f"/api/v1/calendar-overrides/{snow_id}", headers=world.auth("principal")
    )
    assert r.status_code == 204
    days, _ = await _days(client, world, "2026-11-25", "2026-11-25")
    assert days["2026-11-25"]["is_school_day"] is True


async def test_who_may_change_the_calendar(world: World, client: httpx.AsyncClient) -> None:
    r = await _add_term(client, world, AUTUMN, who="head_teacher")
    assert r.status_code == 403
    r = await client.post(
        _url(world, "A", "calendar-overrides"),
        json={"date": "2026-11-25", "kind": "closure"},
        headers=world.auth("subject_teacher"),
    )
    assert r.status_code == 403
    # Another school's principal does not even learn that school A exists.
    r = await _add_term(client, world, AUTUMN, who="principal_B")
    assert r.status_code == 404
    r = await client.get(
        _url(world, "A", "calendar"),
        params={"start": "2026-11-23", "end": "2026-11-29"},
        headers=world.auth("principal_B"),
    )
    assert r.status_code == 404
    assert (
        await client.get(_url(world, "A", "terms"), headers=world.auth("principal_B"))
    ).status_code == 404

    # The county admin manages every school of the county, not the other county's.
    r = await _add_term(client, world, AUTUMN, who="county_admin")
    assert r.status_code == 201
    term_id = r.json()["id"]
    r = await client.post(
        _url(world, "Z", "terms"), json=AUTUMN, headers=world.auth("county_admin")
    )
    assert r.status_code == 404

    for who, expected in (("principal_B", 404), ("head_teacher", 403)):
        r = await client.patch(
            f"/api/v1/terms/{term_id}", json={"name": "改名"}, headers=world.auth(who)
        )
        assert r.status_code == expected
        r = await client.delete(f"/api/v1/terms/{term_id}", headers=world.auth(who))
        assert r.status_code == expected
    got = (await client.get(f"/api/v1/terms/{term_id}", headers=world.auth("head_teacher"))).json()
    assert got["name"] == "秋季学期"


async def test_2027_is_unverified_until_the_county_loads_the_official_list(
    world: World, client: httpx.AsyncClient
) -> None:
    assert (await _add_term(client, world, AUTUMN)).status_code == 201
    days, body = await _days(client, world, "2026-12-28", "2027-01-10")
    # No crash; 2027 rests on the Monday–Friday guess and says so.
    assert days["2027-01-01"]["verified"] is False
    assert days["2027-01-01"]["is_school_day"] is True  # a Friday, by the guess
    assert days["2027-01-09"]["is_school_day"] is False  # a Saturday
    assert days["2026-12-31"]["verified"] is True
    assert body["unverified_days"] == 10

    official = {
        "holidays": ["2027-01-01", "2027-01-02", "2027-01-03"],
        "makeup_workdays": ["2027-01-09"],
    }
    r = await client.put(
        "/api/v1/national-calendar/2027", json=official, headers=world.auth("principal")
    )
    assert r.status_code == 403
    # One county's admin must not rewrite every county's holidays: the operator only.
    r = await client.put(
        "/api/v1/national-calendar/2027", json=official, headers=world.auth("county_admin")
    )
    assert r.status_code == 403
    await world.add_operator()
    r = await client.put(
        "/api/v1/national-calendar/2027", json=official, headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    assert r.json()["holidays"] == official["holidays"]
    assert r.json()["covered_by_package"] is False
    assert r.json()["loaded_by"] == world.ids["operator"]

    days, body = await _days(client, world, "2026-12-28", "2027-01-10")
    assert body["unverified_days"] == 0
    assert days["2027-01-01"] == {
        **days["2027-01-01"],
        "is_school_day": False,
        "verified": True,
        "kind": "national_holiday",
    }
    assert days["2027-01-09"]["is_school_day"] is True
    assert days["2027-01-09"]["kind"] == "makeup_workday"
    assert days["2027-01-04"]["is_school_day"] is True
    assert days["2027-01-04"]["verified"] is True

    overview = (
        await client.get("/api/v1/national-calendar", headers=world.auth("head_teacher"))
    ).json()
    assert [y["year"] for y in overview["loaded"]] == [2027]
    assert overview["package_years"][0] == 2004
    assert 2026 in overview["package_years"]
    assert 2027 not in overview["package_years"]
    got = await client.get("/api/v1/national-calendar/2027", headers=world.auth("principal"))
    assert got.json()["makeup_workdays"] == ["2027-01-09"]
    r = await client.get("/api/v1/national-calendar/2028", headers=world.auth("principal"))
    assert r.status_code == 404

    # Loading again replaces the list.
    r = await client.put(
        "/api/v1/national-calendar/2027",
        json={"holidays": ["2027-01-01"]},
        headers=world.auth("operator"),
    )
    assert r.status_code == 200
    days, _ = await _days(client, world, "2027-01-01", "2027-01-09")
    assert days["2027-01-01"]["is_school_day"] is False
    assert days["2027-01-09"]["is_school_day"] is False
    assert days["2027-01-09"]["verified"] is True


async def test_an_invalid_national_list_is_refused_and_not_stored(
    world: World, client: httpx.AsyncClient
) -> None:
    url = "/api/v1/national-calendar/2027"
    await world.add_operator()
    admin = world.auth("operator")
    weekday_makeup = {"holidays": ["2027-01-01"], "makeup_workdays": ["2027-01-06"]}
    r = await client.put(url, json=weekday_makeup, headers=admin)
    assert r.status_code == 422
    problem = r.json()["errors"][0]
    assert problem["loc"] == ["body", "makeup_workdays"]
    assert "2027-01-06" in problem["msg"]

    other_year = {"holidays": ["2026-12-31", "2027-01-01"]}
    r = await client.put(url, json=other_year, headers=admin)
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "holidays"]

    assert (await client.get(url, headers=admin)).status_code == 404
    overview = (await client.get("/api/v1/national-calendar", headers=admin)).json()
    assert overview["loaded"] == []


async def test_range_limits(world: World, client: httpx.AsyncClient) -> None:
    url = _url(world, "A", "calendar")
    auth = world.auth("principal")
    r = await client.get(url, params={"start": "2026-01-01", "end": "2027-01-01"}, headers=auth)
    assert r.status_code == 200  # 366 days
    assert len(r.json()["days"]) == 366
    r = await client.get(url, params={"start": "2026-01-01", "end": "2027-01-02"}, headers=auth)
    assert r.status_code == 422
    r = await client.get(url, params={"start": "2026-11-25", "end": "2026-11-24"}, headers=auth)
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["query", "end"]
    # Without any term the school still gets an answer, marked unverified.
    days, _ = await _days(client, world, "2026-11-25", "2026-11-25")
    assert days["2026-11-25"]["is_school_day"] is True
    assert days["2026-11-25"]["verified"] is False


async def test_demo_terms_give_school_days_today(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    schools = [world.ids["school_A"], world.ids["school_B"]]
    await seed_demo_terms(ctx, schools)
    await seed_demo_terms(ctx, schools)  # a second run adds nothing
    terms = (await client.get(_url(world, "A", "terms"), headers=world.auth("principal"))).json()
    assert [(t["start_date"], t["end_date"]) for t in terms] == [
        ("2026-03-02", "2026-07-10"),
        ("2026-09-01", "2027-01-22"),
    ]
    days, _ = await _days(client, world, "2026-11-23", "2026-11-27")  # the demo's week
    assert all(d["is_school_day"] and d["verified"] for d in days.values())
    days, _ = await _days(client, world, "2026-08-03", "2026-08-03")
    assert days["2026-08-03"]["kind"] == "between_terms"  # 暑假


async def test_counties_and_schools_change_their_own_days_not_the_nations(
    world: World, client: httpx.AsyncClient
) -> None:
    """Issue 12 item 8: only the operator edits the national list; a county's closure is
    written to its own schools' calendars, and a school's own entry is kept."""
    holiday = {"holidays": ["2026-12-15"]}
    for who in ("county_admin", "principal"):
        r = await client.put(
            "/api/v1/national-calendar/2026", json=holiday, headers=world.auth(who)
        )
        assert r.status_code == 403
        assert "运维" in r.json()["detail"]
    own = await client.post(
        _url(world, "B", "calendar-overrides"),
        json={"date": "2026-12-15", "kind": "extra_school_day", "reason": "补课"},
        headers=world.auth("principal_B"),
    )
    assert own.status_code == 201
    url = f"/api/v1/counties/{world.ids['county']}/calendar-overrides"
    snow = {"date": "2026-12-15", "kind": "closure", "reason": "大雪停课"}
    assert (await client.post(url, json=snow, headers=world.auth("principal"))).status_code == 403
    other = f"/api/v1/counties/{world.ids['county_other']}/calendar-overrides"
    assert (
        await client.post(other, json=snow, headers=world.auth("county_admin"))
    ).status_code == 404
    r = await client.post(url, json=snow, headers=world.auth("county_admin"))
    assert r.status_code == 201, r.text
    assert [o["school_id"] for o in r.json()["created"]] == [world.ids["school_A"]]
    assert [s["school_id"] for s in r.json()["skipped"]] == [world.ids["school_B"]]
    days_a, _ = await _days(client, world, "2026-12-15", "2026-12-15")
    assert days_a["2026-12-15"]["is_school_day"] is False
    # The neighbouring county's school is untouched.
    await world.add_operator()
    z = await client.get(_url(world, "Z", "calendar-overrides"), headers=world.auth("operator"))
    assert z.status_code == 200 and z.json() == []
    b = await client.get(_url(world, "B", "calendar-overrides"), headers=world.auth("operator"))
    assert [o["kind"] for o in b.json()] == ["extra_school_day"]
