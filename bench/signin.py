"""Sign-in and the event loop: `/healthz` latency while 8 clients sign in at once, with Argon2
in a worker thread (as served) and, for comparison, on the loop (as before issue 12).

In-process over ASGI on an embedded SQLite file, so the figures show the loop's own stalls
(no network, no other server). Printed: sign-ins per second and `/healthz` p50 / p99 / max.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

from app.context import AppContext
from app.db import migrations
from app.domain.access import Actor, ActorKind
from app.main import create_app
from app.org import auth, staff
from app.org import service as org
from app.org.schemas import CountyIn
from app.org.staff_schemas import StaffIn
from app.settings import Settings
from bench.db import percentile

CLIENTS = int(os.environ.get("BENCH_SIGNIN_CLIENTS", "8"))
SECONDS = float(os.environ.get("BENCH_SIGNIN_SECONDS", "8"))
# The bench smoke's size (bench/smoke.py).
SMOKE = {"BENCH_SIGNIN_CLIENTS": "2", "BENCH_SIGNIN_SECONDS": "1"}
PASSWORD = "bench-pass-1"
OPS = Actor(kind=ActorKind.staff, id=0, name="ops", superuser=True)


async def _seed(ctx: AppContext) -> list[str]:
    async with ctx.uow() as uow:
        county = await org.create_county(uow, OPS, CountyIn(name="基准县", code="BENCH"))
    mobiles = [f"1370000{i:04d}" for i in range(CLIENTS)]
    for m in mobiles:
        async with ctx.uow() as uow:
            await staff.create_staff(
                uow,
                OPS,
                StaffIn(county_id=county.id, name="基准", mobile=m, password=PASSWORD),
            )
    return mobiles


async def _run(client: httpx.AsyncClient, mobiles: list[str]) -> tuple[int, list[float]]:
    stop = time.perf_counter() + SECONDS
    signed = 0
    probes: list[float] = []

    async def sign_in(mobile: str) -> None:
        nonlocal signed
        while time.perf_counter() < stop:
            r = await client.post(
                "/api/v1/auth/token", data={"username": mobile, "password": PASSWORD}
            )
            assert r.status_code == 200, r.text
            signed += 1

    async def probe() -> None:
        # Measured from when the probe was due, so a loop stalled during the 5 ms pause
        # counts as the stall a client would have waited through.
        while time.perf_counter() < stop:
            due = time.perf_counter() + 0.005
            await asyncio.sleep(0.005)
            r = await client.get("/healthz")
            probes.append((time.perf_counter() - due) * 1000)
            assert r.status_code == 200

    await asyncio.gather(probe(), *(sign_in(m) for m in mobiles))
    return signed, probes


async def _on_loop(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'signin.db'}"
        await asyncio.to_thread(migrations.upgrade, url)
        settings = Settings(
            environment="development",
            database_url=url,
            seed_demo=False,
            engine_in_process=False,
            sign_in_account_failures=10**6,
            sign_in_client_failures=10**6,
        )
        ctx = AppContext.from_settings(settings)
        mobiles = await _seed(ctx)
        transport = httpx.ASGITransport(app=create_app(ctx))
        load = os.getloadavg()[0]
        print(
            f"sign-in: {CLIENTS} clients for {SECONDS:.0f} s each, /healthz probed every 5 ms "
            f"({os.cpu_count()} cores, load {load:.1f})"
        )
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            idle: list[float] = []
            for _ in range(200):
                t0 = time.perf_counter()
                await client.get("/healthz")
                idle.append((time.perf_counter() - t0) * 1000)
            print(f"  idle            /healthz p50 {percentile(idle, 0.5):6.2f} ms")
            real = auth.to_thread
            on_loop = SimpleNamespace(run_sync=_on_loop)  # only the sign-in's verify moves
            p99: dict[str, float] = {}
            for label, runner in (("worker thread", real), ("on the loop", on_loop)):
                auth.to_thread = runner  # type: ignore[assignment]
                try:
                    signed, probes = await _run(client, mobiles)
                finally:
                    auth.to_thread = real
                p99[label] = percentile(probes, 0.99)
                print(
                    f"  {label:<15} {signed / SECONDS:6.1f} sign-ins/s   /healthz p50 "
                    f"{percentile(probes, 0.5):6.2f} ms  p99 {percentile(probes, 0.99):7.2f} ms"
                    f"  max {max(probes):7.2f} ms"
                )
            print(
                f"ratio /healthz p99 in a worker thread / on the loop: "
                f"{p99['worker thread'] / p99['on the loop']:.2f}x "
                "(goal: the loop never waits for Argon2, well under 1x; issue 12)"
            )
        await ctx.close()
