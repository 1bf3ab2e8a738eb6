"""Signed JSON webhooks for county systems.

Each delivery is one ``POST`` of::

    {"id": "<event id>", "type": "alert.raised", "created_at": "2024-11-25T01:05:00+00:00",
     "data": {...}}

with the headers

* ``X-KCBX-Event-Id`` — the same ``id``: a retried delivery carries the same one, so the
  receiver deduplicates on it (and should answer 2xx for an event it has already seen);
* ``X-KCBX-Event-Type`` — the same ``type``;
* ``X-KCBX-Timestamp`` — Unix seconds when this attempt was signed;
* ``X-KCBX-Signature`` — lowercase hex HMAC-SHA256 with the subscription's secret over
  ``f"{timestamp}.{body}"``, ``body`` being the exact bytes received (UTF-8).

A receiver checks the signature with ``verify_signature`` and refuses timestamps outside its
tolerance (replays). Answers: 2xx ok; 408/425/429/5xx retry (``Retry-After`` honoured);
anything else, 410 Gone included, is permanent. Redirects are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.alerts.channels.base import (
    Clock,
    Message,
    SendResult,
    Target,
    classify_response,
    not_configured,
    request,
    utc_now,
)

EVENT_ID_HEADER = "X-KCBX-Event-Id"
EVENT_TYPE_HEADER = "X-KCBX-Event-Type"
TIMESTAMP_HEADER = "X-KCBX-Timestamp"
SIGNATURE_HEADER = "X-KCBX-Signature"
USER_AGENT = "kcbx-webhook/1"
DEFAULT_TOLERANCE = timedelta(minutes=5)


def sign(secret: str, timestamp: str, body: bytes | str) -> str:
    raw = body.encode("utf-8") if isinstance(body, str) else body
    signed = timestamp.encode("ascii") + b"." + raw
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes | str,
    signature: str,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> bool:
    """True when ``signature`` is ours for this body and the timestamp is within ``tolerance``
    of ``now`` (either side: clocks drift)."""
    if not secret or not signature:
        return False
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now.timestamp() - stamp) > tolerance.total_seconds():
        return False
    try:
        expected = sign(secret, str(stamp), body)
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, signature.strip().lower())


def event_body(message: Message) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": message.title,
        "text": message.text,
        "level": message.level,
        "link": message.link,
    }
    data.update(message.data)
    return {
        "id": message.event_id,
        "type": message.event_type,
        "created_at": message.created_at.isoformat(),
        "data": data,
    }


def encode(payload: dict[str, Any]) -> bytes:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    return text.encode("utf-8")


def valid_webhook_url(url: str) -> bool:
    """http(s) with a host: what a subscription may register (the API answers 422 otherwise)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


class WebhookChannel:
    name = "webhook"

    def __init__(self, client: httpx.AsyncClient, *, clock: Clock = utc_now) -> None:
        self._client = client
        self._clock = clock

    async def send(self, message: Message, target: Target) -> SendResult:
        if not target.url or not valid_webhook_url(target.url):
            return not_configured("webhook URL (http or https with a host)")
        if not target.secret:
            return not_configured("webhook secret")
        body = encode(event_body(message))
        now = self._clock()
        timestamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            EVENT_ID_HEADER: message.event_id,
            EVENT_TYPE_HEADER: message.event_type,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(target.secret, timestamp, body),
        }
        answer = await request(self._client, "POST", target.url, content=body, headers=headers)
        if isinstance(answer, SendResult):
            return answer
        return classify_response(answer, now)


def _json_default(value: object) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
