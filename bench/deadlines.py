"""The alert engine under load: durable deadlines in PostgreSQL, against a bare asyncpg loop.

Its own database (``kcbx_bench_deadlines``, recreated): a county of 320,000 students, an open
case (with its blue alert) for each, and 1,000,000 pending deadlines due days to weeks ahead
(report, verification, contact and re-enrolment kinds) loading the table and its index. Then:

1. **Steady rate**: 2,000 contact deadlines come due per second for 10 s (spread over the wall
   clock) while the real ``EngineRunner`` (APScheduler, 0.2 s poll) runs in this process;
   lateness p50/p99 as the engine records it (``Deadline.lateness_ms``: claim time − due) and
   as seen from outside (the moment the fired row became visible − due, polled every 50 ms).
2. **Backlog**: 100,000 contact deadlines already overdue, drained by ``sweep.sweep`` alone in
   this process, then (another 100,000 each) by one and by two engine processes
   (``python -m app.jobs``: the runner, with the delivery worker beside the sweep); drain
   time and events/s.
3. **Baseline**, same run: a bare asyncpg loop claiming and marking 100,000 overdue rows
   (``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT 500)``), nothing else.

Every deadline that comes due really fires (its parent call is still owed): a notice to the
school's vice principal and a timeline entry, checked exactly once each at the end of a phase.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from app.alerts import policy as policies
from app.alerts import sweep
from app.context import AppContext
from app.domain.calendar import school_date
from app.domain.cases import Policy
from app.jobs.runner import EngineRunner
from app.settings import Settings
from bench.db import dsn, fresh_database, percentile
from bench.roster import seed

ROOT = Path(__file__).resolve().parents[1]
URL = os.environ.get(
    "KCBX_BENCH_DEADLINES_URL",
    "postgresql+asyncpg://postgres@127.0.0.1:5432/kcbx_bench_deadlines",
)
FUTURE = int(os.environ.get("BENCH_FUTURE_DEADLINES", "1000000"))
RATE = int(os.environ.get("BENCH_RATE", "2000"))  # deadlines coming due per second
SECONDS = int(os.environ.get("BENCH_RATE_SECONDS", "10"))
BACKLOG = int(os.environ.get("BENCH_BACKLOG", "100000"))
BACKLOG_RUNS = 3  # the sweep alone in this process, one engine process, two
SCHOOLS, PER_CLASS = 100, 50
POLL = "0.2"
CHUNK = 100_000
FUTURE_KINDS = ("report", "verify", "contact", "reenroll")

# The bench smoke's size (bench/smoke.py): a few hundred deadlines, its own database.
SMOKE = {
    "KCBX_BENCH_DEADLINES_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/kcbx_smoke_deadlines",
    "BENCH_FUTURE_DEADLINES": "2000",
    "BENCH_RATE": "100",
    "BENCH_RATE_SECONDS": "2",
    "BENCH_BACKLOG": "300",
}

_DEADLINE_COLUMNS = ["dedupe_key", "case_id", "kind", "key", "due_at", "state", "created_at"]


DSN = dsn(URL)


@dataclass
class Cases:
    """Open cases by group: each group's contact deadlines are created when its phase starts."""

    day: date
    steady: list[int]
    backlog: list[list[int]]  # one group per backlog run

    @property
    def all(self) -> list[int]:
        return [c for group in (self.steady, *self.backlog) for c in group]


