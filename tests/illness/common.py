"""What the illness tests share: a school with a 疫情报告人 and sick children at the roll."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import httpx

from app.domain.roles import Role
from tests.helpers import BEIJING, event, move, roll
from tests.world import World

REGISTER = "/api/v1/illness/register"
ALERTS = "/api/v1/illness/alerts"


def at(day: date, hm: str = "08:10") -> datetime:
    h, m = (int(x) for x in hm.split(":"))
    return datetime(day.year, day.month, day.day, h, m, tzinfo=BEIJING)


def sick(
    student_id: int,
    day: date,
    symptoms: tuple[str, ...] = ("fever", "cough"),
    **illness: Any,
) -> dict[str, Any]:
    """A child on sick leave at the morning roll, with symptoms since the night before."""
    body: dict[str, Any] = {
        "symptoms": list(symptoms),
        "onset_at": datetime(day.year, day.month, day.day, 6, 30, tzinfo=BEIJING).isoformat(),
        **illness,
    }
    return event(student_id, "leave", day=day, leave_type="sick", illness=body)


async def students(world: World, klass: str, n: int, start: int) -> list[int]:
    return [await world.add_student(f"{klass}_{i}", f"class_{klass}", start + i) for i in range(n)]


async def reporter(world: World) -> None:
    await world.add_staff("epidemic_reporter", Role.epidemic_reporter, "school_A")


async def sick_roll(
    client: httpx.AsyncClient, world: World, ids: list[int], day: date, **kw: Any
) -> None:
    move(world.ctx, at(day))
    await roll(client, world, [sick(i, day, **kw) for i in ids], who="principal")
