"""The one interface every delivery channel implements, and how HTTP answers are classified.

A channel turns a rendered ``Message`` into one HTTP call for one ``Target`` and reports a
``SendResult``; it never raises for a delivery problem. The delivery worker acts on the outcome:

* ``ok`` — delivered (the vendor accepted it);
* ``retry`` — try the same channel again later with backoff: timeouts, connection errors,
  HTTP 408/425/429/5xx, and vendor codes meaning "busy" or "throttled" (``retry_after`` in
  seconds when the answer says how long to wait);
* ``permanent`` — this message will never go through on this channel as configured (other
  4xx, a bad key or secret, a vendor code meaning invalid input): dead-letter it with the
  reason and try the next channel;
* ``no_subscription`` — the person cannot be reached this way right now (WeChat: no one-time
  subscription left; no openid): not an error, go straight to the next channel.

Nothing here reads a setting: base URLs are constructor arguments whose defaults are the
vendors' documented public endpoints (see ``app.core.channel_settings.ChannelEndpoints``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import httpx

Clock = Callable[[], datetime]

ERROR_TEXT_MAX = 500
# What a receipt keeps of a platform's answer: its code and message, bounded.
CODE_MAX = 64
PLATFORM_MESSAGE_MAX = 200


def utc_now() -> datetime:
    """The default clock of the adapters; the worker passes the context's wall clock (never
    the simulation clock: signatures and vendor tokens are checked on real time)."""
    return datetime.now(UTC)


class Outcome(StrEnum):
    ok = "ok"
    retry = "retry"
    permanent = "permanent"
    no_subscription = "no_subscription"


@dataclass(frozen=True, slots=True)
class Message:
    """One rendered notice, channel-neutral (see ``app.delivery.templates``).

    ``event_id`` is stable across retries of the same notice: receivers deduplicate on it and
    providers that accept an idempotency key get it. ``params`` are short values for template
    channels (SMS, subscribe messages); ``data`` is the webhook event's payload.
    """

    event_id: str
    event_type: str
    title: str
    markdown: str
    text: str
    created_at: datetime
    level: str | None = None
    link: str | None = None
    page: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Target:
    """Where one message goes; each channel reads the fields it needs.

    * webhook: ``url`` (subscription URL) and ``secret`` (signing secret);
    * 企业微信 robot: ``key`` (joined to the configured base URL) or a full ``url``;
      ``mobiles`` / ``userids`` to @;
    * 钉钉 robot: ``key`` (the access_token) or a full ``url``; ``secret`` when 加签 is on;
      ``mobiles`` to @;
    * WeChat subscribe message: ``openid``;
    * SMS: ``phone``, and ``options`` (the school's template mapping, see ``sms_templates``).

    Webhooks during a secret rotation also carry ``previous_secret`` and the end of its window
    (``rotation_ends``): both secrets sign until then.
    """

    url: str | None = None
    key: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)
    mobiles: tuple[str, ...] = ()
    userids: tuple[str, ...] = ()
    openid: str | None = None
    phone: str | None = None
    previous_secret: str | None = field(default=None, repr=False)
    rotation_ends: datetime | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    status: int | None = None  # HTTP status, when there was an answer
    code: str | None = None  # the vendor's error code, or ours (``not_configured``, …)
    error: str | None = None
    retry_after: float | None = None  # seconds, when the answer said

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.ok

    @classmethod
    def success(cls, status: int | None = None, code: str | None = None) -> SendResult:
        return cls(Outcome.ok, status=status, code=code)

    @classmethod
    def retry(
        cls,
        error: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> SendResult:
        return cls(Outcome.retry, status, code, _clip(error), retry_after)

    @classmethod
    def permanent(
        cls, error: str, *, status: int | None = None, code: str | None = None
    ) -> SendResult:
        return cls(Outcome.permanent, status, code, _clip(error))

    @classmethod
    def no_subscription(
        cls, error: str, *, status: int | None = None, code: str | None = None
    ) -> SendResult:
        return cls(Outcome.no_subscription, status, code, _clip(error))


@runtime_checkable
class Channel(Protocol):
    name: str

    async def send(self, message: Message, target: Target) -> SendResult: ...


class AddressRefused(Exception):
    """An outbound address the deployment does not allow (loopback, private, another host);
    raised by the guarded transport (``outbound``), reported as a permanent failure."""


def not_configured(what: str) -> SendResult:
    return SendResult.permanent(f"not configured: {what}", code="not_configured")


# --- classification ---------------------------------------------------------------------------

RETRY_STATUSES = frozenset({408, 425, 429})


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds from ``now``: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def classify_response(response: httpx.Response, now: datetime) -> SendResult:
    """By HTTP status only: 2xx ok; 408/425/429/5xx retry; anything else permanent.

    Redirects are not followed (the client's default), so a 3xx is a misconfigured URL. The
    receipt keeps the status and its reason phrase only, never the body: whatever answers
    (a county's server, a proxy, an attacker's page) is not shown back through the API.
    """
    status = response.status_code
    if 200 <= status < 300:
        return SendResult.success(status)
    reason = f"HTTP {status} {response.reason_phrase}".strip()
    error = reason
    if status in RETRY_STATUSES or status >= 500:
        after = parse_retry_after(response.headers.get("retry-after"), now)
        return SendResult.retry(error, status=status, retry_after=after)
    if 300 <= status < 400:
        return SendResult.permanent(
            f"{reason}: redirect not followed", status=status, code="redirect"
        )
    return SendResult.permanent(error, status=status)


def classify_exception(exc: Exception) -> SendResult:
    """Timeouts and network trouble are worth a retry; a request that cannot be made is not."""
    name = type(exc).__name__
    text = f"{name}: {exc}" if str(exc) else name
    if isinstance(exc, AddressRefused):
        return SendResult.permanent(f"address refused: {exc}", code="address_refused")
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return SendResult.permanent(text, code="bad_request")
    if isinstance(exc, httpx.TimeoutException):
        return SendResult.retry(text, code="timeout")
    if isinstance(exc, httpx.TransportError):  # network, proxy, remote protocol errors
        return SendResult.retry(text, code="network")
    if isinstance(exc, httpx.TooManyRedirects | httpx.DecodingError):
        return SendResult.permanent(text, code="bad_response")
    # Anything else (including a bug) is retried: the worker's attempt limit dead-letters it.
    return SendResult.retry(text, code="error")


async def request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    json_body: Any = None,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response | SendResult:
    """One HTTP call: the response, or the classified failure when there was none.

    ``params`` are merged into the query the URL already has: a stored robot URL carries its
    credential there (``…/robot/send?access_token=…``), and httpx's own ``params=`` would
    replace that query instead of adding to it."""
    try:
        target = httpx.URL(url)
        if params:
            target = target.copy_merge_params(dict(params))
        return await client.request(
            method, target, json=json_body, content=content, headers=headers
        )
    except (httpx.HTTPError, httpx.InvalidURL, AddressRefused) as exc:
        return classify_exception(exc)


def read_json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        value = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def classify_errcode(
    response: httpx.Response,
    now: datetime,
    *,
    code_field: str = "errcode",
    message_field: str = "errmsg",
    ok_codes: Collection[str] = ("0",),
    retry_codes: Collection[str] = (),
    retry_after: Mapping[str, float] | None = None,
    no_subscription_codes: Collection[str] = (),
) -> SendResult:
    """Vendors that answer HTTP 200 with an error code in the JSON body (企业微信, 钉钉, WeChat,
    most SMS gateways): the HTTP status first, then the code. Codes are compared as strings."""
    result = classify_response(response, now)
    if not result.ok:
        return result
    body = read_json(response)
    status = response.status_code
    if body is None:
        return SendResult.permanent(
            "unexpected answer (not a JSON object)", status=status, code="bad_response"
        )
    # A body without the code field counts as success (WeChat omits ``errcode`` on some).
    raw = body.get(code_field, next(iter(ok_codes), "0"))
    code = platform_text(str(raw), CODE_MAX)
    if code in ok_codes:
        return SendResult.success(status, code)
    message = platform_text(str(body.get(message_field) or ""))
    error = f"{code_field} {code}: {message}" if message else f"{code_field} {code}"
    if code in no_subscription_codes:
        return SendResult.no_subscription(error, status=status, code=code)
    if code in retry_codes:
        after = (retry_after or {}).get(code)
        return SendResult.retry(error, status=status, code=code, retry_after=after)
    return SendResult.permanent(error, status=status, code=code)


# --- text helpers -----------------------------------------------------------------------------


def truncate_utf8(text: str, max_bytes: int, ellipsis: str = "…") -> str:
    """Cut ``text`` to at most ``max_bytes`` UTF-8 bytes without splitting a character."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    room = max_bytes - len(ellipsis.encode("utf-8"))
    if room <= 0:
        return data[:max_bytes].decode("utf-8", errors="ignore")
    return data[:room].decode("utf-8", errors="ignore") + ellipsis


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def platform_text(text: str, limit: int = PLATFORM_MESSAGE_MAX) -> str:
    """A platform's error code or message as a receipt keeps it: control characters gone,
    whitespace collapsed, at most ``limit`` characters."""
    clean = " ".join(_CONTROL.sub(" ", text).split())
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def _clip(text: str) -> str:
    return text if len(text) <= ERROR_TEXT_MAX else text[: ERROR_TEXT_MAX - 1] + "…"
