"""Staff management cannot be turned against its owners (issue 12, item 1), through the API.

The matrix: every kind of caller × every kind of target (by the grants the target holds).
404 where the target is not visible to the caller, 403 where it is visible but not theirs to
change, 200 where it is.
"""

from __future__ import annotations

import httpx
import pytest

from app.context import AppContext
from app.domain.roles import Role
from app.org import staff as staff_service
from app.org.staff_schemas import GrantIn
from tests.world import OPS, World, build_world, next_mobile

TARGETS = (
    "operator",
    "county_admin_2",
    "principal",
    "vice_principal",
    "academic_affairs",
    "head_teacher",
    "subject_teacher",
    "teacher_AB",  # home school A, also teaches class B1 of school B
    "principal_B",
)
_ = "self"  # the caller's own row: one's own profile is always editable

# caller → expected status for each target, in TARGETS order.
MATRIX: dict[str, tuple[int | str, ...]] = {
    "operator": (_, 200, 200, 200, 200, 200, 200, 200, 200),
    "county_admin": (403, 403, 200, 200, 200, 200, 200, 200, 200),
    "principal": (404, 404, _, 200, 200, 200, 200, 403, 404),
    "vice_principal": (404, 404, 403, _, 200, 200, 200, 403, 404),
    "academic_affairs": (404, 404, 403, 403, _, 403, 403, 403, 404),
    "head_teacher": (404, 404, 403, 403, 403, _, 403, 403, 404),
    "subject_teacher": (404, 404, 403, 403, 403, 403, _, 403, 404),
    "principal_B": (404, 404, 404, 404, 404, 404, 404, 404, _),
    "county_api_key": (403, 403, 403, 403, 403, 403, 403, 403, 403),
}


async def _world(ctx: AppContext, client: httpx.AsyncClient) -> World:
    w = await build_world(ctx)
    await w.add_operator()
    await w.add_staff("county_admin_2", Role.county_admin, "county")
    await w.add_staff("teacher_AB", Role.subject_teacher, "class_A2")
    async with ctx.uow() as uow:
        await staff_service.add_grant(
            uow,
            OPS,
            w.ids["teacher_AB"],
            GrantIn(role=Role.subject_teacher, class_id=w.ids["class_B1"]),
        )
    r = await client.post(
        "/api/v1/api-keys",
        json={"name": "县学籍系统", "county_id": w.ids["county"]},
        headers=w.auth("county_admin"),
    )
    w.tokens["county_api_key"] = r.json()["key"]
    return w


def _headers(world: World, caller: str) -> dict[str, str]:
    if caller == "county_api_key":
        return {"X-API-Key": world.tokens[caller]}
    return world.auth(caller)


@pytest.mark.parametrize("caller", list(MATRIX))
async def test_who_may_edit_whom(ctx: AppContext, client: httpx.AsyncClient, caller: str) -> None:
    world = await _world(ctx, client)
    got: dict[str, int | str] = {}
    for target in TARGETS:
        r = await client.patch(
            f"/api/v1/staff/{world.ids[target]}",
            json={"name": f"改{target[:10]}"},
            headers=_headers(world, caller),
        )
        got[target] = _ if target == caller else r.status_code
        if target == caller:
            assert r.status_code == 200
    assert got == dict(zip(TARGETS, MATRIX[caller], strict=True))
    # Refusals changed nothing.
    for target, expected in zip(TARGETS, MATRIX[caller], strict=True):
        if expected in (403, 404):
            row = await client.get(
                f"/api/v1/staff/{world.ids[target]}", headers=world.auth("operator")
            )
            assert not row.json()["name"].startswith("改")


async def test_county_admin_cannot_take_over_the_operator(
    ctx: AppContext, client: httpx.AsyncClient
) -> None:
    world = await _world(ctx, client)
    op = world.ids["operator"]
    ca = world.auth("county_admin")
    r = await client.patch(f"/api/v1/staff/{op}", json={"password": "hijacked-1"}, headers=ca)
    assert r.status_code == 403
    assert (await client.delete(f"/api/v1/staff/{op}", headers=ca)).status_code == 403
    still = await client.get("/api/v1/auth/me", headers=world.auth("operator"))
    assert still.status_code == 200 and still.json()["is_superuser"]


