"""Attendance intake under load, against a bare FastAPI + asyncpg insert in the same run.

County-sized roster on PostgreSQL (50 schools × 20 classes × 50 students = 50,000), one morning
check for everyone posted as class batches by concurrent clients over HTTP to a running
server, then single events; the same rows go to the bare endpoint. Figures are printed.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from datetime import time as clock_time
from pathlib import Path

import httpx

from app.domain.calendar import SchoolCalendar, Term, school_date
from bench.db import dsn, fresh_database, percentile
from bench.history import fill as fill_history
from bench.roster import BENCH_KEY, Roster, seed
from bench.storage import report as storage_report

ROOT = Path(__file__).resolve().parents[1]
URL = os.environ.get(
    "KCBX_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/kcbx_bench"
)
SCHOOLS = int(os.environ.get("BENCH_SCHOOLS", "50"))
CLASSES = int(os.environ.get("BENCH_CLASSES", "20"))
STUDENTS = int(os.environ.get("BENCH_STUDENTS", "50"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
SINGLES = int(os.environ.get("BENCH_SINGLES", "2000"))
# Ports overridable: several benchmarks may run on one shared machine.
APP_PORT = int(os.environ.get("BENCH_APP_PORT", "8701"))
BARE_PORT = int(os.environ.get("BENCH_BARE_PORT", "8702"))
WORKERS = os.environ.get("BENCH_WORKERS", "1")
# The bench smoke's size (bench/smoke.py): 2 schools × 2 classes × 10, its own database and ports.
SMOKE = {
    "KCBX_BENCH_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/kcbx_smoke_attendance",
    "BENCH_SINGLES": "40",
    "BENCH_CONCURRENCY": "4",
    "BENCH_APP_PORT": "8711",
    "BENCH_BARE_PORT": "8712",
    "BENCH_HISTORY_DAYS": "3",
}
# School days of history written before the second measurement (0: empty tables only).
HISTORY_DAYS = int(os.environ.get("BENCH_HISTORY_DAYS", "0"))
BEIJING = timezone(timedelta(hours=8))


def _start(
    args: Sequence[str], env: dict[str, str], workers: int | None = None
) -> subprocess.Popen[bytes]:
    """A uvicorn server of ``workers`` processes (``BENCH_WORKERS`` when None)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            *args,
            "--workers",
            str(workers or WORKERS),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
    )


async def _wait_up(port: int) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                if (await client.get(f"http://127.0.0.1:{port}/docs")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


def _events(students: list[int], day: date, check: str) -> list[dict[str, object]]:
    at = datetime.combine(day, datetime.min.time(), BEIJING).replace(hour=8, minute=5)
    return [
        {
            "event_id": str(uuid.uuid4()),
            "student_id": s,
            "school_date": day.isoformat(),
            "check": check,
            # About 1% absent, a high morning for a rural county: each opens a case.
            "status": "present" if s % 97 else "absent",
            "occurred_at": at.isoformat(),
        }
        for s in students
    ]


async def _load(
    port: int, bodies: list[bytes], headers: dict[str, str]
) -> tuple[float, list[float]]:
    """Post every body with CONCURRENCY clients; returns wall time and per-request latencies."""
    latencies: list[float] = []
    queue = list(reversed(bodies))
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
    ) as client:

        async def worker() -> None:
            while queue:
                body = queue.pop()
                t0 = time.perf_counter()
                r = await client.post(
                    "/api/v1/attendance-events" if port == APP_PORT else "/events",
                    content=body,
                    headers=headers,
                )
                latencies.append(time.perf_counter() - t0)
                if r.status_code >= 300 or (
                    port == APP_PORT and b'"rejected":0' not in r.content and r.status_code != 201
                ):
                    raise RuntimeError(f"{r.status_code}: {r.text[:300]}")

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.perf_counter() - start, latencies


def _line(name: str, events: int, wall: float, lat: list[float]) -> dict[str, float]:
    figures = {
        "events_s": events / wall,
        "req_s": len(lat) / wall,
        "p50": percentile(lat, 0.50) * 1000,
        "p99": percentile(lat, 0.99) * 1000,
        "mean": statistics.fmean(lat) * 1000,
    }
    print(
        f"  {name:<28} {events:>7} events {len(lat):>6} requests {wall:7.2f} s  "
        f"{figures['events_s']:9.0f} events/s  p50 {figures['p50']:7.1f} ms  "
        f"p99 {figures['p99']:7.1f} ms"
    )
    return figures


