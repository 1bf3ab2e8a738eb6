"""Head teachers are reminded once of a roll not taken by check time plus grace."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlmodel import select

from app.attendance.reminders import remind_missing_rolls
from app.context import AppContext
from app.core.clock import SimClock
from app.db.models import Notification
from tests.helpers import event
from tests.world import build_world


async def test_missing_roll_reminds_the_head_teacher_once(
    ctx: AppContext, client: httpx.AsyncClient
) -> None:
    world = await build_world(ctx)
    assert isinstance(ctx.clock, SimClock)
    schools = [world.ids["school_A"]]
    ctx.clock.now = datetime(2026, 11, 24, 0, 20, tzinfo=UTC)  # 08:20: still in the grace
    assert await remind_missing_rolls(ctx, schools) == 0
    ctx.clock.now = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00
    await client.post(
        "/api/v1/attendance-events",
        json=event(world.ids["student_A2"]),
        headers=world.auth("principal"),
    )
    await remind_missing_rolls(ctx, schools)
    await remind_missing_rolls(ctx, schools)  # runs every minute: still one notice
    async with ctx.uow() as uow:
        notices = list(await uow.session.exec(select(Notification)))
    assert [(n.staff_id, n.topic) for n in notices] == [(world.ids["head_teacher"], "roll.missing")]
    assert "A1" in notices[0].title and "晨检" in notices[0].title
    r = await client.get("/api/v1/inbox", headers=world.auth("head_teacher"))
    assert r.json()["items"][0]["topic"] == "roll.missing"
