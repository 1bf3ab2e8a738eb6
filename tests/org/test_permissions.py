"""The permission matrix: each role against its own class, another class of its school,
another school of its county and another county. Outside scope is 404, never the data."""

from __future__ import annotations

import httpx
import pytest

from tests.world import World

TARGETS = ("A1", "A2", "B1", "Z1")  # own class, other class, other school, other county

# GET /students/{id} and GET /classes/{id}
READ = {
    "county_admin": (200, 200, 200, 404),
    "principal": (200, 200, 404, 404),
    "vice_principal": (200, 200, 404, 404),
    "academic_affairs": (200, 200, 404, 404),
    "head_teacher": (200, 404, 404, 404),
    "subject_teacher": (200, 404, 404, 404),
}
# PATCH /students/{id}: head teachers edit their own students; subject teachers only read.
WRITE = {**READ, "subject_teacher": (403, 404, 404, 404)}
# Special-group labels: shown to county admin, principal, vice principal, head teacher.
SEES_SPECIAL = {
    "county_admin": True,
    "principal": True,
    "vice_principal": True,
    "academic_affairs": False,
    "head_teacher": True,
    "subject_teacher": False,
}


@pytest.mark.parametrize("role", list(READ))
async def test_reading_a_student(role: str, world: World, client: httpx.AsyncClient) -> None:
    got = []
    for target in TARGETS:
        r = await client.get(
            f"/api/v1/students/{world.ids['student_' + target]}", headers=world.auth(role)
        )
        got.append(r.status_code)
        if r.status_code == 404:
            assert "学生" in r.json()["detail"]
            assert "name" not in r.json()
    assert tuple(got) == READ[role]


@pytest.mark.parametrize("role", list(READ))
async def test_reading_a_class(role: str, world: World, client: httpx.AsyncClient) -> None:
    got = []
    for target in TARGETS:
        r = await client.get(
            f"/api/v1/classes/{world.ids['class_' + target]}", headers=world.auth(role)
        )
        got.append(r.status_code)
    assert tuple(got) == READ[role]


@pytest.mark.parametrize("role", list(WRITE))
async def test_editing_a_student(role: str, world: World, client: httpx.AsyncClient) -> None:
    got = []
    for target in TARGETS:
        r = await client.patch(
            f"/api/v1/students/{world.ids['student_' + target]}",
            json={"name": f"改名{target}"},
            headers=world.auth(role),
        )
        got.append(r.status_code)
    assert tuple(got) == WRITE[role]
    # Nothing outside the allowed cells changed.
    ops = await client.get(
        f"/api/v1/students/{world.ids['student_B1']}", headers=world.auth("county_admin")
    )
    assert (ops.json()["name"] == "改名B1") == (WRITE[role][2] == 200)


@pytest.mark.parametrize("role", list(READ))
async def test_student_lists_hold_only_what_is_in_scope(
    role: str, world: World, client: httpx.AsyncClient
) -> None:
    r = await client.get("/api/v1/students", headers=world.auth(role))
    assert r.status_code == 200
    seen = {s["id"] for s in r.json()["items"]}
    expected = {
        world.ids["student_" + t]
        for t, code in zip(TARGETS, READ[role], strict=True)
        if code == 200
    }
    assert seen == expected
    assert r.json()["total"] == len(expected)


@pytest.mark.parametrize("role", list(SEES_SPECIAL))
async def test_special_group_labels_only_for_allowed_roles(
    role: str, world: World, client: httpx.AsyncClient
) -> None:
    r = await client.get(f"/api/v1/students/{world.ids['student_A1']}", headers=world.auth(role))
    labels = r.json()["special_groups"]
    if SEES_SPECIAL[role]:
        assert labels["left_behind"] is True
    else:
        assert labels is None


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("county_admin", (200, 200, 404)),
        ("principal", (200, 404, 404)),
        ("head_teacher", (200, 404, 404)),
    ],
)
async def test_reading_a_school(
    role: str, expected: tuple[int, ...], world: World, client: httpx.AsyncClient
) -> None:
    got = []
    for school in ("A", "B", "Z"):
        r = await client.get(
            f"/api/v1/schools/{world.ids['school_' + school]}", headers=world.auth(role)
        )
        got.append(r.status_code)
    assert tuple(got) == expected


async def test_staff_of_one_school_never_see_another_schools_staff(
    world: World, client: httpx.AsyncClient
) -> None:
    r = await client.get("/api/v1/staff", headers=world.auth("principal_B"))
    names = {s["name"] for s in r.json()["items"]}
    assert names == {"principal_B", "vice_principal_B"}
    r = await client.get(
        f"/api/v1/staff/{world.ids['principal']}", headers=world.auth("principal_B")
    )
    assert r.status_code == 404


async def test_no_credentials_is_401(world: World, client: httpx.AsyncClient) -> None:
    r = await client.get(f"/api/v1/students/{world.ids['student_A1']}")
    assert r.status_code == 401
    r = await client.get("/api/v1/students", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
