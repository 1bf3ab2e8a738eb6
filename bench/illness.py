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
- one roll per check and round: the server without the hook gets one school day, the one
  with it another, so neither sees the other's marks;
- the two servers take each roll in turn, ``BENCH_ILLNESS_CHUNKS`` (20) chunks of class
  batches, the order swapped every chunk, and with / without is the median of the chunk
  pairs' quotients, their quartiles its noise. On this shared 2-core machine whole rolls a
  minute apart differed by up to 2x (the bare baseline's own spread 55–90% in one run), so a
  quotient of whole rolls said nothing; a pair of chunks is a second or two apart. The bare
  baseline posts each roll once, for the intake's ratio;
- two rolls (scenarios), each measured in its own rounds of the same run, both about 1%
  absent (as ``bench attendance``):
  - ``worst``: one child in every class absent for illness (发热), and in every tenth class
    three more with 发热+咳嗽 — a class cluster. Every batch carries a sick child: a
    flu-season morning, the hook's worst ordinary case;
  - ``county``: a county's ordinary morning, 1.4% of the children sick (drawn at random,
    seeded by the student id), so about half of the class batches carry one, and a cluster of
    three in one class in fifty;
  ``BENCH_ILLNESS_SCENARIOS`` (default ``county,worst``) picks them;
- each scenario's rolls go on school days of their own (the county's first, on earlier
  days), so no roll meets another's marks;
- the job's own cost is printed after the rounds (it runs once a minute, not per batch);
- not in the quotient: the intake's recording statement finds out for both servers which
  students have an illness record (``Recorded.illness``, an EXISTS per event); its cost is
  in docs/operations.md (``EXPLAIN ANALYZE``).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
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


SCENARIOS = tuple(os.environ.get("BENCH_ILLNESS_SCENARIOS", "county,worst").split(","))


def _sick(scenario: str, class_index: int, i: int, student: int) -> bool:
    """Whether the ``i``-th child of the class is absent for illness in the scenario."""
    if scenario == "worst":
        return i == 7 or (class_index % 10 == 0 and i < 3)
    return random.Random(student).random() < 0.014 or (class_index % 50 == 0 and i < 3)


def _roll(
    class_index: int, students: list[int], day: date, check: str, scenario: str = "worst"
) -> list[dict[str, object]]:
    at = datetime.combine(day, datetime.min.time(), bench.BEIJING).replace(hour=8, minute=5)
    onset = (at - timedelta(hours=12)).isoformat()
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
        if _sick(scenario, class_index, i, s):
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


CHUNKS = int(os.environ.get("BENCH_ILLNESS_CHUNKS", "20"))


def _events_in(bodies: list[bytes]) -> int:
    return sum(b.count(b'"event_id"') for b in bodies)


@dataclass
class _Rounds:
    """One scenario's rounds: per chunk of class batches the quotient of the two servers'
    rates, measured back to back (the with / without figure and its spread); per round each
    server's rate over its whole roll and the bare baseline's (the intake's ratio)."""

    pairs: list[float] = field(default_factory=list)
    rates: dict[str, list[float]] = field(default_factory=lambda: {"off": [], "on": []})
    bare: list[float] = field(default_factory=list)

    def report(self, scenario: str) -> None:
        q = statistics.quantiles(self.pairs, n=4)
        with_ = statistics.fmean(self.rates["on"]) / statistics.fmean(self.bare)
        without = statistics.fmean(self.rates["off"]) / statistics.fmean(self.bare)
        noise = (max(self.bare) - min(self.bare)) / statistics.fmean(self.bare)
        print(
            f"  {scenario}: with / without per chunk pair ({len(self.pairs)} pairs): median "
            f"{statistics.median(self.pairs):.2f}, quartiles {q[0]:.2f}-{q[2]:.2f}; whole rolls "
            f"{statistics.fmean(self.rates['on']) / statistics.fmean(self.rates['off']):.2f}"
        )
        print(
            f"ratio kcbx / bare ({scenario}): with the illness hook {with_:.2f}x, without "
            f"{without:.2f}x; with / without {statistics.median(self.pairs):.2f} (median of "
            f"chunk pairs; goal: 1.00 within noise, the pairs' quartiles; the bare baseline's "
            f"own spread {noise:.0%}; the intake's goal >= 0.6x)"
        )


