"""Scale-out on one PostgreSQL (issue 24 item 8): intake with 1, 2 and 4 API worker processes,
and the deadline backlog with 1 and 2 engine processes, each beside its bare baseline.

1. **API workers**: for each N in ``BENCH_SCALE_WORKERS`` (1, 2, 4) the county is built anew
   (``bench.attendance``'s roster: 50 schools × 20 classes × 50 = 50,000 pupils) and one
   morning check posted as class batches by ``BENCH_CONCURRENCY`` clients to ``uvicorn
   --workers N`` — the kcbx API with ``KCBX_ENGINE_IN_PROCESS=false`` (the engine is its own
   process in production, ``python -m app.jobs``) — and to the bare FastAPI + asyncpg server
   (``bench/bare_app.py``) at the same N. A fresh county per N, not another day or check on
   the same one: a second absence of the same pupils escalates their cases and a second check
   of the same day opens none, so either would charge one N for work the other did not do.
2. **Engines**: ``bench.deadlines``' seeding (1,000,000 future deadlines loading the table) and
   its backlog drain — 100,000 contact deadlines overdue at once — by one and by two
   ``python -m app.jobs`` processes, beside its bare asyncpg claim-and-mark loop. The code is
   ``bench/deadlines.py``'s, called here, not copied; that benchmark also runs the sweep alone
   and the steady rate, which this one skips (``BENCH_RATE_SECONDS=0``).

Printed: events/s at each N, the ratio per added process (N / 1) for kcbx and for bare, and
kcbx / bare at each N. Decision: the figures are printed as measured, not judged — this machine
has 2 cores, shared by the client, the servers, PostgreSQL and other work, so past 2 processes
the ratio says what extra processes cost on a full machine, not what they give on a bigger one.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
# One database for both parts (each recreates it), its own ports; the caller's environment
# wins (setdefault), as everywhere in bench/.
DEFAULTS = {
    "KCBX_BENCH_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/kcbx_scale_bench",
    "KCBX_BENCH_DEADLINES_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/kcbx_scale_bench",
    "BENCH_APP_PORT": "8781",
    "BENCH_BARE_PORT": "8782",
    "BENCH_RATE_SECONDS": "0",
}
# The bench smoke's size (bench/smoke.py): 40 pupils, 1 and 2 workers (each N builds its
# database anew: 4 as well would take the smoke past a minute), a backlog of 300.
SMOKE = {
    "KCBX_BENCH_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/kcbx_smoke_scale",
    "KCBX_BENCH_DEADLINES_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/kcbx_smoke_scale",
    "BENCH_CONCURRENCY": "4",
    "BENCH_APP_PORT": "8783",
    "BENCH_BARE_PORT": "8784",
    "BENCH_FUTURE_DEADLINES": "2000",
    "BENCH_BACKLOG": "300",
    "BENCH_SCALE_WORKERS": "1,2",
}
WORKERS = tuple(int(n) for n in os.environ.get("BENCH_SCALE_WORKERS", "1,2,4").split(","))
ENGINES = (1, 2)


def _ratios(label: str, rates: dict[int, float]) -> str:
    one = rates[min(rates)]
    return f"{label} " + ", ".join(f"{n}/1 {rates[n] / one:.2f}x" for n in sorted(rates)[1:])


async def _up(att: ModuleType, *ports: int) -> None:
    """``bench.attendance``'s wait, thrice: N workers on a busy 2-core machine may take more
    than its 20 s to start."""
    for attempt in range(3):
        try:
            await asyncio.gather(*(att._wait_up(p) for p in ports))
            return
        except RuntimeError:
            if attempt == 2:
                raise


async def _intake_at(att: ModuleType, workers: int) -> tuple[float, float]:
    """A fresh county, then one morning of class batches to bare and to kcbx, both served by
    ``workers`` processes. Returns (bare, kcbx) events per second."""
    now = datetime.now(UTC)
    today = att.school_date(now, "Asia/Shanghai")
    day = att._school_day(now)
    await att.fresh_database(att.URL)
    roster = await att.seed(
        att.dsn(att.URL),
        schools=att.SCHOOLS,
        classes=att.CLASSES,
        students=att.STUDENTS,
        today=today,
    )
    env = {"KCBX_DATABASE_URL": att.URL, "KCBX_SEED_DEMO": "false"}
    app = att._start(
        ["app.main:create_app", "--factory", "--port", str(att.APP_PORT)],
        {**env, "KCBX_ENGINE_IN_PROCESS": "false"},
        workers,
    )
    bare = att._start(
        ["bench.bare_app:app", "--port", str(att.BARE_PORT)],
        {"BARE_DSN": att.dsn(att.URL)},
        workers,
    )
    try:
        await _up(att, att.APP_PORT, att.BARE_PORT)
        await asyncio.sleep(workers)  # the other workers of the supervisor come up too
        key = {"X-API-Key": att.BENCH_KEY, "Content-Type": "application/json"}
        plain = {"Content-Type": "application/json"}
        classes = sorted(roster.class_students)

        def batches(check: str) -> list[bytes]:
            return [
                json.dumps({"events": att._events(roster.class_students[c], day, check)}).encode()
                for c in classes
            ]

        # Warm every worker (imports, pools, caches) on rows the run below does not reuse.
        warm = 10 * workers
        await att._load(att.APP_PORT, batches("dismissal")[:warm], key)
        await att._load(att.BARE_PORT, batches("dismissal")[:warm], plain)
        total = sum(len(s) for s in roster.class_students.values())
        b_wall, b_lat = await att._load(att.BARE_PORT, batches("morning"), plain)
        b = att._line(f"bare, {workers} worker(s)", total, b_wall, b_lat)
        a_wall, a_lat = await att._load(att.APP_PORT, batches("morning"), key)
        a = att._line(f"kcbx, {workers} worker(s)", total, a_wall, a_lat)
        return b["events_s"], a["events_s"]
    finally:
        for proc in (app, bare):
            proc.terminate()
            proc.wait(timeout=20)


async def _engines(dl: ModuleType) -> tuple[float, dict[int, float]]:
    """The deadline backlog drained by 1 and 2 engine processes (``bench.deadlines``' own
    seeding, drain and bare loop). Returns the bare loop's rate and each engine count's."""
    day = dl.school_date(datetime.now(UTC), "Asia/Shanghai")
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)
    await dl.fresh_database(dl.URL)
    conn = await asyncpg.connect(dl.DSN)
    log = ROOT / "build" / "bench-scale-engine.log"
    log.parent.mkdir(exist_ok=True)
    log.write_text("")
    try:
        t0 = time.perf_counter()
        cases = await dl._seed(conn, day)
        print(
            f"  seeded in {time.perf_counter() - t0:.1f} s: {dl.FUTURE} future deadlines, "
            f"backlog {dl.BACKLOG} per run (engine log: {log})"
        )
        bare = await dl._bare(conn, dl.BACKLOG)
        rates = {
            n: await dl._drain(conn, cases.backlog[i], cases.day, n, log)
            for i, n in enumerate(ENGINES)
        }
        return bare, rates
    finally:
        await conn.close()


async def main() -> None:
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    # Both read their sizes, database and ports from the environment when imported.
    att = importlib.import_module("bench.attendance")
    dl = importlib.import_module("bench.deadlines")
    print(
        f"scale-out benchmark on one PostgreSQL: {att.SCHOOLS * att.CLASSES * att.STUDENTS} "
        f"pupils, API workers {', '.join(map(str, WORKERS))}, engines 1 and 2, "
        f"{att.CONCURRENCY} concurrent clients; {os.cpu_count()} cores shared by client, "
        "servers, PostgreSQL and other work: past 2 processes the machine is full"
    )
    print("intake, class batches (one class's morning check per request), a fresh county per N:")
    bare: dict[int, float] = {}
    kcbx: dict[int, float] = {}
    for n in WORKERS:
        bare[n], kcbx[n] = await _intake_at(att, n)
    print("deadline backlog, engine processes (python -m app.jobs):")
    loop, engines = await _engines(dl)
    print(
        "ratio per added API worker process (events/s at N / at 1): "
        + _ratios("kcbx", kcbx)
        + "; "
        + _ratios("bare", bare)
        + f" (goal: 2/1 >= 1.5x given 2 free cores; {os.cpu_count()} cores here, shared)"
    )
    print(
        "ratio kcbx / bare at the same worker count: "
        + ", ".join(f"{n} {kcbx[n] / bare[n]:.2f}x" for n in WORKERS)
        + " (goal >= 0.6x, as bench/attendance.py)"
    )
    print(
        f"ratio per added engine process: {_ratios('engines', engines)}; engine / bare loop "
        + ", ".join(f"{n} engine(s) {engines[n] / loop:.2f}x" for n in ENGINES)
        + " (goal: backlog <= 30 s and >= 0.5x of bare with one engine)"
    )
