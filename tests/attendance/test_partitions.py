"""Monthly partitions of the attendance events (issue 24, item 4): on PostgreSQL the events
live in one partition a month (plus DEFAULT), a week's marks (ranked from the events) read one
partition by index, a replay still answers ``duplicate``, the same id on another date is a conflict,
and the migration goes back down. SQLite only changes the events' key."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import date, timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select as sa_select
from sqlalchemy import text
from sqlmodel import col

from app.attendance.current_marks import current_marks
from app.context import AppContext
from app.db import migrations
from app.db.models import AttendanceEvent
from app.domain.partitions import Month, Partition, months_between, parse_name, wanted
from tests.helpers import TUESDAY, WEDNESDAY, event
from tests.world import World

URL = "/api/v1/attendance-events"


@given(st.dates(date(2000, 1, 1), date(2100, 1, 1)), st.integers(0, 800))
def test_months_cover_the_range_without_gaps(first: date, days: int) -> None:
    last = first + timedelta(days=days)
    parts = [Partition("attendance_event", m) for m in months_between(first, last)]
    assert parts[0].lower <= first and last < parts[-1].upper
    for a, b in itertools.pairwise(parts):
        assert a.upper == b.lower
    for p in parts:
        assert parse_name("attendance_event", p.name) == p.month


def test_wanted_reaches_months_ahead_and_names_them() -> None:
    names = [p.name for p in wanted("attendance_event", date(2026, 9, 1), date(2026, 12, 7), 2)]
    assert names == [
        "attendance_event_2026_09",
        "attendance_event_2026_10",
        "attendance_event_2026_11",
        "attendance_event_2026_12",
        "attendance_event_2027_01",
        "attendance_event_2027_02",
    ]
    assert Month(2026, 12).plus(13) == Month(2028, 1)
    assert parse_name("attendance_event", "attendance_event_default") is None


async def test_replay_is_duplicate_and_the_same_id_on_another_date_conflicts(
    world: World, client: httpx.AsyncClient
) -> None:
    head = world.auth("head_teacher")
    sent = event(world.ids["student_A1"], "absent", event_id=str(uuid.uuid4()))
    assert (await client.post(URL, json=sent, headers=head)).status_code == 201
    again = await client.post(URL, json=sent, headers=head)
    assert again.status_code == 200 and again.json()["result"] == "duplicate"
    moved = await client.post(URL, json={**sent, "school_date": str(WEDNESDAY)}, headers=head)
    assert moved.status_code == 409, moved.text


async def test_events_land_in_their_month_and_one_week_reads_one_partition(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("partitioning is PostgreSQL's")
    head = world.auth("head_teacher")
    sent = event(world.ids["student_A1"], "absent")
    assert (await client.post(URL, json=sent, headers=head)).status_code == 201
    async with ctx.engine.connect() as conn:
        where = (
            (await conn.execute(text("SELECT tableoid::regclass::text FROM attendance_event")))
            .scalars()
            .all()
        )
        assert where == [f"attendance_event_{TUESDAY:%Y_%m}"]
        # A week of a student's marks, ranked from the events (migration 0035): the filters
        # sit inside the ranking, so one month's partition is read, by its index.
        marks = sa_select(
            current_marks(
                col(AttendanceEvent.student_id) == world.ids["student_A1"],
                col(AttendanceEvent.school_date) >= TUESDAY,
                col(AttendanceEvent.school_date) <= TUESDAY + timedelta(days=4),
            )
        )
        sql = marks.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        await conn.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table: seq is cheaper
        plan = "\n".join((await conn.execute(text(f"EXPLAIN {sql}"))).scalars())
    assert "attendance_event_2026_11_student_id_school_date_idx" in plan, plan
    assert "attendance_event_2026_10" not in plan and "attendance_event_default" not in plan


async def test_downgrade_keeps_the_rows(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    head = world.auth("head_teacher")
    sent = event(world.ids["student_A1"], "absent")
    assert (await client.post(URL, json=sent, headers=head)).status_code == 201
    url = ctx.settings.database_url
    await ctx.engine.dispose()
    await asyncio.to_thread(migrations.downgrade, url, "0028")
    async with ctx.engine.connect() as conn:
        n = (await conn.execute(text("SELECT count(*) FROM attendance_event"))).scalar()
    assert n == 1
    await ctx.engine.dispose()
    await asyncio.to_thread(migrations.upgrade, url)
    again = await client.post(URL, json=sent, headers=head)
    assert again.json()["result"] == "duplicate"


async def test_ensure_creates_the_months_ahead_once(ctx: AppContext) -> None:
    from app.db import partitions

    created = await partitions.ensure(ctx.engine, date(2027, 3, 10), ahead=9)
    if ctx.engine.dialect.name != "postgresql":
        assert created == []
        return
    # The migration made months up to six ahead of today; the rest up to 2027-12 is new.
    # The marks are no longer stored (migration 0035): only the events have partitions.
    assert "attendance_event_2027_12" in created
    assert not any(n.startswith("attendance_mark") for n in created)
    assert await partitions.ensure(ctx.engine, date(2027, 3, 10), ahead=9) == []
    assert "attendance_event_2027_12" in await partitions.listed(ctx.engine, "attendance_event")


PAST = Month(2026, 1)  # the migration made every month from a year before today
BACKFILL = 90  # KCBX_ATTENDANCE_BACKFILL_DAYS's default


async def test_a_past_month_is_detached_for_archiving_and_dropped_while_the_roll_goes_on(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    from app.db import partitions
    from app.domain.partitions import PartitionRefused

    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("partitioning is PostgreSQL's")
    head = world.auth("head_teacher")
    today = ctx.clock().date()
    old = event(world.ids["student_A1"], "absent")
    assert (await client.post(URL, json=old, headers=head)).status_code == 201
    # The intake refuses a date that far back (422), so the row is moved to January as if it
    # had been taken then; PostgreSQL moves an updated row to its new month's partition.
    async with ctx.engine.begin() as conn:
        await conn.execute(text("UPDATE attendance_event SET school_date = '2026-01-08'"))
    names = ["attendance_event_2026_01"]
    try:
        with pytest.raises(PartitionRefused, match="still attached"):
            await partitions.drop(ctx.engine, PAST, today)
        assert await partitions.detach(ctx.engine, PAST, today, BACKFILL) == names
        async with ctx.engine.connect() as conn:
            in_parent = (
                await conn.execute(
                    text("SELECT count(*) FROM attendance_event WHERE school_date = '2026-01-08'")
                )
            ).scalar()
            kept = (
                await conn.execute(text("SELECT count(*) FROM attendance_event_2026_01"))
            ).scalar()
        assert (in_parent, kept) == (0, 1)
        assert await partitions.detached(ctx.engine, "attendance_event") == [names[0]]
        assert names[0] not in await partitions.listed(ctx.engine, "attendance_event")

        today_roll = event(world.ids["student_A1"], "absent")
        assert (await client.post(URL, json=today_roll, headers=head)).status_code == 201

        assert await partitions.drop(ctx.engine, PAST, today) == names
        async with ctx.engine.connect() as conn:
            gone = (await conn.execute(text(f"SELECT to_regclass('{names[0]}')"))).scalar()
            live = (await conn.execute(text("SELECT count(*) FROM attendance_event"))).scalar()
        assert gone is None and live == 1
        assert await partitions.detached(ctx.engine, "attendance_event") == []
    finally:
        # Later tests in this session expect the migration's months: put January back.
        async with ctx.engine.begin() as conn:
            await conn.execute(text(f"DROP TABLE IF EXISTS {names[0]}"))
            await conn.execute(
                text(
                    f"CREATE TABLE {names[0]} PARTITION OF attendance_event"
                    " FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')"
                )
            )


async def test_the_current_and_future_months_and_default_are_refused(ctx: AppContext) -> None:
    from app.db import partitions
    from app.domain.partitions import PartitionRefused, parse_month

    today = ctx.clock().date()
    if ctx.engine.dialect.name != "postgresql":
        with pytest.raises(partitions.NotPartitioned, match="not partitioned"):
            await partitions.detach(ctx.engine, PAST, today, BACKFILL)
        return
    for month in (Month.of(today), Month.of(today).plus(1)):
        with pytest.raises(PartitionRefused, match="only a past month"):
            await partitions.detach(ctx.engine, month, today, BACKFILL)
    # October ended 24 days before the tests' today: late events may still come for it.
    with pytest.raises(PartitionRefused, match="backfill window"):
        await partitions.detach(ctx.engine, Month(2026, 10), today, BACKFILL)
    with pytest.raises(PartitionRefused, match="DEFAULT"):
        parse_month("default")
    assert f"attendance_event_{today:%Y_%m}" in await partitions.listed(
        ctx.engine, "attendance_event"
    )


async def test_the_cli_refuses_a_future_month_and_lists(
    ctx: AppContext, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import partitions as partitions_cli

    url = ctx.settings.database_url
    code = await asyncio.to_thread(
        partitions_cli.main, ["detach", "--month", "2099-01", "--database-url", url]
    )
    err = capsys.readouterr().err
    assert code == 2
    if ctx.engine.dialect.name != "postgresql":
        assert "not partitioned" in err
        return
    assert "only a past month" in err
    assert await asyncio.to_thread(partitions_cli.main, ["list", "--database-url", url]) == 0
    out = capsys.readouterr().out
    assert "attendance_event_2099_01" not in out and "attendance_event_default" in out
    assert "attendance_mark" not in out
