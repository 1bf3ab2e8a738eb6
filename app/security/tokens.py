"""Access tokens: HS256 JWTs (PyJWT) carrying the staff id; roles are read fresh per request,
so a revoked role takes effect at once rather than when the token expires."""

from __future__ import annotations

from datetime import datetime, timedelta

import jwt

from app.errors import Unauthorized

_ALGORITHM = "HS256"


def issue_token(staff_id: int, *, secret: str, issuer: str, now: datetime, minutes: int) -> str:
    claims = {
        "sub": str(staff_id),
        "iss": issuer,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_token(token: str, *, secret: str, issuer: str, now: datetime) -> int:
    """Expiry is checked against the service's clock, not PyJWT's, so the simulation clock
    and the tests see the same time as everything else."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            issuer=issuer,
            options={"require": ["exp", "sub"], "verify_exp": False},
        )
        if int(claims["exp"]) <= now.timestamp():
            raise jwt.ExpiredSignatureError("expired")
        return int(claims["sub"])
    except (jwt.InvalidTokenError, KeyError, ValueError) as exc:
        raise Unauthorized("登录已失效,请重新登录 (invalid or expired token)") from exc