async def _seed(conn: asyncpg.Connection, day: date) -> Cases:
    """Vice principals, an open case with a blue alert per student, and the future load."""
    now = datetime.now(UTC)
    students = RATE * SECONDS + BACKLOG_RUNS * BACKLOG
    classes = -(-students // (SCHOOLS * PER_CLASS))
    roster = await seed(DSN, schools=SCHOOLS, classes=classes, students=PER_CLASS, today=day)
    await conn.copy_records_to_table(
        "staff",
        columns=[
            "id",
            "county_id",
            "school_id",
            "name",
            "mobile",
            "is_superuser",
            "active",
            "created_at",
        ],
        records=[
            (s, 1, s, f"副校长{s}", f"138{s:08d}", False, True, now) for s in range(1, SCHOOLS + 1)
        ],
    )
    await conn.copy_records_to_table(
        "staff_role",
        columns=["staff_id", "role", "scope_key", "county_id", "school_id", "created_at"],
        records=[(s, "vice_principal", f"school:{s}", 1, s, now) for s in range(1, SCHOOLS + 1)],
    )
    policy = json.dumps(policies.to_dict(Policy()))
    run = json.dumps([day.isoformat()])
    found = datetime.combine(day, datetime.min.time(), UTC)
    case_rows, alert_rows = [], []
    cid = 0
    for class_id in sorted(roster.class_students):
        school = roster.school_of_class[class_id]
        for sid in roster.class_students[class_id]:
            cid += 1
            if cid > students:
                break
            open_case = (cid, sid, 1, school, class_id, "open", 1, "blue", found, run)
            owed = (day, 1, False, "due", 1, policy, "[]", 1, now)
            case_rows.append((*open_case, *owed))
            blue = (cid, "1:blue:1", sid, school, class_id, "blue", 1, 1, "raised", found, run)
            alert_rows.append((*blue, "连续缺勤 1 天", "head_teacher", found + timedelta(hours=48)))
    await conn.copy_records_to_table(
        "absence_case",
        columns=[
            "id",
            "student_id",
            "county_id",
            "school_id",
            "class_id",
            "status",
            "episode",
            "level",
            "opened_at",
            "run",
            "contact_day",
            "contact_attempt",
            "contact_done",
            "report_status",
            "report_round",
            "policy",
            "work_group",
            "version",
            "updated_at",
        ],
        records=case_rows,
    )
    await conn.copy_records_to_table(
        "alert",
        columns=[
            "case_id",
            "key",
            "student_id",
            "school_id",
            "class_id",
            "level",
            "episode",
            "seq",
            "status",
            "raised_at",
            "days",
            "rule",
            "recipient_role",
            "verify_due",
        ],
        records=alert_rows,
    )
    for table in ("staff", "absence_case"):
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    ids = [row[0] for row in case_rows]
    for start in range(0, FUTURE, CHUNK):
        await conn.copy_records_to_table(
            "deadline",
            columns=_DEADLINE_COLUMNS,
            records=list(_future(ids, start, min(FUTURE, start + CHUNK), now)),
        )
    await conn.execute("ANALYZE")
    a = RATE * SECONDS
    groups = [ids[a + i * BACKLOG : a + (i + 1) * BACKLOG] for i in range(BACKLOG_RUNS)]
    return Cases(day, ids[:a], groups)


def _future(ids: Sequence[int], start: int, end: int, now: datetime) -> Iterator[tuple[Any, ...]]:
    """Deadlines of every kind due 1 to 30 days ahead: load, never due during the run."""
    for i in range(start, end):
        case = ids[i % len(ids)]
        kind = FUTURE_KINDS[i % len(FUTURE_KINDS)]
        due = now + timedelta(days=1 + i % 30, seconds=(i * 7919) % 86_400)
        yield (f"{case}:{kind}:f{i}", case, kind, f"f{i}", due, "pending", now)


async def _due_contacts(
    conn: asyncpg.Connection, cases: Sequence[int], day: date, first_due: datetime, step: float
) -> tuple[int, int]:
    """A contact deadline per case (the call owed for ``day``), due ``step`` s apart from
    ``first_due``, in one transaction. Returns the first and last deadline id."""
    now = datetime.now(UTC)
    key = f"{day.isoformat()}:1"
    async with conn.transaction():
        await conn.copy_records_to_table(
            "deadline",
            columns=_DEADLINE_COLUMNS,
            records=[
                (
                    f"{c}:contact:{key}",
                    c,
                    "contact",
                    key,
                    first_due + timedelta(seconds=i * step),
                    "pending",
                    now,
                )
                for i, c in enumerate(cases)
            ],
        )
        lo, hi = await conn.fetchrow(
            "SELECT min(id), max(id) FROM deadline WHERE dedupe_key = ANY($1::text[])",
            [f"{cases[0]}:contact:{key}", f"{cases[-1]}:contact:{key}"],
        )
    return int(lo), int(hi)


async def _check_once(conn: asyncpg.Connection, lo: int, hi: int, what: str) -> None:
    """Every deadline of the phase fired, and each left one timeline entry and one notice."""
    fired = await conn.fetchval(
        "SELECT count(*) FROM deadline WHERE id BETWEEN $1 AND $2 AND state = 'fired'", lo, hi
    )
    cases = await conn.fetch("SELECT case_id FROM deadline WHERE id BETWEEN $1 AND $2", lo, hi)
    ids = [r[0] for r in cases]
    events = await conn.fetchrow(
        "SELECT count(*), count(DISTINCT case_id) FROM case_event "
        "WHERE kind = 'contact.overdue' AND case_id = ANY($1::int[])",
        ids,
    )
    notices = await conn.fetchrow(
        "SELECT count(*), count(DISTINCT case_id) FROM notification "
        "WHERE topic = 'contact.overdue' AND case_id = ANY($1::int[])",
        ids,
    )
    n = hi - lo + 1
    ok = fired == n and tuple(events) == (n, n) and tuple(notices) == (n, n)
    print(
        f"  {what}: {fired}/{n} fired, {events[0]} timeline entries, {notices[0]} notices"
        f" -> {'each exactly once' if ok else 'MISMATCH'}"
    )


# --- 1. steady rate -------------------------------------------------------------------------


async def _steady(conn: asyncpg.Connection, cases: Cases) -> None:
    n = len(cases.steady)
    print(f"steady rate: {RATE} deadlines due per second for {SECONDS} s ({n}), engine in process")
    first_due = datetime.now(UTC) + timedelta(seconds=2)
    lo, hi = await _due_contacts(conn, cases.steady, cases.day, first_due, 1 / RATE)
    ctx = AppContext.from_settings(
        Settings(database_url=URL, seed_demo=False, engine_poll_seconds=float(POLL))
    )
    runner = EngineRunner(ctx)
    seen: dict[int, float] = {}
    due: dict[int, float] = {}
    watcher = await asyncpg.connect(DSN)
    runner.start()
    try:
        frontier = lo - 1
        give_up = time.time() + SECONDS + 120
        while frontier < hi and time.time() < give_up:
            rows = await watcher.fetch(
                "SELECT id, due_at FROM deadline WHERE id > $1 AND id <= $2 AND state <> 'pending'",
                frontier,
                hi,
            )
            at = time.time()
            for r in rows:
                if r["id"] not in seen:
                    seen[r["id"]] = at
                    due[r["id"]] = r["due_at"].timestamp()
            while frontier + 1 in seen:
                frontier += 1
            await asyncio.sleep(0.05)
    finally:
        await runner.stop()
        await watcher.close()
        await asyncio.sleep(1.5)  # stop() does not wait for a tick in flight
        await ctx.close()
    recorded = [
        r[0]
        for r in await conn.fetch(
            "SELECT lateness_ms FROM deadline WHERE id BETWEEN $1 AND $2 AND state = 'fired'",
            lo,
            hi,
        )
    ]
    span = await conn.fetchrow(
        "SELECT min(due_at), max(due_at), max(fired_at) FROM deadline WHERE id BETWEEN $1 AND $2",
        lo,
        hi,
    )
    observed = [(seen[i] - due[i]) * 1000 for i in seen]
    print(
        f"  recorded lateness (fired_at - due_at): p50 {percentile(recorded, 0.5):6.0f} ms  "
        f"p99 {percentile(recorded, 0.99):6.0f} ms  max {max(recorded, default=0):6.0f} ms "
        f"(goal p99 < 1000 ms)"
    )
    print(
        "  visible lateness (committed - due_at, ±50 ms): "
        f"p50 {percentile(observed, 0.5):6.0f} ms  "
        f"p99 {percentile(observed, 0.99):6.0f} ms  max {max(observed, default=0):6.0f} ms"
    )
    print(
        f"  due over {(span[1] - span[0]).total_seconds():.1f} s, last fired "
        f"{(span[2] - span[1]).total_seconds():.2f} s after the last came due"
    )
    await _check_once(conn, lo, hi, "steady")


# --- 2. backlog -----------------------------------------------------------------------------


async def _start_engine(log: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "KCBX_DATABASE_URL": URL,
        "KCBX_SEED_DEMO": "false",
        "KCBX_ENGINE_POLL_SECONDS": POLL,
    }
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app.jobs", cwd=ROOT, env=env, stdout=out, stderr=out
        )


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


