"""The absence-measures job over a county, and the early-warning lists it feeds.

County-sized roster on PostgreSQL (its own database, recreated; 50 schools × 20 classes × 50
students = 50,000, seeded like bench/roster.py, whose term began 120 days ago) with a term of
history: one 晨检 event (its mark: marks are derived from events) per student and school day up
to yesterday, written with COPY — about 3 in 100 unexplained absences, 2 in 100 sick leave, 2 in
100 late, and one student in 50 absent every Monday (intermittent). Then the periodic job
(``app.reports.measures.compute_all``, the code the engine runs: one transaction per school, one
statement each for its students, marks and leave, one upsert) is timed once over the whole
county, and the early-warning list of a class, a school and the county through its service (the
same code the API runs, without HTTP), BENCH_REPEAT times each (median). Goal (issue 20): the
job under 60 s, the class list under 200 ms.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg

from app.attendance.current_marks import MARK_COLUMNS
from app.context import AppContext
from app.db.types import CheckCode, LeaveTypeCode, StatusCode
from app.domain.access import Actor, ActorKind
from app.domain.calendar import SchoolCalendar, Term, school_date
from app.reports import early_warning, measures
from app.reports.early_warning_schemas import SortKey, SortOrder
from app.settings import Settings
from bench.db import dsn, fresh_database
from bench.history import RECORDED_COLUMNS, recorded
from bench.roster import seed

URL = os.environ.get(
    "KCBX_BENCH_MEASURES_DATABASE_URL",
    "postgresql+asyncpg://postgres@127.0.0.1:5432/kcbx_bench_measures",
)
SCHOOLS = int(os.environ.get("BENCH_SCHOOLS", "50"))
CLASSES = int(os.environ.get("BENCH_CLASSES", "20"))
STUDENTS = int(os.environ.get("BENCH_STUDENTS", "50"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "7"))
# The bench smoke's size (bench/smoke.py), over the common 2 schools × 2 classes × 10.
SMOKE = {
    "KCBX_BENCH_MEASURES_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/kcbx_smoke_measures"
}
ACTOR = Actor(kind=ActorKind.staff, id=0, name="bench", superuser=True)


def _status(sid: int, i: int, day: date) -> tuple[str, str | None]:
    if sid % 50 == 0 and day.weekday() == 0:
        return "absent", None
    roll = (sid * 7919 + i * 104729) % 100
    if roll < 3:
        return "absent", None
    if roll < 5:
        return "leave", "sick"
    if roll < 7:
        return "late", None
    return "present", None


def _event_id(sid: int, day: int) -> uuid.UUID:
    # A UUID, as the column is on PostgreSQL (migration 0026), unique per student and day.
    return uuid.UUID(int=(sid << 32) | day)


async def _seed_marks(
    conn: asyncpg.Connection,
    roster_classes: dict[int, list[int]],
    school_of_class: dict[int, int],
    days: list[date],
) -> int:
    total = 0
    for cid, students in roster_classes.items():
        school = school_of_class[cid]
        records = []
        for sid in students:
            for i, d in enumerate(days):
                status, leave = _status(sid, i, d)
                at = datetime(d.year, d.month, d.day, 0, 5, tzinfo=UTC)
                records.append(
                    (
                        sid,
                        d,
                        CheckCode.CODES["morning"],
                        school,
                        cid,
                        StatusCode.CODES[status],
                        None if leave is None else LeaveTypeCode.CODES[leave],
                        at,
                        _event_id(sid, i),
                    )
                )
        # The events: the marks are derived from them (migration 0035), one per check here.
        await conn.copy_records_to_table(
            "attendance_event",
            columns=[*MARK_COLUMNS, *RECORDED_COLUMNS],
            records=[(*r, *recorded(r[7])) for r in records],
        )
        total += len(records)
    return total


# The baseline: the county's term of marks counted per student in one statement (what any
# measure must at least read), without days, rules or the upsert.
_S = StatusCode.CODES  # the words are smallint codes on PostgreSQL (migration 0032)
BARE_COUNT = (
    f"SELECT student_id, count(*) FILTER (WHERE status = {_S['absent']}), "
    f"count(*) FILTER (WHERE status = {_S['leave']}), "
    f"count(*) FILTER (WHERE status = {_S['late']}) "
    "FROM attendance_event WHERE school_date BETWEEN $1 AND $2 GROUP BY student_id"
)


async def _median(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


async def main() -> None:
    today = school_date(datetime.now(UTC), "Asia/Shanghai")
    term = Term("基准学期", today - timedelta(days=120), today + timedelta(days=30))
    days = SchoolCalendar(terms=(term,)).school_days_between(term.start, today - timedelta(days=1))
    print(
        f"measures benchmark: {SCHOOLS} schools × {CLASSES} classes × {STUDENTS} students, "
        f"{len(days)} school days of 晨检 marks, median of {REPEAT}, {os.cpu_count()} cores"
    )
    t0 = time.perf_counter()
    await fresh_database(URL)
    roster = await seed(dsn(URL), schools=SCHOOLS, classes=CLASSES, students=STUDENTS, today=today)
    conn = await asyncpg.connect(dsn(URL))
    ctx = AppContext.from_settings(Settings(database_url=URL, seed_demo=False))
    try:
        marks = await _seed_marks(conn, roster.class_students, roster.school_of_class, days)
        await conn.execute("ANALYZE")
        print(f"  seeded in {time.perf_counter() - t0:.1f} s: {marks} marks")
        t = time.perf_counter()
        measured = await measures.compute_all(ctx)
        job = time.perf_counter() - t
        listed = await conn.fetchval(
            "SELECT count(*) FROM absence_measure WHERE band <> 'none' OR intermittent"
        )
        print(
            f"  periodic job (every school, {measured} students): {job:.1f} s "
            f"({job / max(1, SCHOOLS) * 1000:.0f} ms a school); {listed} listed"
        )
        t = time.perf_counter()
        await conn.fetch(BARE_COUNT, term.start, today)
        bare = time.perf_counter() - t
        print(
            f"  bare SQL count of the same marks per student: {bare:.2f} s; "
            f"ratio job / bare {job / bare:.1f}x; goal job < 60 s"
        )
        t = time.perf_counter()
        await measures.compute_all(ctx)
        again = time.perf_counter() - t
        print(f"  periodic job again (rows replaced, nothing new to notify): {again:.1f} s")

        async def listing(**scope: int) -> None:
            async with ctx.uow() as uow:
                await early_warning.early_warning(
                    uow,
                    ctx,
                    ACTOR,
                    county_id=scope.get("county_id"),
                    school_id=scope.get("school_id"),
                    class_id=scope.get("class_id"),
                    term_id=None,
                    sort=SortKey.rate,
                    order=SortOrder.desc,
                )

        for name, scope in (
            ("class", {"class_id": 1}),
            ("school", {"school_id": 1}),
            ("county", {"county_id": 1}),
        ):
            median = await _median(lambda s=scope: listing(**s), REPEAT)  # type: ignore[misc]
            goal = "  goal < 200 ms" if name == "class" else ""
            print(f"  early-warning list, {name}: {median * 1000:.1f} ms{goal}")
    finally:
        await conn.close()
        await ctx.close()
