"""Delivery as a county deploys it, against fakes that behave like the platforms
(``tests.fakes.platforms``): robots and subscriptions configured through the API and stored,
notices raised by attendance through the API, the real ``DeliveryWorker`` reading the
database, and real HTTP servers on 127.0.0.1 answering with the platforms' documented codes.
No test here builds a ``Target``: every send is the worker's.

The county webhook is verified with the current signature scheme through ``verify_webhook``
(one small helper, so that a change of scheme changes one function).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.alerts import sweep
from app.context import AppContext
from app.core.channel_settings import ChannelEndpoints, WechatTemplateConfig
from app.core.clock import SimClock
from app.db.models import Delivery, Notification
from app.delivery.worker import DeliveryWorker
from tests.fakes.platforms import DingtalkFake, WechatFake, WecomFake
from tests.fakes.server import serve
from tests.helpers import FRIDAY, MONDAY, TUESDAY, absent_students, clock
from tests.world import World

HOOK_SECRET = "whsec_" + base64.b64encode(b"county-secret-0123456789").decode()
DING_SECRET = "SECcontract0123456789abcdef"
DING_TOKEN = "ding-access-token-1"
WECOM_KEY = "0b5f6c1e-wecom-key"
APPID, APPSECRET = "wx1234567890", "wx-app-secret"
TEMPLATE = "tmpl-alert-1"
KEYWORDS = {"thing1": "student", "phrase2": "level", "thing3": "reason", "time4": "due_full"}


def verify_webhook(headers: httpx.Headers | Any, body: bytes) -> bool:
    """The county side's check: the off-the-shelf Standard Webhooks verifier."""
    try:
        Webhook(HOOK_SECRET).verify(body, dict(headers))
    except WebhookVerificationError:
        return False
    return True


@dataclass
class CountyReceiver:
    events: list[dict[str, Any]] = field(default_factory=list)
    bad: int = 0

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = await request.body()
            if not verify_webhook(request.headers, body):
                self.bad += 1
                return JSONResponse({"error": "bad signature"}, status_code=401)
            self.events.append(json.loads(body))
            return JSONResponse({"ok": True})

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]


@dataclass
class Platforms:
    wecom: WecomFake
    ding: DingtalkFake
    wechat: WechatFake
    county: CountyReceiver
    wecom_url: str = ""
    ding_url: str = ""
    wechat_url: str = ""
    hook_url: str = ""


@pytest.fixture
async def platforms() -> AsyncIterator[Platforms]:
    p = Platforms(
        WecomFake({WECOM_KEY}),
        DingtalkFake({DING_TOKEN: DING_SECRET}),
        WechatFake(APPID, APPSECRET, {TEMPLATE: list(KEYWORDS)}),
        CountyReceiver(),
    )
    async with (
        serve(p.wecom.app()) as wecom,
        serve(p.ding.app()) as ding,
        serve(p.wechat.app()) as wechat,
        serve(p.county.app()) as hook,
    ):
        p.wecom_url, p.ding_url, p.wechat_url, p.hook_url = wecom, ding, wechat, hook
        yield p


def endpoints(p: Platforms) -> ChannelEndpoints:
    return ChannelEndpoints(
        wecom_base=f"{p.wecom_url}/cgi-bin/webhook/send",
        dingtalk_base=f"{p.ding_url}/robot/send",
        wechat_base=p.wechat_url,
        wechat_appid=APPID,
        wechat_secret=APPSECRET,  # type: ignore[arg-type]
        wechat_templates={"default": WechatTemplateConfig(template_id=TEMPLATE, fields=KEYWORDS)},
        timeout_seconds=5,
    )


def make_worker(ctx: AppContext, p: Platforms, **kw: Any) -> DeliveryWorker:
    client = httpx.AsyncClient(trust_env=False, timeout=5)
    return DeliveryWorker(ctx, client, endpoints(p), **kw)


async def put(client: httpx.AsyncClient, w: World, path: str, body: dict[str, Any]) -> None:
    r = await client.put(f"/api/v1{path}", json=body, headers=w.auth("principal"))
    assert r.status_code == 200, r.text


