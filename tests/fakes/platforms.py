"""Contract fakes of the platforms we deliver to: real HTTP servers on 127.0.0.1 (a Starlette
app served by uvicorn on a free port, in the test's event loop), each enforcing the platform's
*published* rules and answering with its documented error codes. They are written from the
platforms' documentation, not from what our adapters send:

* 企业微信 group robot — developer.work.weixin.qq.com/document/path/91770 (群机器人配置说明):
  ``POST /cgi-bin/webhook/send?key=…``; ``key`` missing or unknown → 93000 (invalid webhook
  url); ``msgtype`` text (``text.content`` required, at most 2048 bytes UTF-8) or markdown
  (``markdown.content`` at most 4096 bytes); an over-long content → 40058; an empty one →
  44004; unknown msgtype → 40008; at most 20 messages a minute per robot → 45009.
* 钉钉 custom robot — open.dingtalk.com/document/robots/custom-robot-access and
  …/customize-robot-security-settings: ``POST /robot/send?access_token=…``; an unknown or
  missing token → 300001 (token is not exist); with 加签 the query carries ``timestamp`` (ms,
  within one hour of the server's time) and ``sign`` = urlEncode(base64(HmacSHA256(key=secret,
  timestamp + "\\n" + secret))) → otherwise 310000; at most 20 messages a minute → 130101
  (send too fast); markdown needs ``title`` and ``text``.
* WeChat mini-program — developers.weixin.qq.com …/subscribe-message/subscribeMessage.send and
  …/mp-access-token/getStableAccessToken: ``POST /cgi-bin/stable_token`` (``grant_type``
  client_credential, ``appid``, ``secret``; 40013 bad appid, 40125 bad secret) gives
  ``access_token`` and ``expires_in``; ``POST /cgi-bin/message/subscribe/send?access_token=…``
  with an unknown token → 40001, an expired one → 42001; ``touser``/``template_id``/``data``
  required (40003 bad openid, 40037 bad template); every keyword of the template present with
  a non-empty value that fits its type (订阅消息参数值内容限制说明: ``thing`` ≤ 20 characters,
  ``number`` ≤ 32 digits, ``letter`` ≤ 32 letters, ``symbol`` ≤ 5, ``character_string`` ≤ 32
  letters/digits/symbols, ``time`` a time such as ``2026年9月1日 08:00``, ``date`` a date,
  ``phone_number`` ≤ 17, ``car_number`` ≤ 8, ``name`` ≤ 10 characters, ``phrase`` ≤ 5
  Chinese characters only) → otherwise 47003 naming the keyword; no one-time subscription left
  for (openid, template) → 43101.

Rate limits count on the real clock (a platform knows nothing of our simulation clock).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def _err(code: int, message: str) -> JSONResponse:
    return JSONResponse({"errcode": code, "errmsg": message})


class _Window:
    """At most ``limit`` requests per ``seconds`` per key, on the real (monotonic) clock."""

    def __init__(self, limit: int = 20, seconds: float = 60.0) -> None:
        self.limit = limit
        self.seconds = seconds
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        seen = self._seen[key]
        while seen and now - seen[0] >= self.seconds:
            seen.popleft()
        if len(seen) >= self.limit:
            return False
        seen.append(now)
        return True


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


# --- 企业微信 group robot ---------------------------------------------------------------------

WECOM_TEXT_MAX = 2048
WECOM_MARKDOWN_MAX = 4096


@dataclass
class WecomFake:
    keys: set[str]
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    refused: list[tuple[int, str]] = field(default_factory=list)
    window: _Window = field(default_factory=_Window)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/cgi-bin/webhook/send", self.send, methods=["POST"])])

    def _refuse(self, code: int, message: str) -> JSONResponse:
        self.refused.append((code, message))
        return _err(code, message)

    async def send(self, request: Request) -> Response:
        key = request.query_params.get("key", "")
        if key not in self.keys:
            return self._refuse(93000, "invalid webhook url")
        body = await _json(request)
        if not isinstance(body, dict):
            return self._refuse(40035, "invalid json")
        kind = body.get("msgtype")
        if kind not in ("text", "markdown"):
            return self._refuse(40008, "invalid message type")
        part = body.get(kind)
        content = part.get("content") if isinstance(part, dict) else None
        if not isinstance(content, str) or not content:
            return self._refuse(44004, "empty content")
        limit = WECOM_TEXT_MAX if kind == "text" else WECOM_MARKDOWN_MAX
        if len(content.encode("utf-8")) > limit:
            return self._refuse(40058, f"content exceed max length {limit}")
        if not self.window.allow(key):
            return self._refuse(45009, "api freq out of limit")
        self.messages[key].append(body)
        return _err(0, "ok")


# --- 钉钉 custom robot ------------------------------------------------------------------------

DING_TOLERANCE_MS = 3600 * 1000


def ding_expected_sign(secret: str, timestamp: str) -> str:
    """The documented recipe, URL-encoded as the documentation's own sample does."""
    string_to_sign = f"{timestamp}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


