from __future__ import annotations

import httpx

from app.context import AppContext
from tests.world import build_world


async def test_world_builds_and_principal_reads_own_student(
    ctx: AppContext, client: httpx.AsyncClient
) -> None:
    w = await build_world(ctx)
    r = await client.get(f"/api/v1/students/{w.ids['student_A1']}", headers=w.auth("principal"))
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "学生1"
