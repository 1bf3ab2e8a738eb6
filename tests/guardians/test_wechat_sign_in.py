"""WeChat sign-in for both mini-programs against a fake ``jscode2session`` on 127.0.0.1 that
enforces the published contract; the guardian then reports tomorrow's absence ahead, and no
guardian notice goes out tomorrow (issue 22 items 3 and 4)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from app.context import AppContext
from app.core.channel_settings import ChannelEndpoints
from app.db.models import (
    GuardianBindingEvent,
    GuardianNotice,
    LeaveRequest,
    Staff,
    StaffWechatEvent,
)
from app.domain.roles import Role
from app.guardians.notices import send_guardian_notices
from tests.fakes.server import serve
from tests.fakes.sms_providers import FakeAliyunSms
from tests.fakes.wechat_login import Code2SessionFake
from tests.guardians.test_guardian_notices import (
    FAMILY,
    add_child,
    aliyun,
    at,
    configure,
    morning,
)
from tests.helpers import TUESDAY, WEDNESDAY, move, rows
from tests.world import World

__all__ = ["aliyun"]  # the SMS fake's fixture, shared
PARENTS_APP, STAFF_APP = "wxparents0000001", "wxstaff000000001"


@pytest.fixture
async def wx(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Code2SessionFake]:
    """One fake platform serving both mini-programs' appids is enough: each sign-in names its
    own appid and secret, and the fake refuses the other's."""
    fake = Code2SessionFake(appid=PARENTS_APP, secret="parents-secret")
    async with serve(fake.app()) as base:
        monkeypatch.setattr(ctx.settings, "wechat_login_base", base)
        monkeypatch.setattr(ctx.settings, "guardian_wechat_appid", PARENTS_APP)
        monkeypatch.setattr(ctx.settings, "guardian_wechat_secret", SecretStr("parents-secret"))
        yield fake


async def bound_parent(
    client: httpx.AsyncClient, world: World, wx: Code2SessionFake, student: str
) -> str:
    r = await client.post(
        f"/api/v1/students/{world.ids[student]}/guardian-binding-code",
        headers=world.auth("head_teacher"),
    )
    assert r.status_code == 201, r.text
    card = r.json()["code"]
    r = await client.post(
        "/api/v1/wechat/parents/sign-in",
        json={"code": wx.login("o-parent-1"), "binding_code": card},
    )
    assert r.status_code == 200, r.text
    assert "session_key" not in r.text
    token: str = r.json()["access_token"]
    return token


async def test_a_parent_signed_in_reports_tomorrow_and_no_notice_goes_out_tomorrow(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    wx: Code2SessionFake,
    aliyun: tuple[FakeAliyunSms, ChannelEndpoints],
) -> None:
    await add_child(world, "elder", 31, FAMILY)
    await add_child(world, "neighbour", 34, "13700000009")
    await configure(client, world)
    move(ctx, at(TUESDAY, "19:30"))
    token = await bound_parent(client, world, wx, "elder")
    parent = {"Authorization": f"Bearer {token}"}
    mine = await client.get("/api/v1/guardian/children", headers=parent)
    assert [c["student_id"] for c in mine.json()] == [world.ids["elder"]]
    r = await client.post(
        "/api/v1/guardian/absences",
        json={
            "student_id": world.ids["elder"],
            "start_date": WEDNESDAY.isoformat(),
            "end_date": WEDNESDAY.isoformat(),
            "reason": "ill",
            "symptoms": ["cough"],
            "note": "咳嗽,去医院",
        },
        headers=parent,
    )
    assert r.status_code == 201, r.text
    [leave] = await rows(ctx, LeaveRequest)
    assert (leave.status, leave.leave_type, leave.symptoms) == ("pending", "sick", ["cough"])
    await morning(client, world, "elder", "neighbour", day=WEDNESDAY)
    move(ctx, at(WEDNESDAY, "08:15"))
    assert await send_guardian_notices(ctx) == 1  # the neighbour's family only
    [notice] = await rows(ctx, GuardianNotice)
    assert notice.student_ids == [world.ids["neighbour"]]