@dataclass
class DingtalkFake:
    robots: dict[str, str]  # access_token → 加签 secret
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    refused: list[tuple[int, str]] = field(default_factory=list)
    window: _Window = field(default_factory=_Window)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/robot/send", self.send, methods=["POST"])])

    def _refuse(self, code: int, message: str) -> JSONResponse:
        self.refused.append((code, message))
        return _err(code, message)

    async def send(self, request: Request) -> Response:
        token = request.query_params.get("access_token", "")
        secret = self.robots.get(token)
        if secret is None:
            return self._refuse(300001, "token is not exist")
        stamp = request.query_params.get("timestamp", "")
        # The raw query: ``sign`` must arrive URL-encoded (a bare base64 "+" reads as a space).
        raw = dict(part.split("=", 1) for part in request.url.query.split("&") if "=" in part).get(
            "sign", ""
        )
        try:
            skew = abs(time.time() * 1000 - int(stamp))
        except ValueError:
            return self._refuse(310000, "sign not match, timestamp missing")
        if skew > DING_TOLERANCE_MS:
            return self._refuse(310000, "sign not match, timestamp is more than 1 hour off")
        if not hmac.compare_digest(
            _unquote_upper(raw), _unquote_upper(ding_expected_sign(secret, stamp))
        ):
            return self._refuse(310000, "sign not match")
        body = await _json(request)
        if not isinstance(body, dict) or body.get("msgtype") not in ("text", "markdown"):
            return self._refuse(40035, "缺少参数 msgtype")
        if body["msgtype"] == "markdown":
            md = body.get("markdown") or {}
            if not md.get("title") or not md.get("text"):
                return self._refuse(40035, "缺少参数 markdown.title/markdown.text")
        if not self.window.allow(token):
            return self._refuse(130101, "send too fast, exceed 20 times per minute")
        self.messages[token].append(body)
        return _err(0, "ok")


def _unquote_upper(value: str) -> str:
    # Percent-escapes compare case-insensitively (%2B and %2b are the same byte).
    return re.sub(r"%[0-9a-fA-F]{2}", lambda m: m.group(0).upper(), value)


# --- WeChat mini-program subscribe messages --------------------------------------------------

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"
_TIME = re.compile(
    r"^(\d{4}年\d{1,2}月\d{1,2}日( \d{1,2}:\d{2}(:\d{2})?)?|\d{4}-\d{1,2}-\d{1,2}( \d{1,2}:\d{2})?"
    r"|\d{1,2}:\d{2})$"
)
_DATE = re.compile(r"^(\d{4}年\d{1,2}月\d{1,2}日|\d{4}-\d{1,2}-\d{1,2})$")


