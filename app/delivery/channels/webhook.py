"""Signed JSON webhooks for county systems, in the Standard Webhooks scheme
(https://www.standardwebhooks.com), so a receiver verifies them with off-the-shelf code.

Each delivery is one ``POST`` of::

    {"id": "<event id>", "type": "alert.raised", "created_at": "2024-11-25T01:05:00+00:00",
     "data": {...}}

with the headers

* ``webhook-id`` — the same ``id``: a retried delivery carries the same one, so the receiver
  deduplicates on it (and should answer 2xx for an event it has already seen);
* ``webhook-timestamp`` — Unix seconds when this attempt was signed, from the real clock
  (never the simulation clock: a drill a week ahead still sends fresh timestamps);
* ``webhook-signature`` — ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, ``body``
  being the exact bytes received; during a secret rotation two of them, space-separated (one
  per valid secret), and a receiver accepts the message when any one matches;
* ``X-KCBX-Event-Type`` — the same ``type``, for routing without parsing the body.

Secrets are ``whsec_<base64 of 24–64 random bytes>``; the HMAC key is the decoded bytes (what
the ``standardwebhooks`` libraries do). Secrets registered before this scheme (any string, no
prefix) sign with their UTF-8 bytes: such a receiver passes ``secret.encode()`` to the library.

Receivers refuse timestamps more than ``DEFAULT_TOLERANCE`` (5 minutes, the libraries'
default) away from their own clock. Answers: 2xx ok; 408/425/429/5xx retry (``Retry-After``
honoured); anything else, 410 Gone included, is permanent. Redirects are never followed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets as _secrets
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.delivery.channels.base import (
    Clock,
    Message,
    SendResult,
    Target,
    classify_response,
    not_configured,
    request,
    utc_now,
)

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
EVENT_TYPE_HEADER = "X-KCBX-Event-Type"
USER_AGENT = "kcbx-webhook/2"
DEFAULT_TOLERANCE = timedelta(minutes=5)
SECRET_PREFIX = "whsec_"
SECRET_MIN_BYTES = 24
SECRET_MAX_BYTES = 64


def new_secret(nbytes: int = 32) -> str:
    """A fresh ``whsec_…`` secret (32 random bytes)."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(nbytes)).decode("ascii")


def parse_secret(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret, or ``ValueError`` saying what is wrong."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"须以 {SECRET_PREFIX} 开头 (must start with {SECRET_PREFIX})")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("不是有效的 base64 (not valid base64)") from exc
    if not SECRET_MIN_BYTES <= len(key) <= SECRET_MAX_BYTES:
        raise ValueError(
            f"密钥须为 {SECRET_MIN_BYTES}–{SECRET_MAX_BYTES} 字节 "
            f"(the key must be {SECRET_MIN_BYTES}–{SECRET_MAX_BYTES} bytes)"
        )
    return key


def signing_key(secret: str) -> bytes:
    """``whsec_`` secrets sign with their decoded bytes; legacy secrets with their UTF-8."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return parse_secret(secret)
        except ValueError:
            pass
    return secret.encode("utf-8")


def sign(secret: str, msg_id: str, timestamp: str, body: bytes | str) -> str:
    """One ``v1,<base64>`` signature of ``{msg_id}.{timestamp}.{body}``."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    signed = msg_id.encode("utf-8") + b"." + timestamp.encode("ascii") + b"." + raw
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(secrets: list[str], msg_id: str, timestamp: str, body: bytes) -> str:
    return " ".join(sign(s, msg_id, timestamp, body) for s in secrets)


def verify_signature(
    secret: str,
    headers: httpx.Headers | dict[str, str],
    body: bytes | str,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> bool:
    """The receiving side's check (the same as the ``standardwebhooks`` library's): one of the
    ``v1`` signatures matches and the timestamp is within ``tolerance`` of ``now``."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp, signatures = (
        lower.get(ID_HEADER),
        lower.get(TIMESTAMP_HEADER),
        lower.get(SIGNATURE_HEADER),
    )
    if not (secret and msg_id and stamp and signatures):
        return False
    try:
        seconds = int(stamp)
    except ValueError:
        return False
    if abs(now.timestamp() - seconds) > tolerance.total_seconds():
        return False
    expected = sign(secret, msg_id, str(seconds), body)
    return any(hmac.compare_digest(expected, given) for given in signatures.split(" "))


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
    """``wall_clock`` stamps and signs (injectable for tests, defaulting to the real clock);
    ``clock`` only turns a ``Retry-After`` date into seconds."""

    name = "webhook"

    def __init__(
        self, client: httpx.AsyncClient, *, clock: Clock = utc_now, wall_clock: Clock = utc_now
    ) -> None:
        self._client = client
        self._clock = clock
        self._wall = wall_clock

    def valid_secrets(self, target: Target, now: datetime) -> list[str]:
        """The current secret, and the previous one while its rotation window lasts."""
        found = [target.secret] if target.secret else []
        until = target.rotation_ends
        if target.previous_secret and until is not None and now < until:
            found.append(target.previous_secret)
        return found

    async def send(self, message: Message, target: Target) -> SendResult:
        if not target.url or not valid_webhook_url(target.url):
            return not_configured("webhook URL (http or https with a host)")
        now = self._wall()
        secrets = self.valid_secrets(target, now)
        if not secrets:
            return not_configured("webhook secret")
        body = encode(event_body(message))
        timestamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            ID_HEADER: message.event_id,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature_header(secrets, message.event_id, timestamp, body),
            EVENT_TYPE_HEADER: message.event_type,
        }
        answer = await request(self._client, "POST", target.url, content=body, headers=headers)
        if isinstance(answer, SendResult):
            return answer
        return classify_response(answer, self._clock())


def _json_default(value: object) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
