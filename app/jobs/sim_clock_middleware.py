"""Drills: each request sees the deployment's clock as it stands in the database (another
worker or an engine may have moved it). Outermost, so the access log reads it too."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from app.context import AppContext
from app.jobs import sim_clock


class SimClockMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            ctx: AppContext | None = getattr(scope["app"].state, "ctx", None)
            if ctx is not None and ctx.settings.simulation_clock:
                await sim_clock.refresh(ctx)
        await self.app(scope, receive, send)
