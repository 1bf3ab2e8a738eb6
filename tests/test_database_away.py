"""A request that finds the database away (restarting, failing over) answers 503 with
Retry-After — the client retries — never a 500. The fault suite's PostgreSQL restart shows
it under load; this shows the answer itself."""

from __future__ import annotations

import socket

import httpx

from app.context import AppContext
from app.main import create_app
from app.settings import Settings


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_request_while_the_database_is_down_is_503_with_retry_after() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/nowhere"
    ctx = AppContext.from_settings(Settings(environment="test", database_url=url))
    app = create_app(ctx)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://kcbx") as client:
            r = await client.post(
                "/api/v1/auth/token", data={"username": "13800000001", "password": "demo1234"}
            )
    finally:
        await ctx.engine.dispose()
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "5"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "service_unavailable"
