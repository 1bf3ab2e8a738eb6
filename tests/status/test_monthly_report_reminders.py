"""月报 not submitted by the county's due day: the engine's periodic job reminds the school's
managers and the county admin on the first late day and every 7 days after, never twice for
the same round, and stops once the month is submitted."""

from __future__ import annotations

from datetime import date

import httpx

from app.context import AppContext
from app.jobs.periodic import monthly_report_reminders
from tests.helpers import post
from tests.status.test_dropout_status_api import at, inbox, with_term
from tests.world import World

TOPIC = "monthly_report.overdue"


async def test_late_schools_are_reminded_until_they_submit(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await with_term(world, client)
    url = f"/api/v1/alert-policies/county/{world.ids['county']}"
    r = await client.put(url, json={"monthly_report_day": 25}, headers=world.auth("county_admin"))
    assert r.status_code == 200, r.text
    at(ctx, date(2026, 9, 24))
    r = await post(
        client,
        world,
        "principal_B",
        f"/api/v1/schools/{world.ids['school_B']}/monthly-reports",
        {"month": "2026-09"},
    )
    assert r.status_code == 201, r.text  # school B submits on time, school A does not
    at(ctx, date(2026, 9, 25), 20)  # the due day itself: not late yet
    assert await monthly_report_reminders(ctx) == 0
    at(ctx, date(2026, 9, 26))
    await monthly_report_reminders(ctx)
    await monthly_report_reminders(ctx)  # the job runs hourly: nothing twice
    for who in ("principal", "vice_principal", "academic_affairs", "county_admin"):
        assert (await inbox(client, world, who)).count(TOPIC) == 1, who
    assert TOPIC not in await inbox(client, world, "principal_B")
    assert TOPIC not in await inbox(client, world, "head_teacher")
    [notice] = [
        n
        for n in (await client.get("/api/v1/inbox", headers=world.auth("county_admin"))).json()[
            "items"
        ]
        if n["topic"] == TOPIC
    ]
    assert "学校A 2026-09 月报逾期未报送" in notice["title"]
    at(ctx, date(2026, 10, 2))  # still in the first week late
    await monthly_report_reminders(ctx)
    assert (await inbox(client, world, "principal")).count(TOPIC) == 1
    at(ctx, date(2026, 10, 3))  # a week on: reminded again
    await monthly_report_reminders(ctx)
    assert (await inbox(client, world, "principal")).count(TOPIC) == 2
    r = await post(
        client,
        world,
        "principal",
        f"/api/v1/schools/{world.ids['school_A']}/monthly-reports",
        {"month": "2026-09"},
    )
    assert r.status_code == 201, r.text
    at(ctx, date(2026, 10, 10))
    assert await monthly_report_reminders(ctx) == 0  # submitted (late): no more reminders
    assert (await inbox(client, world, "principal")).count(TOPIC) == 2
