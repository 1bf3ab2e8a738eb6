"""A request that finds the database away (restarting, failing over) answers 503 with
Retry-After — the client retries — never a 500. The fault suite's PostgreSQL restart shows
it under load; this shows the answer itself."""

from __future__ import annotations

import asyncio
import socket
import struct

import httpx

from app.context import AppContext
from app.main import create_app
from app.settings import Settings


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _sign_in(url: str) -> httpx.Response:
    """A sign-in against an app whose database is ``url``: the first request that needs it."""
    ctx = AppContext.from_settings(Settings(environment="test", database_url=url))
    transport = httpx.ASGITransport(app=create_app(ctx))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://kcbx") as client:
            return await client.post(
                "/api/v1/auth/token", data={"username": "13800000001", "password": "demo1234"}
            )
    finally:
        await ctx.engine.dispose()


async def test_a_request_while_the_database_is_down_is_503_with_retry_after() -> None:
    r = await _sign_in(f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/nowhere")
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "5"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "service_unavailable"


async def _starting_postgres(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """What PostgreSQL answers while it recovers after a crash: any startup is refused with
    FATAL 57P03 (cannot_connect_now), per the frontend/backend protocol's ErrorResponse."""
    try:
        while True:
            size = struct.unpack("!I", await reader.readexactly(4))[0]
            body = await reader.readexactly(size - 4)
            if body[:4] == struct.pack("!I", 80877103):  # SSLRequest: no TLS here
                writer.write(b"N")
                await writer.drain()
                continue
            fields = (
                b"SFATAL\0VFATAL\0C57P03\0Mthe database system is not yet accepting connections\0"
            )
            writer.write(b"E" + struct.pack("!I", len(fields) + 5) + fields + b"\0")
            await writer.drain()
            return
    except asyncio.IncompleteReadError:
        pass
    finally:
        writer.close()


async def test_a_request_while_the_database_is_still_starting_is_503() -> None:
    """Seen in the fault suite: right after a crash PostgreSQL accepts the connection but
    refuses the session (57P03); that used to surface as a 500."""
    server = await asyncio.start_server(_starting_postgres, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        r = await _sign_in(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/starting")
    finally:
        server.close()
        await server.wait_closed()
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "5"
    assert r.json()["code"] == "service_unavailable"