async def test_reports_ahead_beyond_the_rules_and_for_other_children_are_refused(
    ctx: AppContext, world: World, client: httpx.AsyncClient, wx: Code2SessionFake
) -> None:
    await add_child(world, "elder", 31, FAMILY)
    move(ctx, at(TUESDAY, "08:30"))  # after today's cut-off (the 08:00 check)
    parent = {"Authorization": f"Bearer {await bound_parent(client, world, wx, 'elder')}"}

    def body(start: str, end: str, **extra: object) -> dict[str, object]:
        return {"student_id": world.ids["elder"], "start_date": start, "end_date": end,
                "reason": "family", **extra}  # fmt: skip

    cases = [
        (body("2026-11-23", "2026-11-23"), 422),  # the past
        (body("2026-11-24", "2026-11-24"), 422),  # today, after the cut-off
        (body("2026-11-25", "2026-11-30"), 422),  # beyond 3 days
        (body("2026-11-25", "2026-11-25", symptoms=["fever"]), 422),  # symptoms, not ill
        ({**body("2026-11-25", "2026-11-25"), "student_id": world.ids["student_A2"]}, 404),
    ]
    for data, code in cases:
        r = await client.post("/api/v1/guardian/absences", json=data, headers=parent)
        assert r.status_code == code, (data, r.text)
    assert await rows(ctx, LeaveRequest) == []
    # Several short reports do not pass the limit of consecutive days without approval.
    ok = await client.post(
        "/api/v1/guardian/absences", json=body("2026-11-25", "2026-11-27"), headers=parent
    )
    assert ok.status_code == 201, ok.text
    chained = await client.post(
        "/api/v1/guardian/absences", json=body("2026-11-28", "2026-11-28"), headers=parent
    )
    assert chained.status_code == 422 and "end_date" in chained.text
    after_a_gap = await client.post(
        "/api/v1/guardian/absences", json=body("2026-11-29", "2026-11-29"), headers=parent
    )
    assert after_a_gap.status_code == 201, after_a_gap.text
    assert len(await rows(ctx, LeaveRequest)) == 2
    staff_token = world.auth("head_teacher")
    r = await client.get("/api/v1/guardian/children", headers=staff_token)
    assert r.status_code == 401  # a staff token is not a guardian's
    r = await client.get("/api/v1/students", headers=parent)
    assert r.status_code == 401  # nor a guardian's a staff token


async def test_jscode2session_errors_are_502_with_the_platform_code_and_codes_are_single_use(
    ctx: AppContext, world: World, client: httpx.AsyncClient, wx: Code2SessionFake
) -> None:
    r = await client.post(
        f"/api/v1/students/{world.ids['student_A1']}/guardian-binding-code",
        headers=world.auth("head_teacher"),
    )
    card = r.json()["code"]
    code = wx.login("o-parent-2")
    first = await client.post(
        "/api/v1/wechat/parents/sign-in", json={"code": code, "binding_code": card}
    )
    assert first.status_code == 200
    again = await client.post("/api/v1/wechat/parents/sign-in", json={"code": code})
    assert again.status_code == 502 and again.json()["code"] == "wechat_40029"
    wx.high_risk.add("o-risky")
    r = await client.post("/api/v1/wechat/parents/sign-in", json={"code": wx.login("o-risky")})
    assert r.status_code == 502 and r.json()["code"] == "wechat_40226"
    wx.busy = True
    r = await client.post("/api/v1/wechat/parents/sign-in", json={"code": wx.login("o-x")})
    assert r.status_code == 502 and r.json()["code"] == "wechat_-1"
    wx.busy = False
    wx.limit = 0
    r = await client.post("/api/v1/wechat/parents/sign-in", json={"code": wx.login("o-y")})
    assert r.status_code == 502 and r.json()["code"] == "wechat_45011"
    wx.limit = 100
    # A binding code used twice: 409, nothing bound for the second openid.
    r = await client.post(
        "/api/v1/wechat/parents/sign-in",
        json={"code": wx.login("o-parent-3"), "binding_code": card},
    )
    assert r.status_code == 409
    events = await rows(ctx, GuardianBindingEvent)
    assert [(e.kind, e.student_id) for e in events] == [("bind", world.ids["student_A1"])]


async def test_unbinding_is_audited_and_revokes_the_token(
    ctx: AppContext, world: World, client: httpx.AsyncClient, wx: Code2SessionFake
) -> None:
    parent = {"Authorization": f"Bearer {await bound_parent(client, world, wx, 'student_A1')}"}
    r = await client.delete("/api/v1/guardian/opt-outs/sms", headers=parent)
    assert r.status_code == 409  # signed in without a mobile: no number's choices to change
    r = await client.delete(f"/api/v1/guardian/children/{world.ids['student_A1']}", headers=parent)
    assert r.status_code == 204
    assert [e.kind for e in await rows(ctx, GuardianBindingEvent)] == ["bind", "unbind"]
    assert (await client.get("/api/v1/guardian/children", headers=parent)).status_code == 401


