"""Guardian notices as the parents' mini-program's subscribe message (issue 22 item 1), through
the configured path: a guardian signs in through a fake ``jscode2session`` with the binding
code of the 家校联系卡 and their roster mobile; the notice goes out through a fake WeChat
(``stable_token`` + ``subscribeMessage.send``, tests/fakes/platforms.py, enforcing the published
keyword rules, 47003, and the one-time subscription, 43101) on 127.0.0.1; a guardian whose
subscription is used up gets the SMS instead (the fake Alibaba Cloud endpoint)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr

from app.context import AppContext
from app.core.channel_settings import ChannelEndpoints, WechatTemplateConfig
from app.db.models import Delivery, GuardianAccount, GuardianBindingEvent, GuardianNotice
from app.guardians.notices import send_guardian_notices
from tests.delivery.test_sms_delivery import worker
from tests.fakes.platforms import WechatFake
from tests.fakes.server import serve
from tests.fakes.sms_providers import FakeAliyunSms
from tests.fakes.wechat_login import Code2SessionFake
from tests.guardians.test_guardian_notices import FAMILY, add_child, aliyun, at, configure, morning
from tests.helpers import TUESDAY, WEDNESDAY, move, rows
from tests.world import World

__all__ = ["aliyun"]  # the SMS fake's fixture, shared
PARENTS_APP, SECRET, OPENID = "wxparents0000001", "parents-secret", "o-parent-1"
TEMPLATE = "TPL-guardian-absent"
KEYWORDS = {"thing1": "school", "name2": "students", "thing3": "check", "time4": "at_full"}
NEIGHBOUR = "13700000009"


@pytest.fixture
async def platform(
    ctx: AppContext,
    monkeypatch: pytest.MonkeyPatch,
    aliyun: tuple[FakeAliyunSms, ChannelEndpoints],
) -> AsyncIterator[tuple[Code2SessionFake, WechatFake, ChannelEndpoints]]:
    """The parents' mini-program as a county configures it: appid, secret, the subscribe
    template; WeChat's sign-in and message hosts on 127.0.0.1."""
    login = Code2SessionFake(appid=PARENTS_APP, secret=SECRET)
    wechat = WechatFake(appid=PARENTS_APP, secret=SECRET, templates={TEMPLATE: list(KEYWORDS)})
    template = WechatTemplateConfig(template_id=TEMPLATE, fields=KEYWORDS)
    async with serve(login.app()) as login_base, serve(wechat.app()) as wechat_base:
        monkeypatch.setattr(ctx.settings, "wechat_login_base", login_base)
        monkeypatch.setattr(ctx.settings, "guardian_wechat_appid", PARENTS_APP)
        monkeypatch.setattr(ctx.settings, "guardian_wechat_secret", SecretStr(SECRET))
        monkeypatch.setattr(ctx.settings, "guardian_wechat_template", template)
        endpoints = aliyun[1].model_copy(update={"wechat_base": wechat_base})
        monkeypatch.setattr(ctx.settings, "channels", endpoints)
        yield login, wechat, endpoints


async def card(client: httpx.AsyncClient, world: World, student: str) -> str:
    r = await client.post(
        f"/api/v1/students/{world.ids[student]}/guardian-binding-code",
        headers=world.auth("head_teacher"),
    )
    assert r.status_code == 201, r.text
    code: str = r.json()["code"]
    return code