def _school_day(now: datetime) -> date:
    """The latest school day whose morning check (08:05) has passed: before it, today's
    events would be in the future and rejected."""
    today = school_date(now, "Asia/Shanghai")
    term = Term("基准学期", today - timedelta(days=120), today + timedelta(days=30))
    calendar = SchoolCalendar(terms=(term,))
    checked = now.astimezone(BEIJING).time() >= clock_time(8, 5)
    if checked and calendar.is_school_day(today):
        return today
    return calendar.previous_school_day(today) or today


async def main() -> None:
    now = datetime.now(UTC)
    today = school_date(now, "Asia/Shanghai")
    day = _school_day(now)
    total = SCHOOLS * CLASSES * STUDENTS
    print(
        f"attendance intake benchmark: {SCHOOLS} schools, {total} students, school date {day},"
        f" {CONCURRENCY} concurrent clients, {os.cpu_count()} cores"
    )
    t0 = time.perf_counter()
    await fresh_database(URL)
    roster: Roster = await seed(
        dsn(URL), schools=SCHOOLS, classes=CLASSES, students=STUDENTS, today=today
    )
    print(f"  roster built in {time.perf_counter() - t0:.1f} s")

    app = _start(
        ["app.main:create_app", "--factory", "--port", str(APP_PORT)],
        {"KCBX_DATABASE_URL": URL, "KCBX_SEED_DEMO": "false"},
    )
    bare = _start(["bench.bare_app:app", "--port", str(BARE_PORT)], {"BARE_DSN": dsn(URL)})
    try:
        await asyncio.gather(_wait_up(APP_PORT), _wait_up(BARE_PORT))
        key = {"X-API-Key": BENCH_KEY, "Content-Type": "application/json"}
        plain = {"Content-Type": "application/json"}
        classes = sorted(roster.class_students)

        def batches(check: str) -> list[bytes]:
            return [
                json.dumps({"events": _events(roster.class_students[c], day, check)}).encode()
                for c in classes
            ]

        def singles(check: str) -> list[bytes]:
            students = [s for c in classes for s in roster.class_students[c]][:SINGLES]
            return [json.dumps(e).encode() for e in _events(students, day, check)]

        # Warm both servers (imports, pools, caches) on rows the runs below do not reuse.
        await _load(APP_PORT, batches("dismissal")[:20], key)
        await _load(BARE_PORT, batches("dismissal")[:20], plain)

        async def both(check: str) -> tuple[dict[str, float], dict[str, float]]:
            """Class batches of one check to the bare server, then to kcbx."""
            b_wall, b_lat = await _load(BARE_PORT, batches(check), plain)
            bare = _line("bare FastAPI + asyncpg", total, b_wall, b_lat)
            a_wall, a_lat = await _load(APP_PORT, batches(check), key)
            return bare, _line("kcbx intake", total, a_wall, a_lat)

        print("class batches (one class's morning check per request):")
        bare_b, app_b = await both("morning")
        print("single events:")
        b_wall, b_lat = await _load(BARE_PORT, singles("noon"), plain)
        bare_s = _line("bare single-row insert", SINGLES, b_wall, b_lat)
        a_wall, a_lat = await _load(APP_PORT, singles("noon"), key)
        app_s = _line("kcbx intake", SINGLES, a_wall, a_lat)
        print(
            f"ratio kcbx / bare: class batches {app_b['events_s'] / bare_b['events_s']:.2f}x "
            f"(goal >= 0.6), single events {app_s['events_s'] / bare_s['events_s']:.2f}x "
            f"(goal >= 0.6)"
        )
        await storage_report(dsn(URL))
        if HISTORY_DAYS > 0:
            # The same county with a year behind it: the dismissal check of the same day,
            # posted as class batches again, to both servers on full tables.
            await fill_history(dsn(URL), day, HISTORY_DAYS)
            print(f"class batches on full tables ({HISTORY_DAYS} school days of history):")
            bare_f, app_f = await both("dismissal")
            print(
                f"ratio kcbx / bare, full tables: class batches "
                f"{app_f['events_s'] / bare_f['events_s']:.2f}x (goal >= 0.6)"
            )
            await storage_report(dsn(URL))
    finally:
        for proc in (app, bare):
            proc.terminate()
            proc.wait(timeout=10)
