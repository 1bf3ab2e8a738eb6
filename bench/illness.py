"""The cost of illness surveillance on a county's morning roll (issue 21, "Done when"): the
same roll, with some children absent for illness, posted as class batches to the real server
with the illness hook (register + day marker, ``app.illness.roll.after_roll``) and to the
same server with the hook switched off, each against the bare FastAPI + asyncpg insert in the
same run. Goal: the intake ratio unchanged within noise.

The hook writes the register and marks the (school, day); the cluster rules run in the
engine's ``illness-clusters`` job (``app.illness.detection``), once a minute, not per batch.
After the rounds this benchmark runs that job once on the marked days and prints its time:
the detector's cost moved off the roll, paid once per school and minute.

Run: ``python -m bench illness`` (PostgreSQL, ``KCBX_BENCH_DATABASE_URL``). The two servers are
this module started as ``python -m bench.illness serve on|off``: ``off`` replaces the hook by a
no-op before uvicorn imports the app, so the two differ by the hook alone.

Decisions:
- one roll per check and round: the server without the hook gets the previous school day, the
  one with it today's, so neither sees the other's marks; the order of the two alternates by
  round, and the bare baseline is measured just before each, so drift falls on both;
- the roll: about 1% absent (as ``bench attendance``), one child in every class absent for
  illness (发热), and in every tenth class three more with 发热+咳嗽 — a class cluster, so the
  detector opens alerts and sends notices. Nearly every batch carries a sick child, so the
  detector runs for nearly every batch: a flu-season morning, the hook's worst ordinary case;
- the noise figure is the spread of the bare baseline's own rounds.
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
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx

from app.context import AppContext
from app.domain.calendar import SchoolCalendar, Term, school_date
from app.illness.detection import look_at_changed_days
from app.settings import Settings
from bench import attendance as bench
from bench.db import dsn, fresh_database
from bench.roster import BENCH_KEY, seed

URL = bench.URL
ON_PORT = int(os.environ.get("BENCH_ILLNESS_ON_PORT", "8721"))
OFF_PORT = int(os.environ.get("BENCH_ILLNESS_OFF_PORT", "8722"))
BARE_PORT = int(os.environ.get("BENCH_ILLNESS_BARE_PORT", "8723"))
ROUNDS = int(os.environ.get("BENCH_REPEAT", "3"))
SMOKE = {
    "KCBX_BENCH_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/kcbx_smoke_illness",
    "BENCH_CONCURRENCY": "4",
    "BENCH_ILLNESS_ON_PORT": "8731",
    "BENCH_ILLNESS_OFF_PORT": "8732",
    "BENCH_ILLNESS_BARE_PORT": "8733",
}
CHECKS = ("morning", "noon", "dismissal")


def serve(mode: str) -> None:
    import uvicorn

    if mode == "off":
        from app.illness import roll

        async def no_hook(*args: object, **kwargs: object) -> None:
            return None

        roll.after_roll = no_hook  # type: ignore[assignment]
    port = ON_PORT if mode == "on" else OFF_PORT
    uvicorn.run(
        "app.main:create_app", factory=True, port=port, log_level="warning", access_log=False
    )


def _spawn(mode: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.illness", "serve", mode],
        cwd=bench.ROOT,
        env={**os.environ, "KCBX_DATABASE_URL": URL, "KCBX_SEED_DEMO": "false"},
    )


def _roll(class_index: int, students: list[int], day: date, check: str) -> list[dict[str, object]]:
    at = datetime.combine(day, datetime.min.time(), bench.BEIJING).replace(hour=8, minute=5)
    onset = (at - timedelta(hours=12)).isoformat()
    cluster = class_index % 10 == 0
    events: list[dict[str, object]] = []
    for i, s in enumerate(students):
        event: dict[str, object] = {
            "event_id": str(uuid.uuid4()),
            "student_id": s,
            "school_date": day.isoformat(),
            "check": check,
            "status": "present" if s % 97 else "absent",
            "occurred_at": at.isoformat(),
        }
        sick = i == 7 or (cluster and i < 3)
        if sick:
            event["status"] = "leave"
            event["leave_type"] = "sick"
            event["illness"] = {
                "symptoms": ["fever", "cough"] if i < 3 else ["fever"],
                "onset_at": onset,
            }
        events.append(event)
    return events


async def _post(port: int, path: str, bodies: list[bytes], headers: dict[str, str]) -> float:
    """Every body by CONCURRENCY clients; the wall time."""
    queue = list(reversed(bodies))
    limits = httpx.Limits(
        max_connections=bench.CONCURRENCY, max_keepalive_connections=bench.CONCURRENCY
    )
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=120
    ) as client:

        async def worker() -> None:
            while queue:
                r = await client.post(path, content=queue.pop(), headers=headers)
                if r.status_code >= 300 or (path != "/events" and b'"rejected":0' not in r.content):
                    raise RuntimeError(f"{port} {r.status_code}: {r.text[:300]}")

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(bench.CONCURRENCY)))
        return time.perf_counter() - start


async def main() -> None:
    now = datetime.now(UTC)
    today = school_date(now, "Asia/Shanghai")
    day1 = bench._school_day(now)
    calendar = SchoolCalendar(
        terms=(Term("基准学期", today - timedelta(days=120), today + timedelta(days=30)),)
    )
    day0 = calendar.previous_school_day(day1) or day1 - timedelta(days=1)
    total = bench.SCHOOLS * bench.CLASSES * bench.STUDENTS
    print(
        f"illness surveillance on the roll: {bench.SCHOOLS} schools, {total} students, "
        f"{ROUNDS} round(s), {bench.CONCURRENCY} concurrent clients, {os.cpu_count()} cores"
    )
    await fresh_database(URL)
    roster = await seed(
        dsn(URL),
        schools=bench.SCHOOLS,
        classes=bench.CLASSES,
        students=bench.STUDENTS,
        today=today,
    )
    on, off = _spawn("on"), _spawn("off")
    bare = bench._start(["bench.bare_app:app", "--port", str(BARE_PORT)], {"BARE_DSN": dsn(URL)})
    key = {"X-API-Key": BENCH_KEY, "Content-Type": "application/json"}
    plain = {"Content-Type": "application/json"}
    api = "/api/v1/attendance-events"
    classes = sorted(roster.class_students)
    sick = sum(
        1
        for i, c in enumerate(classes)
        for e in _roll(i, roster.class_students[c], day1, "morning")
        if "illness" in e
    )

    def batches(day: date, check: str) -> list[bytes]:
        return [
            json.dumps({"events": _roll(i, roster.class_students[c], day, check)}).encode()
            for i, c in enumerate(classes)
        ]

    ratios: dict[str, list[float]] = {"off": [], "on": []}
    bare_rates: list[float] = []
    # The servers' own rates too: their quotient does not carry the bare baseline's spread.
    rates: dict[str, list[float]] = {"off": [], "on": []}
    try:
        await asyncio.gather(*(bench._wait_up(p) for p in (ON_PORT, OFF_PORT, BARE_PORT)))
        # Warm every server on rows no run below reuses (a day before both).
        warm_day = calendar.previous_school_day(day0) or day0 - timedelta(days=1)
        for port, headers, path in ((ON_PORT, key, api), (OFF_PORT, key, api)):
            await _post(port, path, batches(warm_day, CHECKS[0])[:10], headers)
        await _post(BARE_PORT, "/events", batches(warm_day, CHECKS[0])[:10], plain)
        print(f"  {sick} of {total} sick at each roll; class batches, events/s:")
        for r in range(ROUNDS):
            check = CHECKS[r % len(CHECKS)]
            runs = [("off", OFF_PORT, day0), ("on", ON_PORT, day1)]
            for mode, port, day in runs if r % 2 == 0 else runs[::-1]:
                b = total / await _post(BARE_PORT, "/events", batches(day, check), plain)
                a = total / await _post(port, api, batches(day, check), key)
                bare_rates.append(b)
                ratios[mode].append(a / b)
                rates[mode].append(a)
                label = "with the illness hook" if mode == "on" else "without (hook off)   "
                print(
                    f"  round {r + 1} {check:<9} bare {b:8.0f}  kcbx {label} {a:8.0f}"
                    f"  ratio {a / b:.2f}x"
                )
    finally:
        for proc in (on, off, bare):
            proc.terminate()
            proc.wait(timeout=30)
    # The engine's minute after the morning: the cluster rules on every marked day.
    ctx = AppContext.from_settings(Settings(database_url=URL, seed_demo=False))
    try:
        t0 = time.perf_counter()
        looked = await look_at_changed_days(ctx, limit=100_000)
        job_ms = (time.perf_counter() - t0) * 1000
    finally:
        await ctx.close()
    print(
        f"  the engine's illness-clusters job afterwards: {looked} school days looked at in "
        f"{job_ms:.0f} ms ({job_ms / max(looked, 1):.1f} ms a day; once a minute, off the roll)"
    )
    conn = await asyncpg.connect(dsn(URL))
    try:
        records = await conn.fetchval("SELECT count(*) FROM illness_record")
        alerts = await conn.fetchval("SELECT count(*) FROM illness_alert")
    finally:
        await conn.close()
    print(f"  the hook's work: {records} illness records, {alerts} cluster alerts")
    raw = statistics.fmean(rates["on"]) / statistics.fmean(rates["off"])
    print(f"  events/s with the hook / without, same rounds: {raw:.2f}")
    with_ = statistics.fmean(ratios["on"])
    without = statistics.fmean(ratios["off"])
    noise = (max(bare_rates) - min(bare_rates)) / statistics.fmean(bare_rates)
    print(
        f"ratio kcbx / bare: with the illness hook {with_:.2f}x, without {without:.2f}x; "
        f"with / without {with_ / without:.2f} (goal: 1.00 within noise; the bare baseline's "
        f"own spread this run {noise:.0%}; the intake's goal >= 0.6x)"
    )


if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    serve(sys.argv[2])
elif __name__ == "__main__":
    asyncio.run(main())
