"""WeChat mini-program subscribe messages (``subscribeMessage.send``).

``POST {base}/cgi-bin/message/subscribe/send?access_token=…`` with ``touser`` (openid),
``template_id``, ``page`` (the mini-program path to open), ``data`` (``{"thing1":
{"value": …}, …}``), ``miniprogram_state`` and ``lang``. Which template and which message
param fills which template key is configuration (``WechatTemplate`` per topic, ``default``
as fallback); values are cut to WeChat's per-type limits (``thing`` 20 characters, ``name``
10, ``phrase`` 5, ``character_string``/``number``/``letter`` 32, ``phone_number`` 17,
``car_number`` 8).

The access token comes from ``/cgi-bin/stable_token`` (default: one token shared by every
process of the app, so replicas do not invalidate each other's) or ``/cgi-bin/token``. It is
cached with its ``expires_in`` and fetched again ``refresh_margin`` before it expires; a send
answered 40001/40014/42001 (token invalid or expired) drops the cached token, fetches a new
one and sends once more.

Send answers: 0 ok; 43101 (the user refused, or their one-time subscription is used up) →
``no_subscription`` (the worker goes on to the next channel; so does a target without an
openid); -1 (busy), 45009 / 45011 (frequency limits) retry; anything else is permanent —
40003 (bad openid), 40037 (bad template id), 47003 (data does not fit the template), 41030
(bad page), …. A token that cannot be fetched because of the app's credentials (40013 bad
appid, 40125 bad secret, 40164 IP not allowed) is permanent; busy or throttled, retry.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from app.core.channel_settings import VALUE_LIMITS, WECHAT_BASE
from app.delivery.channels.base import (
    Clock,
    Message,
    SendResult,
    Target,
    classify_errcode,
    not_configured,
    read_json,
    request,
    utc_now,
)
from app.domain.calendar import DEFAULT_TIMEZONE

DEFAULT_BASE = WECHAT_BASE
TOKEN_INVALID_CODES = frozenset({"40001", "40014", "42001"})
SEND_RETRY_CODES = frozenset({"-1", "45009", "45011"})
TOKEN_RETRY_CODES = frozenset({"-1", "45009", "45011"})
NO_SUBSCRIPTION_CODES = frozenset({"43101"})
DEFAULT_REFRESH_MARGIN = timedelta(minutes=5)
DEFAULT_EXPIRES_IN = 7200


@dataclass(frozen=True, slots=True)
class WechatTemplate:
    """A subscribe-message template: its id, and which message param fills each data key,
    e.g. ``{"thing1": "student", "phrase2": "level", "thing3": "reason", "time4":
    "due_full"}`` (see ``app.delivery.templates`` for the params every message carries)."""

    template_id: str
    fields: Mapping[str, str] = field(default_factory=dict)


class TokenError(Exception):
    """The access token could not be had; ``result`` says whether to retry."""

    def __init__(self, result: SendResult) -> None:
        super().__init__(result.error or "access token unavailable")
        self.result = result


class WechatTokenCache:
    """One app's access token, cached until ``refresh_margin`` before it expires (or half its
    lifetime, for a token that lives shorter than twice the margin)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        appid: str,
        secret: str,
        base_url: str = DEFAULT_BASE,
        stable: bool = True,
        refresh_margin: timedelta = DEFAULT_REFRESH_MARGIN,
        clock: Clock = utc_now,
    ) -> None:
        self._client = client
        self._appid = appid
        self._secret = secret
        self._base = base_url.rstrip("/")
        self._stable = stable
        self._margin = refresh_margin
        self._clock = clock
        self._token: str | None = None
        self._refresh_at: datetime | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0  # how many times a token was fetched (for health and tests)

    @property
    def configured(self) -> bool:
        return bool(self._appid and self._secret)

    def fresh(self, now: datetime) -> bool:
        return self._token is not None and self._refresh_at is not None and now < self._refresh_at

    def invalidate(self, token: str | None = None) -> None:
        """Forget the cached token (only if it is still ``token``, when given)."""
        if token is None or token == self._token:
            self._token = None
            self._refresh_at = None

    async def get(self) -> str:
        if self.fresh(self._clock()) and self._token is not None:
            return self._token
        async with self._lock:  # concurrent senders wait for one fetch
            if self.fresh(self._clock()) and self._token is not None:
                return self._token
            return await self._fetch()

    async def _fetch(self) -> str:
        if not self.configured:
            raise TokenError(not_configured("WeChat appid and secret"))
        if self._stable:
            answer = await request(
                self._client,
                "POST",
                f"{self._base}/cgi-bin/stable_token",
                json_body={
                    "grant_type": "client_credential",
                    "appid": self._appid,
                    "secret": self._secret,
                    "force_refresh": False,
                },
            )
        else:
            answer = await request(
                self._client,
                "GET",
                f"{self._base}/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self._appid,
                    "secret": self._secret,
                },
            )
        if isinstance(answer, SendResult):
            raise TokenError(answer)
        now = self._clock()
        result = classify_errcode(answer, now, retry_codes=TOKEN_RETRY_CODES)
        if not result.ok:
            raise TokenError(result)
        body = read_json(answer) or {}
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise TokenError(
                SendResult.permanent("token answer without access_token", status=answer.status_code)
            )
        expires_in = body.get("expires_in", DEFAULT_EXPIRES_IN)
        seconds = expires_in if isinstance(expires_in, int) and expires_in > 0 else 0
        self._token = token
        lifetime = timedelta(seconds=seconds or DEFAULT_EXPIRES_IN)
        self._refresh_at = now + max(lifetime - self._margin, lifetime / 2)
        self.fetches += 1
        return token


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]")
_TIME = re.compile(r"[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日( [0-9]{1,2}:[0-9]{2})?")
_DATE = re.compile(r"[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日")
# A keyword may never be empty (47003): what goes in when the notice has no such value.
PHRASE_FALLBACK = "待处理"
THING_FALLBACK = "无"
CHARACTER_FALLBACK = "-"


