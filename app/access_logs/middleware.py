"""ASGI middleware writing the access log (``app/access_logs/service.py``): after an
authenticated ``GET`` under ``/api/v1`` has been answered, one row says who read what.
Everything else passes straight through, so the roll intake pays nothing for it."""

from __future__ import annotations

import logging
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.access_logs import service as access_logs
from app.core import read_scope
from app.core.types import INT32_MAX
from app.domain.access import Actor

log = logging.getLogger("kcbx.access")
_STUDENT_IN_PATH = re.compile(r"/students/(\d+)(?:/|$)")
_STUDENT_IN_QUERY = re.compile(r"(?:^|&)student_id=(\d+)(?:&|$)")


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not scope["path"].startswith("/api/v1/")
        ):
            await self.app(scope, receive, send)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        state: dict[str, Any] = scope.setdefault("state", {})
        with read_scope.collecting() as students:
            await self.app(scope, receive, watch)
        actor = state.get("actor")
        if not isinstance(actor, Actor):
            return
        row = _row(scope, actor, status)
        named = row["student_id"]
        if named is None and len(students) == 1:
            named = row["student_id"] = next(iter(students))
        # A refused read (403/404) showed no one's data; the student it named is still kept.
        tied = set(students) if 200 <= status < 300 else set()
        if isinstance(named, int):
            tied.add(named)
        try:
            await access_logs.write(scope["app"].state.ctx, row, tied)
        except Exception:  # the answer is out; losing the row must not fail it
            log.exception("access log not written for %s", scope["path"])


def _row(scope: Scope, actor: Actor, status: int) -> dict[str, object]:
    query = scope.get("query_string", b"").decode("latin-1")
    path: str = scope["path"]
    found = _STUDENT_IN_PATH.search(path) or _STUDENT_IN_QUERY.search(query)
    client = scope.get("client")
    ctx = scope["app"].state.ctx
    return {
        "at": ctx.clock(),
        "actor_kind": actor.kind.value,
        "actor_id": actor.id,
        "actor_name": actor.name[:100],
        "county_id": actor.grants[0].county_id if actor.grants else None,
        "method": "GET",
        "path": path[:300],
        "query": query[:500],
        "status": status,
        "client": client[0][:45] if client else None,
        "student_id": _student_id(found.group(1)) if found else None,
    }


def _student_id(digits: str) -> int | None:
    # An id beyond the column names no student (the request answered 404): log the read
    # without it rather than lose the whole record to an overflow.
    value = int(digits)
    return value if value <= INT32_MAX else None
