"""Notification delivery under load: 10,000 notifications through the outbox to a local webhook
receiver (its own process), against a bare httpx loop posting the same signed events.

Notifications are written at a steady rate (200 a second, 50 s) while the delivery worker
polls; for each one the time from its outbox row to its receipt (``sent_at − created_at``) is
taken, and p50/p99 printed (target p99 < 2 s). The bare loop posts 10,000 events with the same
concurrency and no database; the ratio of throughputs is printed.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

from app.context import AppContext
from app.delivery.channels.base import Message, Target
from app.delivery.channels.webhook import WebhookChannel
from app.delivery.worker import DeliveryWorker
from app.settings import Settings
from bench.db import dsn, fresh_database, percentile

ROOT = Path(__file__).resolve().parents[1]
URL = os.environ.get(
    "KCBX_BENCH_DELIVERY_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/kcbx_bench_delivery"
)
TOTAL = int(os.environ.get("BENCH_NOTIFICATIONS", "10000"))
# A county morning raises a few hundred notices; the local receiver itself takes ~250/s here.
RATE = int(os.environ.get("BENCH_NOTIFICATION_RATE", "200"))
# Other benchmarks may run beside this one on a shared machine: the port can be moved.
PORT = int(os.environ.get("KCBX_BENCH_DELIVERY_PORT", "8703"))
SECRET = "bench-webhook-secret-0123456789"
# The bench smoke's size (bench/smoke.py): 200 notifications, its own database and port.
SMOKE = {
    "KCBX_BENCH_DELIVERY_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/kcbx_smoke_delivery",
    "BENCH_NOTIFICATIONS": "200",
    "KCBX_BENCH_DELIVERY_PORT": "8713",
}


async def _prepare(ctx: AppContext) -> None:
    await fresh_database(URL)
    now = datetime.now(UTC)
    conn = await asyncpg.connect(dsn(URL))
    try:
        await conn.execute(
            "INSERT INTO county (id, name, code, active, created_at) VALUES (1,'县','B',true,$1);"
            "INSERT INTO township (id, county_id, name, active, created_at)"
            " VALUES (1,1,'镇',true,$1);"
            "INSERT INTO school (id, county_id, township_id, name, code, kind, timezone,"
            " morning_check, noon_check, dismissal_check, active, created_at) VALUES (1,1,1,"
            "'基准小学','B1','primary','Asia/Shanghai','08:00','13:30','16:30',true,$1);"
            "INSERT INTO staff (id, county_id, school_id, name, mobile, is_superuser, active,"
            " created_at) VALUES (1,1,1,'班主任','13800000001',false,true,$1)".replace(
                "$1", "now()"
            ),
        )
        await conn.execute(
            "INSERT INTO webhook_subscription (county_id, url, secret_enc, events, active,"
            " created_at) VALUES (1, $1, $2, $3, true, $4)",
            f"http://127.0.0.1:{PORT}/hook",
            ctx.cipher.encrypt(SECRET),
            '["alert.raised"]',
            now,
        )
    finally:
        await conn.close()


async def _produce(dsn: str) -> None:
    """Outbox rows at a steady rate, as the engine would write them."""
    conn = await asyncpg.connect(dsn)
    try:
        per_tick = max(1, RATE // 20)
        start = time.perf_counter()
        made = 0
        while made < TOTAL:
            n = min(per_tick, TOTAL - made)
            now = datetime.now(UTC)
            await conn.executemany(
                "INSERT INTO notification (idem_key, staff_id, role, topic, title, body, level,"
                " school_id, created_at) VALUES ($1, 1, 'head_teacher', 'alert.raised',"
                " '蓝色预警', '', 'blue', 1, $2)",
                [(f"bench:{made + i}:{uuid.uuid4()}:1", now) for i in range(n)],
            )
            made += n
            await asyncio.sleep(max(0.0, start + made / RATE - time.perf_counter()))
    finally:
        await conn.close()


async def _bare(client: httpx.AsyncClient) -> float:
    channel = WebhookChannel(client)
    target = Target(url=f"http://127.0.0.1:{PORT}/hook", secret=SECRET)
    now = datetime.now(UTC)
    messages = [
        Message(str(uuid.uuid4()), "alert.raised", "蓝色预警", "", "", now, data={"n": i})
        for i in range(TOTAL)
    ]
    sem = asyncio.Semaphore(20)

    async def one(m: Message) -> None:
        async with sem:
            await channel.send(m, target)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(m) for m in messages))
    return time.perf_counter() - t0


def _start_receiver() -> subprocess.Popen[bytes]:
    args = ["bench.receiver:app", "--port", str(PORT), "--log-level", "warning", "--no-access-log"]
    return subprocess.Popen([sys.executable, "-m", "uvicorn", *args], cwd=ROOT)


async def main() -> None:
    settings = Settings(database_url=URL, seed_demo=False, engine_in_process=False)
    ctx = AppContext.from_settings(settings)
    print(f"delivery benchmark: {TOTAL} notifications at {RATE}/s to a local webhook receiver")
    await _prepare(ctx)
    receiver = _start_receiver()
    client = httpx.AsyncClient(timeout=10)
    try:
        for _ in range(100):
            try:
                await client.get(f"http://127.0.0.1:{PORT}/count")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        worker = DeliveryWorker(ctx, client, settings.channels, batch=500)
        producer = asyncio.create_task(_produce(dsn(URL)))
        t0 = time.perf_counter()
        sent = 0
        while sent < TOTAL and time.perf_counter() - t0 < 300:
            got = await worker.tick()
            sent += got.sent
            if not got.sent:
                await asyncio.sleep(0.05)
        wall = time.perf_counter() - t0
        await producer
        conn = await asyncpg.connect(dsn(URL))
        try:
            rows = await conn.fetch(
                "SELECT EXTRACT(EPOCH FROM d.sent_at - n.created_at) AS s FROM delivery d"
                " JOIN notification n ON n.id = d.notification_id WHERE d.state = 'sent'"
            )
        finally:
            await conn.close()
        latency = [float(r["s"]) for r in rows]
        print(
            f"  kcbx outbox → webhook   {len(latency)} sent in {wall:.2f} s "
            f"({len(latency) / wall:.0f}/s while produced at {RATE}/s); outbox → receipt "
            f"p50 {percentile(latency, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(latency, 0.99) * 1000:.0f} ms "
            "(goal p99 < 2 s)"
        )
        bare = await _bare(client)
        worker_rate = await _drain_rate(ctx, client, settings)
        print(f"  bare httpx, same events  {TOTAL} in {bare:.2f} s ({TOTAL / bare:.0f}/s)")
        print(
            f"  kcbx backlog drain        {worker_rate:.0f}/s; ratio kcbx / bare "
            f"{worker_rate / (TOTAL / bare):.2f}x (goal: none of its own; the receipt p99 above)"
        )
    finally:
        await client.aclose()
        receiver.terminate()
        receiver.wait(timeout=10)
        await ctx.close()


async def _drain_rate(ctx: AppContext, client: httpx.AsyncClient, settings: Settings) -> float:
    """All notifications written first, then drained as fast as the worker goes."""
    conn = await asyncpg.connect(dsn(URL))
    try:
        now = datetime.now(UTC)
        await conn.executemany(
            "INSERT INTO notification (idem_key, staff_id, role, topic, title, body, level,"
            " school_id, created_at) VALUES ($1, 1, 'head_teacher', 'alert.raised',"
            " '蓝色预警', '', 'blue', 1, $2)",
            [(f"drain:{i}:{uuid.uuid4()}:1", now) for i in range(TOTAL)],
        )
    finally:
        await conn.close()
    worker = DeliveryWorker(ctx, client, settings.channels, batch=500)
    t0 = time.perf_counter()
    sent = 0
    while sent < TOTAL and time.perf_counter() - t0 < 300:
        sent += (await worker.tick()).sent
    return sent / (time.perf_counter() - t0)
