"""Issue 21: one 疫情报告人 per school; a vacancy is flagged like other vacant roles, and the
cluster notice then says so."""

from __future__ import annotations

import httpx

from app.alerts.vacancies import remind_vacant_roles
from app.context import AppContext
from app.db.models import Notification
from tests.helpers import MONDAY, rows
from tests.illness.common import reporter, sick_roll, students
from tests.world import World


async def _titles(ctx: AppContext, school_id: int) -> set[str]:
    notes = await rows(ctx, Notification, Notification.topic == "roles.vacant")
    return {n.title for n in notes if n.school_id == school_id}


async def test_a_school_without_a_reporter_is_told_so_daily(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    school = world.ids["school_A"]
    await remind_vacant_roles(ctx, [school])
    [title] = await _titles(ctx, school)
    assert "疫情报告人" in title
    # Without a reporter the principal alone hears of a cluster, told of the vacancy.
    await sick_roll(client, world, await students(world, "A1", 3, 500), MONDAY)
    [notice] = await rows(ctx, Notification, Notification.topic == "illness.alert")
    assert notice.staff_id == world.ids["principal"] and "疫情报告人无人任职" in notice.title


async def test_a_named_reporter_fills_the_role(ctx: AppContext, world: World) -> None:
    await reporter(world)
    school = world.ids["school_A"]
    await remind_vacant_roles(ctx, [school])
    assert all("疫情报告人" not in t for t in await _titles(ctx, school))