async def _rounds(
    scenario: str,
    days: dict[str, date],
    batches: Callable[[date, str, str], list[bytes]],
    key: dict[str, str],
    plain: dict[str, str],
) -> _Rounds:
    """ROUNDS rounds of the scenario, one check each. The bare baseline posts the roll first;
    then the two servers take the roll CHUNKS class batches at a time, in turn, the order
    swapped every chunk: a pair of chunks is a second or two apart, so the machine's drift
    (other jobs on the shared cores) falls on both sides of its quotient."""
    out = _Rounds()
    api = "/api/v1/attendance-events"
    ports = {"off": OFF_PORT, "on": ON_PORT}
    for r in range(ROUNDS):
        check = CHECKS[r % len(CHECKS)]
        bare = batches(days["off"], check, scenario)
        b = _events_in(bare) / await _post(BARE_PORT, "/events", bare, plain)
        rolls = {mode: batches(days[mode], check, scenario) for mode in ports}
        size = -(-len(rolls["on"]) // CHUNKS)
        spent = {"off": 0.0, "on": 0.0}
        for k in range(0, len(rolls["on"]), size):
            rate: dict[str, float] = {}
            for mode in ("off", "on") if (k // size + r) % 2 == 0 else ("on", "off"):
                chunk = rolls[mode][k : k + size]
                wall = await _post(ports[mode], api, chunk, key)
                spent[mode] += wall
                rate[mode] = _events_in(chunk) / wall
            out.pairs.append(rate["on"] / rate["off"])
        out.bare.append(b)
        for mode in ports:
            out.rates[mode].append(_events_in(rolls[mode]) / spent[mode])
        print(
            f"  round {r + 1} {check:<9} bare {b:8.0f}  kcbx without (hook off) "
            f"{out.rates['off'][-1]:6.0f}  with the illness hook {out.rates['on'][-1]:6.0f}"
            f"  with / without, chunk pairs' median {statistics.median(out.pairs[-CHUNKS:]):.2f}"
        )
    return out


async def _after_rounds() -> None:
    """The engine's minute after the morning: the cluster rules on every marked day, timed;
    then what the hook wrote."""
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

    def batches(day: date, check: str, scenario: str) -> list[bytes]:
        return [
            json.dumps(
                {"events": _roll(i, roster.class_students[c], day, check, scenario)}
            ).encode()
            for i, c in enumerate(classes)
        ]

    # Two school days per scenario (off, on), the first scenario's the earliest; a day before
    # all of them warms the servers.
    days = [day1, day0]
    while len(days) < 2 * len(SCENARIOS) + 1:
        days.append(calendar.previous_school_day(days[-1]) or days[-1] - timedelta(days=1))
    warm_day = days[-1]
    measured: dict[str, _Rounds] = {}
    try:
        await asyncio.gather(*(bench._wait_up(p) for p in (ON_PORT, OFF_PORT, BARE_PORT)))
        for port, headers, path in ((ON_PORT, key, api), (OFF_PORT, key, api)):
            await _post(port, path, batches(warm_day, CHECKS[0], SCENARIOS[0])[:10], headers)
        await _post(BARE_PORT, "/events", batches(warm_day, CHECKS[0], SCENARIOS[0])[:10], plain)
        for n, scenario in enumerate(SCENARIOS):
            on_day, off_day = days[2 * (len(SCENARIOS) - 1 - n) : 2 * (len(SCENARIOS) - n)]
            sick = sum(
                1
                for i, c in enumerate(classes)
                for e in _roll(i, roster.class_students[c], on_day, "morning", scenario)
                if "illness" in e
            )
            carrying = sum(b'"illness"' in b for b in batches(on_day, "morning", scenario))
            print(
                f"  scenario {scenario}: {sick} of {total} sick at each roll, "
                f"{carrying} of {len(classes)} class batches carry one; events/s:"
            )
            measured[scenario] = await _rounds(
                scenario, {"off": off_day, "on": on_day}, batches, key, plain
            )
    finally:
        for proc in (on, off, bare):
            proc.terminate()
            proc.wait(timeout=30)
    await _after_rounds()
    for scenario, r in measured.items():
        r.report(scenario)


if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    serve(sys.argv[2])
elif __name__ == "__main__":
    asyncio.run(main())
