"""What many test files share: the seed term's days and posting a class's roll through the API."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
from sqlmodel import func, select

from app.context import AppContext
from app.core.clock import SimClock
from tests.world import World

BEIJING = timezone(timedelta(hours=8))
# The week the tests' clock stands in: 09:00 Beijing time on Tuesday 24 November 2026.
FRIDAY = date(2026, 11, 20)
MONDAY = date(2026, 11, 23)
TUESDAY = date(2026, 11, 24)
WEDNESDAY = date(2026, 11, 25)
EVENTS = "/api/v1/attendance-events"


def clock(ctx: AppContext) -> SimClock:
    assert isinstance(ctx.clock, SimClock)
    return ctx.clock


def move(ctx: AppContext, when: datetime) -> None:
    clock(ctx).now = when


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def count(ctx: AppContext, model: Any) -> int:
    async with ctx.uow() as uow:
        return int((await uow.session.exec(select(func.count()).select_from(model))).one())


async def rows(ctx: AppContext, model: type, *where: object) -> list:  # type: ignore[type-arg]
    async with ctx.uow() as uow:
        stmt = select(model)
        for w in where:
            stmt = stmt.where(w)  # type: ignore[arg-type]
        return list(await uow.session.exec(stmt))


async def post(
    client: httpx.AsyncClient, world: World, who: str, url: str, body: Any = None
) -> httpx.Response:
    return await client.post(url, json=body, headers=world.auth(who))


def event(
    student_id: int,
    status: str = "present",
    *,
    check: str = "morning",
    day: date = TUESDAY,
    at: str = "08:05",
    event_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    hour, minute = (int(x) for x in at.split(":"))
    occurred = datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING)
    body: dict[str, Any] = {
        "event_id": event_id or str(uuid.uuid4()),
        "student_id": student_id,
        "school_date": day.isoformat(),
        "check": check,
        "status": status,
        "occurred_at": occurred.isoformat(),
    }
    body.update(extra)
    return body


async def roll(
    client: httpx.AsyncClient, world: World, events: list[dict[str, Any]], who: str = "head_teacher"
) -> dict[str, Any]:
    """Posts events that must all be taken; returns the intake's counts."""
    r = await client.post(EVENTS, json=events, headers=world.auth(who))
    assert r.status_code == 200, r.text
    counts: dict[str, Any] = r.json()
    assert counts["rejected"] == 0 and counts["accepted"] == len(events), r.text
    return counts


async def absent(
    client: httpx.AsyncClient,
    world: World,
    *days: date,
    student: str = "student_A1",
    who: str = "head_teacher",
) -> None:
    """One student absent at the morning check of each day."""
    await roll(client, world, [event(world.ids[student], "absent", day=d) for d in days], who)


async def absent_students(
    client: httpx.AsyncClient, world: World, *keys: str, day: date = TUESDAY, who: str = "principal"
) -> None:
    """Several students absent at one day's morning check."""
    await roll(client, world, [event(world.ids[k], "absent", day=day) for k in keys], who)


async def case_of(client: httpx.AsyncClient, world: World, student: str = "student_A1") -> Any:
    r = await client.get(
        f"/api/v1/students/{world.ids[student]}/case", headers=world.auth("principal")
    )
    assert r.status_code == 200, r.text
    return r.json()


async def absent_case(client: httpx.AsyncClient, world: World, *days: date) -> int:
    """student_A1 absent on the days (recorded by the principal); the id of the case it opens."""
    await absent(client, world, *days, who="principal")
    case_id: int = (await case_of(client, world))["id"]
    return case_id


async def red_case(client: httpx.AsyncClient, world: World) -> Any:
    """student_A1 absent Friday, Monday and Tuesday: the case at red."""
    await absent(client, world, FRIDAY, MONDAY, TUESDAY, who="principal")
    case = await case_of(client, world)
    assert case["level"] == "red", case
    return case
