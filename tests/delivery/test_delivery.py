"""The delivery worker against receivers: signed webhooks once per event, retries on 500 and
429, dead letters and fallback on 400, digests for robots, quiet hours, folding into red, and
no duplicates after a worker dies mid-send."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select
from standardwebhooks import Webhook

from app.context import AppContext
from app.core.channel_settings import ChannelEndpoints
from app.core.clock import SimClock
from app.db.models import Delivery, DeliveryAttempt, Notification
from app.delivery.repository import take_token
from app.delivery.worker import DeliveryWorker
from tests.helpers import FRIDAY, MONDAY, WEDNESDAY, absent_students, clock, event
from tests.world import World

URL = "/api/v1/attendance-events"
SECRET = "whsec_" + base64.b64encode(b"county-secret-0123456789").decode()
ENDPOINTS = ChannelEndpoints(
    sms_endpoint="http://sms.test/send",
    sms_sign="控辍保学",
    sms_templates={"default": "SMS_1"},
    case_url="https://kcbx.test/cases/{case_id}",
)
Handler = Callable[[httpx.Request], httpx.Response]


class Receivers:
    """Answers by host; records what each one got."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.got: dict[str, list[dict[str, Any]]] = {"hook": [], "wecom": [], "sms": []}
        self.answers: dict[str, list[httpx.Response]] = {"hook": [], "wecom": [], "sms": []}
        self.events: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host.split(".")[0]
        body = json.loads(request.content)
        if host == "hook":
            # The off-the-shelf verifier (raises on a bad signature or a stale timestamp).
            Webhook(SECRET).verify(request.content, dict(request.headers))
            self.events.add(body["id"])
        self.got[host].append(body)
        queued = self.answers[host]
        if queued:
            return queued.pop(0)
        return httpx.Response(200, json={"errcode": 0, "code": "OK"})


@pytest.fixture
def receivers(ctx: AppContext) -> Receivers:
    return Receivers(ctx)


@pytest.fixture
def worker(ctx: AppContext, receivers: Receivers) -> DeliveryWorker:
    client = httpx.AsyncClient(transport=httpx.MockTransport(receivers))
    return DeliveryWorker(ctx, client, ENDPOINTS)


async def configure(client: httpx.AsyncClient, world: World, routes: dict[str, list[str]]) -> None:
    school = world.ids["school_A"]
    r = await client.put(
        f"/api/v1/schools/{school}/channels/wecom_robot",
        json={"url": "http://wecom.test/cgi-bin/webhook/send?key=k"},
        headers=world.auth("principal"),
    )
    assert r.status_code == 200, r.text
    r = await client.put(
        f"/api/v1/schools/{school}/delivery",
        json={"routes": routes},
        headers=world.auth("principal"),
    )
    assert r.status_code == 200, r.text