def keyword_problem(key: str, value: object) -> str | None:
    """Why WeChat would refuse ``value`` for the keyword ``key`` (thing1, time4…), or None."""
    kind = key.rstrip("0123456789")
    if not isinstance(value, str) or value == "":
        return "empty"
    n = len(value)
    rules: dict[str, bool] = {
        "thing": n <= 20,
        "number": n <= 32 and re.fullmatch(r"[0-9]+(\.[0-9]+)?", value) is not None,
        "letter": n <= 32 and re.fullmatch(r"[A-Za-z]+", value) is not None,
        "symbol": n <= 5 and re.fullmatch(r"[^0-9A-Za-z" + _CJK + r"\s]+", value) is not None,
        "character_string": n <= 32 and re.fullmatch(r"[\x21-\x7e]+", value) is not None,
        "time": _TIME.fullmatch(value) is not None,
        "date": _DATE.fullmatch(value) is not None,
        "amount": re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?元?", value) is not None,
        "phone_number": n <= 17 and re.fullmatch(r"[0-9+\-() ]+", value) is not None,
        "car_number": n <= 8,
        "name": n <= 10,
        "phrase": n <= 5 and re.fullmatch(f"[{_CJK}]+", value) is not None,
    }
    if kind not in rules:
        return f"unknown keyword type {kind!r}"
    return None if rules[kind] else f"{kind} value {value!r} breaks the rule"


@dataclass
class WechatFake:
    appid: str
    secret: str
    templates: dict[str, list[str]]  # template id → its keywords
    subscriptions: dict[tuple[str, str], int] = field(default_factory=dict)  # (openid, tmpl)
    expires_in: int = 7200
    tokens: dict[str, float] = field(default_factory=dict)  # token → expiry (monotonic)
    issued: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/cgi-bin/stable_token", self.stable_token, methods=["POST"]),
                Route("/cgi-bin/message/subscribe/send", self.send, methods=["POST"]),
            ]
        )

    def expire_all(self) -> None:
        """As if two hours had passed on WeChat's side: every token is expired (42001)."""
        self.tokens = dict.fromkeys(self.tokens, 0.0)

    def revoke_all(self) -> None:
        """As if another client forced a refresh: old tokens are simply invalid (40001)."""
        self.tokens.clear()

    def _refuse(self, code: int, message: str) -> JSONResponse:
        self.refused.append((code, message))
        return _err(code, message)

    async def stable_token(self, request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, dict) or body.get("grant_type") != "client_credential":
            return self._refuse(40002, "invalid grant_type")
        if body.get("appid") != self.appid:
            return self._refuse(40013, "invalid appid")
        if body.get("secret") != self.secret:
            return self._refuse(40125, "invalid appsecret")
        live = [t for t, until in self.tokens.items() if until > time.monotonic()]
        if live and not body.get("force_refresh"):
            token = live[-1]
        else:
            self.issued += 1
            token = f"ACCESS_TOKEN_{self.issued}"
            self.tokens[token] = time.monotonic() + self.expires_in
        left = int(self.tokens[token] - time.monotonic())
        return JSONResponse({"access_token": token, "expires_in": left})

    async def send(self, request: Request) -> Response:
        token = request.query_params.get("access_token", "")
        if token not in self.tokens:
            return self._refuse(40001, "invalid credential, access_token is invalid")
        if self.tokens[token] <= time.monotonic():
            return self._refuse(42001, "access_token expired")
        body = await _json(request)
        if not isinstance(body, dict):
            return self._refuse(47001, "data format error")
        openid = body.get("touser")
        if not isinstance(openid, str) or not openid:
            return self._refuse(40003, "invalid openid")
        template = body.get("template_id")
        keywords = self.templates.get(template) if isinstance(template, str) else None
        if keywords is None:
            return self._refuse(40037, "invalid template_id")
        data = body.get("data")
        if not isinstance(data, dict):
            return self._refuse(47003, "argument invalid! data is empty")
        for key in keywords:
            item = data.get(key)
            value = item.get("value") if isinstance(item, dict) else None
            problem = keyword_problem(key, value)
            if problem is not None:
                return self._refuse(47003, f"argument invalid! data.{key}.value {problem}")
        left = self.subscriptions.get((openid, template), 0)
        if left <= 0:
            return self._refuse(43101, "user refuse to accept the msg")
        self.subscriptions[(openid, template)] = left - 1
        self.sent.append(body)
        return _err(0, "ok")