async def configure_robots(
    client: httpx.AsyncClient,
    w: World,
    p: Platforms,
    routes: dict[str, list[str]],
    *,
    ding_secret: str = DING_SECRET,
    wecom_key: str = WECOM_KEY,
) -> None:
    """As a principal would: the robot URLs exactly as the platforms show them, query and all."""
    school = w.ids["school_A"]
    await put(
        client,
        w,
        f"/schools/{school}/channels/dingtalk_robot",
        {"url": f"{p.ding_url}/robot/send?access_token={DING_TOKEN}", "secret": ding_secret},
    )
    await put(
        client,
        w,
        f"/schools/{school}/channels/wecom_robot",
        {"url": f"{p.wecom_url}/cgi-bin/webhook/send?key={wecom_key}"},
    )
    await put(client, w, f"/schools/{school}/delivery", {"routes": routes})


async def subscribe_county(client: httpx.AsyncClient, w: World, p: Platforms) -> None:
    r = await client.post(
        "/api/v1/webhook-subscriptions",
        json={"county_id": w.ids["county"], "url": f"{p.hook_url}/hook", "secret": HOOK_SECRET},
        headers=w.auth("county_admin"),
    )
    assert r.status_code == 201, r.text


def texts(messages: list[dict[str, Any]]) -> list[str]:
    out = []
    for m in messages:
        part = m.get(m["msgtype"], {})
        out.append(part.get("content") or part.get("text") or "")
    return out


async def deliveries(ctx: AppContext) -> list[Delivery]:
    async with ctx.uow() as uow:
        return sorted(await uow.session.exec(select(Delivery)), key=lambda d: d.id or 0)


# --- the two stoppers -----------------------------------------------------------------------


async def test_a_dingtalk_robot_url_keeps_its_access_token(
    ctx: AppContext, world: World, client: httpx.AsyncClient, platforms: Platforms
) -> None:
    await configure_robots(client, world, platforms, {"head_teacher": ["dingtalk_robot"]})
    await absent_students(client, world, "student_A1")
    got = await make_worker(ctx, platforms).tick()
    assert got.sent == 1, platforms.ding.refused
    assert platforms.ding.refused == []  # no 300001: the stored ?access_token= reached 钉钉
    [msg] = platforms.ding.messages[DING_TOKEN]
    assert "蓝色预警" in msg["markdown"]["title"]


async def test_robots_and_a_county_webhook_together_all_get_theirs(
    ctx: AppContext, world: World, client: httpx.AsyncClient, platforms: Platforms
) -> None:
    """Route rows and webhook rows in one dispatch: once refused as a mixed multi-row insert,
    so that nothing left at all while health stayed green."""
    await configure_robots(client, world, platforms, {"head_teacher": ["dingtalk_robot"]})
    await subscribe_county(client, world, platforms)
    await absent_students(client, world, "student_A1")
    got = await make_worker(ctx, platforms).tick()
    assert got.sent == 3  # the robot; alert.raised and case.opened to the county
    assert len(platforms.ding.messages[DING_TOKEN]) == 1
    assert sorted(e["type"] for e in platforms.county.events) == ["alert.raised", "case.opened"]
    [raised] = platforms.county.of("alert.raised")
    assert raised["data"]["level"] == "blue" and platforms.county.bad == 0
    r = await client.get("/api/v1/engine/health", headers=world.auth("principal"))
    assert r.json()["delivery"]["status"] == "green", r.json()


# --- every receiver gets exactly its events ---------------------------------------------------