async def test_principal_cannot_reset_a_teacher_who_also_teaches_elsewhere(
    ctx: AppContext, client: httpx.AsyncClient
) -> None:
    world = await _world(ctx, client)
    t = world.ids["teacher_AB"]
    r = await client.patch(
        f"/api/v1/staff/{t}", json={"password": "hijacked-1"}, headers=world.auth("principal")
    )
    assert r.status_code == 403
    assert "范围" in r.json()["detail"]
    r = await client.delete(f"/api/v1/staff/{t}", headers=world.auth("principal"))
    assert r.status_code == 403
    # The county admin covers both schools.
    r = await client.patch(
        f"/api/v1/staff/{t}", json={"password": "new-pass-1"}, headers=world.auth("county_admin")
    )
    assert r.status_code == 200


async def test_vice_principal_cannot_deactivate_or_regrant_the_principal(
    ctx: AppContext, client: httpx.AsyncClient
) -> None:
    world = await _world(ctx, client)
    p = world.ids["principal"]
    vp = world.auth("vice_principal")
    assert (await client.delete(f"/api/v1/staff/{p}", headers=vp)).status_code == 403
    grant_id = (await client.get(f"/api/v1/staff/{p}", headers=vp)).json()["roles"][0]["id"]
    r = await client.delete(f"/api/v1/staff/{p}/roles/{grant_id}", headers=vp)
    assert r.status_code == 403
    r = await client.post(
        f"/api/v1/staff/{p}/roles",
        json={"role": "subject_teacher", "class_id": world.ids["class_A1"]},
        headers=vp,
    )
    assert r.status_code == 403
    after = await client.get(f"/api/v1/staff/{p}", headers=world.auth("principal"))
    assert [g["role"] for g in after.json()["roles"]] == ["principal"]


@pytest.mark.parametrize(
    ("caller", "role", "scope", "expected"),
    [
        ("principal", "vice_principal", "school_A", 201),
        ("principal", "academic_affairs", "school_A", 201),
        ("vice_principal", "academic_affairs", "school_A", 201),
        ("vice_principal", "head_teacher", "class_A2", 201),
        ("vice_principal", "vice_principal", "school_A", 403),  # at the caller's own level
        ("vice_principal", "principal", "school_A", 403),
        ("principal", "subject_teacher", "class_B1", 404),  # another school: not visible
        ("county_admin", "principal", "school_B", 409),  # allowed, but B has one (409)
        ("county_admin", "county_admin", "county", 403),  # only the operator makes peers
        ("operator", "county_admin", "county", 201),
    ],
)
async def test_who_may_give_which_role(
    ctx: AppContext,
    client: httpx.AsyncClient,
    caller: str,
    role: str,
    scope: str,
    expected: int,
) -> None:
    world = await _world(ctx, client)
    await world.add_staff("newcomer", Role.subject_teacher, "class_A1")
    key = {"county": "county_id", "school": "school_id", "class": "class_id"}[scope.split("_")[0]]
    r = await client.post(
        f"/api/v1/staff/{world.ids['newcomer']}/roles",
        json={"role": role, key: world.ids[scope]},
        headers=world.auth(caller),
    )
    assert r.status_code == expected, r.text


async def test_creating_a_person_with_a_peer_role_is_refused(
    ctx: AppContext, client: httpx.AsyncClient
) -> None:
    world = await _world(ctx, client)
    r = await client.post(
        "/api/v1/staff",
        json={
            "school_id": world.ids["school_A"],
            "name": "第二位副校长",
            "mobile": next_mobile(),
            "roles": [{"role": "vice_principal", "school_id": world.ids["school_A"]}],
        },
        headers=world.auth("vice_principal"),
    )
    assert r.status_code == 403
    listed = await client.get("/api/v1/staff", headers=world.auth("principal"))
    assert "第二位副校长" not in {s["name"] for s in listed.json()["items"]}
