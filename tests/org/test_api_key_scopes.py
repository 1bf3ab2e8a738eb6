"""API keys sync, they do not act (issue 26, item 3).

A school key reads and writes what a school system syncs (classes, students, the roll, leave
requests); renaming the school or changing its check times, writing its calendar (terms,
closures) and deciding on leave (approving, rejecting, filing it pre-approved) need an
explicit scope, and staff mobiles are masked unless granted. Each write below is refused
(403, nothing changed) to a key without the scope and accepted with it.
"""

from __future__ import annotations

from typing import Any, get_args

import httpx
import pytest

from app.domain.access import KeyScope
from app.org.staff_schemas import ApiKeyScope
from tests.world import World

pytestmark = pytest.mark.db


async def _key(
    client: httpx.AsyncClient, world: World, *scopes: str, county: bool = False
) -> dict[str, str]:
    owner = {"county_id": world.ids["county"]} if county else {"school_id": world.ids["school_A"]}
    r = await client.post(
        "/api/v1/api-keys",
        json={"name": "学校管理系统", "scopes": list(scopes)} | owner,
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["scopes"] == sorted(scopes)
    return {"X-API-Key": r.json()["key"]}


def _leave(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "student_id": world.ids["student_A1"],
        "start_date": "2026-11-24",
        "end_date": "2026-11-24",
        "leave_type": "personal",
        "reason": "家中有事",
    } | extra


def _refused(r: httpx.Response, scope: str) -> None:
    assert r.status_code == 403, r.text
    assert scope in r.json()["detail"]


def test_the_schema_offers_every_scope() -> None:
    assert set(get_args(ApiKeyScope)) == {s.value for s in KeyScope}


async def test_a_school_key_may_not_change_the_school_without_school_settings(
    world: World, client: httpx.AsyncClient
) -> None:
    url = f"/api/v1/schools/{world.ids['school_A']}"
    bare = await _key(client, world)
    r = await client.patch(url, json={"name": "改名", "morning_check": "06:00"}, headers=bare)
    _refused(r, "school_settings")
    school = (await client.get(url, headers=bare)).json()
    assert school["name"] == "学校A" and school["morning_check"] != "06:00:00"

    granted = await _key(client, world, "school_settings")
    r = await client.patch(url, json={"name": "改名"}, headers=granted)
    assert r.status_code == 200 and r.json()["name"] == "改名"


async def test_a_school_key_may_not_write_the_calendar_without_calendar(
    world: World, client: httpx.AsyncClient
) -> None:
    school = world.ids["school_A"]
    term = {"name": "春季学期", "start_date": "2027-03-01", "end_date": "2027-07-09"}
    closure = {"date": "2026-11-25", "kind": "closure", "reason": "大雪停课"}
    bare = await _key(client, world)
    _refused(
        await client.post(f"/api/v1/schools/{school}/terms", json=term, headers=bare), "calendar"
    )
    r = await client.post(
        f"/api/v1/schools/{school}/calendar-overrides", json=closure, headers=bare
    )
    _refused(r, "calendar")
    listed = await client.get(f"/api/v1/schools/{school}/calendar-overrides", headers=bare)
    assert listed.status_code == 200 and listed.json() == []

    granted = await _key(client, world, "calendar")
    made = await client.post(f"/api/v1/schools/{school}/terms", json=term, headers=granted)
    assert made.status_code == 201, made.text
    term_id = made.json()["id"]
    r = await client.patch(f"/api/v1/terms/{term_id}", json={"name": "改"}, headers=bare)
    _refused(r, "calendar")
    _refused(await client.delete(f"/api/v1/terms/{term_id}", headers=bare), "calendar")
    r = await client.patch(f"/api/v1/terms/{term_id}", json={"name": "春季"}, headers=granted)
    assert r.status_code == 200
    r = await client.post(
        f"/api/v1/schools/{school}/calendar-overrides", json=closure, headers=granted
    )
    assert r.status_code == 201, r.text
    override = r.json()["id"]
    _refused(
        await client.delete(f"/api/v1/calendar-overrides/{override}", headers=bare), "calendar"
    )
    r = await client.delete(f"/api/v1/calendar-overrides/{override}", headers=granted)
    assert r.status_code == 204
    assert (await client.delete(f"/api/v1/terms/{term_id}", headers=granted)).status_code == 204


async def test_a_county_key_may_not_close_the_county_or_add_schools_without_scopes(
    world: World, client: httpx.AsyncClient
) -> None:
    county = world.ids["county"]
    bare = await _key(client, world, county=True)
    closure = {"date": "2026-11-25", "kind": "closure", "reason": "大雪停课"}
    url = f"/api/v1/counties/{county}/calendar-overrides"
    _refused(await client.post(url, json=closure, headers=bare), "calendar")
    school = {"township_id": world.ids["township_county"], "name": "新学校", "code": "SN"}
    school |= {"kind": "primary"}
    _refused(await client.post("/api/v1/schools", json=school, headers=bare), "school_settings")
    township = {"county_id": county, "name": "新镇"}
    r = await client.post("/api/v1/townships", json=township, headers=bare)
    _refused(r, "school_settings")
    r = await client.delete(f"/api/v1/schools/{world.ids['school_B']}", headers=bare)
    _refused(r, "school_settings")

    granted = await _key(client, world, "calendar", "school_settings", county=True)
    assert (await client.post(url, json=closure, headers=granted)).status_code == 201
    assert (await client.post("/api/v1/schools", json=school, headers=granted)).status_code == 201
    assert (
        await client.post("/api/v1/townships", json=township, headers=granted)
    ).status_code == 201


async def test_a_school_key_files_leave_requests_but_decides_only_with_leave_approve(
    world: World, client: httpx.AsyncClient
) -> None:
    bare = await _key(client, world)
    _refused(
        await client.post("/api/v1/leaves", json=_leave(world, approve=True), headers=bare),
        "leave_approve",
    )
    leaves = await client.get("/api/v1/leaves", headers=world.auth("principal"))
    assert leaves.json()["total"] == 0

    asked = await client.post("/api/v1/leaves", json=_leave(world), headers=bare)
    assert asked.status_code == 201 and asked.json()["status"] == "pending"
    leave_id = asked.json()["id"]
    _refused(await client.post(f"/api/v1/leaves/{leave_id}/approve", headers=bare), "leave_approve")
    r = await client.post(
        f"/api/v1/leaves/{leave_id}/reject", json={"reason": "不批"}, headers=bare
    )
    _refused(r, "leave_approve")
    pending = await client.get(f"/api/v1/leaves/{leave_id}", headers=bare)
    assert pending.json()["status"] == "pending"

    granted = await _key(client, world, "leave_approve")
    r = await client.post(f"/api/v1/leaves/{leave_id}/approve", headers=granted)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    # Cancelling an approved leave someone else filed is a decision too; one's own request not.
    other = await client.post(
        "/api/v1/leaves",
        json=_leave(world, start_date="2026-11-26", end_date="2026-11-26", approve=True),
        headers=world.auth("head_teacher"),
    )
    assert other.status_code == 201 and other.json()["status"] == "approved"
    other_id = other.json()["id"]
    _refused(await client.post(f"/api/v1/leaves/{other_id}/cancel", headers=bare), "leave_approve")
    r = await client.post(f"/api/v1/leaves/{leave_id}/cancel", headers=bare)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = await client.post(
        "/api/v1/leaves",
        json=_leave(world, start_date="2026-11-27", end_date="2026-11-27", approve=True),
        headers=granted,
    )
    assert r.status_code == 201 and r.json()["status"] == "approved"


async def test_a_key_still_syncs_classes_and_students_without_scopes(
    world: World, client: httpx.AsyncClient
) -> None:
    bare = await _key(client, world)
    r = await client.post(
        "/api/v1/classes", json={"grade_id": world.ids["grade_A"], "name": "A3"}, headers=bare
    )
    assert r.status_code == 201, r.text
    student = world.ids["student_A1"]
    r = await client.patch(f"/api/v1/students/{student}", json={"name": "改名学生"}, headers=bare)
    assert r.status_code == 200, r.text


async def test_a_key_reads_staff_mobiles_masked_unless_granted(
    world: World, client: httpx.AsyncClient
) -> None:
    head = world.ids["head_teacher"]
    full = (await client.get(f"/api/v1/staff/{head}", headers=world.auth("principal"))).json()
    assert "*" not in full["mobile"]
    bare = await _key(client, world)
    one = (await client.get(f"/api/v1/staff/{head}", headers=bare)).json()
    assert one["mobile"] == f"{full['mobile'][:3]}****{full['mobile'][-4:]}"
    listed = (await client.get("/api/v1/staff", headers=bare)).json()["items"]
    assert listed and all("****" in s["mobile"] for s in listed)

    granted = await _key(client, world, "staff_mobile")
    assert (await client.get(f"/api/v1/staff/{head}", headers=granted)).json()["mobile"] == full[
        "mobile"
    ]
    listed = (await client.get("/api/v1/staff", headers=granted)).json()["items"]
    assert listed and not any("*" in s["mobile"] for s in listed)
