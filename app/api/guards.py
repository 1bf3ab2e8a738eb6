"""What every request must satisfy before any router sees it, and the last-resort answers
for input a router's types missed.

- **Body size**: at most ``max_body_bytes`` (default 1 MiB), multipart uploads at most
  ``max_upload_bytes`` (10 MiB) plus room for the form's other parts. A declared
  ``Content-Length`` above the cap is answered 413 before anything is read; a chunked or
  under-declared body is counted while it streams and cut off with 413 at the cap, so
  neither memory nor the upload's spool file ever holds more than the cap.
- **Query strings and form fields** (the sign-in form is unauthenticated): NUL, control
  characters and anything XML cannot hold → 422 naming the parameter. URLs longer than
  ``MAX_URL_CHARS`` → 414.
- **Last resort**: a value that still reaches the database beyond a column's range
  (``OverflowError`` on SQLite, ``DataError`` on PostgreSQL) answers 422, a ``RecursionError``
  (absurdly nested JSON) 422; each is logged as a warning naming the path, since it means
  a type is missing a bound.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import problem_body, summary, validation_problem
from app.api.problems import PROBLEM_MEDIA_TYPE
from app.core.text import first_illegal

log = logging.getLogger("kcbx.guards")

MAX_BODY_BYTES = 1024 * 1024
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# A multipart body carries the file plus its boundaries and the other form fields.
_MULTIPART_SLACK = 64 * 1024
MAX_URL_CHARS = 4096
MAX_FORM_BYTES = 64 * 1024
ATTENDANCE_PATH = "/api/v1/attendance-events"
# The roll's paths with a batch's larger body cap (app/attendance/routes.py).
ATTENDANCE_PATHS = frozenset({ATTENDANCE_PATH, ATTENDANCE_PATH + "/batch"})
ATTENDANCE_BYTES_PER_EVENT = 4096


def _problem(status: int, detail: Any) -> bytes:
    """The same RFC 9457 document the routers answer (app/api/errors.py): ``detail`` a
    sentence, and for 422 the field ``errors``."""
    if isinstance(detail, list):
        body = problem_body(status, summary(detail), "validation_failed", errors=detail)
    else:
        body = problem_body(status, str(detail))
    return json.dumps(body, ensure_ascii=False).encode()


class RequestGuard:
    """Pure ASGI (no BaseHTTPMiddleware): the body is counted as it streams, never buffered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    def _caps(scope: Scope) -> tuple[int, int, int]:
        """(body, upload, attendance batch) caps from the app's settings, else the defaults."""
        state = getattr(scope.get("app"), "state", None)
        settings = getattr(getattr(state, "ctx", None), "settings", None)
        if settings is None:
            return MAX_BODY_BYTES, MAX_UPLOAD_BYTES, MAX_BODY_BYTES
        batch = settings.attendance_batch_limit * ATTENDANCE_BYTES_PER_EVENT
        return settings.max_body_bytes, settings.max_upload_bytes, batch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = _url_problem(scope)
        if problem is not None:
            await _answer(send, *problem)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        body_cap, upload_cap, batch_cap = self._caps(scope)
        cap = body_cap
        if scope.get("path") in ATTENDANCE_PATHS:
            # The roll has its own, larger limit (a batch's events; see app/attendance/routes.py).
            cap = max(cap, batch_cap)
        if content_type == b"multipart/form-data":
            cap = upload_cap + _MULTIPART_SLACK
        if content_type == b"application/x-www-form-urlencoded":
            cap = min(cap, MAX_FORM_BYTES)
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await _answer(send, 400, "Content-Length 无效 (bad Content-Length)")
                return
            if length > cap:
                await _answer(send, 413, _too_large(cap))
                return
        if content_type == b"application/x-www-form-urlencoded":
            await self._form(scope, receive, send, cap)
            return
        seen = 0
        started = refused = False

        async def counted_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap and not started:
                    # Answer now and tell the app the client is gone: it stops reading, and
                    # whatever it answers to that is dropped (tracking_send).
                    refused = True
                    await _answer(send, 413, _too_large(cap))
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counted_receive, tracking_send)

    async def _form(self, scope: Scope, receive: Receive, send: Send, cap: int) -> None:
        """A form body is small: read it whole (up to the cap), check its fields, replay it."""
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                await _answer(send, 413, _too_large(cap))
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            await _answer(send, 422, [_item(["body"], "表单须为 UTF-8 (form must be UTF-8)")])
            return
        for name, value in fields:
            bad = first_illegal(value)
            if bad is not None:
                await _answer(send, 422, [_item(["body", name], _illegal_msg(bad))])
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _illegal_msg(bad: str) -> str:
    return f"含有控制字符 {bad} (control or non-XML character)"


def _item(loc: list[str | int], msg: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "type": "value_error"}


def _too_large(cap: int) -> str:
    return f"请求体超过 {cap // 1024} KB (request body larger than {cap} bytes)"


def _url_problem(scope: Scope) -> tuple[int, Any] | None:
    raw_path: bytes = scope.get("raw_path") or scope.get("path", "").encode()
    query: bytes = scope.get("query_string", b"")
    if len(raw_path) + len(query) > MAX_URL_CHARS:
        return 414, f"URL 过长,最多 {MAX_URL_CHARS} 个字符 (URL too long)"
    bad = first_illegal(scope.get("path", ""))
    if bad is not None:
        return 404, "不存在 (not found)"
    if query:
        try:
            # As UTF-8 first: a raw (unescaped) UTF-8 byte read as Latin-1 would look like a C1
            # control character.
            pairs = parse_qsl(
                query.decode("utf-8", "replace"), keep_blank_values=True, encoding="utf-8"
            )
        except ValueError:
            return 422, [_item(["query"], "查询字符串无效 (malformed query string)")]
        for name, value in pairs:
            bad = first_illegal(name) or first_illegal(value)
            if bad is not None:
                return 422, [_item(["query", name], _illegal_msg(bad))]
    return None


async def _answer(send: Send, status: int, detail: Any) -> None:
    body = _problem(status, detail)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
    log.warning("last-resort 422 for %s %s: %r", request.method, request.url.path, exc)
    msg = "取值超出范围或含不可用字符 (a value is out of range or holds unusable characters)"
    return validation_problem([_item(["body"], msg)])


async def _too_deep(request: Request, exc: Exception) -> JSONResponse:
    log.warning("last-resort 422 (nesting) for %s %s", request.method, request.url.path)
    msg = "JSON 嵌套过深 (JSON nested too deeply)"
    return validation_problem([_item(["body"], msg)])


def install(app: FastAPI) -> None:
    app.add_middleware(RequestGuard)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(DataError, _out_of_range)
    app.add_exception_handler(RecursionError, _too_deep)
    app.add_exception_handler(UnicodeEncodeError, _out_of_range)
