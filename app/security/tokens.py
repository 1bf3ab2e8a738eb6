"""Access tokens: HS256 JWTs (PyJWT) carrying the staff id and the staff member's token
version (``ver``); roles are read fresh per request, so a revoked role takes effect at once
rather than when the token expires. Callers pass the real clock: tokens never follow the
simulation clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import jwt

from app.errors import Unauthorized

_ALGORITHM = "HS256"
# Several API workers' clocks may differ by a little.
_LEEWAY_SECONDS = 30


def issue_token(
    staff_id: int, *, secret: str, issuer: str, now: datetime, minutes: int, version: int = 0
) -> str:
    claims = {
        "sub": str(staff_id),
        "ver": version,
        "iss": issuer,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_token(token: str, *, secret: str, issuer: str, now: datetime) -> tuple[int, int]:
    """(staff id, token version). ``now`` is the wall clock (never the simulation clock: a
    drill jumping days ahead must not expire or pre-date tokens). Expiry and issue time are
    both checked against it rather than PyJWT's own reading, so one clock decides."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            issuer=issuer,
            options={"require": ["exp", "sub"], "verify_exp": False, "verify_iat": False},
        )
        if int(claims["exp"]) <= now.timestamp():
            raise jwt.ExpiredSignatureError("expired")
        if int(claims.get("iat", 0)) > now.timestamp() + _LEEWAY_SECONDS:
            raise jwt.ImmatureSignatureError("issued in the future")
        return int(claims["sub"]), int(claims.get("ver", 0))
    except (jwt.InvalidTokenError, KeyError, ValueError) as exc:
        raise Unauthorized("登录已失效,请重新登录 (invalid or expired token)") from exc
