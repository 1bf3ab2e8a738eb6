"""The console over HTTP (both databases): offline docs, the session cookie and CSRF, pages by
role, API reads with the cookie, and the daily absence rate the term chart draws."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app.console.docs import STATIC_DIR
from app.db.models import Staff
from app.domain.roles import Role
from app.security.tokens import issue_token
from tests.helpers import MONDAY, TUESDAY, event, move, roll
from tests.world import World

pytestmark = pytest.mark.db
COOKIE = "kcbx_console"
EXTERNAL = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.I)
TREND = "/api/v1/reports/absence-trend"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


async def as_person(client: httpx.AsyncClient, world: World, who: str) -> httpx.AsyncClient:
    client.cookies.set(COOKIE, world.tokens[who])
    return client


async def test_docs_and_index_name_no_other_host(client: httpx.AsyncClient) -> None:
    for path in ("/", "/docs", "/redoc"):
        r = await client.get(path)
        assert r.status_code == 200
        assert EXTERNAL.findall(r.text) == [], path
        assert "default-src 'self'" in r.headers["content-security-policy"]
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', r.text):
            assert (await client.get(asset)).status_code == 200, asset
    assert "/console/" in (await client.get("/")).text
    assert (await client.get("/openapi.json")).status_code == 200


def test_vendored_files_are_the_ones_the_manifest_locks() -> None:
    vendor = Path(STATIC_DIR) / "vendor"
    manifest = json.loads((vendor / "manifest.json").read_text())
    assert {"swagger-ui-bundle.js", "redoc.standalone.js", "htmx.min.js", "echarts.min.js"} <= set(
        manifest
    )
    for name, entry in manifest.items():
        assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == entry["sha256"], name
    # the one fetch ReDoc's bundle makes of its own is patched out
    assert b"cdn.redoc.ly" not in (vendor / "redoc.standalone.js").read_bytes()


async def test_sign_in_keeps_the_token_in_a_strict_http_only_cookie(
    client: httpx.AsyncClient, world: World
) -> None:
    await world.add_staff("signer", Role.academic_affairs, "school_A", password="pass-word-1")
    async with world.ctx.uow() as uow:
        signer = await uow.session.get(Staff, world.ids["signer"])
    assert signer is not None
    mobile = signer.mobile
    page = await client.get("/console/login")
    token = csrf_of(page.text)
    form = {"username": mobile, "password": "pass-word-1", "next": "/console/"}
    # without the CSRF value (or with another one) nothing happens
    refused = await client.post("/console/login", data={**form, "csrf": "x" * 40})
    assert refused.status_code == 403 and COOKIE not in refused.cookies
    wrong = await client.post("/console/login", data={**form, "password": "nope", "csrf": token})
    assert wrong.status_code == 401 and "手机号或密码错误" in wrong.text
    r = await client.post("/console/login", data={**form, "csrf": token})
    assert r.status_code == 303 and r.headers["location"] == "/console/"
    header = next(h for h in r.headers.get_list("set-cookie") if h.startswith(COOKIE))
    assert "HttpOnly" in header and "SameSite=strict" in header.replace("Strict", "strict")
    home = await client.get("/console/")
    assert home.status_code == 303
    assert home.headers["location"] == f"/console/schools/{world.ids['school_A']}"
    school = await client.get(home.headers["location"])
    assert school.status_code == 200 and "学校A" in school.text
    # an open redirect is not offered
    again = await client.post(
        "/console/login", data={**form, "csrf": token, "next": "https://example.com/"}
    )
    assert again.headers["location"] == "/console/"
    # signing out needs the CSRF value too, then the session is gone
    assert (await client.post("/console/logout", data={"csrf": "y" * 40})).status_code == 403
    out = await client.post("/console/logout", data={"csrf": token})
    assert out.status_code == 303
    assert (await client.get("/console/county")).headers["location"].startswith("/console/login")


async def test_a_stale_session_goes_back_to_sign_in(
    client: httpx.AsyncClient, world: World
) -> None:
    expired = issue_token(
        world.ids["principal"],
        secret=world.ctx.settings.secret_key,
        issuer=world.ctx.settings.jwt_issuer,
        now=datetime.now(UTC) - timedelta(days=3),
        minutes=60,
    )
    for value in ("garbage", expired):
        client.cookies.set(COOKIE, value)
        r = await client.get(f"/console/schools/{world.ids['school_A']}?x=1")
        assert r.status_code == 303
        assert (
            r.headers["location"]
            == "/console/login?next=/console/schools/" + str(world.ids["school_A"]) + "%3Fx%3D1"
        )


async def test_each_page_for_its_roles_and_a_clear_403_otherwise(
    client: httpx.AsyncClient, world: World
) -> None:
    ids = world.ids
    await as_person(client, world, "head_teacher")
    r = await client.get("/console/county")
    assert r.status_code == 403 and "无权访问" in r.text and "县教育局" in r.text
    teacher = await client.get("/console/teacher")
    assert teacher.status_code == 200 and "A1" in teacher.text
    assert (await client.get(f"/console/classes/{ids['class_A2']}")).status_code == 404
    assert (await client.get(f"/console/schools/{ids['school_A']}")).status_code == 403
    assert (await client.get("/console/cases/999999")).status_code == 404

    await as_person(client, world, "principal")
    assert (await client.get(f"/console/schools/{ids['school_A']}")).status_code == 200
    assert (await client.get(f"/console/schools/{ids['school_B']}")).status_code == 404
    assert (await client.get("/console/teacher")).status_code == 403

    await as_person(client, world, "county_admin")
    county = await client.get("/console/county")
    assert county.status_code == 200
    assert "学校A" in county.text and "学校B" in county.text and "示例县" in county.text
    assert (await client.get(f"/console/schools/{ids['school_B']}")).status_code == 200
    assert (await client.get(f"/console/classes/{ids['class_B1']}")).status_code == 200
    # another county's school is not found, as in the API
    assert (await client.get(f"/console/schools/{ids['school_Z']}")).status_code == 404


async def test_the_cookie_reads_the_api_but_never_writes(
    client: httpx.AsyncClient, world: World
) -> None:
    await as_person(client, world, "county_admin")
    r = await client.get("/api/v1/reports/rates.xlsx", params={"county_id": world.ids["county"]})
    assert r.status_code == 200 and r.content[:2] == b"PK"
    write = await client.post(
        "/api/v1/attendance-events", json=[event(world.ids["student_A1"], "absent")]
    )
    assert write.status_code == 401


async def test_daily_absence_rate_counts_only_the_recorded(
    client: httpx.AsyncClient, world: World
) -> None:
    ids = world.ids
    await world.add_student("student_A1b", "class_A1", 11)
    await world.add_student("student_A1c", "class_A1", 12)
    # Tuesday: A1 absent, A1b present, A1c late; class A2's roll not taken
    await roll(
        client,
        world,
        [
            event(ids["student_A1"], "absent"),
            event(ids["student_A1b"], "present"),
            event(ids["student_A1c"], "late"),
        ],
    )
    params = {"school_id": ids["school_A"], "start": str(MONDAY), "end": "2026-11-30"}
    r = await client.get(TREND, params=params, headers=world.auth("principal"))
    assert r.status_code == 200, r.text
    (school,) = r.json()["schools"]
    points = {p["date"]: p for p in school["points"]}
    assert sorted(points) == [str(MONDAY), str(TUESDAY)]  # never after the school's today
    assert points[str(MONDAY)] == {
        "date": str(MONDAY),
        "on_roll": 4,
        "absent": 0,
        "leave": 0,
        "not_recorded": 4,
        "absence_rate": None,
    }
    tuesday = points[str(TUESDAY)]
    assert (tuesday["on_roll"], tuesday["absent"], tuesday["not_recorded"]) == (4, 1, 1)
    assert tuesday["absence_rate"] == round(1 / 3, 4)

    county = await client.get(
        TREND,
        params={"county_id": ids["county"], "start": str(TUESDAY), "end": str(TUESDAY)},
        headers=world.auth("county_admin"),
    )
    assert [s["school_name"] for s in county.json()["schools"]] == ["学校A", "学校B"]

    refused = {
        "head_teacher": 403,
        "principal_B": 404,
    }
    for who, status in refused.items():
        assert (await client.get(TREND, params=params, headers=world.auth(who))).status_code == (
            status
        )
    for bad in (
        {"start": str(TUESDAY), "end": str(TUESDAY)},
        {**params, "county_id": ids["county"]},
        {**params, "end": "2027-12-31"},
        {**params, "end": "2026-11-01"},
    ):
        got = await client.get(TREND, params=bad, headers=world.auth("county_admin"))
        assert got.status_code == 422, bad


async def test_the_school_page_shows_what_is_owed_and_who_is_missing(
    client: httpx.AsyncClient, world: World
) -> None:
    ids = world.ids
    await roll(client, world, [event(ids["student_A1"], "absent")])
    case = (
        await client.get(
            f"/api/v1/students/{ids['student_A1']}/case", headers=world.auth("principal")
        )
    ).json()
    owed = [d for d in case["pending_deadlines"] if d["owed"]]
    assert owed, case
    await as_person(client, world, "principal")
    page = (await client.get(f"/console/schools/{ids['school_A']}")).text
    row = re.search(rf'<tr data-case="{case["id"]}">(.*?)</tr>', page, re.S)
    assert row, page
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    first = min(owed, key=lambda d: d["due_at"])
    if first["overdue"]:
        assert first["kind_label"] in cells[6]
    else:
        assert cells[5].startswith(first["kind_label"])
        assert cells[6] == "—"
    # 班级 A2 has no head teacher: the vacancy notice's wording
    assert "A2无班主任" in page
    # the school's clock a day later: what was due is now overdue, in local time
    move(world.ctx, datetime(2026, 11, 25, 6, 0, tzinfo=UTC))
    later = (await client.get(f"/console/schools/{ids['school_A']}")).text
    row = re.search(rf'<tr data-case="{case["id"]}">(.*?)</tr>', later, re.S)
    assert row
    overdue_cell = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)[6]
    local_due = datetime.fromisoformat(first["due_at"].replace("Z", "+00:00")) + timedelta(hours=8)
    assert f"{first['kind_label']}(应于 {local_due:%Y-%m-%d %H:%M})" in overdue_cell


async def test_marking_a_notice_read_needs_the_csrf_pair(
    client: httpx.AsyncClient, world: World
) -> None:
    await roll(client, world, [event(world.ids["student_A1"], "absent")])
    inbox = (await client.get("/api/v1/inbox", headers=world.auth("head_teacher"))).json()
    assert inbox["unread"] >= 1
    notice = inbox["items"][0]
    await as_person(client, world, "head_teacher")
    page = await client.get("/console/teacher")
    assert f'data-notice="{notice["id"]}"' in page.text
    token = csrf_of(page.text)
    url = f"/console/inbox/{notice['id']}/read"
    assert (await client.post(url, data={"csrf": "z" * 40})).status_code == 403
    assert (await client.post(url, headers={"X-CSRF-Token": "z" * 40})).status_code == 403
    after = (await client.get("/api/v1/inbox", headers=world.auth("head_teacher"))).json()
    assert after["unread"] == inbox["unread"]  # nothing changed
    r = await client.post(url, headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert r.status_code == 200 and "已读" in r.text and "<html" not in r.text
    after = (await client.get("/api/v1/inbox", headers=world.auth("head_teacher"))).json()
    assert after["unread"] == inbox["unread"] - 1
    # without script the form posts and the page comes back
    plain = await client.post(url, data={"csrf": token})
    assert plain.status_code == 303 and plain.headers["location"] == "/console/teacher"
    # someone else's notice is not found
    await as_person(client, world, "principal")
    assert (await client.post(url, data={"csrf": token})).status_code == 404
