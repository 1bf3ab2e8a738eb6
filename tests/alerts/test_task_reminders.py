"""Case tasks remind their holders when due and go up the line when left open; follow-ups
after 复学 are tasks; an absence within the follow-up weeks reopens the case as a relapse."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlmodel import select

from app.alerts.task_reminders import remind_tasks
from app.context import AppContext
from app.db.models import CaseEvent, Deadline, Notification
from tests.helpers import FRIDAY, MONDAY, TUESDAY, WEDNESDAY, clock, event
from tests.world import World

EVENTS = "/api/v1/attendance-events"


async def roll(client: httpx.AsyncClient, world: World, status: str, *days: date) -> None:
    sid = world.ids["student_A1"]
    body = [event(sid, status, day=d) for d in days]
    r = await client.post(EVENTS, json=body, headers=world.auth("principal"))
    assert r.status_code == 200 and r.json()["accepted"] == len(days), r.text


async def topics(ctx: AppContext, world: World, who: str, prefix: str = "task.") -> list[str]:
    async with ctx.uow() as uow:
        rows = await uow.session.exec(
            select(Notification)
            .where(Notification.staff_id == world.ids[who])
            .order_by(Notification.id)  # type: ignore[arg-type]
        )
        return [n.title for n in rows if n.topic.startswith(prefix)]


async def reenrolled(ctx: AppContext, world: World, client: httpx.AsyncClient) -> dict[str, Any]:
    """Red Friday to Tuesday, back Wednesday, 复学 confirmed Wednesday 09:00 Beijing."""
    await roll(client, world, "absent", FRIDAY, MONDAY, TUESDAY)
    clock(ctx).now = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    await roll(client, world, "present", WEDNESDAY)
    sid = world.ids["student_A1"]
    case = (
        await client.get(f"/api/v1/students/{sid}/case", headers=world.auth("principal"))
    ).json()
    r = await client.post(
        f"/api/v1/cases/{case['id']}/reenrollment", headers=world.auth("head_teacher")
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_follow_ups_are_tasks_reminded_once_and_escalated_once(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    case = await reenrolled(ctx, world, client)
    url = f"/api/v1/cases/{case['id']}/follow-ups"
    r = await client.get(url, headers=world.auth("head_teacher"))
    assert r.status_code == 200, r.text
    closed_at = datetime.fromisoformat(case["closed_at"])
    got = [(f["week"], datetime.fromisoformat(f["due_at"]), f["status"]) for f in r.json()]
    assert got == [(w, closed_at + timedelta(weeks=w), "open") for w in (1, 4, 8)]
    assert (await client.get(url, headers=world.auth("principal_B"))).status_code == 404

    # Nothing is due yet.
    assert (await remind_tasks(ctx)).reminded == 0
    # A week later the head teacher is reminded of the first check, once.
    clock(ctx).now = closed_at + timedelta(weeks=1, minutes=1)
    assert (await remind_tasks(ctx)).reminded == 1
    assert (await remind_tasks(ctx)).reminded == 0
    assert await topics(ctx, world, "head_teacher") == [
        "复学后跟踪回访(复学后第 1 周)已到期,请完成并登记"
    ]
    assert await topics(ctx, world, "vice_principal") == []

    # Still open 48 hours later: the vice principal hears of it, once, and the timeline says so.
    clock(ctx).now += timedelta(hours=47)
    assert (await remind_tasks(ctx)).escalated == 0
    clock(ctx).now += timedelta(hours=1)
    assert (await remind_tasks(ctx)).escalated == 1
    assert (await remind_tasks(ctx)).escalated == 0
    assert await topics(ctx, world, "vice_principal") == [
        "复学后跟踪回访(复学后第 1 周)逾期 48 小时仍未完成"
    ]
    async with ctx.uow() as uow:
        kinds = [e.kind for e in await uow.session.exec(select(CaseEvent))]
    assert kinds.count("task.overdue") == 1

    # The 4-week check done early: when its day comes nobody is reminded.
    four = r.json()[1]
    r = await client.post(
        f"/api/v1/tasks/{four['task_id']}/complete",
        json={"note": "家访,学生在校表现稳定"},
        headers=world.auth("head_teacher"),
    )
    assert r.status_code == 200, r.text
    clock(ctx).now = closed_at + timedelta(weeks=4, days=3)
    assert (await remind_tasks(ctx)).reminded == 0
    r = await client.get(url, headers=world.auth("head_teacher"))
    assert [f["status"] for f in r.json()] == ["open", "done", "open"]
    assert r.json()[1]["note"] == "家访,学生在校表现稳定"


async def test_tasks_of_a_case_closed_on_return_are_not_chased(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    """Yellow opens a phone-verification task; the student is back the next day."""
    await roll(client, world, "absent", MONDAY, TUESDAY)
    clock(ctx).now = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    await roll(client, world, "present", WEDNESDAY)
    clock(ctx).now += timedelta(days=5)
    assert (await remind_tasks(ctx)).reminded == 0
    assert await topics(ctx, world, "vice_principal") == []


async def test_an_open_case_task_left_undone_goes_to_the_principal(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    """Red: the vice principal's home-visit task, undone: reminded, then the principal told."""
    await roll(client, world, "absent", FRIDAY, MONDAY, TUESDAY)
    clock(ctx).now += timedelta(hours=48, minutes=1)
    got = await remind_tasks(ctx)
    assert (got.reminded, got.escalated) == (2, 0)  # phone verification and home visit
    assert "联合家访劝返已到期,请完成并登记" in await topics(ctx, world, "vice_principal")
    clock(ctx).now += timedelta(hours=48)
    assert (await remind_tasks(ctx)).escalated == 2
    assert sorted(await topics(ctx, world, "principal")) == [
        "电话核实逾期 48 小时仍未完成",
        "联合家访劝返逾期 48 小时仍未完成",
    ]


async def test_absent_again_within_the_follow_up_weeks_reopens_the_case(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    case = await reenrolled(ctx, world, client)
    # Absent again the next Monday: the same case reopens as a relapse.
    clock(ctx).now = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    await roll(client, world, "absent", date(2026, 11, 30))
    sid = world.ids["student_A1"]
    now = (await client.get(f"/api/v1/students/{sid}/case", headers=world.auth("principal"))).json()
    assert now["id"] == case["id"]
    assert (now["status"], now["episode"], now["level"]) == ("open", 2, "blue")
    assert now["closed_at"] is None and now["close_reason"] is None
    assert any(e["kind"] == "case.relapse" for e in now["timeline"])
    follow = [t for t in now["tasks"] if t["kind"] == "follow_up"]
    assert [t["status"] for t in follow] == ["cancelled"] * 3
    r = await client.post(
        f"/api/v1/tasks/{follow[0]['id']}/complete", json={}, headers=world.auth("head_teacher")
    )
    assert r.status_code == 409 and "取消" in r.text
    # A written report is owed again, with its own deadline.
    async with ctx.uow() as uow:
        reports = [
            d.key for d in await uow.session.exec(select(Deadline).where(Deadline.kind == "report"))
        ]
    assert sorted(reports) == ["1", "2"]
    assert now["report_status"] == "due"