async def test_blue_yellow_red_with_and_without_a_head_teacher(
    ctx: AppContext, world: World, client: httpx.AsyncClient, platforms: Platforms
) -> None:
    """Class A1 has a head teacher, class A2 has none. The head teacher's notices go to the 钉钉
    robot, the vice principal's and the principal's to the 企业微信 robot, and the county hears
    every alert whoever holds the role."""
    routes = {
        "head_teacher": ["dingtalk_robot"],
        "vice_principal": ["wecom_robot"],
        "principal": ["wecom_robot"],
    }
    await configure_robots(client, world, platforms, routes)
    await subscribe_county(client, world, platforms)
    worker = make_worker(ctx, platforms)
    ding, wecom = platforms.ding.messages[DING_TOKEN], platforms.wecom.messages[WECOM_KEY]

    await absent_students(client, world, "student_A1")  # blue, A1 → its head teacher
    await worker.tick()
    assert (len(ding), len(wecom)) == (1, 0)
    assert "蓝色预警" in texts(ding)[0] and "A1" in texts(ding)[0]

    await absent_students(client, world, "student_A2")  # blue, A2: no head teacher → vice principal
    await worker.tick()
    assert (len(ding), len(wecom)) == (1, 1)
    assert "蓝色预警" in texts(wecom)[0] and "A2" in texts(wecom)[0]
    assert "岗位空缺" in texts(wecom)[0]

    await absent_students(client, world, "student_A1", "student_A2", day=MONDAY)  # yellow for both
    await worker.tick()
    assert len(ding) == 1  # yellow is not the head teacher's
    assert len(wecom) == 2 and "黄色预警" in texts(wecom)[1]  # both yellows: one digest
    assert "A1" in texts(wecom)[1] and "A2" in texts(wecom)[1]

    await absent_students(client, world, "student_A1", "student_A2", day=FRIDAY)  # red for both
    await worker.tick()
    assert len(ding) == 1 and len(wecom) == 3 and "红色预警" in texts(wecom)[2]

    raised = platforms.county.of("alert.raised")
    got = sorted((e["data"]["level"], e["data"]["case_id"]) for e in raised)
    cases = sorted({e["data"]["case_id"] for e in raised})
    assert len(cases) == 2
    assert got == sorted((lv, c) for lv in ("blue", "yellow", "red") for c in cases)
    assert len({e["id"] for e in platforms.county.events}) == len(platforms.county.events)
    assert platforms.county.bad == 0
    assert platforms.ding.refused == [] and platforms.wecom.refused == []
    assert all(d.state in ("sent", "folded") for d in await deliveries(ctx))


async def test_a_class_without_head_teacher_still_reaches_the_county_with_no_routes(
    ctx: AppContext, world: World, client: httpx.AsyncClient, platforms: Platforms
) -> None:
    await subscribe_county(client, world, platforms)
    await absent_students(client, world, "student_A2")
    await make_worker(ctx, platforms).tick()
    [raised] = platforms.county.of("alert.raised")
    assert raised["data"]["level"] == "blue"
    async with ctx.uow() as uow:
        [note] = list(await uow.session.exec(select(Notification)))
    assert note.staff_id == world.ids["vice_principal"] and note.role == "vice_principal"
    assert "岗位空缺" in note.title and "班主任" in note.title


# --- 钉钉 -------------------------------------------------------------------------------------


async def test_dingtalk_signature_uses_the_real_clock_in_a_drill_weeks_ahead(
    ctx: AppContext, world: World, client: httpx.AsyncClient, platforms: Platforms
) -> None:
    await configure_robots(client, world, platforms, {"head_teacher": ["dingtalk_robot"]})
    clock(ctx).now += timedelta(days=21)  # the simulation clock; 钉钉 checks its own
    await absent_students(client, world, "student_A1", day=TUESDAY + timedelta(days=21))
    assert (await make_worker(ctx, platforms).tick()).sent == 1
    assert platforms.ding.refused == []


async def test_dingtalk_wrong_secret_is_a_dead_letter_then_the_next_channel(
    ctx: AppContext, world: World, client: httpx.AsyncClient, platforms: Platforms
) -> None:
    await configure_robots(
        client,
        world,
        platforms,
        {"head_teacher": ["dingtalk_robot", "wecom_robot"]},
        ding_secret="SECnot-the-robots-secret",
    )
    await absent_students(client, world, "student_A1")
    got = await make_worker(ctx, platforms).tick()
    assert (got.dead, got.sent) == (1, 1)
    assert [c for c, _ in platforms.ding.refused] == [310000]
    robot, fallback = await deliveries(ctx)
    assert robot.state == "dead" and "310000" in (robot.last_error or "")
    assert (fallback.channel, fallback.state) == ("wecom_robot", "sent")