async def test_staff_bind_once_with_mobile_and_password_then_sign_in_with_the_code(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    wx: Code2SessionFake,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wx, "appid", STAFF_APP)
    monkeypatch.setattr(wx, "secret", "staff-secret")
    channels = ctx.settings.channels.model_copy(
        update={"wechat_appid": STAFF_APP, "wechat_secret": SecretStr("staff-secret")}
    )
    monkeypatch.setattr(ctx.settings, "channels", channels)
    r = await client.post("/api/v1/wechat/staff/sign-in", json={"code": wx.login("o-teacher")})
    assert r.status_code == 401  # not bound yet
    password = "Teach3r-pass-2026"
    await world.add_staff("wx_teacher", Role.subject_teacher, "class_A1", password=password)
    async with ctx.uow() as uow:
        teacher = await uow.session.get(Staff, world.ids["wx_teacher"])
        assert teacher is not None
        mobile = teacher.mobile
    r = await client.post(
        "/api/v1/wechat/staff/sign-in",
        json={"code": wx.login("o-teacher"), "mobile": mobile, "password": password},
    )
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/wechat/staff/sign-in", json={"code": wx.login("o-teacher")})
    assert r.status_code == 200, r.text
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
    )
    assert me.status_code == 200 and me.json()["id"] == world.ids["wx_teacher"]
    async with ctx.uow() as uow:
        teacher = await uow.session.get(Staff, world.ids["wx_teacher"])
        assert teacher is not None and teacher.wechat_openid == "o-teacher"


async def test_a_deployment_without_the_mini_programs_has_no_wechat_sign_in(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    # No appid/secret configured (the test settings' default): 404, no platform asked, no 5xx
    # (schemathesis found the 502 this used to answer), nothing bound.
    for who in ("parents", "staff"):
        r = await client.post(f"/api/v1/wechat/{who}/sign-in", json={"code": "0a1b2c3d"})
        assert r.status_code == 404, r.text
        assert r.json()["code"] == "wechat.not_configured"
    assert await rows(ctx, GuardianBindingEvent) == []


async def test_each_school_sets_its_own_cut_off_for_reporting_today(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    wx: Code2SessionFake,
    aliyun: tuple[FakeAliyunSms, ChannelEndpoints],
) -> None:
    await add_child(world, "elder", 31, FAMILY)
    parent = {"Authorization": f"Bearer {await bound_parent(client, world, wx, 'elder')}"}
    today = {"student_id": world.ids["elder"], "start_date": TUESDAY.isoformat(),
             "end_date": TUESDAY.isoformat(), "reason": "family"}  # fmt: skip
    move(ctx, at(TUESDAY, "08:30"))
    r = await client.post("/api/v1/guardian/absences", json=today, headers=parent)
    assert r.status_code == 422  # the default cut-off, 08:00, has passed
    await configure(client, world, report_cutoff="09:00:00")
    got = await client.get(
        f"/api/v1/schools/{world.ids['school_A']}/guardian-notices",
        headers=world.auth("head_teacher"),
    )
    assert got.json()["report_cutoff"] == "09:00:00"
    r = await client.post("/api/v1/guardian/absences", json=today, headers=parent)
    assert r.status_code == 201, r.text


async def test_staff_bind_with_an_administrators_one_time_code_and_bindings_are_audited(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    wx: Code2SessionFake,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wx, "appid", STAFF_APP)
    monkeypatch.setattr(wx, "secret", "staff-secret")
    channels = ctx.settings.channels.model_copy(
        update={"wechat_appid": STAFF_APP, "wechat_secret": SecretStr("staff-secret")}
    )
    monkeypatch.setattr(ctx.settings, "channels", channels)
    await world.add_staff("wx_teacher", Role.subject_teacher, "class_A1")
    teacher = world.ids["wx_teacher"]
    url = f"/api/v1/staff/{teacher}/wechat-binding-code"
    r = await client.post(url, headers=world.auth("head_teacher"))
    assert r.status_code == 403  # a head teacher does not administer staff
    r = await client.post(url, headers=world.auth("principal"))
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    r = await client.post(
        "/api/v1/wechat/staff/sign-in", json={"code": wx.login("o-t1"), "binding_code": "X" * 10}
    )
    assert r.status_code == 404
    r = await client.post(
        "/api/v1/wechat/staff/sign-in", json={"code": wx.login("o-t1"), "binding_code": code}
    )
    assert r.status_code == 200, r.text
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
    )
    assert me.json()["id"] == teacher
    r = await client.post(  # used twice: 409, the second openid bound to nobody
        "/api/v1/wechat/staff/sign-in", json={"code": wx.login("o-t2"), "binding_code": code}
    )
    assert r.status_code == 409
    # A new phone: a new code rebinds; then the principal unbinds. Each step is in the audit.
    code2 = (await client.post(url, headers=world.auth("principal"))).json()["code"]
    r = await client.post(
        "/api/v1/wechat/staff/sign-in", json={"code": wx.login("o-t2"), "binding_code": code2}
    )
    assert r.status_code == 200, r.text
    r = await client.delete(f"/api/v1/staff/{teacher}/wechat", headers=world.auth("principal"))
    assert r.status_code == 204
    r = await client.post("/api/v1/wechat/staff/sign-in", json={"code": wx.login("o-t2")})
    assert r.status_code == 401  # unbound: the code alone no longer signs in
    events = await rows(ctx, StaffWechatEvent)
    assert [(e.staff_id, e.kind, e.how) for e in events] == [
        (teacher, "bind", "code"),
        (teacher, "rebind", "code"),
        (teacher, "unbind", "admin"),
    ]
