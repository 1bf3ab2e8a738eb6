"""One rule for changing staff (issue 26, item 1): the staff import applies what
``POST /staff/{id}/roles`` applies. The same rank matrix runs through both paths: every
manager × every kind of person (someone new, each rank of the school, a teacher who also
teaches in another school, oneself) × every role a school file can give.
"""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from app.context import AppContext
from app.domain.roles import Role
from app.org import staff as staff_service
from app.org.staff_schemas import GrantIn
from tests.world import OPS, World, next_mobile

pytestmark = pytest.mark.db

IMPORT = "/api/v1/imports/staff"
HEADERS = ["姓名", "手机号", "职务", "班级", "初始密码"]
# role → (职务 in the file, the scope it is given in)
ROLES = {
    "vice_principal": ("分管副校长", "school_A"),
    "academic_affairs": ("教务处", "school_A"),
    "subject_teacher": ("任课教师", "class_A2"),
}
TARGETS = (
    "new",
    "principal",
    "vice_principal",
    "academic_affairs",
    "subject_teacher",
    "teacher_AB",
    "self",
)
# caller → for each target (TARGETS order), one character per role (ROLES order):
# "+" the grant is given, "-" refused (403 through the API, a problem on its row in the file),
# "·" the target holds it already (not run: the API answers 409, a file counts it unchanged).
MATRIX: dict[str, tuple[str, ...]] = {
    "operator": ("+++", "+++", "·++", "+·+", "+++", "+++", "---"),
    "county_admin": ("+++", "+++", "·++", "+·+", "+++", "+++", "---"),
    "principal": ("+++", "---", "·++", "+·+", "+++", "---", "---"),
    "vice_principal": ("-++", "---", "·--", "-·+", "-++", "---", "·--"),
}
_ALL = [(t, r) for t in TARGETS for r in ROLES]


def _expected(caller: str) -> dict[tuple[str, str], bool]:
    """The caller's cells; a target that is the caller is run once, as "self"."""
    flags = "".join(MATRIX[caller])
    return {
        case: flag == "+"
        for case, flag in zip(_ALL, flags, strict=True)
        if flag != "·" and case[0] != caller
    }


async def _world(world: World) -> World:
    await world.add_operator()
    await world.add_staff("teacher_AB", Role.subject_teacher, "class_A1")
    async with world.ctx.uow() as uow:
        await staff_service.add_grant(
            uow,
            OPS,
            world.ids["teacher_AB"],
            GrantIn(role=Role.subject_teacher, class_id=world.ids["class_B1"]),
        )
    return world


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADERS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


async def _upload(
    client: httpx.AsyncClient, world: World, who: str, rows: list[dict[str, str]], **form: str
) -> httpx.Response:
    return await client.post(
        IMPORT,
        files={"file": ("教职工.csv", _csv(rows), "text/csv")},
        data={"school_id": str(world.ids["school_A"]), **form},
        headers=world.auth(who),
    )


async def _person(client: httpx.AsyncClient, world: World, staff_id: int) -> dict[str, object]:
    r = await client.get(f"/api/v1/staff/{staff_id}", headers=world.auth("operator"))
    assert r.status_code == 200
    return dict(r.json())


def _roles(person: dict[str, object]) -> set[str]:
    return {g["role"] for g in person["roles"]}  # type: ignore[attr-defined,index]


def _grants(person: dict[str, object]) -> set[tuple[str, int | None]]:
    return {(g["role"], g["class_id"]) for g in person["roles"]}  # type: ignore[attr-defined,index]


@pytest.mark.parametrize("caller", list(MATRIX))
async def test_the_rank_matrix_through_the_api(
    world: World, client: httpx.AsyncClient, caller: str
) -> None:
    w = await _world(world)
    got: dict[tuple[str, str], bool] = {}
    for target, role in _expected(caller):
        scope = ROLES[role][1]
        grant = {"role": role, f"{scope.split('_')[0]}_id": w.ids[scope]}
        if target == "new":
            body = {"school_id": w.ids["school_A"], "name": "新人", "mobile": next_mobile()}
            r = await client.post(
                "/api/v1/staff", json=body | {"roles": [grant]}, headers=w.auth(caller)
            )
        else:
            person = w.ids[caller if target == "self" else target]
            r = await client.post(
                f"/api/v1/staff/{person}/roles", json=grant, headers=w.auth(caller)
            )
        assert r.status_code in (201, 403), (target, role, r.text)
        got[(target, role)] = r.status_code == 201
        if r.status_code == 201 and target != "new":  # put the person back as they were
            added = next(g for g in r.json()["roles"] if g["role"] == role)
            undo = await client.delete(
                f"/api/v1/staff/{person}/roles/{added['id']}", headers=w.auth("operator")
            )
            assert undo.status_code == 200
    assert got == _expected(caller)


def _rows(world: World, caller: str) -> list[dict[str, str]]:
    rows = []
    for target, role in _expected(caller):
        name = caller if target == "self" else target
        mobile = ""
        if target == "new":
            name, mobile = f"新人{len(rows)}", next_mobile()
        rows.append(
            {
                "姓名": name,
                "手机号": mobile or f"@{name}",
                "职务": ROLES[role][0],
                "班级": "A2" if role == "subject_teacher" else "",
                "初始密码": "first-pass-1" if target == "new" else "",
            }
        )
    return rows


async def _with_mobiles(
    client: httpx.AsyncClient, world: World, rows: list[dict[str, str]]
) -> list[dict[str, str]]:
    for row in rows:
        if row["手机号"].startswith("@"):
            person = await _person(client, world, world.ids[row["手机号"][1:]])
            row["手机号"] = str(person["mobile"])
    return rows


