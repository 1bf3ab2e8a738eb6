"""Migrations 0026, 0032 and 0035 keep what was stored before them. 0026 (native uuid ids on
PostgreSQL, a 16-byte content hash) keeps the events and marks stored before it: a school's
roll reads the same, the history still lists the event, and a client retrying an event it
sent before the upgrade is still answered ``duplicate``."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy import inspect, text

from app.context import AppContext
from app.db import migrations
from tests.helpers import TUESDAY, event
from tests.world import World

URL = "/api/v1/attendance-events"


def _old_hash(body: dict[str, object]) -> str:
    """The content hash as revision 0021 stored it: the SHA-256 of the fields, 64 hex chars."""
    occurred = datetime.fromisoformat(str(body["occurred_at"]))
    canonical = "\x1f".join(
        (
            str(body["student_id"]),
            str(body["school_date"]),
            str(body["check"]),
            str(body["status"]),
            "",
            repr(occurred.timestamp()),
            "",
        )
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def test_events_and_marks_stored_before_0026_survive_the_upgrade(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    url = ctx.settings.database_url
    sid = world.ids["student_A1"]
    sent = event(sid, "absent", event_id=str(uuid.uuid4()))
    await ctx.engine.dispose()
    await asyncio.to_thread(migrations.downgrade, url, "0025")
    now = datetime.now(UTC).replace(tzinfo=None)
    occurred = datetime.fromisoformat(str(sent["occurred_at"])).astimezone(UTC)
    pg = ctx.engine.dialect.name == "postgresql"
    row = {
        "e": sent["event_id"],
        "h": _old_hash(sent),
        "s": sid,
        "school": world.ids["school_A"],
        "klass": world.ids["class_A1"],
        "d": TUESDAY,
        "at": occurred if pg else occurred.replace(tzinfo=None),
        "now": now,
    }
    async with ctx.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO attendance_event (event_id, content_hash, student_id, school_id,"
                ' class_id, school_date, "check", status, occurred_at, recorded_by_kind,'
                " recorded_by_id, recorded_by_name, received_at) VALUES (:e, :h, :s, :school,"
                " :klass, :d, 'morning', 'absent', :at, 'staff', 1, 'head_teacher', :now)"
            ),
            row,
        )
        await conn.execute(
            text(
                'INSERT INTO attendance_mark (student_id, school_date, "check", school_id,'
                " class_id, status, occurred_at, event_id, updated_at) VALUES (:s, :d,"
                " 'morning', :school, :klass, 'absent', :at, :e, :now)"
            ),
            {k: v for k, v in row.items() if k != "h"},
        )
    await ctx.engine.dispose()
    await asyncio.to_thread(migrations.upgrade, url)

    head = world.auth("head_teacher")
    roll = await client.get(
        f"/api/v1/classes/{world.ids['class_A1']}/roll?date={TUESDAY}", headers=head
    )
    assert {s["student_id"]: s["day_status"] for s in roll.json()["students"]}[sid] == "absent"
    history = await client.get(
        f"/api/v1/students/{sid}/attendance-events?start={TUESDAY}&end={TUESDAY}", headers=head
    )
    assert [(e["event_id"], e["current"], e["recorded_by_name"]) for e in history.json()] == [
        (sent["event_id"], True, "head_teacher")
    ]

    again = await client.post(URL, json=sent, headers=head)
    assert again.status_code == 200, again.text
    assert again.json()["result"] == "duplicate"
    other = await client.post(URL, json={**sent, "status": "present"}, headers=head)
    assert other.status_code == 409, other.text
    # A later correction still wins over the migrated mark.
    later = event(sid, "present", at="08:30")
    assert (await client.post(URL, json=later, headers=head)).status_code == 201
    roll = await client.get(
        f"/api/v1/classes/{world.ids['class_A1']}/roll?date={TUESDAY}", headers=head
    )
    assert {s["student_id"]: s["day_status"] for s in roll.json()["students"]}[sid] == "present"


async def test_marks_survive_0032_down_and_up(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    """0032 drops the marks' unread ``updated_at``; its downgrade fills it from the event
    behind each mark, and the roll, the history and a retry answer as before either way."""
    url = ctx.settings.database_url
    head = world.auth("head_teacher")
    sid = world.ids["student_A1"]
    sent = event(sid, "absent", event_id=str(uuid.uuid4()))
    assert (await client.post(URL, json=sent, headers=head)).status_code == 201
    await ctx.engine.dispose()
    await asyncio.to_thread(migrations.downgrade, url, "0031")
    async with ctx.engine.begin() as conn:
        filled = (
            (
                await conn.execute(
                    text(
                        "SELECT m.updated_at = e.received_at FROM attendance_mark m"
                        " JOIN attendance_event e ON e.event_id = m.event_id"
                        " AND e.school_date = m.school_date"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert filled == [True]
    await ctx.engine.dispose()
    await asyncio.to_thread(migrations.upgrade, url)

    roll = await client.get(
        f"/api/v1/classes/{world.ids['class_A1']}/roll?date={TUESDAY}", headers=head
    )
    assert {s["student_id"]: s["day_status"] for s in roll.json()["students"]}[sid] == "absent"
    history = await client.get(
        f"/api/v1/students/{sid}/attendance-events?start={TUESDAY}&end={TUESDAY}", headers=head
    )
    assert [(e["event_id"], e["recorded_by_name"]) for e in history.json()] == [
        (sent["event_id"], "head_teacher")
    ]
    again = await client.post(URL, json=sent, headers=head)
    assert again.status_code == 200 and again.json()["result"] == "duplicate", again.text


def test_migration_0032_froze_the_codes_the_app_maps() -> None:
    """The codes are in the rows: the migration's frozen copy and app.db.types must agree."""
    import importlib.util
    from pathlib import Path

    from app.db import types

    path = Path(__file__).parents[2] / "alembic/versions/0032_attendance_codes.py"
    spec = importlib.util.spec_from_file_location("m0032", path)
    assert spec is not None and spec.loader is not None
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    for frozen, coded in (
        (m._CHECK, types.CheckCode),
        (m._STATUS, types.StatusCode),
        (m._LEAVE, types.LeaveTypeCode),
        (m._KIND, types.RecorderKindCode),
    ):
        assert {"": 0} | frozen == coded.CODES