async def subscribe(client: httpx.AsyncClient, world: World) -> None:
    r = await client.post(
        "/api/v1/webhook-subscriptions",
        json={
            "county_id": world.ids["county"],
            "url": "http://hook.test/in",
            "secret": SECRET,
            "events": ["alert.raised", "alert.escalated", "alert.withdrawn"],
        },
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 201, r.text


async def deliveries(ctx: AppContext) -> list[Delivery]:
    async with ctx.uow() as uow:
        return sorted(await uow.session.exec(select(Delivery)), key=lambda d: d.id or 0)


async def test_webhook_gets_each_event_once_signed(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    worker: DeliveryWorker,
    receivers: Receivers,
) -> None:
    await subscribe(client, world)
    await absent_students(client, world, "student_A1")
    await worker.tick()
    await worker.tick()
    assert len(receivers.got["hook"]) == 1
    [sent] = receivers.got["hook"]
    assert sent["type"] == "alert.raised"
    assert sent["data"]["level"] == "blue"
    assert "学生1" not in json.dumps(sent, ensure_ascii=False)  # names are masked
    r = await client.get(
        f"/api/v1/alerts/{sent['data']['alert_id']}/deliveries",
        headers=world.auth("principal"),
    )
    assert [(d["channel"], d["state"]) for d in r.json()] == [("webhook", "sent")]
    assert r.json()[0]["receipts"][0]["http_status"] == 200


async def test_retry_after_500_and_429_then_sent(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    worker: DeliveryWorker,
    receivers: Receivers,
) -> None:
    await subscribe(client, world)
    receivers.answers["hook"] = [
        httpx.Response(500),
        httpx.Response(429, headers={"Retry-After": "120"}),
    ]
    await absent_students(client, world, "student_A1")
    first = await worker.tick()
    assert first.retried == 1
    [d] = await deliveries(ctx)
    assert d.state == "pending" and d.next_attempt_at > clock(ctx).now
    clock(ctx).now = d.next_attempt_at
    assert (await worker.tick()).retried == 1
    [d] = await deliveries(ctx)
    assert d.next_attempt_at >= clock(ctx).now + timedelta(seconds=120)  # Retry-After honoured
    clock(ctx).now = d.next_attempt_at
    assert (await worker.tick()).sent == 1
    async with ctx.uow() as uow:
        statuses = [a.status for a in await uow.session.exec(select(DeliveryAttempt))]
    assert statuses == ["retry", "retry", "ok"]
    assert len(receivers.events) == 1


async def test_dead_letter_on_400_then_the_next_channel(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    worker: DeliveryWorker,
    receivers: Receivers,
) -> None:
    await configure(client, world, {"head_teacher": ["wecom_robot", "sms"]})
    receivers.answers["wecom"] = [httpx.Response(400, json={"errcode": 93000})]
    await absent_students(client, world, "student_A1")
    await worker.tick()
    robot, sms = await deliveries(ctx)
    assert (robot.channel, robot.state) == ("wecom_robot", "dead")
    assert robot.last_error
    assert (sms.channel, sms.state) == ("sms", "sent")
    [text] = receivers.got["sms"]
    assert text["template_id"] == "SMS_1"


async def test_many_alerts_at_once_go_to_a_robot_as_one_digest(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    worker: DeliveryWorker,
    receivers: Receivers,
) -> None:
    for n in range(30):
        await world.add_student(f"s{n}", "class_A1", 400 + n)
    await configure(client, world, {"head_teacher": ["wecom_robot"]})
    await absent_students(client, world, *[f"s{n}" for n in range(30)])
    result = await worker.tick()
    assert result.sent == 30
    assert len(receivers.got["wecom"]) == 1  # one digest, not thirty messages
    assert "30" in json.dumps(receivers.got["wecom"][0], ensure_ascii=False)


async def test_the_robot_rate_limit_postpones_the_rest(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    worker: DeliveryWorker,
    receivers: Receivers,
) -> None:
    wall = SimClock(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    worker.wall_clock = wall
    await configure(client, world, {"head_teacher": ["wecom_robot"]})
    key = "wecom_robot:school:" + str(world.ids["school_A"])
    async with ctx.uow() as uow:  # the robot's shared window is spent (by another process)
        for _ in range(20):
            taken = await take_token(
                uow.session, key, wall.now, capacity=20, period=timedelta(minutes=1)
            )
            assert taken is None
        await uow.commit()
    await absent_students(client, world, "student_A1")
    result = await worker.tick()
    assert (result.sent, result.postponed) == (0, 1)
    assert receivers.got["wecom"] == []
    [d] = await deliveries(ctx)
    # 20 a minute in any minute: the next slot is a minute after the first of the twenty.
    assert d.next_attempt_at == clock(ctx).now + timedelta(minutes=1)
    clock(ctx).now = d.next_attempt_at
    wall.now += timedelta(minutes=1)
    assert (await worker.tick()).sent == 1


async def test_quiet_hours_hold_blue_but_red_goes_and_folds_it(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    worker: DeliveryWorker,
    receivers: Receivers,
) -> None:
    await configure(client, world, {"head_teacher": ["wecom_robot"], "principal": ["wecom_robot"]})
    clock(ctx).now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 23:00 in Beijing
    await absent_students(client, world, "student_A1")
    await worker.tick()
    assert receivers.got["wecom"] == []  # blue waits for 07:00
    [blue] = await deliveries(ctx)
    assert blue.next_attempt_at == datetime(2026, 11, 24, 23, 0, tzinfo=UTC)
    # Two more days are recorded at once: the case goes red; red is sent at night.
    await absent_students(client, world, "student_A1", day=MONDAY)
    await absent_students(client, world, "student_A1", day=FRIDAY)
    await worker.tick()
    states = {(d.level, d.state) for d in await deliveries(ctx)}
    assert ("red", "sent") in states and ("blue", "pending") in states
    clock(ctx).now = blue.next_attempt_at  # 07:00: the held blue notice is due
    await worker.tick()
    states = {(d.level, d.state) for d in await deliveries(ctx)}
    assert ("blue", "folded") in states and ("blue", "sent") not in states
    assert len(receivers.got["wecom"]) == 1  # only the red notice went out


async def test_a_worker_killed_mid_send_leaves_no_duplicate(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    receivers: Receivers,
) -> None:
    await subscribe(client, world)
    await absent_students(client, world, "student_A1")

    def dies(request: httpx.Request) -> httpx.Response:
        # The worker stops dead while the request is in flight (as when its process is killed).
        raise asyncio.CancelledError

    wall = SimClock()  # real time, moved by hand: the receiver checks signatures on its clock
    dead_worker = DeliveryWorker(
        ctx, httpx.AsyncClient(transport=httpx.MockTransport(dies)), ENDPOINTS, wall_clock=wall
    )
    with pytest.raises(asyncio.CancelledError):
        await dead_worker.tick()
    [d] = await deliveries(ctx)
    assert d.state == "sending"  # leased by the dead worker
    fresh = DeliveryWorker(
        ctx,
        httpx.AsyncClient(transport=httpx.MockTransport(receivers)),
        ENDPOINTS,
        wall_clock=wall,
    )
    assert (await fresh.tick()).sent == 0  # the lease still holds
    clock(ctx).now += timedelta(days=7)  # a drill moves the simulation clock: still held
    assert (await fresh.tick()).sent == 0
    wall.now += fresh.lease_for(1) + timedelta(seconds=1)  # the lease runs out in real time
    assert (await fresh.tick()).sent == 1
    assert (await fresh.tick()).sent == 0
    assert len(receivers.events) == 1 and len(await deliveries(ctx)) == 1
    async with ctx.uow() as uow:
        notices = list(await uow.session.exec(select(Notification)))
    assert len(notices) == 1  # the in-app notice is stored once


async def test_county_systems_hear_when_a_case_opens_and_closes(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    worker: DeliveryWorker,
    receivers: Receivers,
) -> None:
    r = await client.post(
        "/api/v1/webhook-subscriptions",
        json={
            "county_id": world.ids["county"],
            "url": "http://hook.test/in",
            "secret": SECRET,
            "events": ["case.opened", "case.closed"],
        },
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 201
    await absent_students(client, world, "student_A1")
    await worker.tick()
    clock(ctx).now = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)  # Wednesday 08:30
    r = await client.post(
        URL,
        json=event(world.ids["student_A1"], day=WEDNESDAY),
        headers=world.auth("head_teacher"),
    )
    await worker.tick()
    await worker.tick()
    assert [e["type"] for e in receivers.got["hook"]] == ["case.opened", "case.closed"]
    assert receivers.got["hook"][1]["data"]["close_reason"] == "returned"