async def test_dingtalk_send_too_fast_waits_ten_minutes(
    ctx: AppContext, world: World, client: httpx.AsyncClient, platforms: Platforms
) -> None:
    await configure_robots(client, world, platforms, {"head_teacher": ["dingtalk_robot"]})
    for _ in range(20):  # someone else's script has used the robot's minute
        assert platforms.ding.window.allow(DING_TOKEN)
    await absent_students(client, world, "student_A1")
    got = await make_worker(ctx, platforms).tick()
    assert got.retried == 1 and [c for c, _ in platforms.ding.refused] == [130101]
    [d] = await deliveries(ctx)
    assert d.state == "pending" and d.next_attempt_at >= clock(ctx).now + timedelta(minutes=10)


# --- 企业微信 ---------------------------------------------------------------------------------


async def test_wecom_unknown_key_is_a_dead_letter(
    ctx: AppContext, world: World, client: httpx.AsyncClient, platforms: Platforms
) -> None:
    await configure_robots(
        client, world, platforms, {"head_teacher": ["wecom_robot"]}, wecom_key="revoked-key"
    )
    await absent_students(client, world, "student_A1")
    got = await make_worker(ctx, platforms).tick()
    assert got.dead == 1 and [c for c, _ in platforms.wecom.refused] == [93000]


async def test_wecom_long_digest_is_cut_to_the_byte_limit(
    ctx: AppContext, world: World, client: httpx.AsyncClient, platforms: Platforms
) -> None:
    """The head teacher is @-ed by mobile, so the robot gets ``text`` (2048 bytes at most)."""
    long_name = "城关镇第一中心小学附属实验学校七年级二班" * 2  # 40 characters, 120 bytes
    r = await client.patch(
        f"/api/v1/classes/{world.ids['class_A1']}",
        json={"name": long_name},
        headers=world.auth("principal"),
    )
    assert r.status_code == 200, r.text
    for n in range(40):
        await world.add_student(f"s{n}", "class_A1", 500 + n)
    await configure_robots(client, world, platforms, {"head_teacher": ["wecom_robot"]})
    await absent_students(client, world, *[f"s{n}" for n in range(40)])
    got = await make_worker(ctx, platforms).tick()
    assert got.sent == 40 and platforms.wecom.refused == []
    [msg] = platforms.wecom.messages[WECOM_KEY]
    assert msg["msgtype"] == "text"
    content = msg["text"]["content"]
    assert 2000 < len(content.encode()) <= 2048 and content.endswith("…")


async def test_two_engine_processes_share_one_robot_limit(
    ctx: AppContext, world: World, client: httpx.AsyncClient, platforms: Platforms
) -> None:
    """Each tick sends one digest per robot; two workers (two processes' worth: separate
    clients, separate ids) alternate for 30 ticks with a new notice before each. 企业微信
    takes 20 a minute: the shared window lets exactly 20 through and 45009 never comes."""
    await configure_robots(client, world, platforms, {"head_teacher": ["wecom_robot"]})
    workers = [make_worker(ctx, platforms), make_worker(ctx, platforms)]
    now = clock(ctx).now
    for i in range(30):
        async with ctx.uow() as uow:
            uow.session.add(
                Notification(
                    idem_key=f"burst:{i}:{world.ids['head_teacher']}",
                    staff_id=world.ids["head_teacher"],
                    role="head_teacher",
                    topic="roll.missing",
                    title=f"A1 第{i}次点名未交",
                    school_id=world.ids["school_A"],
                    created_at=now,
                )
            )
            await uow.commit()
        await workers[i % 2].tick()
    assert len(platforms.wecom.messages[WECOM_KEY]) == 20
    assert platforms.wecom.refused == []
    waiting = [d for d in await deliveries(ctx) if d.state == "pending"]
    assert len(waiting) == 10


