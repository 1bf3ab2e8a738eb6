"""A school year of attendance history in the bench county's tables (issue 24, item 2): every active
student's three checks on each of ``days`` school days (weekdays) before ``before``, written by
PostgreSQL itself (``INSERT … SELECT`` over ``generate_series``, one statement per day and table),
into ``attendance_event`` (the marks are derived from the events, migration 0035) and, row for row,
into the bare baseline's ``bare_event``, whose indexes stay as they are (the same shape as before
the fill). About 3% absent, as in the measures bench. ``ANALYZE`` at the end, as after any bulk
load, so the plans are the ones a full table gets.

190 school days for 20,000 pupils is the issue's 11.4 million events in each table.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

import asyncpg

from app.db.types import CheckCode, RecorderKindCode, StatusCode

# Checks at 08:05, 12:30 and 16:30 Beijing time (UTC+8).
_CHECKS = "('morning', time '00:05'), ('noon', time '04:30'), ('dismissal', time '08:30')"
# attendance_event holds the words as smallint codes (migration 0032).
_C, _S, _K = CheckCode.CODES, StatusCode.CODES, RecorderKindCode.CODES
_CODED = (
    f"('morning', {_C['morning']}, time '00:05'), ('noon', {_C['noon']}, time '04:30'),"
    f" ('dismissal', {_C['dismissal']}, time '08:30')"
)

_EVENTS = f"""
INSERT INTO attendance_event (event_id, content_hash, student_id, school_id, class_id,
  school_date, "check", status, leave_type, occurred_at, note, recorded_by_kind,
  recorded_by_id, recorded_by_name, received_at)
SELECT gen_random_uuid(), decode(md5(s.id::text || c.name || $1::date::text), 'hex'), s.id,
  s.school_id, s.class_id, $1::date, c.code,
  CASE WHEN (s.id * 7 + extract(doy FROM $1::date)::int) % 33 = 0 THEN {_S["absent"]}
       ELSE {_S["present"]} END,
  NULL, ($1::date + c.at) AT TIME ZONE 'UTC', NULL, {_K["api_key"]}, 1, '基准学校接口',
  ($1::date + c.at + interval '1 minute') AT TIME ZONE 'UTC'
FROM student s CROSS JOIN (VALUES {_CODED}) AS c(name, code, at)
WHERE s.active
"""
_BARE = f"""
INSERT INTO bare_event (event_id, student_id, school_date, check_name, status, occurred_at)
SELECT gen_random_uuid()::text, s.id, $1::date, c.name,
  CASE WHEN (s.id * 7 + extract(doy FROM $1::date)::int) % 33 = 0 THEN 'absent'
       ELSE 'present' END,
  ($1::date + c.at) AT TIME ZONE 'UTC'
FROM student s CROSS JOIN (VALUES {_CHECKS}) AS c(name, at)
WHERE s.active
"""


# What an event carries besides a mark's columns (app.attendance.current_marks.MARK_COLUMNS;
# marks are derived from the events, migration 0035), for the benches that write their marks
# as events with COPY.
RECORDED_COLUMNS = (
    "content_hash",
    "recorded_by_kind",
    "recorded_by_id",
    "recorded_by_name",
    "received_at",
)


def recorded(at: datetime) -> tuple[bytes, int, int, str, datetime]:
    """The recorded-by columns of an event observed at ``at`` (by the bench's API key)."""
    return (bytes(16), _K["api_key"], 1, "基准学校接口", at)


def school_days(before: date, days: int) -> list[date]:
    """The ``days`` weekdays before ``before``, oldest first."""
    out: list[date] = []
    d = before
    while len(out) < days:
        d -= timedelta(days=1)
        if d.weekday() < 5:
            out.append(d)
    return out[::-1]


async def fill(dsn: str, before: date, days: int, *, bare: bool = True) -> int:
    """Write ``days`` school days of history; returns the events written per table.
    ``bare=False``: not into ``bare_event`` (a benchmark whose baselines are plain SQL over
    the project's own tables has none)."""
    if days <= 0:
        return 0
    t0 = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        for day in school_days(before, days):
            async with conn.transaction():
                await conn.execute(_EVENTS, day)
                if bare:
                    await conn.execute(_BARE, day)
        tables = "attendance_event" + (", bare_event" if bare else "")
        await conn.execute(f"ANALYZE {tables}")  # fixed names
        events = int(await conn.fetchval("SELECT count(*) FROM attendance_event"))
    finally:
        await conn.close()
    print(
        f"  history: {days} school days before {before}, {events} events in each table, "
        f"written in {time.perf_counter() - t0:.0f} s"
    )
    return events
