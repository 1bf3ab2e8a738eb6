"""Delivery channel adapters and message templates.

Unit tests use ``httpx.MockTransport``; the receiver tests start a real HTTP server (uvicorn
serving a Starlette app on 127.0.0.1, a free port, in the test's event loop) that checks the
webhook signature and the 钉钉 signature on the receiving side. No other network.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.core.channel_settings import ChannelEndpoints
from app.delivery.channels import Channel, Outcome, SendResult, Target
from app.delivery.channels.base import (
    Message,
    classify_exception,
    classify_response,
    parse_retry_after,
    truncate_utf8,
)
from app.delivery.channels.config import build_channels, message_links
from app.delivery.channels.dingtalk import DingtalkRobot, dingtalk_sign, verify_sign
from app.delivery.channels.sms import TemplateSms
from app.delivery.channels.webhook import (
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookChannel,
    verify_signature,
)
from app.delivery.channels.wechat import (
    WechatSubscribe,
    WechatTemplate,
    WechatTokenCache,
    clip_value,
)
from app.delivery.channels.wecom import WecomRobot
from app.delivery.templates import (
    Links,
    Notice,
    format_due,
    mask_name,
    render,
    render_digest,
)
from app.delivery.wording import TOPICS, TemplateError
from app.errors import Invalid
from tests.fakes.server import serve as local_server

NOW = datetime(2024, 11, 25, 1, 5, tzinfo=UTC)  # 09:05 in Asia/Shanghai
SECRET = "whsec_" + base64.b64encode(b"a county's 32-byte webhook key!!").decode()
DING_SECRET = "SECtest0123456789"


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class Recorder:
    """A MockTransport handler answering from a list (the last answer repeats)."""

    answers: list[httpx.Response | Exception | Handler]
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests) - 1, len(self.answers) - 1)]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer(request)
        return answer

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))

    def body(self, i: int = -1) -> Any:
        return json.loads(self.requests[i].content)


def ok_json(body: dict[str, Any], status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def message(topic: str = "alert.raised", **overrides: Any) -> Message:
    notice = Notice(
        topic=topic,
        school="城关中学",
        class_name="七年级(2)班",
        student_name="张小明",
        level="red",
        reason="连续缺勤 3 个上学日",
        due_at=NOW + timedelta(hours=48),
        case_id=42,
        alert_id=7,
    )
    rendered = render(notice, links=Links(case_url="https://kcbx.example/cases/{case_id}"))
    msg = rendered.message(event_id="n-1:wecom", created_at=NOW)
    return replace(msg, **overrides) if overrides else msg


# --- classification ---------------------------------------------------------------------------


def test_classify_statuses_and_retry_after() -> None:
    req = httpx.Request("POST", "http://x/")
    assert classify_response(httpx.Response(204, request=req), NOW).outcome is Outcome.ok
    r500 = classify_response(httpx.Response(500, text="boom", request=req), NOW)
    assert (r500.outcome, r500.status, r500.retry_after) == (Outcome.retry, 500, None)
    assert "boom" not in (r500.error or "")  # receipts keep the status, never the body
    r429 = classify_response(httpx.Response(429, headers={"Retry-After": "30"}, request=req), NOW)
    assert (r429.outcome, r429.retry_after) == (Outcome.retry, 30.0)
    dated = classify_response(
        httpx.Response(503, headers={"Retry-After": "Mon, 25 Nov 2024 01:07:00 GMT"}, request=req),
        NOW,
    )
    assert (dated.outcome, dated.retry_after) == (Outcome.retry, 120.0)
    for status in (400, 401, 403, 404, 410, 422):
        got = classify_response(httpx.Response(status, request=req), NOW)
        assert got.outcome is Outcome.permanent, status
    moved = classify_response(
        httpx.Response(301, headers={"Location": "https://elsewhere/"}, request=req), NOW
    )
    assert moved.outcome is Outcome.permanent and "not followed" in (moved.error or "")
    assert parse_retry_after("soon", NOW) is None


def test_classify_exceptions() -> None:
    req = httpx.Request("POST", "http://x/")
    assert classify_exception(httpx.ReadTimeout("slow", request=req)).outcome is Outcome.retry
    assert classify_exception(httpx.ConnectError("refused", request=req)).outcome is (Outcome.retry)
    assert classify_exception(httpx.RemoteProtocolError("eof", request=req)).outcome is (
        Outcome.retry
    )
    assert classify_exception(httpx.UnsupportedProtocol("ftp", request=req)).outcome is (
        Outcome.permanent
    )
    assert classify_exception(httpx.InvalidURL("bad")).outcome is Outcome.permanent


def test_truncate_utf8_never_splits_a_character() -> None:
    text = "控辍保学" * 10
    cut = truncate_utf8(text, 20)
    assert len(cut.encode()) <= 20 and cut.endswith("…")
    assert truncate_utf8("short", 20) == "short"


async def test_every_adapter_is_a_channel() -> None:
    async with httpx.AsyncClient() as client:
        _check_adapters(client)


def _check_adapters(client: httpx.AsyncClient) -> None:
    tokens = WechatTokenCache(client, appid="a", secret="s")
    adapters: list[Channel] = [
        WebhookChannel(client),
        WecomRobot(client),
        DingtalkRobot(client),
        WechatSubscribe(client, tokens, templates={}),
        TemplateSms(client, endpoint="http://127.0.0.1/sms", sign_name="县教育局", templates={}),
    ]
    assert all(isinstance(a, Channel) for a in adapters)
    assert [a.name for a in adapters] == ["webhook", "wecom", "dingtalk", "wechat", "sms"]


# --- webhook ----------------------------------------------------------------------------------


async def test_webhook_signs_and_carries_the_event_id() -> None:
    rec = Recorder([httpx.Response(200)])
    async with rec.client() as client:
        channel = WebhookChannel(client, clock=Clock(), wall_clock=Clock())
        result = await channel.send(
            message(), Target(url="https://county.example/hook", secret=SECRET)
        )
    assert result.ok and result.status == 200
    req = rec.requests[0]
    body = json.loads(req.content)
    assert body["id"] == "n-1:wecom" == req.headers[ID_HEADER]
    assert body["type"] == "alert.raised"
    assert body["created_at"] == NOW.isoformat()
    assert body["data"]["student"] == "张*明" and body["data"]["case_id"] == 42
    assert "张小明" not in req.content.decode()
    stamp = req.headers[TIMESTAMP_HEADER]
    assert stamp == str(int(NOW.timestamp()))
    sig = req.headers[SIGNATURE_HEADER]
    # The Standard Webhooks reference library computes the same v1 signature.
    assert sig == Webhook(SECRET).sign("n-1:wecom", NOW, req.content.decode())
    headers = dict(req.headers)
    assert verify_signature(SECRET, headers, req.content, NOW)
    assert not verify_signature(SECRET, headers, req.content + b" ", NOW)
    other = "whsec_" + base64.b64encode(b"another county's 32-byte key!!!!").decode()
    assert not verify_signature(other, headers, req.content, NOW)
    assert not verify_signature(SECRET, headers, req.content, NOW + timedelta(minutes=6))
    assert not verify_signature(SECRET, {**headers, TIMESTAMP_HEADER: "yesterday"}, b"", NOW)


@pytest.mark.parametrize(
    ("answer", "outcome", "retry_after"),
    [
        (httpx.Response(500), Outcome.retry, None),
        (httpx.Response(502), Outcome.retry, None),
        (httpx.Response(429, headers={"Retry-After": "7"}), Outcome.retry, 7.0),
        (httpx.Response(400, text="bad"), Outcome.permanent, None),
        (httpx.Response(401), Outcome.permanent, None),
        (httpx.Response(410), Outcome.permanent, None),
        (httpx.ConnectTimeout("slow"), Outcome.retry, None),
        (httpx.ConnectError("refused"), Outcome.retry, None),
    ],
)
async def test_webhook_classification(
    answer: httpx.Response | Exception, outcome: Outcome, retry_after: float | None
) -> None:
    rec = Recorder([answer])
    async with rec.client() as client:
        result = await WebhookChannel(client, clock=Clock()).send(
            message(), Target(url="https://county.example/hook", secret=SECRET)
        )
    assert result.outcome is outcome
    assert result.retry_after == retry_after


async def test_webhook_refuses_to_send_unconfigured() -> None:
    rec = Recorder([httpx.Response(200)])
    async with rec.client() as client:
        channel = WebhookChannel(client)
        no_secret = await channel.send(message(), Target(url="https://county.example/hook"))
        bad_url = await channel.send(message(), Target(url="county.example/hook", secret=SECRET))
    assert no_secret.outcome is Outcome.permanent and no_secret.code == "not_configured"
    assert bad_url.outcome is Outcome.permanent
    assert rec.requests == []


# --- 企业微信 ----------------------------------------------------------------------------------


async def test_wecom_markdown_without_mobiles_text_with_mobiles() -> None:
    rec = Recorder([ok_json({"errcode": 0, "errmsg": "ok"})])
    async with rec.client() as client:
        robot = WecomRobot(client, base_url="http://wecom.test/cgi-bin/webhook/send")
        plain = await robot.send(message(), Target(key="k-1", userids=("zhangsan",)))
        mention = await robot.send(message(), Target(key="k-1", mobiles=("13800000000",)))
    assert plain.ok and mention.ok
    first = rec.requests[0]
    assert first.url.params["key"] == "k-1"
    assert str(first.url).startswith("http://wecom.test/cgi-bin/webhook/send?")
    md = rec.body(0)
    assert md["msgtype"] == "markdown"
    assert md["markdown"]["content"].endswith("<@zhangsan>")
    assert "张*明" in md["markdown"]["content"]
    text = rec.body(1)
    assert text["msgtype"] == "text"
    assert text["text"]["mentioned_mobile_list"] == ["13800000000"]
    assert "张*明" in text["text"]["content"]


@pytest.mark.parametrize(
    ("body", "outcome", "retry_after"),
    [
        ({"errcode": 45009, "errmsg": "api freq out of limit"}, Outcome.retry, 60.0),
        ({"errcode": -1, "errmsg": "system busy"}, Outcome.retry, None),
        ({"errcode": 93000, "errmsg": "invalid webhook url"}, Outcome.permanent, None),
        ({"errcode": 40008, "errmsg": "invalid message type"}, Outcome.permanent, None),
    ],
)
async def test_wecom_errcodes(
    body: dict[str, Any], outcome: Outcome, retry_after: float | None
) -> None:
    rec = Recorder([ok_json(body)])
    async with rec.client() as client:
        result = await WecomRobot(client).send(message(), Target(key="k"))
    assert (result.outcome, result.retry_after, result.code) == (
        outcome,
        retry_after,
        str(body["errcode"]),
    )


async def test_wecom_without_a_key_is_not_configured() -> None:
    async with Recorder([httpx.Response(200)]).client() as client:
        result = await WecomRobot(client).send(message(), Target())
    assert result.code == "not_configured"


# --- 钉钉 -------------------------------------------------------------------------------------


async def test_dingtalk_signs_and_mentions() -> None:
    rec = Recorder([ok_json({"errcode": 0, "errmsg": "ok"})])
    async with rec.client() as client:
        robot = DingtalkRobot(client, base_url="http://ding.test/robot/send", clock=Clock())
        result = await robot.send(
            message(), Target(key="tok", secret=DING_SECRET, mobiles=("13900000000",))
        )
    assert result.ok
    url = rec.requests[0].url
    assert url.params["access_token"] == "tok"
    assert url.params["timestamp"] == str(int(NOW.timestamp() * 1000))
    stamp = url.params["timestamp"]
    digest = hmac.new(DING_SECRET.encode(), f"{stamp}\n{DING_SECRET}".encode(), hashlib.sha256)
    expected = base64.b64encode(digest.digest()).decode()
    assert url.params["sign"] == expected == dingtalk_sign(DING_SECRET, stamp)
    assert f"sign={quote(expected, safe='')}" in str(url)
    assert verify_sign(DING_SECRET, url.params["timestamp"], url.params["sign"], NOW)
    assert not verify_sign("SECwrong", url.params["timestamp"], url.params["sign"], NOW)
    assert not verify_sign(
        DING_SECRET, url.params["timestamp"], url.params["sign"], NOW + timedelta(hours=2)
    )
    body = rec.body()
    assert body["msgtype"] == "markdown"
    assert body["at"] == {"atMobiles": ["13900000000"], "isAtAll": False}
    assert body["markdown"]["text"].endswith("@13900000000")
    assert body["markdown"]["title"].startswith("红色预警")


async def test_dingtalk_without_secret_sends_no_signature() -> None:
    rec = Recorder([ok_json({"errcode": 0})])
    async with rec.client() as client:
        await DingtalkRobot(client).send(message(), Target(key="tok"))
    assert "sign" not in rec.requests[0].url.params
    assert rec.requests[0].url.host == "oapi.dingtalk.com"  # the documented default


@pytest.mark.parametrize(
    ("answer", "outcome", "retry_after"),
    [
        (ok_json({"errcode": 130101, "errmsg": "send too fast"}), Outcome.retry, 600.0),
        (ok_json({"errcode": 410100, "errmsg": "send too fast"}), Outcome.retry, 600.0),
        (ok_json({"errcode": -1, "errmsg": "busy"}), Outcome.retry, None),
        (ok_json({"errcode": 310000, "errmsg": "sign not match"}), Outcome.permanent, None),
        (ok_json({"errcode": 300001, "errmsg": "token is not exist"}), Outcome.permanent, None),
        (httpx.Response(500), Outcome.retry, None),
        (httpx.Response(200, text="<html>gateway</html>"), Outcome.permanent, None),
    ],
)
async def test_dingtalk_errcodes(
    answer: httpx.Response, outcome: Outcome, retry_after: float | None
) -> None:
    async with Recorder([answer]).client() as client:
        result = await DingtalkRobot(client).send(message(), Target(key="t", secret=DING_SECRET))
    assert (result.outcome, result.retry_after) == (outcome, retry_after)


# --- WeChat subscribe messages ----------------------------------------------------------------

TEMPLATES = {
    "default": WechatTemplate(
        "tmpl-1",
        {"thing1": "student", "phrase2": "level", "thing3": "reason", "time4": "due_full"},
    )
}


@dataclass
class FakeWechat:
    """Token endpoint plus subscribe/send; send answers come from ``send_codes``."""

    send_codes: list[int]
    expires_in: int = 7200
    tokens_issued: int = 0
    sends: list[httpx.Request] = field(default_factory=list)
    token_requests: list[httpx.Request] = field(default_factory=list)
    valid: set[str] = field(default_factory=set)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path in ("/cgi-bin/token", "/cgi-bin/stable_token"):
            self.token_requests.append(request)
            self.tokens_issued += 1
            token = f"T{self.tokens_issued}"
            self.valid = {token}
            return ok_json({"access_token": token, "expires_in": self.expires_in})
        assert path == "/cgi-bin/message/subscribe/send"
        self.sends.append(request)
        code = self.send_codes[min(len(self.sends) - 1, len(self.send_codes) - 1)]
        if request.url.params["access_token"] not in self.valid:
            code = 40001
        return ok_json({"errcode": code, "errmsg": "ok" if code == 0 else "error"})

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self), base_url="http://wx.test")


def _wechat(
    fake: FakeWechat, client: httpx.AsyncClient, clock: Clock, *, stable: bool = True
) -> tuple[WechatSubscribe, WechatTokenCache]:
    tokens = WechatTokenCache(
        client,
        appid="wxapp",
        secret="wxsecret",
        base_url="http://wx.test",
        stable=stable,
        clock=clock,
    )
    channel = WechatSubscribe(
        client, tokens, templates=TEMPLATES, base_url="http://wx.test", clock=clock
    )
    return channel, tokens


async def test_wechat_token_is_cached_across_sends() -> None:
    fake, clock = FakeWechat([0]), Clock()
    async with fake.client() as client:
        channel, tokens = _wechat(fake, client, clock)
        first = await channel.send(message(), Target(openid="o-1"))
        second = await channel.send(message(), Target(openid="o-2"))
    assert first.ok and second.ok
    assert tokens.fetches == 1 and len(fake.token_requests) == 1
    token_req = fake.token_requests[0]
    assert token_req.method == "POST" and json.loads(token_req.content)["appid"] == "wxapp"
    sent = json.loads(fake.sends[0].content)
    assert sent["touser"] == "o-1" and sent["template_id"] == "tmpl-1"
    assert sent["page"] == "pages/case/index?id=42"
    assert sent["data"] == {
        "thing1": {"value": "张*明"},
        "phrase2": {"value": "红色预警"},
        "thing3": {"value": "连续缺勤 3 个上学日"},
        "time4": {"value": "2024年11月27日 09:05"},
    }
    assert sent["miniprogram_state"] == "formal" and sent["lang"] == "zh_CN"


async def test_wechat_token_is_refreshed_before_it_expires() -> None:
    fake, clock = FakeWechat([0], expires_in=7200), Clock()
    async with fake.client() as client:
        channel, tokens = _wechat(fake, client, clock, stable=False)
        await channel.send(message(), Target(openid="o-1"))
        clock.now = NOW + timedelta(seconds=7200 - 400)  # still more than 5 minutes left
        await channel.send(message(), Target(openid="o-1"))
        assert tokens.fetches == 1
        clock.now = NOW + timedelta(seconds=7200 - 200)  # inside the 5-minute margin
        result = await channel.send(message(), Target(openid="o-1"))
    assert result.ok and tokens.fetches == 2
    assert fake.token_requests[0].method == "GET"
    assert fake.token_requests[0].url.params["grant_type"] == "client_credential"
    assert fake.sends[-1].url.params["access_token"] == "T2"


async def test_wechat_invalid_token_is_refetched_once() -> None:
    fake, clock = FakeWechat([0]), Clock()
    async with fake.client() as client:
        channel, tokens = _wechat(fake, client, clock)
        await channel.send(message(), Target(openid="o-1"))
        fake.valid = set()  # e.g. another app fetched a new token and revoked ours
        result = await channel.send(message(), Target(openid="o-1"))
    assert result.ok
    assert tokens.fetches == 2
    assert [r.url.params["access_token"] for r in fake.sends] == ["T1", "T1", "T2"]


async def test_wechat_no_subscription_left_falls_back() -> None:
    fake = FakeWechat([43101])
    async with fake.client() as client:
        channel, _ = _wechat(fake, client, Clock())
        refused = await channel.send(message(), Target(openid="o-1"))
        no_openid = await channel.send(message(), Target())
    assert refused.outcome is Outcome.no_subscription and refused.code == "43101"
    assert no_openid.outcome is Outcome.no_subscription
    assert len(fake.sends) == 1


@pytest.mark.parametrize(
    ("code", "outcome"),
    [(40003, Outcome.permanent), (47003, Outcome.permanent), (-1, Outcome.retry)],
)
async def test_wechat_send_errcodes(code: int, outcome: Outcome) -> None:
    fake = FakeWechat([code])
    async with fake.client() as client:
        channel, _ = _wechat(fake, client, Clock())
        result = await channel.send(message(), Target(openid="o-1"))
    assert result.outcome is outcome and result.code == str(code)


async def test_wechat_bad_app_secret_is_permanent() -> None:
    rec = Recorder([ok_json({"errcode": 40125, "errmsg": "invalid appsecret"})])
    async with rec.client() as client:
        tokens = WechatTokenCache(client, appid="wxapp", secret="wrong", base_url="http://wx.test")
        channel = WechatSubscribe(client, tokens, templates=TEMPLATES, base_url="http://wx.test")
        result = await channel.send(message(), Target(openid="o-1"))
    assert result.outcome is Outcome.permanent and result.code == "40125"
    assert len(rec.requests) == 1  # no send without a token


async def test_wechat_without_template_is_not_configured() -> None:
    fake = FakeWechat([0])
    async with fake.client() as client:
        tokens = WechatTokenCache(client, appid="a", secret="s", base_url="http://wx.test")
        channel = WechatSubscribe(client, tokens, templates={}, base_url="http://wx.test")
        result = await channel.send(message(), Target(openid="o-1"))
    assert result.code == "not_configured" and fake.sends == []


def test_wechat_values_fit_their_types() -> None:
    assert clip_value("thing1", "一" * 25) == "一" * 19 + "…"
    assert clip_value("phrase2", "红色预警已撤回") == "红色预警已"
    assert clip_value("time3", "2024年11月25日 09:05") == "2024年11月25日 09:05"


# --- SMS --------------------------------------------------------------------------------------


def _sms(client: httpx.AsyncClient) -> TemplateSms:
    return TemplateSms(
        client,
        endpoint="http://sms.test/send",
        sign_name="某县教育局",
        templates={"alert.raised": "SMS_100", "default": "SMS_999"},
        template_params={"alert.raised": ["school", "student", "level", "due"]},
        api_key="key-1",
    )


async def test_sms_sends_the_template_and_params() -> None:
    rec = Recorder([ok_json({"code": "OK", "message": "OK", "request_id": "r1"})])
    async with rec.client() as client:
        result = await _sms(client).send(message(), Target(phone="138 0000 0000"))
        other = await _sms(client).send(message("report.overdue"), Target(phone="13800000000"))
    assert result.ok and other.ok
    req = rec.requests[0]
    assert req.headers["Authorization"] == "Bearer key-1"
    assert req.headers["Idempotency-Key"] == "n-1:wecom"
    assert rec.body(0) == {
        "phone_numbers": ["13800000000"],
        "sign_name": "某县教育局",
        "template_id": "SMS_100",
        "params": {
            "school": "城关中学",
            "student": "张*明",
            "level": "红色预警",
            "due": "11月27日 09:05",
        },
        "out_id": "n-1:wecom",
    }
    assert rec.body(1)["template_id"] == "SMS_999"
    assert "张小明" not in req.content.decode()


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (ok_json({"code": "isv.BUSINESS_LIMIT_CONTROL", "message": "触发流控"}), Outcome.retry),
        (ok_json({"code": "isv.MOBILE_NUMBER_ILLEGAL", "message": "号码错误"}), Outcome.permanent),
        (httpx.Response(503), Outcome.retry),
        (httpx.Response(401), Outcome.permanent),
        # a provider's body passed through unchanged is not read as success
        (ok_json({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "流控"}), Outcome.retry),
        (ok_json({"Code": "isv.SMS_TEMPLATE_ILLEGAL"}), Outcome.permanent),
        (ok_json({"Code": "OK"}), Outcome.ok),
        (ok_json({"Response": {"Error": {"Code": "AuthFailure"}}}), Outcome.permanent),
    ],
)
async def test_sms_classification(answer: httpx.Response, outcome: Outcome) -> None:
    async with Recorder([answer]).client() as client:
        result = await _sms(client).send(message(), Target(phone="13800000000"))
    assert result.outcome is outcome


async def test_sms_bad_input_is_permanent_without_a_call() -> None:
    rec = Recorder([ok_json({"code": "OK"})])
    async with rec.client() as client:
        bad_phone = await _sms(client).send(message(), Target(phone="call me"))
        no_phone = await _sms(client).send(message(), Target())
        no_template = await TemplateSms(
            client, endpoint="http://sms.test/send", sign_name="县", templates={}
        ).send(message(), Target(phone="13800000000"))
    assert bad_phone.outcome is Outcome.permanent
    assert no_phone.code == no_template.code == "not_configured"
    assert rec.requests == []


# --- a real local receiver --------------------------------------------------------------------


@dataclass
class Receiver:
    base: str
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    deliveries: int = 0
    robot_messages: list[dict[str, Any]] = field(default_factory=list)


def _receiver_app(state: dict[str, Any]) -> Starlette:
    async def hook(request: Request) -> Response:
        body = await request.body()
        try:  # the off-the-shelf verifier a county system would use
            event = Webhook(SECRET).verify(body, dict(request.headers))
        except WebhookVerificationError:
            return JSONResponse({"error": "bad signature"}, status_code=401)
        assert event["id"] == request.headers[ID_HEADER]
        state["deliveries"] += 1
        state["events"].setdefault(event["id"], event)  # dedupe on the event id
        return JSONResponse({"ok": True})

    async def flaky(request: Request) -> Response:
        state["flaky"] += 1
        if state["flaky"] == 1:
            return Response(status_code=500)
        if state["flaky"] == 2:
            return Response(status_code=429, headers={"Retry-After": "3"})
        return Response(status_code=400)

    async def robot(request: Request) -> Response:
        query = parse_qs(urlsplit(str(request.url)).query)
        token = query.get("access_token", [""])[0]
        stamp = query.get("timestamp", [""])[0]
        sign = query.get("sign", [""])[0]
        if token != "ding-token":
            return JSONResponse({"errcode": 300001, "errmsg": "token is not exist"})
        if not verify_sign(DING_SECRET, stamp, sign, datetime.now(UTC)):
            return JSONResponse({"errcode": 310000, "errmsg": "sign not match"})
        state["robot"].append(await request.json())
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    return Starlette(
        routes=[
            Route("/hook", hook, methods=["POST"]),
            Route("/flaky", flaky, methods=["POST"]),
            Route("/robot/send", robot, methods=["POST"]),
        ]
    )


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, dict[str, Any]]]:
    state: dict[str, Any] = {"events": {}, "deliveries": 0, "flaky": 0, "robot": []}
    async with local_server(_receiver_app(state)) as base:
        yield base, state


def _local_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(trust_env=False, timeout=5)


async def test_real_receiver_verifies_webhook_signature_and_dedupes(
    receiver: tuple[str, dict[str, Any]],
) -> None:
    base, state = receiver
    async with _local_client() as client:
        channel = WebhookChannel(client)  # the real clock: the receiver checks freshness
        target = Target(url=f"{base}/hook", secret=SECRET)
        first = await channel.send(message(), target)
        again = await channel.send(message(), target)  # a retry of the same notice
        wrong = await channel.send(
            message(), Target(url=f"{base}/hook", secret="whsec_" + "QUJD" * 8)
        )
    assert first.ok and again.ok
    assert state["deliveries"] == 2 and list(state["events"]) == ["n-1:wecom"]
    assert state["events"]["n-1:wecom"]["data"]["student"] == "张*明"
    assert wrong.outcome is Outcome.permanent and wrong.status == 401


async def test_real_receiver_retry_then_permanent(receiver: tuple[str, dict[str, Any]]) -> None:
    base, _ = receiver
    async with _local_client() as client:
        channel = WebhookChannel(client)
        target = Target(url=f"{base}/flaky", secret=SECRET)
        results = [await channel.send(message(), target) for _ in range(3)]
    assert [(r.outcome, r.status, r.retry_after) for r in results] == [
        (Outcome.retry, 500, None),
        (Outcome.retry, 429, 3.0),
        (Outcome.permanent, 400, None),
    ]


async def test_real_receiver_checks_the_dingtalk_signature(
    receiver: tuple[str, dict[str, Any]],
) -> None:
    base, state = receiver
    async with _local_client() as client:
        robot = DingtalkRobot(client, base_url=f"{base}/robot/send")
        good = await robot.send(
            message(), Target(key="ding-token", secret=DING_SECRET, mobiles=("13900000000",))
        )
        bad_secret = await robot.send(message(), Target(key="ding-token", secret="SECwrong"))
        bad_token = await robot.send(message(), Target(key="nope", secret=DING_SECRET))
    assert good.ok
    assert (bad_secret.outcome, bad_secret.code) == (Outcome.permanent, "310000")
    assert (bad_token.outcome, bad_token.code) == (Outcome.permanent, "300001")
    assert len(state["robot"]) == 1
    assert state["robot"][0]["at"]["atMobiles"] == ["13900000000"]


async def test_nothing_listening_is_a_retry() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    async with _local_client() as client:
        result = await WebhookChannel(client).send(
            message(), Target(url=f"http://127.0.0.1:{port}/hook", secret=SECRET)
        )
    assert result.outcome is Outcome.retry and result.code == "network"


# --- templates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张小明", "张*明"),
        ("欧阳小明", "欧**明"),
        ("张", "*"),
        ("", ""),
        (" 李 四 ", "李*"),
        ("阿依古丽·买买提", "阿******提"),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def _notice(**overrides: Any) -> Notice:
    values: dict[str, Any] = {
        "topic": "alert.raised",
        "school": "城关中学",
        "class_name": "七年级(2)班",
        "student_name": "欧阳小明",
        "level": "yellow",
        "reason": "连续缺勤 2 个上学日",
        "due_at": NOW,
        "timezone": "Asia/Shanghai",
        "case_id": 9,
    }
    values.update(overrides)
    return Notice(**values)


def test_render_chinese() -> None:
    links = Links(case_url="https://kcbx.example/cases/{case_id}")
    r = render(_notice(), links=links)
    assert r.title == "黄色预警:七年级(2)班 欧**明"
    for part in ("城关中学", "七年级(2)班", "欧**明", "黄色预警", "连续缺勤 2 个上学日"):
        assert part in r.markdown and part in r.text
    assert "11月25日 09:05" in r.text
    assert "[查看个案](https://kcbx.example/cases/9)" in r.markdown
    assert r.link == "https://kcbx.example/cases/9"
    assert r.page == "pages/case/index?id=9"
    assert "欧阳小明" not in r.markdown + r.text + json.dumps(dict(r.params), ensure_ascii=False)
    assert r.params["student"] == "欧**明" and r.params["due_full"] == "2024年11月25日 09:05"
    msg = r.message(event_id="n-9", created_at=NOW)
    assert (msg.event_type, msg.level, msg.page) == ("alert.raised", "yellow", r.page)


def test_render_english_in_the_school_timezone() -> None:
    r = render(_notice(timezone="Asia/Urumqi"), lang="en")
    assert r.title == "Yellow alert: 七年级(2)班 欧**明"
    assert "Due: 24 Nov 23:05" not in r.text
    assert "Due: 25 Nov 07:05" in r.text  # UTC+6
    assert "Yellow alert raised for 欧**明" in r.markdown
    assert r.link is None  # no web link configured
    assert format_due(NOW, "Asia/Shanghai") == "11月25日 09:05"
    assert format_due(NOW, "Asia/Shanghai", "en") == "25 Nov 09:05"


def test_every_topic_renders_in_both_languages() -> None:
    for topic in TOPICS:
        for lang in ("zh", "en"):
            r = render(_notice(topic=topic), lang=lang)
            assert r.title and r.markdown and r.text and "欧**明" in r.text, (topic, lang)
            assert "{" not in r.text, (topic, lang)


def test_unknown_topic_language_or_missing_level_is_a_clear_422() -> None:
    with pytest.raises(TemplateError) as unknown:
        render(_notice(topic="alert.exploded"))
    assert isinstance(unknown.value, Invalid) and unknown.value.status == 422
    assert unknown.value.problems[0].loc == ("topic",)
    assert "alert.exploded" in unknown.value.message
    with pytest.raises(TemplateError, match="language"):
        render(_notice(), lang="fr")
    with pytest.raises(TemplateError, match="level"):
        render(_notice(level=None))
    with pytest.raises(TemplateError, match="level"):
        render(_notice(level="purple"))
    with pytest.raises(TemplateError, match="timezone"):
        render(_notice(timezone="Mars/Olympus"))
    with pytest.raises(TemplateError, match="naive"):
        render(_notice(due_at=datetime(2024, 11, 25, 9, 5)))
    with pytest.raises(TemplateError):
        Links(case_url="https://kcbx.example/cases/{id}")
    # topics without a level render without one
    assert render(_notice(topic="report.overdue", level=None)).level is None


def test_digest_of_several_notices() -> None:
    notices = [
        _notice(level="blue", student_name="李四", case_id=1),
        _notice(level="red", student_name="张小明", case_id=2),
        _notice(topic="contact.overdue", level=None, student_name="王五", case_id=3),
    ]
    d = render_digest(notices, links=Links(inbox_url="https://kcbx.example/inbox"))
    assert d.topic == "digest" and d.level == "red"
    assert d.title == "城关中学:3 条控辍保学通知"
    lines = d.text.splitlines()
    assert "红色 1 · 黄色 0 · 蓝色 1" in lines
    assert lines[3].startswith("1. 预警 · 七年级(2)班 张*明 · 红色预警")  # most severe first
    assert "李*" in d.text and "王*" in d.text and "张小明" not in d.text
    assert d.params["count"] == "3" and d.link == "https://kcbx.example/inbox"
    many = render_digest([_notice(case_id=i) for i in range(25)], lang="en", max_items=20)
    assert "… and 5 more in the app" in many.text
    with pytest.raises(TemplateError):
        render_digest([])


# --- configuration ----------------------------------------------------------------------------


async def test_channel_endpoints_defaults_and_validation() -> None:
    default = ChannelEndpoints()
    assert default.wecom_base == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
    assert default.dingtalk_base == "https://oapi.dingtalk.com/robot/send"
    assert default.wechat_base == "https://api.weixin.qq.com"
    with pytest.raises(ValueError):
        ChannelEndpoints(wecom_base="not a url")
    with pytest.raises(ValueError):
        ChannelEndpoints(case_url="https://kcbx.example/cases")
    async with httpx.AsyncClient() as client:
        _check_build(default, client)


def _check_build(default: ChannelEndpoints, client: httpx.AsyncClient) -> None:
    assert set(build_channels(default, client)) == {"webhook", "wecom", "dingtalk"}
    full = ChannelEndpoints.model_validate(
        {
            "wechat_appid": "wx1",
            "wechat_secret": "s",
            "wechat_templates": {"default": {"template_id": "t", "fields": {"thing1": "student"}}},
            "sms_endpoint": "http://127.0.0.1:9/sms",
            "sms_sign": "某县教育局",
            "sms_templates": {"default": "SMS_1"},
            "case_url": "https://kcbx.example/cases/{case_id}",
        }
    )
    channels = build_channels(full, client)
    assert set(channels) == {"webhook", "wecom", "dingtalk", "wechat", "sms"}
    assert message_links(full).url(5) == "https://kcbx.example/cases/5"
    assert "s" not in repr(full.wechat_secret).replace("SecretStr", "")


def test_send_result_helpers() -> None:
    assert SendResult.success(200).ok
    assert not SendResult.retry("x").ok
    assert "secret" not in repr(Target(key="k", secret="secret"))
