"""Data minimisation (issue 12, item 7): the 学籍号 and guardians' mobiles masked for those who
need neither, and the access log tying every read of a student's data to the student."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.helpers import FRIDAY, MONDAY, TUESDAY, event
from tests.world import World, id_number

MASKED_NO = re.compile(r"^G\d{6}\*{8}\d{3}[\dX]$")
MASKED_MOBILE = re.compile(r"^1\d{2}\*{4}\d{4}$")


async def _key(client: httpx.AsyncClient, world: World, scopes: list[str]) -> dict[str, str]:
    r = await client.post(
        "/api/v1/api-keys",
        json={"name": "县学籍系统", "county_id": world.ids["county"], "scopes": scopes},
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 201, r.text
    return {"X-API-Key": r.json()["key"]}


async def test_student_numbers_and_guardian_mobiles_by_role(
    world: World, client: httpx.AsyncClient
) -> None:
    sid = world.ids["student_A1"]
    full_no = f"G{id_number(1)}"
    callers: dict[str, dict[str, str]] = {
        who: world.auth(who)
        for who in ("county_admin", "principal", "academic_affairs", "head_teacher")
    }
    for who, headers in callers.items():
        body = (await client.get(f"/api/v1/students/{sid}", headers=headers)).json()
        assert body["student_no"] == full_no, who
        assert not MASKED_MOBILE.match(body["guardians"][0]["mobile"]), who

    teacher = (
        await client.get(f"/api/v1/students/{sid}", headers=world.auth("subject_teacher"))
    ).json()
    assert MASKED_NO.match(teacher["student_no"]) and teacher["student_no"][-4:] == full_no[-4:]
    assert teacher["student_no"] != full_no
    assert MASKED_MOBILE.match(teacher["guardians"][0]["mobile"])
    listed = await client.get("/api/v1/students", headers=world.auth("subject_teacher"))
    assert all(MASKED_NO.match(s["student_no"]) for s in listed.json()["items"])

    # Nor can a full number be confirmed by searching for it.
    search = {"student_no": full_no}
    r = await client.get("/api/v1/students", params=search, headers=world.auth("subject_teacher"))
    assert r.status_code == 403

    plain_key = await _key(client, world, [])
    body = (await client.get(f"/api/v1/students/{sid}", headers=plain_key)).json()
    assert MASKED_NO.match(body["student_no"])
    r = await client.get("/api/v1/students", params=search, headers=plain_key)
    assert r.status_code == 403
    granted = await _key(client, world, ["student_no"])
    body = (await client.get(f"/api/v1/students/{sid}", headers=granted)).json()
    assert body["student_no"] == full_no
    found = await client.get("/api/v1/students", params=search, headers=granted)
    assert [s["id"] for s in found.json()["items"]] == [sid]
    found = await client.get("/api/v1/students", params=search, headers=world.auth("head_teacher"))
    assert [s["id"] for s in found.json()["items"]] == [sid]
    me = (await client.get("/api/v1/auth/me", headers=granted)).json()
    assert me["kind"] == "api_key" and me["scopes"] == ["student_no"]


async def test_an_unknown_api_key_scope_is_422(world: World, client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/api-keys",
        json={"name": "x", "county_id": world.ids["county"], "scopes": ["staff"]},
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 422


async def _tied_paths(client: httpx.AsyncClient, world: World, sid: int) -> set[str]:
    r = await client.get(
        "/api/v1/access-logs",
        params={"student_id": sid, "limit": 500},
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 200, r.text
    return {x["path"] for x in r.json()["items"] if x["status"] == 200}


async def test_every_read_of_a_students_data_is_tied_to_the_student(
    world: World, client: httpx.AsyncClient
) -> None:
    sid = world.ids["student_A1"]
    ht = world.auth("head_teacher")
    events = [event(sid, "absent", day=d) for d in (FRIDAY, MONDAY, TUESDAY)]
    r = await client.post("/api/v1/attendance-events", json=events, headers=world.auth("principal"))
    assert r.status_code == 200, r.text
    case = (await client.get(f"/api/v1/students/{sid}/case", headers=ht)).json()
    notice = await client.post(
        f"/api/v1/cases/{case['id']}/return-notice", json={}, headers=world.auth("principal")
    )
    assert notice.status_code == 201, notice.text
    leave = await client.post(
        "/api/v1/leaves",
        json={
            "student_id": sid,
            "start_date": "2026-11-26",
            "end_date": "2026-11-26",
            "leave_type": "personal",
            "reason": "家中有事",
        },
        headers=ht,
    )
    assert leave.status_code == 201, leave.text
    transfer = await client.post(
        "/api/v1/transfers",
        json={
            "student_id": sid,
            "to_school_id": world.ids["school_B"],
            "applied_on": "2026-11-24",
            "reason": "随父母迁居",
        },
        headers=world.auth("principal"),
    )
    assert transfer.status_code == 201, transfer.text
    reads: dict[str, dict[str, Any]] = {
        f"/api/v1/cases/{case['id']}": {},
        "/api/v1/cases": {},
        "/api/v1/alerts": {},
        f"/api/v1/leaves/{leave.json()['id']}": {},
        "/api/v1/leaves": {},
        f"/api/v1/transfers/{transfer.json()['id']}": {},
        "/api/v1/transfers": {},
        f"/api/v1/return-notices/{notice.json()['id']}/document": {},
        "/api/v1/ledgers/absence-tracking": {
            "school_id": world.ids["school_A"],
            "start": "2026-11-16",
            "end": "2026-11-24",
            "format": "xlsx",
        },
    }
    for path, params in reads.items():
        r = await client.get(path, params=params, headers=world.auth("principal"))
        assert r.status_code == 200, (path, r.text)
    # Reads that concern other students only are not tied to this one.
    other = await client.get(
        f"/api/v1/students/{world.ids['student_A2']}", headers=world.auth("principal")
    )
    assert other.status_code == 200
    tied = await _tied_paths(client, world, sid)
    assert set(reads) <= tied, set(reads) - tied
    assert f"/api/v1/students/{world.ids['student_A2']}" not in tied
    # Reading the log, whose rows name students, is not a read of those students' data.
    r = await client.get("/api/v1/access-logs", headers=world.auth("county_admin"))
    assert world.ids["student_A2"] in {x["student_id"] for x in r.json()["items"]}
    assert "/api/v1/access-logs" not in await _tied_paths(client, world, world.ids["student_A2"])
