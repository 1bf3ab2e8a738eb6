"""Where a class batch's time goes (issue 24, item 5): the real server, its intake's parts
wrapped in timers, one class's morning roll per request posted by one client (no queueing:
each part's own cost), then the mean milliseconds of each part per batch.

Run: ``python -m bench intake_profile`` (PostgreSQL, ``KCBX_BENCH_DATABASE_URL``). The server
is this module started as ``python -m bench.intake_profile serve``: it patches the parts before
uvicorn imports the app and writes its timings to ``BENCH_PROFILE_OUT`` when it stops.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import functools
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.domain.calendar import school_date
from bench import attendance as bench
from bench import illness as illness_bench
from bench.db import dsn, fresh_database
from bench.roster import BENCH_KEY, seed

OUT = os.environ.get("BENCH_PROFILE_OUT", "/tmp/kcbx_intake_profile.json")
BATCHES = int(os.environ.get("BENCH_PROFILE_BATCHES", "300"))
# 1: the roll of ``bench illness`` (a sick child in every class, a cluster in every tenth), so
# the illness hook's parts are timed on a flu-season morning.
SICK = os.environ.get("BENCH_PROFILE_SICK", "0") == "1"
# With SICK, which of its rolls: ``worst`` (as above) or ``county`` (about half the batches).
SCENARIO = os.environ.get("BENCH_PROFILE_SCENARIO", "worst")
# The bench smoke's size (bench/smoke.py): a few batches, its own database and port.
SMOKE = {
    "KCBX_BENCH_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/kcbx_smoke_profile",
    "BENCH_SCHOOLS": "2",
    "BENCH_CLASSES": "2",
    "BENCH_STUDENTS": "10",
    "BENCH_PROFILE_BATCHES": "4",
    "BENCH_APP_PORT": "8713",
}
_spent: dict[str, float] = defaultdict(float)
_in_intake: contextvars.ContextVar[bool] = contextvars.ContextVar("in_intake", default=False)
_calls: dict[str, int] = defaultdict(int)


def _timed(name: str, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        token = _in_intake.set(True)
        try:
            return await fn(*args, **kwargs)
        finally:
            _in_intake.reset(token)
            _spent[name] += time.perf_counter() - t0
            _calls[name] += 1

    return wrapper


def _patch() -> None:
    """Wrap each part of a batch where the intake looks it up (module attributes)."""
    from app.alerts import partial_days, reactions
    from app.attendance import intake
    from app.attendance import repository as repo
    from app.db.uow import UnitOfWork
    from app.illness import roll as illness_roll

    repo.students_brief = _timed("students: brief lookup", repo.students_brief)  # type: ignore[assignment]
    reactions.lock_roll_and_brief = _timed(  # type: ignore[assignment]
        "students: lock + brief (1 statement, cache miss)", reactions.lock_roll_and_brief
    )
    reactions.lock_roll = _timed("students: lock (brief cached)", reactions.lock_roll)  # type: ignore[assignment]
    intake.school_refs = _timed("schools: calendars lookup", intake.school_refs)  # type: ignore[assignment]
    repo.record = _timed("record: events + marks + hints (1 statement)", repo.record)  # type: ignore[assignment]
    repo.content_hashes = _timed("content hashes (retries only)", repo.content_hashes)  # type: ignore[assignment]
    reactions.react_to_attendance = _timed(  # type: ignore[assignment]
        "alert engine reaction (cases, alerts, outbox)", reactions.react_to_attendance
    )
    partial_days.react = _timed("partial days (离校未归)", partial_days.react)  # type: ignore[assignment]
    illness_roll.after_roll = _timed(  # type: ignore[assignment]
        "illness: register and day marker (issue 21)", illness_roll.after_roll
    )
    from app.illness import clusters
    from app.illness import repo as illness_repo

    clusters.look = _timed("illness: cluster look (engine job)", clusters.look)  # type: ignore[assignment]
    for name in (
        "records_for_roll",
        "write_roll",
        "county_rules",
        "school_records",
        "sick_leaves",
        "absorbing_alerts",
        "alert_by_key",
    ):
        setattr(illness_repo, name, _timed(f"illness: {name}", getattr(illness_repo, name)))
    UnitOfWork.commit = _timed("commit", UnitOfWork.commit)  # type: ignore[method-assign]
    intake.record_events = _timed("whole intake (record_events)", intake.record_events)  # type: ignore[assignment]

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    # Every statement an intake sends, BEGIN and COMMIT aside: a batch's round trips (the
    # engine's periodic jobs in the same server are not counted).
    @event.listens_for(Engine, "before_cursor_execute")
    def _count(*_: Any) -> None:
        if _in_intake.get():
            _calls["statements sent by the intake (BEGIN/COMMIT aside)"] += 1

    def dump() -> None:
        Path(OUT).write_text(json.dumps({"spent": _spent, "calls": _calls}))

    atexit.register(dump)


def serve() -> None:
    import signal

    import uvicorn

    _patch()
    # uvicorn stops on SIGTERM, puts back the handler it found and raises the signal again:
    # this one makes that an ordinary exit, so atexit writes the figures.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        port=bench.APP_PORT,
        log_level="warning",
        access_log=False,
    )


def _spawn() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.intake_profile", "serve"],
        cwd=bench.ROOT,
        env={**os.environ, "KCBX_DATABASE_URL": bench.URL, "KCBX_SEED_DEMO": "false"},
    )


def _read() -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = json.loads(Path(OUT).read_text())
    return figures


async def main() -> None:
    now = datetime.now(UTC)
    day = bench._school_day(now)
    await fresh_database(bench.URL)
    roster = await seed(
        dsn(bench.URL),
        schools=bench.SCHOOLS,
        classes=bench.CLASSES,
        students=bench.STUDENTS,
        today=school_date(now, "Asia/Shanghai"),
    )
    server = _spawn()
    try:
        await bench._wait_up(bench.APP_PORT)
        key = {"X-API-Key": BENCH_KEY, "Content-Type": "application/json"}
        classes = sorted(roster.class_students)[:BATCHES]
        warm = [
            json.dumps({"events": bench._events(roster.class_students[c], day, "dismissal")})
            for c in classes[:20]
        ]
        bodies = [
            json.dumps(
                {
                    "events": illness_bench._roll(
                        i, roster.class_students[c], day, "morning", SCENARIO
                    )
                    if SICK
                    else bench._events(roster.class_students[c], day, "morning")
                }
            )
            for i, c in enumerate(classes)
        ]
        saved, bench.CONCURRENCY = bench.CONCURRENCY, 1
        try:
            await bench._load(bench.APP_PORT, [b.encode() for b in warm], key)
            wall, lat = await bench._load(bench.APP_PORT, [b.encode() for b in bodies], key)
        finally:
            bench.CONCURRENCY = saved
    finally:
        server.terminate()
        server.wait(timeout=30)
    figures = _read()
    # The server counted the warm-up too: its parts are shared out over every batch it served.
    n = len(bodies)
    total = len(warm) + n
    print(f"where a class batch's time goes ({n} batches of {bench.STUDENTS}, one client):")
    print(
        f"  {'request, client side (HTTP, middleware, auth, intake)':<52} {wall / n * 1000:7.2f} ms"
    )
    for name, spent in sorted(figures["spent"].items(), key=lambda kv: -kv[1]):
        calls = figures["calls"][name]
        print(f"  {name:<52} {spent / total * 1000:7.2f} ms  ({calls / total:.2f} calls/batch)")
    for name, calls in figures["calls"].items():
        if name not in figures["spent"]:
            print(f"  {name:<52} {calls / total:7.2f} per batch")
    print(f"  mean request latency {sum(lat) / len(lat) * 1000:.2f} ms")
    # The parts nest inside the whole intake: its share of the request is the one ratio.
    whole = sum(v for k, v in figures["spent"].items() if k.startswith("whole intake")) / total
    print(
        f"ratio whole intake / request: {whole / (wall / n):.2f} "
        "(goal: the parts explain the request; the intake's goal, >= 0.6x of bare on class "
        "batches, is `bench attendance`'s)"
    )


if __name__ == "__main__" and sys.argv[1:] == ["serve"]:
    serve()
elif __name__ == "__main__":
    asyncio.run(main())
