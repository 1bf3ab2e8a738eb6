"""Headers on every answer, and the cross-origin policy (decisions; README, "Access").

- ``X-Content-Type-Options: nosniff`` on every answer: a browser never guesses a type (an
  export, a problem document, an uploaded name echoed back) into HTML or script.
- ``Cache-Control: no-store`` on every answer except the API's documentation (``/docs``,
  ``/redoc``, ``/openapi.json``, ``/static/``: the same for everyone, no personal data).
  One rule rather than a list of routes with children's data: rolls, cases, exports (XLSX,
  DOCX), even 4xx answers naming a student and the health checks (a cached health answer is a
  wrong one) — nothing is kept by a browser, a shared school computer's cache or a proxy, and
  a new route cannot forget it. Whatever a router set is replaced.
- ``Strict-Transport-Security: max-age=<KCBX_HSTS_SECONDS>`` (a year; 0 turns it off) when the
  request came over TLS — ``scope["scheme"] == "https"``, which is what uvicorn's
  ``--proxy-headers`` sets from ``X-Forwarded-Proto`` for a trusted proxy
  (``--forwarded-allow-ips``). Without ``includeSubDomains``: a county's other hosts may still
  serve plain http.
- **CORS**: none by default (a browser page of another origin cannot read any answer).
  ``KCBX_CORS_ORIGINS='["https://console.county.example"]'`` lists exact origins (a
  mini-program web view's, the console's host), answered by Starlette's ``CORSMiddleware``:
  the methods the API has, the headers it reads (``Authorization``, ``Content-Type``,
  ``X-API-Key``), ``Content-Disposition`` readable (the export's file name), no credentials
  mode (the API takes bearer tokens, not cookies), preflights cached 10 minutes. ``*`` is
  refused by the settings.

Pure ASGI, outermost: the guards' 413/414 answers carry the headers too. The settings are the
app's (``app.state.ctx``), read per request as the guards read theirs.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS_PREFIXES = ("/docs", "/redoc", "/openapi.json", "/static/")
CORS_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
CORS_HEADERS = ["Authorization", "Content-Type", "X-API-Key"]
CORS_EXPOSE = ["Content-Disposition"]
CORS_MAX_AGE = 600
DEFAULT_HSTS_SECONDS = 365 * 24 * 3600

_NOSNIFF = (b"x-content-type-options", b"nosniff")
_NO_STORE = (b"cache-control", b"no-store")


def _settings(scope: Scope) -> Any:
    state = getattr(scope.get("app"), "state", None)
    return getattr(getattr(state, "ctx", None), "settings", None)


class ResponseHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._cors: dict[tuple[str, ...], ASGIApp] = {}

    def _inner(self, origins: tuple[str, ...]) -> ASGIApp:
        if not origins:
            return self.app
        inner = self._cors.get(origins)
        if inner is None:
            inner = self._cors[origins] = CORSMiddleware(
                self.app,
                allow_origins=list(origins),
                allow_methods=CORS_METHODS,
                allow_headers=CORS_HEADERS,
                expose_headers=CORS_EXPOSE,
                allow_credentials=False,
                max_age=CORS_MAX_AGE,
            )
        return inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = _settings(scope)
        extra = [_NOSNIFF]
        if not str(scope.get("path", "")).startswith(DOCS_PREFIXES):
            extra.append(_NO_STORE)
        hsts = getattr(settings, "hsts_seconds", DEFAULT_HSTS_SECONDS)
        if scope.get("scheme") == "https" and hsts > 0:
            extra.append((b"strict-transport-security", f"max-age={hsts}".encode()))
        names = {name for name, _ in extra}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + extra}
            await send(message)

        origins = tuple(getattr(settings, "cors_origins", ()))
        await self._inner(origins)(scope, receive, send_with_headers)


def install(app: FastAPI) -> None:
    app.add_middleware(ResponseHeaders)
