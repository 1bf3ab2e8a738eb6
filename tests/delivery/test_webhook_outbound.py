"""County webhooks as a county system receives them (Standard Webhooks, verified with the
``standardwebhooks`` library at a real local receiver, secret rotation through the API), and
the outbound address rules: robot hosts, non-public addresses refused when configured and when
connecting (DNS rebinding), no redirects, receipts without response bodies."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlmodel import select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.context import AppContext
from app.core.channel_settings import OutboundPolicy
from app.db.models import ChannelTarget, Delivery
from app.delivery.channels import outbound
from app.delivery.channels.base import AddressRefused
from app.delivery.channels.outbound import IPAddress
from app.delivery.worker import DeliveryWorker
from app.jobs.runner import EngineRunner
from tests.fakes.server import serve
from tests.helpers import absent_students
from tests.world import World

SUBS = "/api/v1/webhook-subscriptions"


@dataclass
class Got:
    body: bytes
    headers: dict[str, str]


@dataclass
class CountyReceiver:
    """A county system: records what arrives; ``answer`` decides the reply."""

    got: list[Got] = field(default_factory=list)
    elsewhere: int = 0
    answer: str = "ok"

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.got.append(Got(await request.body(), dict(request.headers)))
            if self.answer == "redirect":
                return Response(status_code=302, headers={"Location": "/elsewhere"})
            if self.answer == "html":
                page = "<html>内部系统 internal stack trace: password=hunter2</html>"
                return Response(page, status_code=400, media_type="text/html")
            return JSONResponse({"ok": True})

        async def elsewhere(request: Request) -> Response:
            self.elsewhere += 1
            return JSONResponse({"ok": True})

        return Starlette(
            routes=[
                Route("/in", hook, methods=["POST"]),
                Route("/elsewhere", elsewhere, methods=["POST", "GET"]),
            ]
        )


@pytest.fixture
async def county() -> AsyncIterator[tuple[str, CountyReceiver]]:
    receiver = CountyReceiver()
    async with serve(receiver.app()) as base:
        yield base, receiver


def worker(
    ctx: AppContext,
    policy: OutboundPolicy | None = None,
    resolver: outbound.Resolver = outbound.resolve,
) -> DeliveryWorker:
    client = outbound.http_client(policy or ctx.settings.outbound, httpx.Timeout(5), resolver)
    return DeliveryWorker(ctx, client, ctx.settings.channels)


async def subscribe(
    client: httpx.AsyncClient, world: World, url: str, **extra: Any
) -> httpx.Response:
    body = {"county_id": world.ids["county"], "url": url, "events": ["alert.raised"], **extra}
    return await client.post(SUBS, json=body, headers=world.auth("county_admin"))


async def webhook_rows(ctx: AppContext) -> list[Delivery]:
    async with ctx.uow() as uow:
        rows = await uow.session.exec(select(Delivery).where(Delivery.channel == "webhook"))
        return sorted(rows, key=lambda d: d.id or 0)


async def test_a_county_system_verifies_with_the_standardwebhooks_library(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    county: tuple[str, CountyReceiver],
) -> None:
    base, receiver = county
    r = await subscribe(client, world, f"{base}/in")
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    listed = await client.get(SUBS, headers=world.auth("county_admin"))
    assert listed.json()[0]["secret"] is None  # shown once, at creation
    await absent_students(client, world, "student_A1")
    assert ctx.clock() < datetime.now(UTC)  # the simulation clock is a week behind
    await worker(ctx).tick()
    [got] = receiver.got
    # What a county system runs, with the library's default 5-minute tolerance on the real
    # clock: it passes only because the worker signs with the wall clock.
    event_body = Webhook(secret).verify(got.body, got.headers)
    assert event_body["type"] == "alert.raised" and event_body["id"] == got.headers["webhook-id"]
    assert abs(int(got.headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 60
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + base64.b64encode(b"x" * 32).decode()).verify(got.body, got.headers)


async def test_secret_rotation_signs_with_both_during_the_window(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    county: tuple[str, CountyReceiver],
) -> None:
    base, receiver = county
    old = "whsec_" + base64.b64encode(b"the county's first 32-byte key!!").decode()
    r = await subscribe(client, world, f"{base}/in", secret=old)
    sub_id = r.json()["id"]
    rotate = f"{SUBS}/{sub_id}/rotate-secret"
    assert (await client.post(rotate, json={}, headers=world.auth("principal"))).status_code == 404
    bad = await client.post(rotate, json={"secret": "nope"}, headers=world.auth("county_admin"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["body", "secret"]
    r = await client.post(rotate, json={"window_hours": 24}, headers=world.auth("county_admin"))
    assert r.status_code == 200, r.text
    new = r.json()["secret"]
    assert new.startswith("whsec_") and new != old and r.json()["rotation_ends"]
    await absent_students(client, world, "student_A1")
    w = worker(ctx)
    await w.tick()
    [got] = receiver.got
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(got.body, got.headers)  # a system not yet switched over
    Webhook(new).verify(got.body, got.headers)  # and one that has
    # The window closes early: from now on only the newest secret signs.
    r = await client.post(rotate, json={"window_hours": 0}, headers=world.auth("county_admin"))
    newest = r.json()["secret"]
    assert r.json()["rotation_ends"] is None
    await world.add_student("second", "class_A1", 77)
    await absent_students(client, world, "second")
    await w.tick()
    last = receiver.got[-1]
    assert len(last.headers["webhook-signature"].split(" ")) == 1
    Webhook(newest).verify(last.body, last.headers)
    for retired in (old, new):
        with pytest.raises(WebhookVerificationError):
            Webhook(retired).verify(last.body, last.headers)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/in",
        "http://localhost/in",
        "http://10.1.2.3/in",
        "http://192.168.1.10/in",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/in",
        "http://[::1]/in",
        "http://[::ffff:127.0.0.1]/in",
        "http://[2002:7f00:1::]/in",  # 6to4 around 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/in",  # NAT64 around 169.254.169.254
        "http://2130706433/in",  # 127.0.0.1 as one number
        "http://0.0.0.0/in",
        "http://user:pw@county.example/in",
    ],
)
async def test_webhooks_to_non_public_addresses_are_422_and_nothing_is_stored(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
) -> None:
    monkeypatch.setattr(ctx.settings, "outbound", OutboundPolicy())  # production default
    r = await subscribe(client, world, url)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["body", "url"]
    assert (await client.get(SUBS, headers=world.auth("county_admin"))).json() == []


async def test_an_allowed_network_is_accepted(
    ctx: AppContext, world: World, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = OutboundPolicy(allow_networks=["10.8.0.0/16"])  # type: ignore[list-item]
    monkeypatch.setattr(ctx.settings, "outbound", policy)
    assert (await subscribe(client, world, "http://10.8.3.4/in")).status_code == 201
    assert (await subscribe(client, world, "http://10.9.3.4/in")).status_code == 422


@pytest.mark.parametrize(
    ("channel", "url", "secret"),
    [
        ("wecom_robot", "https://evil.example/cgi-bin/webhook/send?key=k", None),
        (
            "wecom_robot",
            "https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=k",
            None,
        ),
        ("wecom_robot", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", None),
        ("wecom_robot", "https://qyapi.weixin.qq.com:8443/cgi-bin/webhook/send?key=k", None),
        ("wecom_robot", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", None),
        ("wecom_robot", "https://oapi.dingtalk.com/robot/send?key=k", None),
        ("dingtalk_robot", "https://oapi.dingtalk.com/robot/send", "SECsecret0123"),
        ("dingtalk_robot", "https://127.0.0.2/robot/send?access_token=t", "SECsecret0123"),
    ],
)
async def test_robot_urls_off_the_platform_host_are_422_and_nothing_is_stored(
    world: World, client: httpx.AsyncClient, channel: str, url: str, secret: str | None
) -> None:
    school = world.ids["school_A"]
    body: dict[str, Any] = {"url": url} | ({"secret": secret} if secret else {})
    r = await client.put(
        f"/api/v1/schools/{school}/channels/{channel}", json=body, headers=world.auth("principal")
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["body", "url"]
    got = await client.get(f"/api/v1/schools/{school}/delivery", headers=world.auth("principal"))
    assert got.json()["configured_channels"] == []


async def test_robot_urls_on_the_platform_hosts_are_accepted(
    world: World, client: httpx.AsyncClient
) -> None:
    school = world.ids["school_A"]
    for channel, body in (
        ("wecom_robot", {"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}),
        (
            "dingtalk_robot",
            {"url": "https://oapi.dingtalk.com/robot/send?access_token=t", "secret": "SEC0123456"},
        ),
    ):
        r = await client.put(
            f"/api/v1/schools/{school}/channels/{channel}",
            json=body,
            headers=world.auth("principal"),
        )
        assert r.status_code == 200, r.text


async def test_a_name_that_rebinds_to_loopback_is_refused_when_connecting(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    county: tuple[str, CountyReceiver],
) -> None:
    base, receiver = county
    port = base.rsplit(":", 1)[1]
    # Configured while the name does not resolve (or resolves to a public address) …
    r = await subscribe(client, world, f"http://county-hook.test:{port}/in")
    assert r.status_code == 201, r.text
    await absent_students(client, world, "student_A1")

    async def rebinding(host: str, port: int) -> list[IPAddress]:
        # … and at send time it answers with the loopback address.
        return [outbound.ip_literal("127.0.0.1")] if host == "county-hook.test" else []  # type: ignore[list-item]

    await worker(ctx, OutboundPolicy(), rebinding).tick()
    assert receiver.got == []
    [row] = await webhook_rows(ctx)
    assert row.state == "dead" and "address refused" in (row.last_error or "")
    r = await client.get(
        f"/api/v1/alerts/{row.alert_id}/deliveries", headers=world.auth("principal")
    )
    assert r.json()[0]["receipts"][0]["code"] == "address_refused"


async def test_redirects_are_not_followed(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    county: tuple[str, CountyReceiver],
) -> None:
    base, receiver = county
    receiver.answer = "redirect"
    assert (await subscribe(client, world, f"{base}/in")).status_code == 201
    await absent_students(client, world, "student_A1")
    await worker(ctx).tick()
    assert len(receiver.got) == 1 and receiver.elsewhere == 0
    [row] = await webhook_rows(ctx)
    assert row.state == "dead" and "redirect not followed" in (row.last_error or "")


async def test_receipts_keep_the_status_not_the_receivers_page(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    county: tuple[str, CountyReceiver],
) -> None:
    base, receiver = county
    receiver.answer = "html"
    assert (await subscribe(client, world, f"{base}/in")).status_code == 201
    await absent_students(client, world, "student_A1")
    await worker(ctx).tick()
    [row] = await webhook_rows(ctx)
    r = await client.get(
        f"/api/v1/alerts/{row.alert_id}/deliveries", headers=world.auth("principal")
    )
    [shown] = r.json()
    assert shown["state"] == "dead"
    assert shown["last_error"] == "HTTP 400 Bad Request"
    assert shown["receipts"][0]["http_status"] == 400
    assert "hunter2" not in r.text and "internal" not in r.text


async def test_a_stored_robot_off_the_platform_host_is_refused_at_send_time(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    school = world.ids["school_A"]
    r = await client.put(
        f"/api/v1/schools/{school}/channels/wecom_robot",
        json={"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"},
        headers=world.auth("principal"),
    )
    assert r.status_code == 200
    routes = {"routes": {"head_teacher": ["wecom_robot"]}}
    r = await client.put(
        f"/api/v1/schools/{school}/delivery", json=routes, headers=world.auth("principal")
    )
    assert r.status_code == 200
    async with ctx.uow() as uow:  # a row from before the rule, or edited by hand
        row = (await uow.session.exec(select(ChannelTarget))).one()
        row.url = "https://collector.example/cgi-bin/webhook/send?key=k"
        await uow.commit()
    await absent_students(client, world, "student_A1")
    await worker(ctx).tick()
    async with ctx.uow() as uow:
        [d] = list(await uow.session.exec(select(Delivery)))
    assert d.state == "dead" and "collector.example" in (d.last_error or "")


async def test_the_engines_client_is_the_guarded_one(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch, county: tuple[str, CountyReceiver]
) -> None:
    base, receiver = county
    monkeypatch.setattr(ctx.settings, "outbound", OutboundPolicy())  # production default
    runner = EngineRunner(ctx)
    try:
        with pytest.raises(AddressRefused):
            await runner.client.post(f"{base}/in", content=b"{}")
        assert not runner.client.follow_redirects
    finally:
        await runner.client.aclose()
    assert receiver.got == []
