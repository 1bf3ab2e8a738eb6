"""A local webhook receiver for the delivery benchmark: checks nothing but the event id, answers
200 and counts (it runs in its own process, as a county system would)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

seen: set[str] = set()


async def hook(request: Request) -> Response:
    seen.add(request.headers.get("webhook-id", ""))
    await request.body()
    return JSONResponse({"ok": True})


async def count(request: Request) -> Response:
    return JSONResponse({"events": len(seen)})


app = Starlette(routes=[Route("/hook", hook, methods=["POST"]), Route("/count", count)])
