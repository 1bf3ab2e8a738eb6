"""The console's session and CSRF protection (decisions).

- **Session**: signing in calls the API's own ``auth.login`` (same accounts, same throttle,
  same token lifetime on the real clock); the access token is kept in the cookie
  ``kcbx_console`` — HttpOnly (no script reads it), SameSite=Strict (never sent by another
  site's page), Path=/, Secure when the request came over https. Every console page resolves
  the person from it exactly as the API resolves a bearer token (``auth.actor_from_token``:
  expiry, revocation by ``token_version``); a missing, expired or revoked token sends the
  browser back to the sign-in page. Signing out deletes the cookie.
- **API reads with the cookie**: the API accepts the cookie for GET/HEAD only (the console
  links to the API's XLSX twins); writes through the API still need the bearer token.
- **CSRF**: double-submit token. The cookie ``kcbx_csrf`` (random, HttpOnly, SameSite=Strict)
  is set with the first console page; every console form carries the same value in a hidden
  field ``csrf`` (htmx requests in the ``X-CSRF-Token`` header), and a POST whose value does
  not match the cookie is refused (403) before anything else is read. Another site can
  neither read the cookie nor make the browser send it (SameSite=Strict), so it cannot
  forge the pair.
"""

from __future__ import annotations

import secrets

from fastapi import Request, Response

from app.api.deps import CONSOLE_COOKIE

CSRF_COOKIE = "kcbx_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"


def csrf_token(request: Request) -> str:
    """The request's CSRF value: the cookie's, or a new one (set by ``remember_csrf``)."""
    found = request.cookies.get(CSRF_COOKIE)
    if found and 16 <= len(found) <= 128:
        return found
    token: str | None = getattr(request.state, "new_csrf", None)
    if token is None:
        token = request.state.new_csrf = secrets.token_urlsafe(32)
    return token


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def remember_csrf(request: Request, response: Response) -> None:
    new = getattr(request.state, "new_csrf", None)
    if new is not None:
        response.set_cookie(
            CSRF_COOKIE, new, httponly=True, samesite="strict", secure=_secure(request), path="/"
        )


def csrf_ok(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    value = submitted or request.headers.get(CSRF_HEADER)
    return bool(cookie and value) and secrets.compare_digest(str(cookie), str(value))


def session_token(request: Request) -> str | None:
    return request.cookies.get(CONSOLE_COOKIE)


def start_session(request: Request, response: Response, token: str, max_age: int) -> None:
    response.set_cookie(
        CONSOLE_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(CONSOLE_COOKIE, path="/", httponly=True, samesite="strict")
