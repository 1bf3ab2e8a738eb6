"""The answer link's token: short, signed and expiring, so it fits an SMS template variable
(Alibaba Cloud: 35 characters; Tencent Cloud enterprise accounts: what their console allows).

``<notice id>.<signature>``: the signature is HMAC-SHA256 under the app's secret key over the
notice id, the guardian's mobile, the school day and the link's expiry, cut to 16 base64url
characters (96 bits; answers are rate-limited besides). The notice row holds what the link
names — the guardian (their mobile), the school, the children and the day — and the expiry,
on the real clock (never the simulation clock: a drill jumping days ahead must not make links
valid or stale). A forged, tampered or expired token is 401, whatever part is wrong."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime

from app.errors import Unauthorized

SIGNATURE_CHARS = 16
_TOKEN = re.compile(r"^([1-9][0-9]{0,11})\.([A-Za-z0-9_-]{16})$")
REFUSED = "链接无效或已过期 (the link is invalid or has expired)"


@dataclass(frozen=True, slots=True)
class AnswerLink:
    notice_id: int
    mobile: str
    school_id: int
    student_ids: tuple[int, ...]
    day: date


def sign(secret: str, notice_id: int, mobile: str, day: date, expires_at: datetime) -> str:
    message = (
        f"guardian-answer|{notice_id}|{mobile}|{day.isoformat()}|{int(expires_at.timestamp())}"
    )
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:SIGNATURE_CHARS]


def make_token(secret: str, notice_id: int, mobile: str, day: date, expires_at: datetime) -> str:
    return f"{notice_id}.{sign(secret, notice_id, mobile, day, expires_at)}"


def notice_id_of(token: str) -> tuple[int, str]:
    """(notice id, signature) of a well-formed token; 401 otherwise."""
    found = _TOKEN.match(token)
    if found is None:
        raise Unauthorized(REFUSED)
    return int(found.group(1)), found.group(2)


def check(
    secret: str,
    signature: str,
    *,
    notice_id: int,
    mobile: str,
    day: date,
    expires_at: datetime,
    now: datetime,
) -> None:
    expected = sign(secret, notice_id, mobile, day, expires_at)
    if not hmac.compare_digest(expected, signature) or now >= expires_at:
        raise Unauthorized(REFUSED)
