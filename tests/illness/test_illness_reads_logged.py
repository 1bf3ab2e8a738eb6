"""Issue 21 item 6, "reads logged": a read of the illness register or of a cluster alert is in
the access log with each child it showed, masked or not (who looked at whose health data)."""

from __future__ import annotations

import httpx
from sqlmodel import select

from app.context import AppContext
from app.db.models import AccessLog, AccessLogStudent
from tests.helpers import MONDAY, WEDNESDAY
from tests.illness.common import ALERTS, REGISTER, reporter, sick_roll, students
from tests.world import World


async def _logged(ctx: AppContext, path: str) -> list[tuple[int, set[int]]]:
    """(who, the children tied to the read) of every logged read of ``path``."""
    async with ctx.uow() as uow:
        logs = list(await uow.session.exec(select(AccessLog).where(AccessLog.path == path)))
        out = []
        for log in logs:
            tied = await uow.session.exec(
                select(AccessLogStudent.student_id).where(AccessLogStudent.access_log_id == log.id)
            )
            out.append((log.actor_id, set(tied)))
        return out


async def test_register_and_alert_reads_are_logged_with_the_children(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    await reporter(world)
    a1 = await students(world, "A1", 3, 700)
    await sick_roll(client, world, a1, MONDAY)
    q = {"school_id": world.ids["school_A"], "class_id": world.ids["class_A1"]}
    q |= {"start": MONDAY.isoformat(), "end": WEDNESDAY.isoformat()}
    for who in ("epidemic_reporter", "subject_teacher"):
        r = await client.get(REGISTER, params=q, headers=world.auth(who))
        assert r.status_code == 200, (who, r.text)
    got = await _logged(ctx, REGISTER)
    assert sorted(got) == sorted(
        [(world.ids["epidemic_reporter"], set(a1)), (world.ids["subject_teacher"], set(a1))]
    )

    r = await client.get(ALERTS, headers=world.auth("epidemic_reporter"))
    assert r.status_code == 200, r.text
    [alert] = r.json()
    path = f"{ALERTS}/{alert['id']}"
    r = await client.get(path, headers=world.auth("epidemic_reporter"))
    assert r.status_code == 200, r.text
    assert await _logged(ctx, path) == [(world.ids["epidemic_reporter"], set(a1))]
