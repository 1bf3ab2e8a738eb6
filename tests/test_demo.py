"""The demo `make run` seeds: created once, sign-in works, and the engine has cases to show."""

from __future__ import annotations

import httpx
from sqlmodel import select

from app.context import AppContext
from app.db.models import Alert, Notification
from app.seed.demo import OPS_MOBILE, seed_demo


async def test_demo_is_created_once_and_shows_alerts(
    ctx: AppContext, client: httpx.AsyncClient
) -> None:
    logins = await seed_demo(ctx)
    assert logins is not None and logins[0].mobile == OPS_MOBILE
    assert await seed_demo(ctx) is None  # the second run finds it
    principal = next(x for x in logins if x.role == "校长")
    r = await client.post(
        "/api/v1/auth/token",
        data={"username": principal.mobile, "password": ctx.settings.demo_password},
    )
    assert r.status_code == 200
    token = {"Authorization": f"Bearer {r.json()['access_token']}"}
    students = await client.get("/api/v1/students?limit=1", headers=token)
    assert students.json()["total"] == 102
    async with ctx.uow() as uow:
        levels = sorted(a.level for a in await uow.session.exec(select(Alert)))
    assert levels == ["blue", "blue", "blue", "red", "yellow", "yellow"]
    # Three of the first class on sick leave with 发热+咳嗽 on the last day: one class cluster,
    # and the sick leave starts no absence alert (the six above are unchanged).
    r = await client.get("/api/v1/illness/alerts", headers=token)
    assert r.status_code == 200, r.text
    assert [(a["scope"], a["count"], a["status"]) for a in r.json()] == [("class", 3, "open")]
    # ... told to the primary school's 疫情报告人 (校医), the demo's last account
    reporter = next(x for x in logins if x.role == "疫情报告人")
    async with ctx.uow() as uow:
        told = await uow.session.exec(
            select(Notification).where(Notification.topic == "illness.alert")
        )
        assert "epidemic_reporter" in {n.role for n in told}
    assert reporter.name == "林晓梅"

    # The county's register of school-age children: the roll plus six children of the
    # township, two declared (缓学, 外出就读) and four on no roll, whom the township must find.
    admin = next(x for x in logins if x.role == "县教育局管理员")
    r = await client.post(
        "/api/v1/auth/token",
        data={"username": admin.mobile, "password": ctx.settings.demo_password},
    )
    token = {"Authorization": f"Bearer {r.json()['access_token']}"}
    me = (await client.get("/api/v1/auth/me", headers=token)).json()
    county = me["county_id"]
    r = await client.get(f"/api/v1/counties/{county}/ledgers/school-age-children", headers=token)
    assert r.status_code == 200, r.text
    statuses = [row["status"] for row in r.json()["rows"]]
    assert len(statuses) == 208
    counts = {s: statuses.count(s) for s in ("not_enrolled", "deferred", "elsewhere", "studying")}
    assert counts == {"not_enrolled": 4, "deferred": 1, "elsewhere": 1, "studying": 202}
