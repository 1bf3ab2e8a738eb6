"""Issue 21 item 6: symptoms and onsets are health information of minors (个人信息保护法
第28条) — a sick leave's too, wherever it is read — visible only to the 疫情报告人, the
principal, the class's head teacher and the county's health contact; every read of them is
in the access log with the children it showed."""

from __future__ import annotations

import httpx
from sqlmodel import select

from app.context import AppContext
from app.db.models import AccessLog, AccessLogStudent
from app.domain.roles import Role
from tests.helpers import MONDAY, move
from tests.illness.common import ALERTS, REGISTER, at, reporter, sick_roll, students
from tests.world import World

LEAVES = "/api/v1/leaves"
SEE = ("epidemic_reporter", "principal", "head_teacher", "health")
MASKED = ("subject_teacher", "vice_principal", "academic_affairs", "county_admin")


async def test_a_sick_leave_s_symptoms_are_masked_for_everyone_but_the_four(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    await reporter(world)
    await world.add_staff("health", Role.county_health, "county")
    move(ctx, at(MONDAY, "07:30"))
    leave = {
        "student_id": world.ids["student_A1"],
        "start_date": MONDAY.isoformat(),
        "end_date": MONDAY.isoformat(),
        "leave_type": "sick",
        "reason": "家长来电",
        "onset_at": at(MONDAY, "06:00").isoformat(),
        "symptoms": ["fever", "rash"],
    }
    r = await client.post(LEAVES, json=leave, headers=world.auth("subject_teacher"))
    assert r.status_code == 201, r.text
    filed = r.json()
    # Whoever filed it gets it back masked too: the answer may be shown on a shared screen.
    assert filed["health_masked"] and filed["symptoms"] == [] and filed["onset_at"] is None
    one = f"{LEAVES}/{filed['id']}"
    q = {"class_id": world.ids["class_A1"]}
    for who in SEE + MASKED:
        got = await client.get(one, headers=world.auth(who))
        listed = await client.get(LEAVES, params=q, headers=world.auth(who))
        if who in ("health", "epidemic_reporter"):  # they read the register, not the leaves
            assert got.status_code == 404
            continue
        assert got.status_code == 200 and listed.status_code == 200, (who, got.text)
        [item] = listed.json()["items"]
        for out in (got.json(), item):
            if who in SEE:
                assert not out["health_masked"], who
                assert [s["label"] for s in out["symptoms"]] == ["发热", "皮疹"], who
                assert out["onset_at"], who
            else:
                assert out["health_masked"] and out["symptoms"] == [], who
                assert out["onset_at"] is None and "皮疹" not in str(out), who
    # The register shows the same leave unmasked to the 疫情报告人 and the health contact.
    q = {"school_id": world.ids["school_A"], "start": MONDAY.isoformat(), "end": MONDAY.isoformat()}
    for who in ("health", "epidemic_reporter"):
        r = await client.get(REGISTER, params=q, headers=world.auth(who))
        assert r.status_code == 200, r.text
        [entry] = r.json()["entries"]
        assert not entry["masked"], who
        assert [s["label"] for s in entry["symptoms"]] == ["发热", "皮疹"], who


async def test_reads_of_the_register_and_alerts_are_logged_with_the_children(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    await reporter(world)
    a1 = await students(world, "A1", 3, 1100)
    await sick_roll(client, world, a1, MONDAY)
    q = {"school_id": world.ids["school_A"], "start": MONDAY.isoformat(), "end": MONDAY.isoformat()}
    r = await client.get(REGISTER, params=q, headers=world.auth("head_teacher"))
    assert r.status_code == 200 and len(r.json()["entries"]) == 3
    r = await client.get(ALERTS, headers=world.auth("epidemic_reporter"))
    assert r.status_code == 200 and len(r.json()) == 1
    async with ctx.uow() as uow:
        logs = list((await uow.session.exec(select(AccessLog))).all())
        tied = list((await uow.session.exec(select(AccessLogStudent))).all())
    by_path = {(x.path, x.actor_id): x for x in logs}
    reg = by_path[(REGISTER, world.ids["head_teacher"])]
    alerts = by_path[(ALERTS, world.ids["epidemic_reporter"])]
    for row in (reg, alerts):
        assert row.status == 200
        assert {t.student_id for t in tied if t.access_log_id == row.id} == set(a1), row.path
