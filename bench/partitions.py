"""Attendance intake with a year of history spread over twelve monthly partitions (issue 24,
item 4), against the bare FastAPI + asyncpg insert in the same run.

The attendance benchmark (``bench/attendance.py``) run with its own database, ports and a history of
``BENCH_HISTORY_DAYS`` school days (250 weekdays: the twelve months before today, each in its own
partition of ``attendance_event``; the marks are derived from it): the class batches of a morning on
empty tables, then the dismissal check on the full, partitioned tables, each beside the bare
baseline (one plain table, ``bare_event``, holding the same history). Then how the history spread:
rows per partition, and what fell into DEFAULT (should be nothing).
"""

from __future__ import annotations

import importlib
import os

import asyncpg

# The full size: 20 schools × 20 classes × 50 = 20,000 pupils, a year of history (15 million
# events). The caller's environment wins (setdefault), as everywhere in bench/.
DEFAULTS = {
    "KCBX_BENCH_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/kcbx_part2_bench",
    "BENCH_SCHOOLS": "20",
    "BENCH_CLASSES": "20",
    "BENCH_STUDENTS": "50",
    "BENCH_HISTORY_DAYS": "250",
    "BENCH_APP_PORT": "8771",
    "BENCH_BARE_PORT": "8772",
}
# The bench smoke's size (bench/smoke.py): 40 pupils, still a year of history (30,000 events,
# twelve partitions), its own database.
SMOKE = {
    "KCBX_BENCH_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/kcbx_smoke_part2",
    "BENCH_SINGLES": "40",
    "BENCH_CONCURRENCY": "4",
    "BENCH_APP_PORT": "8771",
    "BENCH_BARE_PORT": "8772",
    "BENCH_HISTORY_DAYS": "250",
}

_SPREAD = """
SELECT c.relname, (xpath('/row/n/text()',
  query_to_xml(format('SELECT count(*) AS n FROM %I', c.relname), false, true, '')))[1]::text::int
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'attendance_event'::regclass ORDER BY c.relname
"""


async def main() -> None:
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    # bench.attendance reads its sizes from the environment when imported: import it now.
    attendance = importlib.import_module("bench.attendance")
    print("partitioned intake benchmark (attendance tables partitioned by month):")
    await attendance.main()
    conn = await asyncpg.connect(attendance.dsn(attendance.URL))
    try:
        spread = [(r[0], r[1]) for r in await conn.fetch(_SPREAD)]
    finally:
        await conn.close()
    holding = [(name, n) for name, n in spread if n]
    stray = dict(spread).get("attendance_event_default", 0)
    print(
        f"  attendance_event: {len(spread)} partitions, {len(holding)} holding rows, "
        f"{stray} rows in DEFAULT"
    )
    for name, n in holding:
        print(f"    {name:<28} {n:>10} events")
    print(
        f"partitions holding the history: {len([h for h in holding if 'default' not in h[0]])} "
        "(goal: twelve at full size, and 0 rows in DEFAULT)"
    )
