"""Sign-in, role rules of the roster, and API keys for county systems."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from app.context import AppContext
from app.core.clock import SimClock as Clock
from app.domain.roles import Role
from app.security.tokens import issue_token
from tests.world import World


async def test_sign_in_with_mobile_and_password(
    world: World, ctx: AppContext, client: httpx.AsyncClient
) -> None:
    await world.add_staff("teacher_with_password", Role.head_teacher, "class_A2", "s3cret-pass")
    me = await client.get("/api/v1/staff", headers=world.auth("principal"))
    mobile = next(s["mobile"] for s in me.json()["items"] if s["name"] == "teacher_with_password")
    bad = await client.post(
        "/api/v1/auth/token", data={"username": mobile, "password": "wrong-password"}
    )
    assert bad.status_code == 401
    r = await client.post(
        "/api/v1/auth/token", data={"username": mobile, "password": "s3cret-pass"}
    )
    assert r.status_code == 200
    token = r.json()["access_token"]
    who = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert who.json()["roles"][0]["role_label"] == "班主任"
    # Tokens live on the real clock: moving the simulation clock neither expires them...
    assert isinstance(ctx.clock, Clock)
    ctx.clock.now += timedelta(hours=13)
    still = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert still.status_code == 200
    # ...nor keeps alive one whose 12 hours have really passed.
    old = issue_token(
        who.json()["id"],
        secret=ctx.settings.secret_key,
        issuer=ctx.settings.jwt_issuer,
        now=datetime.now(UTC) - timedelta(hours=13),
        minutes=ctx.settings.access_token_minutes,
    )
    expired = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {old}"})
    assert expired.status_code == 401


async def test_deactivated_staff_lose_access_at_once(
    world: World, client: httpx.AsyncClient
) -> None:
    r = await client.delete(
        f"/api/v1/staff/{world.ids['head_teacher']}", headers=world.auth("principal")
    )
    assert r.status_code == 200
    r = await client.get("/api/v1/students", headers=world.auth("head_teacher"))
    assert r.status_code == 401


async def test_a_class_has_one_head_teacher(world: World, client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/staff",
        json={
            "school_id": world.ids["school_A"],
            "name": "第二位班主任",
            "mobile": "13600000001",
            "roles": [{"role": "head_teacher", "class_id": world.ids["class_A1"]}],
        },
        headers=world.auth("principal"),
    )
    assert r.status_code == 409
    assert "班主任" in r.json()["detail"]
    listed = await client.get(
        "/api/v1/staff?school_id=" + str(world.ids["school_A"]), headers=world.auth("principal")
    )
    assert "第二位班主任" not in {s["name"] for s in listed.json()["items"]}


async def test_a_school_has_one_principal(world: World, client: httpx.AsyncClient) -> None:
    r = await client.post(
        f"/api/v1/staff/{world.ids['vice_principal']}/roles",
        json={"role": "principal", "school_id": world.ids["school_A"]},
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 409 and "校长" in r.json()["detail"]


async def test_the_last_vice_principal_cannot_be_removed(
    world: World, client: httpx.AsyncClient
) -> None:
    vp = world.ids["vice_principal"]
    r = await client.delete(f"/api/v1/staff/{vp}", headers=world.auth("principal"))
    assert r.status_code == 409
    grant_id = (await client.get(f"/api/v1/staff/{vp}", headers=world.auth("principal"))).json()[
        "roles"
    ][0]["id"]
    r = await client.delete(f"/api/v1/staff/{vp}/roles/{grant_id}", headers=world.auth("principal"))
    assert r.status_code == 409
    # With a successor in place the old one may go.
    await world.add_staff("vp2", Role.vice_principal, "school_A")
    r = await client.delete(f"/api/v1/staff/{vp}", headers=world.auth("principal"))
    assert r.status_code == 200


async def test_grant_scope_must_match_role(world: World, client: httpx.AsyncClient) -> None:
    r = await client.post(
        f"/api/v1/staff/{world.ids['subject_teacher']}/roles",
        json={"role": "head_teacher", "school_id": world.ids["school_A"]},
        headers=world.auth("principal"),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "class_id"]


async def test_teachers_cannot_manage_staff_and_principals_cannot_make_county_admins(
    world: World, client: httpx.AsyncClient
) -> None:
    body = {"school_id": world.ids["school_A"], "name": "新老师", "mobile": "13600000002"}
    r = await client.post("/api/v1/staff", json=body, headers=world.auth("head_teacher"))
    assert r.status_code == 403
    r = await client.post(
        f"/api/v1/staff/{world.ids['head_teacher']}/roles",
        json={"role": "county_admin", "county_id": world.ids["county"]},
        headers=world.auth("principal"),
    )
    assert r.status_code == 403


async def test_duplicate_mobile_is_409(world: World, client: httpx.AsyncClient) -> None:
    taken = (
        await client.get(f"/api/v1/staff/{world.ids['principal']}", headers=world.auth("principal"))
    ).json()["mobile"]
    r = await client.post(
        "/api/v1/staff",
        json={"school_id": world.ids["school_A"], "name": "重号", "mobile": taken},
        headers=world.auth("principal"),
    )
    assert r.status_code == 409


async def test_api_key_is_shown_once_scoped_and_revocable(
    world: World, client: httpx.AsyncClient
) -> None:
    r = await client.post(
        "/api/v1/api-keys",
        json={"name": "县学籍系统", "county_id": world.ids["county"]},
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 201
    key, key_id = r.json()["key"], r.json()["id"]
    listed = await client.get("/api/v1/api-keys", headers=world.auth("county_admin"))
    assert "key" not in listed.json()[0]
    headers = {"X-API-Key": key}
    own = await client.get(f"/api/v1/students/{world.ids['student_B1']}", headers=headers)
    assert own.status_code == 200
    assert own.json()["special_groups"] is None
    other = await client.get(f"/api/v1/students/{world.ids['student_Z1']}", headers=headers)
    assert other.status_code == 404
    staff = await client.post(
        "/api/v1/staff",
        json={"school_id": world.ids["school_A"], "name": "x", "mobile": "13600000003"},
        headers=headers,
    )
    assert staff.status_code == 403
    r = await client.delete(f"/api/v1/api-keys/{key_id}", headers=world.auth("county_admin"))
    assert r.json()["revoked_at"] is not None
    gone = await client.get(f"/api/v1/students/{world.ids['student_B1']}", headers=headers)
    assert gone.status_code == 401


async def test_school_api_key_sees_only_its_school(world: World, client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/api-keys",
        json={"name": "校园系统", "school_id": world.ids["school_A"]},
        headers=world.auth("principal"),
    )
    assert r.status_code == 201
    headers = {"X-API-Key": r.json()["key"]}
    assert (
        await client.get(f"/api/v1/students/{world.ids['student_A2']}", headers=headers)
    ).status_code == 200
    assert (
        await client.get(f"/api/v1/students/{world.ids['student_B1']}", headers=headers)
    ).status_code == 404
    forged = {"X-API-Key": r.json()["key"][:-2] + "zz"}
    assert (await client.get("/api/v1/students", headers=forged)).status_code == 401