def _running(log: Path, count: int) -> bool:
    return log.exists() and log.read_text(errors="replace").count("engine running") >= count


async def _drain(
    conn: asyncpg.Connection, cases: Sequence[int], day: date, engines: int, log: Path
) -> float:
    """Start ``engines`` engine processes, then make ``cases``' deadlines overdue at once (one
    commit) and time until none is left pending and due. Returns events per second."""
    procs = [await _start_engine(log) for _ in range(engines)]
    try:
        give_up = time.time() + 60
        while not _running(log, engines):
            if time.time() > give_up or any(p.returncode is not None for p in procs):
                raise RuntimeError(f"engine did not start: {_tail(log)}")
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)  # first (empty) sweeps done, pools warm
        overdue = datetime.now(UTC) - timedelta(hours=2)
        t0 = time.perf_counter()
        lo, hi = await _due_contacts(conn, cases, day, overdue, 0.05)
        inserted = time.perf_counter()
        while await conn.fetchval(
            "SELECT count(*) FROM deadline WHERE state = 'pending' AND due_at <= now()"
        ):
            if any(p.returncode is not None for p in procs):
                raise RuntimeError(f"an engine died: {_tail(log)}")
            await asyncio.sleep(0.05)
        wall = time.perf_counter() - inserted
    finally:
        for p in procs:
            if p.returncode is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                await asyncio.wait_for(p.wait(), 10)
            except TimeoutError:
                p.kill()
                await p.wait()
    span = await conn.fetchrow(
        "SELECT min(fired_at), max(fired_at) FROM deadline WHERE id BETWEEN $1 AND $2", lo, hi
    )
    n = hi - lo + 1
    rate = n / wall
    print(
        f"  {engines} engine process(es): {n} overdue drained in {wall:6.2f} s "
        f"({rate:7.0f} events/s; first to last fire {(span[1] - span[0]).total_seconds():.2f} s;"
        f" insert {inserted - t0:.2f} s not counted)  goal <= 30 s"
    )
    await _check_once(conn, lo, hi, f"backlog, {engines} engine(s)")
    return rate


