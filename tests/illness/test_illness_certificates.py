"""Issue 21: a child back after 4 school days of illness without a 复课证明 is on the school
doctor's list (and the 疫情报告人 is reminded); a shorter illness is not, a notifiable disease
always is; a certificate dated before the absence is a 422."""

from __future__ import annotations

from datetime import date

import httpx

from app.context import AppContext
from app.db.models import IllnessRecord, Notification, ReturnCertificate
from app.illness.certificates import remind
from tests.helpers import FRIDAY, MONDAY, TUESDAY, WEDNESDAY, count, event, move, roll, rows
from tests.illness.common import at, reporter, sick, sick_roll, students
from tests.world import World

THURSDAY = date(2026, 11, 26)
LIST = "/api/v1/illness/returns-without-certificate"


async def test_back_after_four_days_without_a_certificate_is_on_the_list(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    await reporter(world)
    long_ill, short_ill, measles = await students(world, "A1", 3, 700)
    for day in (FRIDAY, MONDAY, TUESDAY, WEDNESDAY):
        await sick_roll(client, world, [long_ill], day)
    await sick_roll(client, world, [short_ill], TUESDAY)
    await sick_roll(client, world, [short_ill], WEDNESDAY)
    move(ctx, at(WEDNESDAY))
    await roll(
        client,
        world,
        [sick(measles, WEDNESDAY, symptoms=("fever", "rash"), diagnosis="measles")],
        who="principal",
    )
    [record] = await rows(ctx, IllnessRecord, IllnessRecord.student_id == long_ill)
    assert (record.school_date, record.last_day) == (FRIDAY, WEDNESDAY)  # one absence
    move(ctx, at(THURSDAY))
    back = [event(s, "present", day=THURSDAY) for s in (long_ill, short_ill, measles)]
    await roll(client, world, back, who="principal")
    q = {"school_id": world.ids["school_A"]}
    r = await client.get(LIST, params=q, headers=world.auth("epidemic_reporter"))
    assert r.status_code == 200, r.text
    listed = {x["student_id"]: x for x in r.json()}
    assert set(listed) == {long_ill, measles}
    assert listed[long_ill]["school_days"] == 4 and listed[long_ill]["returned_on"] == "2026-11-26"
    assert listed[measles]["notifiable"]

    assert await remind(ctx, [world.ids["school_A"]]) == 1
    assert await remind(ctx, [world.ids["school_A"]]) == 1  # the same notice, kept once
    [notice] = await rows(ctx, Notification, Notification.topic == "illness.no_certificate")
    assert notice.staff_id == world.ids["epidemic_reporter"] and "2 名学生" in notice.title

    denied = await client.get(LIST, params=q, headers=world.auth("subject_teacher"))
    assert denied.status_code in (403, 404)
    url = f"/api/v1/illness/records/{record.id}/certificate"
    early = {"institution": "县人民医院", "issued_on": "2026-11-19"}
    bad = await client.post(url, json=early, headers=world.auth("epidemic_reporter"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"][-1] == "issued_on"
    assert await count(ctx, ReturnCertificate) == 0
    good = {"institution": "县人民医院", "issued_on": "2026-11-25"}
    ok = await client.post(url, json=good, headers=world.auth("epidemic_reporter"))
    assert ok.status_code == 201, ok.text
    again = await client.post(url, json=good, headers=world.auth("epidemic_reporter"))
    assert again.status_code == 409
    r = await client.get(LIST, params=q, headers=world.auth("epidemic_reporter"))
    assert {x["student_id"] for x in r.json()} == {measles}