# --- WeChat subscribe messages ----------------------------------------------------------------


async def set_openid(client: httpx.AsyncClient, w: World, who: str, openid: str) -> None:
    r = await client.patch(
        f"/api/v1/staff/{w.ids[who]}", json={"wechat_openid": openid}, headers=w.auth("principal")
    )
    assert r.status_code == 200, r.text


async def test_wechat_alert_and_a_topic_without_level_or_due_time_both_fit_the_template(
    ctx: AppContext, world: World, client: httpx.AsyncClient, platforms: Platforms
) -> None:
    await configure_robots(
        client,
        world,
        platforms,
        {"head_teacher": ["wechat"], "vice_principal": ["wechat"], "principal": ["wechat"]},
    )
    await set_openid(client, world, "head_teacher", "o-head")
    await set_openid(client, world, "vice_principal", "o-vice")
    platforms.wechat.subscriptions = {("o-head", TEMPLATE): 5, ("o-vice", TEMPLATE): 5}
    worker = make_worker(ctx, platforms)
    await absent_students(client, world, "student_A1")
    assert (await worker.tick()).sent == 1
    clock(ctx).now += timedelta(hours=2)  # the guardian was not phoned within the hour
    await sweep.sweep(ctx)
    got = await worker.tick()
    assert platforms.wechat.refused == [], platforms.wechat.refused
    assert got.sent >= 1
    topics = [m["data"] for m in platforms.wechat.sent]
    assert topics[0]["phrase2"]["value"] == "蓝色预警"
    assert topics[0]["time4"]["value"].startswith("2026年11月26日")  # verify by 48 h
    overdue = [d for d in topics if d["phrase2"]["value"] != "蓝色预警"]
    assert overdue, topics
    for data in overdue:  # no level, no due time: still valid values
        assert all(v["value"] for v in data.values())
        assert data["time4"]["value"].startswith("2026年11月24日")


async def test_wechat_token_expired_or_revoked_is_fetched_again(
    ctx: AppContext, world: World, client: httpx.AsyncClient, platforms: Platforms
) -> None:
    await configure_robots(client, world, platforms, {"head_teacher": ["wechat"]})
    await set_openid(client, world, "head_teacher", "o-head")
    platforms.wechat.subscriptions = {("o-head", TEMPLATE): 5}
    worker = make_worker(ctx, platforms)
    await absent_students(client, world, "student_A1")
    await worker.tick()
    platforms.wechat.expire_all()  # 42001 next
    await world.add_student("s2", "class_A1", 900)
    await absent_students(client, world, "s2")
    await worker.tick()
    platforms.wechat.revoke_all()  # 40001 next
    await world.add_student("s3", "class_A1", 901)
    await absent_students(client, world, "s3")
    await worker.tick()
    assert len(platforms.wechat.sent) == 3
    assert [c for c, _ in platforms.wechat.refused] == [42001, 40001]
    assert platforms.wechat.issued == 3


async def test_wechat_no_subscription_left_goes_to_the_next_channel(
    ctx: AppContext, world: World, client: httpx.AsyncClient, platforms: Platforms
) -> None:
    await configure_robots(client, world, platforms, {"head_teacher": ["wechat", "wecom_robot"]})
    await set_openid(client, world, "head_teacher", "o-head")
    platforms.wechat.subscriptions = {("o-head", TEMPLATE): 0}
    await absent_students(client, world, "student_A1")
    await make_worker(ctx, platforms).tick()
    assert [c for c, _ in platforms.wechat.refused] == [43101]
    wechat, robot = await deliveries(ctx)
    assert (wechat.channel, wechat.state) == ("wechat", "dead")
    assert (robot.channel, robot.state) == ("wecom_robot", "sent")


# --- leases -----------------------------------------------------------------------------------