@pytest.mark.parametrize("caller", list(MATRIX))
async def test_the_rank_matrix_through_the_import(
    world: World, client: httpx.AsyncClient, caller: str
) -> None:
    w = await _world(world)
    rows = await _with_mobiles(client, w, _rows(w, caller))
    expected = _expected(caller)
    before = {t: _grants(await _person(client, w, w.ids[t])) for t in TARGETS[1:-1]}

    dry = await _upload(client, w, caller, rows, dry_run="true")
    assert dry.status_code == 200, dry.text
    refused_rows = {p["row"] for p in dry.json()["problems"]}
    got = {case: i + 2 not in refused_rows for i, case in enumerate(expected)}
    assert got == expected
    for problem in dry.json()["problems"]:
        assert problem["column"] in ("职务", "手机号")

    # All or nothing: one refused row and nothing is written.
    if not all(expected.values()):
        real = await _upload(client, w, caller, rows)
        assert real.status_code == 422 and real.json()["code"] == "import.rows_rejected"
        for target in TARGETS[1:-1]:
            assert _grants(await _person(client, w, w.ids[target])) == before[target]

    # valid_only writes exactly the allowed rows.
    real = await _upload(client, w, caller, rows, mode="valid_only")
    assert real.status_code == 200, real.text
    for target in TARGETS[1:-1]:
        a2 = w.ids["class_A2"]
        given = {
            (r, a2 if r == "subject_teacher" else None)
            for (t, r), ok in expected.items()
            if t == target and ok
        }
        assert _grants(await _person(client, w, w.ids[target])) == before[target] | given
    mine = _roles(await _person(client, w, w.ids[caller]))
    assert mine == ({caller} if caller != "operator" else set())


@pytest.mark.parametrize("caller", ["academic_affairs", "head_teacher", "subject_teacher"])
async def test_who_may_not_manage_staff_is_refused_the_whole_import(
    world: World, client: httpx.AsyncClient, caller: str
) -> None:
    rows = [{"姓名": "同伙", "手机号": next_mobile(), "职务": "任课教师", "班级": "A1"}]
    r = await _upload(client, world, caller, rows)
    assert r.status_code == 403


async def test_a_vice_principal_cannot_take_over_a_school_by_import(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    """The report's repro: a vice principal imports another vice principal and a role for the
    principal; and in a school without a principal, themselves or an accomplice as principal."""
    w = await _world(world)
    principal = await _person(client, w, w.ids["principal"])
    me = await _person(client, w, w.ids["vice_principal"])
    first = [
        {"姓名": "同伙", "手机号": "13700000001", "职务": "分管副校长", "初始密码": "working-pass"},
        {"姓名": "principal", "手机号": str(principal["mobile"]), "职务": "教务处"},
    ]
    r = await _upload(client, w, "vice_principal", first)
    assert r.status_code == 422
    problems = {(p["row"], p["column"]) for p in r.json()["report"]["problems"]}
    assert problems == {(2, "职务"), (3, "职务")}
    token = await client.post(
        "/api/v1/auth/token", data={"username": "13700000001", "password": "working-pass"}
    )
    assert token.status_code == 401
    assert _roles(await _person(client, w, w.ids["principal"])) == {"principal"}

    async with ctx.uow() as uow:  # school A has no principal now
        grant_id = principal["roles"][0]["id"]  # type: ignore[index]
        await staff_service.remove_grant(uow, OPS, w.ids["principal"], grant_id)
    second = [
        {"姓名": "vice_principal", "手机号": str(me["mobile"]), "职务": "校长"},
        {"姓名": "同伙", "手机号": "13700000001", "职务": "校长", "初始密码": "working-pass"},
        {"姓名": "新老师", "手机号": "13700000002", "职务": "任课教师", "班级": "A1"},
    ]
    r = await _upload(client, w, "vice_principal", second)
    assert r.status_code == 422
    problems = {(p["row"], p["column"]): p["message"] for p in r.json()["report"]["problems"]}
    assert set(problems) == {(2, "职务"), (3, "职务")}
    assert "不能给自己" in problems[(2, "职务")]
    assert _roles(await _person(client, w, w.ids["vice_principal"])) == {"vice_principal"}

    # valid_only: the new teacher is a vice principal's to add; nothing else is written.
    r = await _upload(client, w, "vice_principal", second, mode="valid_only")
    assert r.status_code == 200
    added = [(g["name"], g["role"]) for g in r.json()["grants_added"]]
    assert added == [("新老师", "subject_teacher")]
    assert r.json()["staff_created"] == ["新老师"]
    assert _roles(await _person(client, w, w.ids["vice_principal"])) == {"vice_principal"}

    # Through the API, the same changes are refused the same way.
    vp, school = w.auth("vice_principal"), {"school_id": w.ids["school_A"]}
    url = f"/api/v1/staff/{w.ids['vice_principal']}/roles"
    r = await client.post(url, json={"role": "principal"} | school, headers=vp)
    assert r.status_code == 403 and "不能给自己" in r.json()["detail"]
    body = {"name": "同伙", "mobile": "13700000001", "roles": [{"role": "principal"} | school]}
    r = await client.post("/api/v1/staff", json=body | school, headers=vp)
    assert r.status_code == 403


async def test_nobody_grants_themselves_a_role_not_even_the_operator(
    world: World, client: httpx.AsyncClient
) -> None:
    w = await _world(world)
    me = w.ids["operator"]
    r = await client.post(
        f"/api/v1/staff/{me}/roles",
        json={"role": "county_admin", "county_id": w.ids["county"]},
        headers=w.auth("operator"),
    )
    assert r.status_code == 403 and "不能给自己" in r.json()["detail"]
