"""Issue 21's single-case rules, as defaults: a known or suspected case of a notifiable disease
is reported at once (2 hours before the county hears it is late), and one child with an
unexplained high fever, breathing difficulty or severe vomiting/diarrhoea within 24 hours; a
later case of the same disease in the school joins the first alert."""

from __future__ import annotations

from datetime import timedelta

import httpx

from app.context import AppContext
from app.db.models import IllnessAlert, Notification
from tests.helpers import MONDAY, TUESDAY, count, rows
from tests.illness.common import at, reporter, sick_roll, students
from tests.world import World


async def test_one_measles_case_is_reported_at_once_and_a_second_joins(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    await reporter(world)
    [a1] = await students(world, "A1", 1, 400)
    [a2] = await students(world, "A2", 1, 410)
    await sick_roll(client, world, [a1], MONDAY, symptoms=("fever", "rash"), diagnosis="measles")
    [alert] = await rows(ctx, IllnessAlert)
    assert alert.rule_code == "measles_case" and alert.scope == "school"
    # Raised at the engine's next minute; the 2 hours run from then (when the school is told).
    assert alert.created_at - at(MONDAY) <= timedelta(minutes=1)
    assert alert.report_due == alert.created_at + timedelta(hours=2)
    notices = await rows(ctx, Notification, Notification.topic == "illness.alert")
    assert {n.role for n in notices} == {"epidemic_reporter", "principal"}
    assert all("麻疹" in n.title for n in notices)

    # The next day a child of another class: the same school's measles alert takes it (the
    # 2-in-10-days school rule is met too, and joins rather than raising a second).
    await sick_roll(client, world, [a2], TUESDAY, symptoms=("rash",), diagnosis="measles")
    [alert] = await rows(ctx, IllnessAlert)
    assert [c["student_id"] for c in alert.cases] == [a1, a2]
    assert len(await rows(ctx, Notification, Notification.topic == "illness.alert")) == 2


async def test_one_child_with_a_high_fever_is_reported_a_plain_fever_is_not(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    await reporter(world)
    a1 = await students(world, "A1", 2, 500)
    await sick_roll(client, world, a1[:1], MONDAY, symptoms=("fever",))
    assert await count(ctx, IllnessAlert) == 0
    await sick_roll(client, world, a1[1:], MONDAY, symptoms=("breathing_difficulty",))
    [alert] = await rows(ctx, IllnessAlert)
    assert alert.rule_code == "severe_1" and alert.scope_id == world.ids["class_A1"]
    assert [c["student_id"] for c in alert.cases] == a1[1:]
    assert alert.report_due == alert.created_at + timedelta(hours=24)


async def test_a_non_notifiable_diagnosis_alone_raises_nothing(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    await reporter(world)
    a1 = await students(world, "A1", 1, 600)
    await sick_roll(client, world, a1, MONDAY, symptoms=("headache",), diagnosis="other")
    assert await count(ctx, IllnessAlert) == 0
