"""The access log: every signed-in read is kept with who, what and the student concerned;
writes and anonymous requests are not; the county admin reads it; old rows go."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlmodel import func, select

from app.access_logs import service as access_logs
from app.context import AppContext
from app.db.models import AccessLog
from tests.world import World

LOGS = "/api/v1/access-logs"


async def logged(ctx: AppContext) -> int:
    async with ctx.uow() as uow:
        return int((await uow.session.exec(select(func.count()).select_from(AccessLog))).one())


async def test_reads_are_logged_with_the_student_and_the_county_admin_reads_them(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    sid = world.ids["student_A1"]
    assert (await client.get(f"/api/v1/students/{sid}")).status_code == 401
    assert await logged(ctx) == 0  # nobody signed in: nothing to say who

    r = await client.get(f"/api/v1/students/{sid}", headers=world.auth("head_teacher"))
    assert r.status_code == 200
    r = await client.get(f"/api/v1/students/{sid}", headers=world.auth("principal_B"))
    assert r.status_code == 404  # an attempt outside the scope is kept too
    r = await client.get(
        "/api/v1/attendance/lists",
        params={"class_id": world.ids["class_A1"], "start": "2026-11-23", "end": "2026-11-24"},
        headers=world.auth("head_teacher"),
    )
    r = await client.post(
        "/api/v1/leaves",
        json={
            "student_id": sid,
            "start_date": "2026-11-25",
            "end_date": "2026-11-25",
            "kind": "personal",
            "reason": "家中有事",
        },
        headers=world.auth("head_teacher"),
    )
    assert await logged(ctx) == 3  # the three reads; the write is its own record

    r = await client.get(LOGS, params={"student_id": sid}, headers=world.auth("county_admin"))
    assert r.status_code == 200, r.text
    got = [(x["actor_id"], x["status"], x["path"], x["student_id"]) for x in r.json()["items"]]
    path = f"/api/v1/students/{sid}"
    assert got == [  # newest first; the class's lists showed this student too
        (world.ids["head_teacher"], 200, "/api/v1/attendance/lists", sid),
        (world.ids["principal_B"], 404, path, sid),
        (world.ids["head_teacher"], 200, path, sid),
    ]
    assert r.json()["total"] == 3

    assert (await client.get(LOGS, headers=world.auth("principal"))).status_code == 403
    other = world.ids["county_other"]
    r = await client.get(LOGS, params={"county_id": other}, headers=world.auth("county_admin"))
    assert r.status_code == 404


async def test_rows_older_than_the_retention_are_purged(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    keep = ctx.settings.access_log_days
    for age in (keep + 1, keep - 1):
        await access_logs.write(
            ctx,
            {
                "at": ctx.clock() - timedelta(days=age),
                "actor_kind": "staff",
                "actor_id": world.ids["head_teacher"],
                "actor_name": "班主任",
                "method": "GET",
                "path": "/api/v1/students/1",
                "status": 200,
            },
        )
    assert await access_logs.purge(ctx) == 1
    assert await access_logs.purge(ctx) == 0
    assert await logged(ctx) == 1
