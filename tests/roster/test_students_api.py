"""Creating and changing students: clear 422s per field, 409 on duplicates, nothing
half-written."""

from __future__ import annotations

from datetime import date

import httpx

from tests.world import World, id_number


def payload(world: World, seq: int, **over: object) -> dict[str, object]:
    number = id_number(seq, born=date(2016, 9, 1), male=False)
    body: dict[str, object] = {
        "class_id": world.ids["class_A1"],
        "name": "王小红",
        "student_no": f"G{number}",
        "id_number": number,
        "guardians": [{"name": "王大山", "relation": "父亲", "mobile": "13912345678"}],
    }
    body.update(over)
    return body


async def count_students(client: httpx.AsyncClient, world: World) -> int:
    r = await client.get("/api/v1/students", headers=world.auth("county_admin"))
    return int(r.json()["total"])


async def test_principal_creates_a_student_with_gender_and_birth_from_the_id(
    world: World, client: httpx.AsyncClient
) -> None:
    r = await client.post(
        "/api/v1/students", json=payload(world, 100), headers=world.auth("principal")
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["gender"] == "female"
    assert body["birth_date"] == "2016-09-01"
    assert body["id_number_masked"].startswith("530102") and "*" in body["id_number_masked"]
    assert "id_number" not in body
    assert body["guardians"][0]["is_primary"] is True


async def test_wrong_check_character_is_rejected_with_that_reason(
    world: World, client: httpx.AsyncClient
) -> None:
    good = id_number(101)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    before = await count_students(client, world)
    r = await client.post(
        "/api/v1/students",
        json=payload(world, 101, id_number=bad, student_no=f"G{good}"),
        headers=world.auth("principal"),
    )
    assert r.status_code == 422
    problem = r.json()["errors"][0]
    assert problem["loc"] == ["body", "id_number"]
    assert "校验码" in problem["msg"] and good[17] in problem["msg"]
    assert await count_students(client, world) == before


async def test_each_bad_field_gets_its_own_message(world: World, client: httpx.AsyncClient) -> None:
    body = payload(world, 102, name="", student_no="X123")
    body["guardians"] = [{"name": "某", "relation": "父亲", "mobile": "12345"}]
    r = await client.post("/api/v1/students", json=body, headers=world.auth("principal"))
    assert r.status_code == 422
    locs = {tuple(p["loc"]) for p in r.json()["errors"]}
    assert ("body", "name") in locs
    assert ("body", "student_no") in locs
    assert ("body", "guardians", 0, "mobile") in locs


async def test_birth_date_disagreeing_with_the_id_number_points_at_birth_date(
    world: World, client: httpx.AsyncClient
) -> None:
    r = await client.post(
        "/api/v1/students",
        json=payload(world, 103, birth_date="2016-09-02"),
        headers=world.auth("principal"),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "birth_date"]
    assert "2016-09-01" in r.json()["errors"][0]["msg"]


async def test_duplicate_student_no_or_id_number_is_409_and_writes_nothing(
    world: World, client: httpx.AsyncClient
) -> None:
    first = payload(world, 104)
    assert (
        await client.post("/api/v1/students", json=first, headers=world.auth("principal"))
    ).status_code == 201
    before = await count_students(client, world)
    same_no = payload(world, 105, student_no=first["student_no"])
    r = await client.post("/api/v1/students", json=same_no, headers=world.auth("principal"))
    assert r.status_code == 409 and "学籍号" in r.json()["detail"]
    other = id_number(106)
    same_id = payload(world, 104, student_no=f"L{other}")
    r = await client.post("/api/v1/students", json=same_id, headers=world.auth("principal"))
    assert r.status_code == 409 and "身份证号" in r.json()["detail"]
    assert await count_students(client, world) == before


async def test_student_without_id_number_needs_gender_and_birth_date(
    world: World, client: httpx.AsyncClient
) -> None:
    body = payload(world, 107, student_no="L12345678901234567X")
    del body["id_number"]
    r = await client.post("/api/v1/students", json=body, headers=world.auth("principal"))
    assert r.status_code == 422
    body.update(gender="male", birth_date="2016-01-01")
    r = await client.post("/api/v1/students", json=body, headers=world.auth("principal"))
    assert r.status_code == 201, r.text
    assert r.json()["id_number_masked"] is None


async def test_head_teacher_updates_guardians_but_cannot_move_the_student(
    world: World, client: httpx.AsyncClient
) -> None:
    sid = world.ids["student_A1"]
    r = await client.patch(
        f"/api/v1/students/{sid}",
        json={"guardians": [{"name": "新家长", "relation": "祖母", "mobile": "13700000000"}]},
        headers=world.auth("head_teacher"),
    )
    assert r.status_code == 200
    assert [g["name"] for g in r.json()["guardians"]] == ["新家长"]
    r = await client.patch(
        f"/api/v1/students/{sid}",
        json={"class_id": world.ids["class_A2"]},
        headers=world.auth("head_teacher"),
    )
    assert r.status_code == 403


async def test_moving_a_student_to_another_school_is_refused(
    world: World, client: httpx.AsyncClient
) -> None:
    r = await client.patch(
        f"/api/v1/students/{world.ids['student_A1']}",
        json={"class_id": world.ids["class_B1"]},
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 422
    assert "转学" in r.json()["errors"][0]["msg"]


async def test_deactivated_students_leave_the_default_list(
    world: World, client: httpx.AsyncClient
) -> None:
    sid = world.ids["student_A1"]
    r = await client.delete(f"/api/v1/students/{sid}", headers=world.auth("principal"))
    assert r.status_code == 200 and r.json()["active"] is False
    listed = await client.get("/api/v1/students", headers=world.auth("principal"))
    assert sid not in {s["id"] for s in listed.json()["items"]}
    listed = await client.get(
        "/api/v1/students?include_inactive=true", headers=world.auth("principal")
    )
    assert sid in {s["id"] for s in listed.json()["items"]}


async def test_pagination_and_filters(world: World, client: httpx.AsyncClient) -> None:
    for seq in range(110, 115):
        await client.post(
            "/api/v1/students", json=payload(world, seq), headers=world.auth("principal")
        )
    page = await client.get(
        f"/api/v1/students?class_id={world.ids['class_A1']}&limit=2&offset=2",
        headers=world.auth("principal"),
    )
    body = page.json()
    assert body["total"] == 6 and len(body["items"]) == 2 and body["offset"] == 2
    r = await client.get("/api/v1/students?limit=0", headers=world.auth("principal"))
    assert r.status_code == 422