def clip_value(key: str, value: str) -> str:
    """``value`` made to fit the keyword's type: cut to its length, and for ``phrase`` (Chinese
    characters only) and ``character_string`` / ``letter`` / ``number`` the characters the type
    does not allow are dropped."""
    kind = key.rstrip("0123456789")
    if kind == "phrase":
        value = "".join(_CJK.findall(value))
    elif kind == "character_string":
        value = "".join(_PRINTABLE_ASCII.findall(value))
    elif kind == "letter":
        value = "".join(c for c in value if c.isascii() and c.isalpha())
    elif kind == "number":
        value = "".join(c for c in value if c.isascii() and c.isdigit())
    limit = VALUE_LIMITS.get(kind)
    if limit is None or len(value) <= limit:
        return value
    if kind == "thing":
        return value[: limit - 1] + "…"
    return value[:limit]


def keyword_value(key: str, param: str, message: Message) -> str:
    """The value for one template keyword: the message param it is mapped to, fitted to the
    keyword's type, and never empty — a notice without a level or a due time still gets a
    valid ``phrase`` (its topic, or 待处理) and ``time`` (when the notice was raised)."""
    kind = key.rstrip("0123456789")
    value = clip_value(key, message.params.get(param, ""))
    if kind == "time" and not _TIME.fullmatch(value):
        value = ""  # not a time WeChat reads: the notice's own time instead
    if kind == "date" and not _DATE.fullmatch(value):
        value = ""
    if value:
        return value
    if kind in ("time", "date"):
        when = message.params.get("at_full") or format_wechat_time(message.created_at)
        return when.split(" ")[0] if kind == "date" else when
    if kind == "phrase":
        topic = message.params.get("topic", "")
        chinese = "".join(_CJK.findall(topic))
        return chinese if chinese == topic and 0 < len(chinese) <= 5 else PHRASE_FALLBACK
    if kind == "number":
        return "0"
    if kind in ("character_string", "letter", "symbol"):
        return CHARACTER_FALLBACK if kind != "letter" else "NA"
    return clip_value(key, message.params.get("topic", "")) or THING_FALLBACK


# Only for a message rendered without ``at_full`` (which the templates write in the school's
# zone); the channel is built without settings, so the pure default stands in.
def format_wechat_time(when: datetime, tz: str = DEFAULT_TIMEZONE) -> str:
    local = when.astimezone(ZoneInfo(tz))
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def build_payload(
    message: Message,
    openid: str,
    template: WechatTemplate,
    *,
    miniprogram_state: str,
    lang: str,
) -> dict[str, object]:
    data = {
        key: {"value": keyword_value(key, param, message)} for key, param in template.fields.items()
    }
    payload: dict[str, object] = {
        "touser": openid,
        "template_id": template.template_id,
        "data": data,
        "miniprogram_state": miniprogram_state,
        "lang": lang,
    }
    if message.page:
        payload["page"] = message.page
    return payload


class WechatSubscribe:
    name = "wechat"

    def __init__(
        self,
        client: httpx.AsyncClient,
        tokens: WechatTokenCache,
        *,
        templates: Mapping[str, WechatTemplate],
        base_url: str = DEFAULT_BASE,
        miniprogram_state: str = "formal",
        lang: str = "zh_CN",
        clock: Clock = utc_now,
    ) -> None:
        self._client = client
        self._tokens = tokens
        self._templates = templates
        self._url = f"{base_url.rstrip('/')}/cgi-bin/message/subscribe/send"
        self._state = miniprogram_state
        self._lang = lang
        self._clock = clock

    def template_for(self, event_type: str) -> WechatTemplate | None:
        return self._templates.get(event_type) or self._templates.get("default")

    async def send(self, message: Message, target: Target) -> SendResult:
        if not target.openid:
            return SendResult.no_subscription("no openid for this person", code="no_openid")
        template = self.template_for(message.event_type)
        if template is None:
            return not_configured(f"subscribe-message template for {message.event_type!r}")
        payload = build_payload(
            message, target.openid, template, miniprogram_state=self._state, lang=self._lang
        )
        result = await self._send_once(payload)
        if result.code in TOKEN_INVALID_CODES:
            result = await self._send_once(payload)  # the token was dropped: fetch, once
            if result.code in TOKEN_INVALID_CODES:
                return SendResult.retry(
                    result.error or "access token refused twice",
                    status=result.status,
                    code=result.code,
                )
        return result

    async def _send_once(self, payload: dict[str, object]) -> SendResult:
        try:
            token = await self._tokens.get()
        except TokenError as exc:
            return exc.result
        answer = await request(
            self._client, "POST", self._url, params={"access_token": token}, json_body=payload
        )
        if isinstance(answer, SendResult):
            return answer
        result = classify_errcode(
            answer,
            self._clock(),
            retry_codes=SEND_RETRY_CODES,
            no_subscription_codes=NO_SUBSCRIPTION_CODES,
        )
        if result.code in TOKEN_INVALID_CODES:
            self._tokens.invalidate(token)
        return result