async def _sweep_alone(conn: asyncpg.Connection, cases: Sequence[int], day: date) -> float:
    """The sweep itself, in this process: ``sweep.sweep`` until nothing is due (no scheduler,
    no delivery worker beside it). Returns events per second."""
    ctx = AppContext.from_settings(Settings(database_url=URL, seed_demo=False))
    try:
        await sweep.sweep(ctx)  # pools and statement caches warm, nothing due yet
        lo, hi = await _due_contacts(conn, cases, day, datetime.now(UTC) - timedelta(hours=2), 0.05)
        t0 = time.perf_counter()
        result = await sweep.sweep(ctx)
        wall = time.perf_counter() - t0
    finally:
        await ctx.close()
    rate = result.fired / wall
    print(
        f"  sweep.sweep in process, no delivery worker: {result.fired} fired in {wall:6.2f} s"
        f" ({rate:7.0f} events/s)"
    )
    await _check_once(conn, lo, hi, "backlog, sweep alone")
    return rate


async def _bare(conn: asyncpg.Connection, n: int) -> float:
    """The bare loop: claim and mark overdue rows 500 at a time, nothing else."""
    now = datetime.now(UTC)
    overdue = now - timedelta(hours=2)
    await conn.copy_records_to_table(
        "deadline",
        columns=_DEADLINE_COLUMNS,
        records=[
            (f"bare:{i}", 0, "contact", "bare", overdue + timedelta(milliseconds=i), "pending", now)
            for i in range(n)
        ],
    )
    t0 = time.perf_counter()
    done = 0
    while True:
        status = await conn.execute(
            "UPDATE deadline SET state = 'fired', fired_at = now(), "
            "lateness_ms = (extract(epoch FROM now() - due_at) * 1000)::int "
            "WHERE id IN (SELECT id FROM deadline WHERE state = 'pending' AND due_at <= now() "
            "ORDER BY due_at, id LIMIT 500 FOR UPDATE SKIP LOCKED)"
        )
        got = int(status.split()[-1])
        done += got
        if got == 0:
            break
    wall = time.perf_counter() - t0
    rate = done / wall
    print(f"  bare asyncpg loop: {done} overdue marked in {wall:6.2f} s ({rate:7.0f} rows/s)")
    return rate


async def main() -> None:
    day = school_date(datetime.now(UTC), "Asia/Shanghai")
    # APScheduler warns of every tick skipped while one runs, and its shutdown cancels a job in
    # flight (logged with a traceback); sweep errors still show through the runner's logger.
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)
    print(
        f"deadline engine benchmark: {FUTURE} future deadlines, {RATE}/s for {SECONDS} s, "
        f"backlog {BACKLOG}, {os.cpu_count()} cores"
    )
    t0 = time.perf_counter()
    await fresh_database(URL)
    conn = await asyncpg.connect(DSN)
    log = ROOT / "build" / "bench-deadlines-engine.log"
    log.parent.mkdir(exist_ok=True)
    log.write_text("")
    try:
        cases = await _seed(conn, day)
        pending = await conn.fetchval("SELECT count(*) FROM deadline WHERE state = 'pending'")
        print(
            f"  seeded in {time.perf_counter() - t0:.1f} s: {len(cases.all)} open cases, "
            f"{pending} pending deadlines (none due)"
        )
        await _steady(conn, cases)
        print(f"backlog: {BACKLOG} overdue contact deadlines (engine log: {log})")
        bare = await _bare(conn, BACKLOG)
        alone = await _sweep_alone(conn, cases.backlog[0], cases.day)
        one = await _drain(conn, cases.backlog[1], cases.day, 1, log)
        two = await _drain(conn, cases.backlog[2], cases.day, 2, log)
        print(
            f"ratio engine / bare loop: sweep alone {alone / bare:.2f}x, "
            f"1 engine process {one / bare:.2f}x, 2 engine processes {two / bare:.2f}x "
            "(goal >= 0.5x with one engine)"
        )
        left = await conn.fetch(
            "SELECT kind, count(*), min(due_at) FROM deadline WHERE state = 'pending' "
            "GROUP BY kind ORDER BY kind"
        )
        print(
            "  still pending (the future load): "
            + ", ".join(f"{r[0]} {r[1]} (earliest {r[2]:%m-%d})" for r in left)
        )
    finally:
        await conn.close()
