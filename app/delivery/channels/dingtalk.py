"""钉钉 custom robot (自定义机器人): ``POST {base}?access_token=…[&timestamp=…&sign=…]``.

With 加签 on (``target.secret``, the ``SEC…`` string): ``timestamp`` is Unix milliseconds and
``sign`` is ``base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}"))``, URL-encoded as a query
parameter; 钉钉 refuses a timestamp more than an hour off. ``verify_sign`` is the receiving
side's check (used by tests with a local receiver).

The message is ``markdown`` with ``at.atMobiles``; 钉钉 only notifies an @-ed mobile that also
appears as ``@<mobile>`` in the text, so those are appended.

钉钉 answers HTTP 200 with ``errcode``: 0 ok; -1 (busy) retry; 130101 / 410100 (sending too
fast: over 20 a minute, then blocked for 10 minutes) retry after 600 s; everything else is
permanent — 310000 (signature mismatch, timestamp out of range, keyword missing, IP not
allowed), 300001 / 400101 (no such token), 400102 (robot disabled), 430101–430104 (content
refused), ….
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

import httpx

from app.core.channel_settings import DINGTALK_BASE
from app.delivery.channels.base import (
    Clock,
    Message,
    SendResult,
    Target,
    classify_errcode,
    not_configured,
    request,
    truncate_utf8,
    utc_now,
)

DEFAULT_BASE = DINGTALK_BASE
MARKDOWN_MAX_BYTES = 18_000  # 钉钉 caps a message at about 20,000 bytes
TITLE_MAX_CHARS = 64
RETRY_CODES = frozenset({"-1", "130101", "410100"})
BLOCKED_SECONDS = 600.0
RETRY_AFTER = {"130101": BLOCKED_SECONDS, "410100": BLOCKED_SECONDS}
SIGN_TOLERANCE = timedelta(hours=1)


def dingtalk_sign(secret: str, timestamp_ms: str) -> str:
    """The base64 signature, not yet URL-encoded (the HTTP client encodes query values)."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_sign(
    secret: str,
    timestamp_ms: str,
    sign: str,
    now: datetime,
    tolerance: timedelta = SIGN_TOLERANCE,
) -> bool:
    """What 钉钉 checks: ``sign`` (already URL-decoded) matches and the time is within an hour."""
    try:
        stamp = int(timestamp_ms)
    except (TypeError, ValueError):
        return False
    if abs(now.timestamp() * 1000 - stamp) > tolerance.total_seconds() * 1000:
        return False
    return hmac.compare_digest(dingtalk_sign(secret, str(stamp)), sign)


def build_payload(message: Message, target: Target) -> dict[str, object]:
    mentions = " ".join(f"@{m}" for m in target.mobiles)
    suffix = f"\n\n{mentions}" if mentions else ""
    room = MARKDOWN_MAX_BYTES - len(suffix.encode("utf-8"))
    text = truncate_utf8(message.markdown, room) + suffix
    title = message.title if len(message.title) <= TITLE_MAX_CHARS else message.title[:63] + "…"
    return {
        "msgtype": "markdown",
        "markdown": {"title": title, "text": text},
        "at": {"atMobiles": list(target.mobiles), "isAtAll": False},
    }


class DingtalkRobot:
    name = "dingtalk"

    def __init__(
        self, client: httpx.AsyncClient, *, base_url: str = DEFAULT_BASE, clock: Clock = utc_now
    ) -> None:
        self._client = client
        self._base = base_url
        self._clock = clock

    async def send(self, message: Message, target: Target) -> SendResult:
        params: dict[str, str] = {}
        if target.url:
            url = target.url
        elif target.key:
            url, params["access_token"] = self._base, target.key
        else:
            return not_configured("钉钉 robot access_token")
        now = self._clock()
        if target.secret:
            timestamp = str(int(now.timestamp() * 1000))
            params["timestamp"] = timestamp
            params["sign"] = dingtalk_sign(target.secret, timestamp)
        payload = build_payload(message, target)
        answer = await request(self._client, "POST", url, params=params or None, json_body=payload)
        if isinstance(answer, SendResult):
            return answer
        return classify_errcode(answer, now, retry_codes=RETRY_CODES, retry_after=RETRY_AFTER)