async def _table_exists(ctx: AppContext, name: str) -> bool:
    async with ctx.engine.connect() as conn:
        return await conn.run_sync(lambda c: inspect(c).has_table(name))


async def test_marks_come_back_on_0035_down_and_go_on_up(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    """0035 stops storing the marks (they are ranked from the events); its downgrade fills
    ``attendance_mark`` from the events with the same rule: the latest ``occurred_at`` of
    each check, ties to the larger event id. The roll reads the same before and after."""
    url = ctx.settings.database_url
    head = world.auth("head_teacher")
    a1, a2 = world.ids["student_A1"], await world.add_student("second", "class_A1", 60)
    low, high = sorted(str(uuid.uuid4()) for _ in range(2))
    sent = [
        event(a1, "absent", at="08:00"),
        event(a1, "present", at="08:30"),  # a correction: the later one is the mark
        event(a1, "absent", check="noon", at="08:50"),
        event(a2, "absent", at="08:10", event_id=high),  # a tie: the larger id wins
        event(a2, "present", at="08:10", event_id=low),
    ]
    for body in sent:
        assert (await client.post(URL, json=body, headers=head)).status_code == 201, body
    winners = {(a1, "morning"): sent[1], (a1, "noon"): sent[2], (a2, "morning"): sent[3]}

    async def roll() -> dict[int, str]:
        r = await client.get(
            f"/api/v1/classes/{world.ids['class_A1']}/roll?date={TUESDAY}", headers=head
        )
        return {s["student_id"]: s["day_status"] for s in r.json()["students"]}

    before = await roll()
    assert (before[a1], before[a2]) == ("present", "absent")
    assert not await _table_exists(ctx, "attendance_mark")

    await ctx.engine.dispose()
    await asyncio.to_thread(migrations.downgrade, url, "0034")
    pg = ctx.engine.dialect.name == "postgresql"
    where = "tableoid::regclass::text" if pg else "'attendance_mark'"
    async with ctx.engine.connect() as conn:
        marks = (
            await conn.execute(
                text(
                    f'SELECT student_id, "check", CAST(event_id AS TEXT), {where}'
                    " FROM attendance_mark"
                )
            )
        ).all()
    home = f"attendance_mark_{TUESDAY:%Y_%m}" if pg else "attendance_mark"
    checks = {"morning": 2, "noon": 3} if pg else {"morning": "morning", "noon": "noon"}
    assert sorted(marks) == sorted(
        (sid, checks[check], body["event_id"], home) for (sid, check), body in winners.items()
    )

    await ctx.engine.dispose()
    await asyncio.to_thread(migrations.upgrade, url)
    assert not await _table_exists(ctx, "attendance_mark")
    assert await roll() == before
    history = await client.get(
        f"/api/v1/students/{a2}/attendance-events?start={TUESDAY}&end={TUESDAY}", headers=head
    )
    assert {e["event_id"]: e["current"] for e in history.json()} == {high: True, low: False}