@dataclass
class SlowReceiver:
    """Answers after ``delay`` seconds (longer than the worker's timeout); records, per event
    id, how many requests for it were in flight at once."""

    delay: float
    in_flight: dict[str, int] = field(default_factory=dict)
    worst: dict[str, int] = field(default_factory=dict)
    requests: int = 0

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            event_id = (
                request.headers.get("x-kcbx-event-id") or json.loads(await request.body())["id"]
            )
            self.requests += 1
            self.in_flight[event_id] = self.in_flight.get(event_id, 0) + 1
            self.worst[event_id] = max(self.worst.get(event_id, 0), self.in_flight[event_id])
            try:
                await asyncio.sleep(self.delay)
            finally:
                self.in_flight[event_id] -= 1
            return JSONResponse({"ok": True})

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


async def test_two_workers_against_a_receiver_that_times_out_never_send_a_row_twice_at_once(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    slow = SlowReceiver(delay=0.5)
    async with serve(slow.app()) as base:
        r = await client.post(
            "/api/v1/webhook-subscriptions",
            json={"county_id": world.ids["county"], "url": f"{base}/hook", "secret": HOOK_SECRET},
            headers=world.auth("county_admin"),
        )
        assert r.status_code == 201
        await absent_students(client, world, "student_A1", "student_A2")
        short = ChannelEndpoints(timeout_seconds=0.3)

        def worker() -> DeliveryWorker:
            return DeliveryWorker(ctx, httpx.AsyncClient(trust_env=False, timeout=0.3), short)

        a, b = worker(), worker()
        for _ in range(4):
            results = await asyncio.gather(a.tick(), b.tick(), a.tick(), b.tick())
            assert sum(x.lost for x in results) == 0
            rows = len(await deliveries(ctx))  # alert.raised and case.opened, both students
            assert rows == 4 and sum(x.retried for x in results) == rows  # once each per round
            clock(ctx).now += timedelta(minutes=30)  # past every backoff
            # The receiver goes on after the client has given up: let it finish, so that an
            # overlap it sees can only be two sends of ours at once.
            await asyncio.sleep(0.6)
    assert slow.requests == 16  # four rounds of four rows
    assert set(slow.worst.values()) == {1}


async def test_an_outcome_is_written_only_while_the_lease_is_held(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    """Worker A's send outlives its lease (its clock jumps); worker B reclaims the row and
    sends it. A's answer comes back late: its outcome is not recorded, B's stands."""
    release, arrived = asyncio.Event(), asyncio.Event()
    calls: list[str] = []

    async def hook(request: Request) -> Response:
        calls.append("call")
        arrived.set()
        if len(calls) == 1:
            await release.wait()
            return JSONResponse({"error": "late"}, status_code=500)
        return JSONResponse({"ok": True})

    async with serve(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as base:
        r = await client.post(
            "/api/v1/webhook-subscriptions",
            json={
                "county_id": world.ids["county"],
                "url": f"{base}/hook",
                "secret": HOOK_SECRET,
                "events": ["alert.raised"],
            },
            headers=world.auth("county_admin"),
        )
        assert r.status_code == 201
        await absent_students(client, world, "student_A1")
        wall = SimClock()
        ep = ChannelEndpoints(timeout_seconds=10)
        a = DeliveryWorker(ctx, httpx.AsyncClient(trust_env=False), ep, wall_clock=wall)
        b = DeliveryWorker(ctx, httpx.AsyncClient(trust_env=False), ep, wall_clock=wall)
        first = asyncio.create_task(a.tick())
        await asyncio.wait_for(arrived.wait(), 10)
        wall.now += a.lease_for(1) + timedelta(seconds=1)
        assert (await b.tick()).sent == 1
        release.set()
        late = await first
    assert late.lost == 1 and late.retried == 0
    [d] = await deliveries(ctx)
    assert (d.state, d.attempts) == ("sent", 1)


# --- health -----------------------------------------------------------------------------------


async def test_health_turns_red_when_nothing_is_delivered(
    ctx: AppContext, world: World, client: httpx.AsyncClient, platforms: Platforms
) -> None:
    await configure_robots(client, world, platforms, {"head_teacher": ["wecom_robot"]})
    await subscribe_county(client, world, platforms)
    await absent_students(client, world, "student_A1")

    async def health() -> dict[str, Any]:
        r = await client.get("/api/v1/engine/health", headers=world.auth("principal"))
        assert r.status_code == 200, r.text
        return dict(r.json())

    clock(ctx).now += timedelta(minutes=10)  # nobody is delivering
    red = await health()
    assert red["delivery"]["status"] == "red" and red["delivery"]["undispatched"] == 1
    assert any("outbox" in p for p in red["delivery"]["problems"])
    worker = make_worker(ctx, platforms)
    await worker.tick()
    green = await health()
    assert green["delivery"]["status"] == "green", green["delivery"]
    [proc] = green["processes"]
    assert proc["process_id"] == worker.process_id and proc["alive"]
    assert proc["last_delivery_at"] is not None
    channels = {c["channel"]: c for c in green["delivery"]["channels"]}
    assert set(channels) == {"webhook", "wecom_robot", "dingtalk_robot", "wechat", "sms"}
    assert all(c["backlog"] == 0 and c["dead_24h"] == 0 for c in channels.values())


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"thingy1": "student"}, "not a subscribe-message keyword"),
        ({"thing1": "student_name"}, "unknown message param"),
        ({"time": "due_full"}, "not a subscribe-message keyword"),
    ],
)
def test_a_wechat_template_mapping_that_cannot_fit_is_refused(
    fields: dict[str, str], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        WechatTemplateConfig(template_id=TEMPLATE, fields=fields)


async def test_a_send_the_lease_would_not_outlast_is_not_started(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    """One send at a time; the first takes so long that too little of the lease is left for
    the second, which is handed back (pending, due now) instead of sent late."""
    wall = SimClock()
    start = wall.now
    got: list[str] = []
    worker_box: list[DeliveryWorker] = []

    async def hook(request: Request) -> Response:
        got.append(json.loads(await request.body())["id"])
        w = worker_box[0]
        wall.now = start + w.lease_for(2) - timedelta(seconds=w.send_budget / 2)
        return JSONResponse({"ok": True})

    async with serve(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as base:
        r = await client.post(
            "/api/v1/webhook-subscriptions",
            json={
                "county_id": world.ids["county"],
                "url": f"{base}/hook",
                "secret": HOOK_SECRET,
                "events": ["alert.raised"],
            },
            headers=world.auth("county_admin"),
        )
        assert r.status_code == 201
        await absent_students(client, world, "student_A1", "student_A2")
        worker = DeliveryWorker(
            ctx,
            httpx.AsyncClient(trust_env=False),
            ChannelEndpoints(timeout_seconds=10),
            concurrency=1,
            wall_clock=wall,
        )
        worker_box.append(worker)
        await worker.dispatch()
        first = await worker.send_due()
        assert (first.sent, first.postponed, len(got)) == (1, 1, 1)
        states = sorted(d.state for d in await deliveries(ctx))
        assert states == ["pending", "sent"]
        second = await worker.send_due()  # a fresh claim, a fresh lease
    assert second.sent == 1 and len(got) == 2 and len(set(got)) == 2


async def test_a_notice_no_message_can_be_made_for_is_dead_lettered_not_leased_forever(
    ctx: AppContext, world: World, client: httpx.AsyncClient, platforms: Platforms
) -> None:
    await configure_robots(client, world, platforms, {"head_teacher": ["wecom_robot"]})
    async with ctx.uow() as uow:
        uow.session.add(
            Notification(
                idem_key=f"broken:{world.ids['head_teacher']}",
                staff_id=world.ids["head_teacher"],
                role="head_teacher",
                topic="alert.raised",  # an alert notice without its level cannot be rendered
                title="?",
                school_id=world.ids["school_A"],
                created_at=clock(ctx).now,
            )
        )
        await uow.commit()
    got = await make_worker(ctx, platforms).tick()
    assert got.dead == 1
    [d] = await deliveries(ctx)
    assert d.state == "dead" and "no template" in (d.last_error or "")
    assert platforms.wecom.messages == {}