async def test_a_subscribed_guardian_gets_the_wechat_message_then_sms_once_it_is_used_up(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    aliyun: tuple[FakeAliyunSms, ChannelEndpoints],
    platform: tuple[Code2SessionFake, WechatFake, ChannelEndpoints],
) -> None:
    sms = aliyun[0]
    login, wechat, endpoints = platform
    await add_child(world, "elder", 31, FAMILY)
    await add_child(world, "younger", 32, FAMILY)
    await add_child(world, "neighbour", 34, NEIGHBOUR)
    await configure(client, world)  # guardian channels: wechat, then sms (the default)
    move(ctx, at(TUESDAY, "07:30"))
    r = await client.post(
        "/api/v1/wechat/parents/sign-in",
        json={"code": login.login(OPENID), "binding_code": await card(client, world, "elder"),
              "mobile": FAMILY},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    # The mini-program asked the guardian (wx.requestSubscribeMessage) once: one message.
    wechat.subscriptions[(OPENID, TEMPLATE)] = 1

    await morning(client, world, "elder", "younger", "neighbour")
    move(ctx, at(TUESDAY, "08:15"))
    assert await send_guardian_notices(ctx) == 2
    await worker(ctx, endpoints).tick()
    [sent] = wechat.sent  # siblings: one subscribe message to the signed-in guardian
    assert sent["touser"] == OPENID and sent["template_id"] == TEMPLATE
    assert {k: v["value"] for k, v in sent["data"].items()} == {
        "thing1": "学校A",
        "name2": "学**1、学**2",
        "thing3": "晨检 08:00",
        "time4": "2026年11月24日 08:15",
    }
    assert str(sent["page"]).startswith("pages/answer/index?t=")
    [text] = sms.sent  # the neighbour has no account: SMS
    assert text.phone == NEIGHBOUR
    by_channel = {d.channel: d.state for d in await rows(ctx, Delivery)}
    assert by_channel == {"parents_wechat": "sent", "sms": "sent"}

    # Wednesday: the one-time subscription is used up, WeChat answers 43101 and the worker
    # falls back to the school's next guardian channel.
    await morning(client, world, "elder", day=WEDNESDAY)
    move(ctx, at(WEDNESDAY, "08:15"))
    assert await send_guardian_notices(ctx) == 1
    await worker(ctx, endpoints).tick()
    assert [code for code, _ in wechat.refused] == [43101]
    assert [m.phone for m in sms.sent] == [NEIGHBOUR, FAMILY]
    [notice] = await rows(ctx, GuardianNotice, GuardianNotice.school_date == WEDNESDAY)
    states = {
        d.channel: d.state
        for d in await rows(ctx, Delivery)
        if d.payload.get("guardian_notice_id") == notice.id
    }
    assert states == {"parents_wechat": "dead", "sms": "sent"}


async def test_a_mobile_that_is_not_a_mobile_or_not_the_childs_guardian_is_refused(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    platform: tuple[Code2SessionFake, WechatFake, ChannelEndpoints],
) -> None:
    login = platform[0]
    await add_child(world, "elder", 31, FAMILY)
    code = await card(client, world, "elder")
    for mobile, field in (("12345", "mobile"), ("1370000000x", "mobile"), (NEIGHBOUR, "mobile")):
        r = await client.post(
            "/api/v1/wechat/parents/sign-in",
            json={"code": login.login(OPENID), "binding_code": code, "mobile": mobile},
        )
        assert r.status_code == 422, (mobile, r.text)
        assert field in r.text
    assert await rows(ctx, GuardianAccount) == []
    assert await rows(ctx, GuardianBindingEvent) == []
    r = await client.post(  # the card is still good
        "/api/v1/wechat/parents/sign-in",
        json={"code": login.login(OPENID), "binding_code": code, "mobile": FAMILY},
    )
    assert r.status_code == 200, r.text
    [account] = await rows(ctx, GuardianAccount)
    assert account.mobile == FAMILY


async def test_a_refused_template_falls_back_to_sms_and_an_opt_out_is_kept_until_undone(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    aliyun: tuple[FakeAliyunSms, ChannelEndpoints],
    platform: tuple[Code2SessionFake, WechatFake, ChannelEndpoints],
) -> None:
    sms = aliyun[0]
    login, wechat, endpoints = platform
    # The template in WeChat's console has a keyword the county did not map: WeChat refuses
    # every message (47003); the guardian still hears from the school, by SMS.
    wechat.templates[TEMPLATE] = [*KEYWORDS, "phrase5"]
    await add_child(world, "elder", 31, FAMILY)
    await configure(client, world)
    r = await client.post(
        "/api/v1/wechat/parents/sign-in",
        json={"code": login.login(OPENID), "binding_code": await card(client, world, "elder"),
              "mobile": FAMILY},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    parent = r.json()["access_token"]
    wechat.subscriptions[(OPENID, TEMPLATE)] = 5
    await morning(client, world, "elder")
    move(ctx, at(TUESDAY, "08:15"))
    await send_guardian_notices(ctx)
    await worker(ctx, endpoints).tick()
    assert [code for code, _ in wechat.refused] == [47003] and wechat.sent == []
    [text] = sms.sent
    assert text.phone == FAMILY
    # The guardian opts out of WeChat through the link: the next day WeChat is not tried.
    code = text.params["code"]
    r = await client.post(f"/api/v1/guardian-answers/{code}/opt-out", json={"channel": "wechat"})
    assert r.status_code == 204
    await morning(client, world, "elder", day=WEDNESDAY)
    move(ctx, at(WEDNESDAY, "08:15"))
    await send_guardian_notices(ctx)
    await worker(ctx, endpoints).tick()
    [notice] = await rows(ctx, GuardianNotice, GuardianNotice.school_date == WEDNESDAY)
    assert notice.channels == ["sms"]
    assert len(wechat.refused) == 1 and len(sms.sent) == 2
    # Signed in with that mobile, the guardian opts back in; a staff token may not.
    path = "/api/v1/guardian/opt-outs/wechat"
    assert (await client.delete(path, headers=world.auth("principal"))).status_code == 401
    r = await client.delete(path, headers={"Authorization": f"Bearer {parent}"})
    assert r.status_code == 204
    thursday = WEDNESDAY + timedelta(days=1)
    await morning(client, world, "elder", day=thursday)
    move(ctx, at(thursday, "08:15"))
    await send_guardian_notices(ctx)
    [notice] = await rows(ctx, GuardianNotice, GuardianNotice.school_date == thursday)
    assert notice.channels == ["wechat", "sms"]
