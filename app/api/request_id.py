"""Every request's id, for the log lines it causes (``app/core/logs.py``): the caller's
``X-Request-ID`` when it is a plain token of at most 64 characters (a proxy's or a client's
id carries through), else a new one; answered back in ``X-Request-ID``. The school and case a
path names (``/schools/7/…``, ``/cases/12``) are put beside it."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import logs

_TOKEN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_SCHOOL = re.compile(r"/schools/(\d{1,12})(?:/|$)")
_CASE = re.compile(r"/cases/(\d{1,12})(?:/|$)")


def _id_in(pattern: re.Pattern[str], path: str) -> int | None:
    found = pattern.search(path)
    return int(found.group(1)) if found else None


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
        text = given.decode("latin-1")
        rid = text if _TOKEN.fullmatch(text) else uuid.uuid4().hex
        path: str = scope.get("path", "")
        tokens = (
            logs.request_id.set(rid),
            logs.school_id.set(_id_in(_SCHOOL, path)),
            logs.case_id.set(_id_in(_CASE, path)),
        )

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            logs.case_id.reset(tokens[2])
            logs.school_id.reset(tokens[1])
            logs.request_id.reset(tokens[0])
