"""Issue 21, "Done when": illness at the roll raises one cluster alert to the 疫情报告人 and the
principal, later cases join it, the 3-day rule trips in another class; an illness absence never
opens an absence case; a subject teacher sees no symptoms."""

from __future__ import annotations

from datetime import timedelta

import httpx

from app.context import AppContext
from app.db.models import AbsenceCase, IllnessAlert, IllnessRecord, Notification
from tests.helpers import EVENTS, MONDAY, TUESDAY, WEDNESDAY, count, event, move, rows
from tests.illness.common import REGISTER, at, reporter, sick, sick_roll, students
from tests.world import World


async def test_three_with_fever_and_cough_raise_one_alert_and_a_fourth_joins(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    await reporter(world)
    a1 = await students(world, "A1", 4, 100)
    await sick_roll(client, world, a1[:2], MONDAY)
    assert await count(ctx, IllnessAlert) == 0  # two are no cluster
    await sick_roll(client, world, a1[2:3], MONDAY)
    [alert] = await rows(ctx, IllnessAlert)
    assert alert.rule_code == "resp_1d" and alert.scope == "class"
    assert {c["student_id"] for c in alert.cases} == set(a1[:3])
    # Raised by the engine's next minute after the third roll, due 24 h after that.
    rolled = at(MONDAY)
    assert timedelta(0) < alert.created_at - rolled <= timedelta(minutes=1)
    assert alert.report_due == alert.created_at + timedelta(hours=24)
    notices = await rows(ctx, Notification, Notification.topic == "illness.alert")
    to = {(n.staff_id, n.role) for n in notices}
    assert to == {
        (world.ids["epidemic_reporter"], "epidemic_reporter"),
        (world.ids["principal"], "principal"),
    }
    assert all(n.created_at - rolled <= timedelta(minutes=1) for n in notices)
    assert all("学生" not in n.title or "名学生" in n.title for n in notices)  # no child named

    await sick_roll(client, world, a1[3:], TUESDAY)
    [alert] = await rows(ctx, IllnessAlert)
    assert len(alert.cases) == 4  # joined, not a second alert
    assert len(await rows(ctx, Notification, Notification.topic == "illness.alert")) == 2

    # Illness explains the day: no absence case, no absence alert for any of them.
    assert await count(ctx, AbsenceCase) == 0
    # A retried roll changes nothing.
    assert await count(ctx, IllnessRecord) == 4


async def test_five_across_three_school_days_trip_the_three_day_rule(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    await reporter(world)
    a2 = await students(world, "A2", 5, 200)
    await sick_roll(client, world, a2[:2], MONDAY)
    await sick_roll(client, world, a2[2:4], TUESDAY)
    assert await count(ctx, IllnessAlert) == 0  # never 3 on one day, 4 in the window
    await sick_roll(client, world, a2[4:], WEDNESDAY)
    [alert] = await rows(ctx, IllnessAlert)
    assert alert.rule_code == "resp_3d" and alert.scope_id == world.ids["class_A2"]
    assert alert.window_start == MONDAY and len(alert.cases) == 5


async def test_other_symptoms_or_other_classes_do_not_add_up(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    a1 = await students(world, "A1", 2, 300)
    a2 = await students(world, "A2", 1, 310)
    await sick_roll(client, world, a1, MONDAY)
    await sick_roll(client, world, a2, MONDAY)
    assert await count(ctx, IllnessAlert) == 0
    more = await students(world, "A1", 1, 320)
    await sick_roll(client, world, more, MONDAY, symptoms=("diarrhoea",))
    assert await count(ctx, IllnessAlert) == 0


async def test_a_subject_teacher_sees_no_symptoms_the_head_teacher_does(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    await sick_roll(client, world, [world.ids["student_A1"]], MONDAY)
    q = {"school_id": world.ids["school_A"], "class_id": world.ids["class_A1"]}
    q |= {"start": MONDAY.isoformat(), "end": WEDNESDAY.isoformat()}
    seen = {}
    for who in ("subject_teacher", "head_teacher", "vice_principal", "principal", "county_admin"):
        r = await client.get(REGISTER, params=q, headers=world.auth(who))
        assert r.status_code == 200, (who, r.text)
        [entry] = r.json()["entries"]
        seen[who] = entry
    for who in ("subject_teacher", "vice_principal", "county_admin"):
        assert seen[who]["masked"] and seen[who]["symptoms"] is None, who
        assert "发热" not in str(seen[who]), who
    for who in ("head_teacher", "principal"):
        assert not seen[who]["masked"]
        assert [s["label"] for s in seen[who]["symptoms"]] == ["发热", "咳嗽"]


async def test_bad_illness_input_is_a_422_naming_the_field(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    sid = world.ids["student_A1"]
    move(ctx, at(MONDAY))
    cases = {
        "unknown symptom": sick(sid, MONDAY, symptoms=("sneezing",)),
        "onset after the roll": sick(sid, MONDAY)
        | {"illness": {"symptoms": ["fever"], "onset_at": at(MONDAY, "09:00").isoformat()}},
        "diagnosis on a present child": event(
            sid,
            "present",
            day=MONDAY,
            illness={
                "symptoms": ["fever"],
                "onset_at": at(MONDAY, "06:00").isoformat(),
                "diagnosis": "influenza",
            },
        ),
    }
    for why, body in cases.items():
        r = await client.post(EVENTS, json=body, headers=world.auth("head_teacher"))
        assert r.status_code == 422, (why, r.text)
        assert any(
            e["loc"][-2:][0] == "illness" or "illness" in e["loc"] for e in r.json()["errors"]
        ), (why, r.json())
    assert await count(ctx, IllnessRecord) == 0
