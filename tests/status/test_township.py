"""The township's account (乡镇人民政府) through the API on the simulation clock: a return notice
reported to the township is received by the township's officer (and no other township's),
who acknowledges it, records what it did and may raise it to the county; a report left
unacknowledged is raised to the county by the daily check; everyone concerned is told."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from app.context import AppContext
from app.db.models import TownshipAction
from tests.helpers import count, post
from tests.status.test_dropout_status_api import SCHOOL_DAYS, absent_days, at, inbox, with_term
from tests.world import World, next_mobile

REPORTS = "/api/v1/township-reports"


async def officer(
    client: httpx.AsyncClient, world: World, key: str, township_id: int
) -> httpx.Response:
    """A township officer made by the county admin through the staff API."""
    body = {
        "county_id": world.ids["county"],
        "name": key,
        "mobile": next_mobile(),
        "roles": [{"role": "township_officer", "township_id": township_id}],
    }
    r = await client.post("/api/v1/staff", json=body, headers=world.auth("county_admin"))
    if r.status_code == 201:
        world.ids[key] = r.json()["id"]
        world.tokens[key] = world._token(r.json()["id"])
    return r


async def reported(
    client: httpx.AsyncClient, world: World, ctx: AppContext, student: str = "student_A1"
) -> dict[str, Any]:
    """A red case's notice, its 2-day deadline passed, reported to the township on Saturday
    12 September by the daily check."""
    url = f"/api/v1/alert-policies/county/{world.ids['county']}"
    r = await client.put(url, json={"notice_days": 2}, headers=world.auth("county_admin"))
    assert r.status_code == 200, r.text
    await absent_days(client, world, ctx, student, SCHOOL_DAYS[:3])
    case = (
        await client.get(
            f"/api/v1/students/{world.ids[student]}/case", headers=world.auth("principal")
        )
    ).json()
    r = await post(client, world, "principal", f"/api/v1/cases/{case['id']}/return-notice")
    assert r.status_code == 201, r.text
    await absent_days(client, world, ctx, student, SCHOOL_DAYS[3:5])
    at(ctx, date(2026, 9, 12))
    r = await post(client, world, "principal", "/api/v1/return-notices/check")
    assert r.json()["escalated"] == 1, r.text
    return case  # type: ignore[no-any-return]


async def reports_of(client: httpx.AsyncClient, world: World, who: str) -> list[dict[str, Any]]:
    r = await client.get(REPORTS, headers=world.auth(who))
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


async def timeline(client: httpx.AsyncClient, world: World, case_id: int) -> list[str]:
    r = await client.get(f"/api/v1/cases/{case_id}", headers=world.auth("principal"))
    return [e["kind"] for e in r.json()["timeline"]]


async def test_the_township_receives_acknowledges_and_acts_and_everyone_is_told(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await with_term(world, client)
    town = world.ids["township_county"]
    assert (await officer(client, world, "township", town)).status_code == 201
    r = await client.post(
        "/api/v1/townships",
        json={"county_id": world.ids["county"], "name": "另一镇"},
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 201, r.text
    assert (await officer(client, world, "other_township", r.json()["id"])).status_code == 201
    assert await reports_of(client, world, "township") == []
    case = await reported(client, world, ctx)

    # The township sees the report (and only its own township does), and nothing else.
    [report] = await reports_of(client, world, "township")
    assert report["student_name"] == "学生1" and report["school_name"] == "学校A"
    assert report["notice_number"] == "SA-2026-001" and report["reported_on"] == "2026-09-12"
    assert report["status"] == "received" and report["acknowledge_by"] == "2026-09-15"
    assert await reports_of(client, world, "other_township") == []
    assert [x["id"] for x in await reports_of(client, world, "county_admin")] == [report["id"]]
    assert [x["id"] for x in await reports_of(client, world, "principal")] == [report["id"]]
    assert await reports_of(client, world, "principal_B") == []
    assert await reports_of(client, world, "head_teacher") == []
    got = await client.get(f"/api/v1/cases/{case['id']}", headers=world.auth("township"))
    assert got.status_code == 404  # the report, not the school's case file
    # Told: the township's officer, the principal, the vice principal, 教务处 and the county.
    for who in ("township", "principal", "vice_principal", "academic_affairs", "county_admin"):
        assert "return_notice.reported_to_township" in await inbox(client, world, who), who
    assert "return_notice.reported_to_township" not in await inbox(client, world, "other_township")

    one = f"{REPORTS}/{report['id']}"
    # Only the township's own officers act: 403 for those who read it, 404 for the others.
    assert (await post(client, world, "principal", f"{one}/acknowledge")).status_code == 403
    assert (await post(client, world, "county_admin", f"{one}/acknowledge")).status_code == 403
    assert (await post(client, world, "other_township", f"{one}/acknowledge")).status_code == 404
    assert (await post(client, world, "principal_B", f"{one}/acknowledge")).status_code == 404
    at(ctx, date(2026, 9, 14))
    r = await post(client, world, "township", f"{one}/acknowledge")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "acknowledged" and r.json()["acknowledged_by"]
    assert (await post(client, world, "township", f"{one}/acknowledge")).status_code == 409

    # Bad actions: 422 naming the field, 404 for no such report; nothing recorded.
    bad: list[tuple[dict[str, Any], str]] = [
        ({"kind": "order_correction", "taken_on": "2026-09-14", "note": "约谈"}, "deadline"),
        (
            {"kind": "order_correction", "taken_on": "2026-09-14", "deadline": "2026-09-14"}
            | {"note": "约谈"},
            "deadline",
        ),
        ({"kind": "penalty", "taken_on": "2026-09-15", "note": "罚款"}, "taken_on"),
        ({"kind": "penalty", "taken_on": "2026-09-11", "note": "罚款"}, "taken_on"),
        ({"kind": "penalty", "taken_on": "2026-09-14", "note": " "}, "note"),
        ({"kind": "arrest", "taken_on": "2026-09-14", "note": "x"}, "kind"),
    ]
    for body, field in bad:
        r = await post(client, world, "township", f"{one}/actions", body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["loc"] == ["body", field], r.text
    ok = {
        "kind": "order_correction",
        "taken_on": "2026-09-14",
        "deadline": "2026-09-21",
        "note": "约谈监护人,责令 7 日内送子女返校",
    }
    r = await post(client, world, "township", f"{REPORTS}/999999/actions", ok)
    assert r.status_code == 404
    assert await count(ctx, TownshipAction) == 0

    r = await post(client, world, "township", f"{one}/actions", ok)
    assert r.status_code == 200, r.text
    [action] = r.json()["actions"]
    assert action["kind_label"] == "责令限期改正" and action["deadline"] == "2026-09-21"
    assert "township.action_recorded" in await timeline(client, world, case["id"])
    for who in ("principal", "vice_principal", "academic_affairs", "county_admin"):
        assert (await inbox(client, world, who)).count("township.action_recorded") == 1, who
    assert "township.action_recorded" not in await inbox(client, world, "head_teacher")

    # Raised to the county by the township: once.
    r = await post(client, world, "township", f"{one}/raise", {"reason": "监护人拒不改正"})
    assert r.status_code == 200 and r.json()["status"] == "raised", r.text
    assert r.json()["raised_on"] == "2026-09-14" and r.json()["raise_reason"] == "监护人拒不改正"
    again = await post(client, world, "township", f"{one}/raise", {"reason": "再次"})
    assert again.status_code == 409
    assert "township_report.raised_to_county" in await inbox(client, world, "county_admin")
    assert "township_report.raised_to_county" in await timeline(client, world, case["id"])
    listed = await client.get(REPORTS, params={"status": "raised"}, headers=world.auth("township"))
    assert [x["id"] for x in listed.json()["items"]] == [report["id"]]
    listed = await client.get(
        REPORTS, params={"status": "received"}, headers=world.auth("township")
    )
    assert listed.json()["items"] == []


async def test_a_report_not_acknowledged_in_time_is_raised_to_the_county(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await with_term(world, client)
    await officer(client, world, "township", world.ids["township_county"])
    case = await reported(client, world, ctx)
    [report] = await reports_of(client, world, "township")
    at(ctx, date(2026, 9, 15))  # the last day to acknowledge (reported on the 12th, 3 days)
    r = await post(client, world, "county_admin", "/api/v1/return-notices/check")
    assert r.json()["raised_to_county"] == 0, r.text
    assert "township_report.raised_to_county" not in await inbox(client, world, "county_admin")
    at(ctx, date(2026, 9, 16))
    r = await post(client, world, "county_admin", "/api/v1/return-notices/check")
    assert r.json()["raised_to_county"] == 1, r.text
    got = (await client.get(f"{REPORTS}/{report['id']}", headers=world.auth("township"))).json()
    assert got["status"] == "raised" and got["raised_on"] == "2026-09-16"
    assert got["raised_by"] is None and "未签收" in got["raise_reason"]
    for who in ("county_admin", "principal"):
        assert (await inbox(client, world, who)).count("township_report.raised_to_county") == 1
    assert "township_report.raised_to_county" in await timeline(client, world, case["id"])
    r = await post(client, world, "county_admin", "/api/v1/return-notices/check")
    assert r.json()["raised_to_county"] == 0  # once


async def test_no_action_once_the_notice_is_struck_off(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await with_term(world, client)
    await officer(client, world, "township", world.ids["township_county"])
    await reported(client, world, ctx)
    [report] = await reports_of(client, world, "township")
    r = await post(
        client,
        world,
        "principal",
        f"/api/v1/return-notices/{report['notice_id']}/strike-off",
        {"reason": "已返校复学"},
    )
    assert r.status_code == 200, r.text
    body = {"kind": "education", "taken_on": "2026-09-12", "note": "批评教育"}
    r = await post(client, world, "township", f"{REPORTS}/{report['id']}/actions", body)
    assert r.status_code == 409, r.text
    assert await count(ctx, TownshipAction) == 0
    # Nor is a report whose student is back raised to the county later.
    at(ctx, date(2026, 9, 20))
    r = await post(client, world, "county_admin", "/api/v1/return-notices/check")
    assert r.json()["raised_to_county"] == 0


async def test_granting_the_township_role(world: World, client: httpx.AsyncClient) -> None:
    # No township: 422 naming it; another county's township: 404; a principal cannot grant it.
    body: dict[str, Any] = {
        "county_id": world.ids["county"],
        "name": "乡镇专干",
        "mobile": next_mobile(),
        "roles": [{"role": "township_officer"}],
    }
    r = await client.post("/api/v1/staff", json=body, headers=world.auth("county_admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["loc"][-1] == "township_id", r.text
    body["roles"] = [
        {"role": "township_officer", "township_id": world.ids["township_county_other"]}
    ]
    r = await client.post("/api/v1/staff", json=body, headers=world.auth("county_admin"))
    assert r.status_code == 404, r.text
    body["roles"] = [{"role": "township_officer", "township_id": world.ids["township_county"]}]
    r = await client.post("/api/v1/staff", json=body, headers=world.auth("principal"))
    assert r.status_code in (403, 404), r.text
    r = await client.post("/api/v1/staff", json=body, headers=world.auth("county_admin"))
    assert r.status_code == 201, r.text
    [grant] = r.json()["roles"]
    assert grant["role_label"] == "乡镇人民政府"
    assert grant["township_id"] == world.ids["township_county"]
