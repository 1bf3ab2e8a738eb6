"""The school's 月报 through the API: stored as sent, 零报告, one submission a month, a
correction as a new version keeping the old, the county's view of who has submitted, and the
XLSX twin."""

from __future__ import annotations

import io
from datetime import date

import httpx
from openpyxl import load_workbook

from app.context import AppContext
from app.db.models import MonthlyReport
from tests.helpers import count, event, post, roll
from tests.status.test_dropout_status_api import SCHOOL_DAYS, absent_days, at, with_term
from tests.world import World


def url(world: World, school: str = "school_A") -> str:
    return f"/api/v1/schools/{world.ids[school]}/monthly-reports"


async def test_the_monthly_report_is_a_stored_document(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await with_term(world, client)
    # 学生1 absent from 7 September: 疑似辍学 on the 14th.
    await absent_days(
        client, world, ctx, "student_A1", [d for d in SCHOOL_DAYS if d <= date(2026, 9, 25)]
    )
    at(ctx, date(2026, 9, 28), 17)
    county = f"/api/v1/counties/{world.ids['county']}/monthly-reports"
    view = (
        await client.get(county, params={"month": "2026-09"}, headers=world.auth("county_admin"))
    ).json()
    assert view["due_on"] == "2026-09-28"
    assert view["missing"] == [world.ids["school_A"], world.ids["school_B"]]
    assert [s["late"] for s in view["schools"]] == [False, False]

    r = await post(client, world, "principal", url(world), {"month": "2026-09"})
    assert r.status_code == 201, r.text
    sent = r.json()
    assert (sent["version"], sent["zero_report"], sent["report_label"]) == (1, False, "月报")
    assert sent["submitted_by"].endswith("principal")
    content = sent["content"]
    assert content["as_of"] == "2026-09-28"
    assert [(x["student_name"], x["since"]) for x in content["suspected_dropouts"]] == [
        ("学生1", "2026-09-14")
    ]
    assert content["figures"]["new_suspected"] == 1 and content["dropouts"] == []
    # School B has nothing to report: a 零报告.
    r = await post(client, world, "principal_B", url(world, "school_B"), {"month": "2026-09"})
    assert r.status_code == 201 and r.json()["zero_report"] is True
    assert r.json()["report_label"] == "零报告"

    # A second submission of the month: 409, nothing stored. A future month: 422.
    r = await post(client, world, "vice_principal", url(world), {"month": "2026-09"})
    assert r.status_code == 409
    r = await post(client, world, "principal", url(world), {"month": "2026-10"})
    assert r.status_code == 422
    r = await post(client, world, "principal", url(world), {"month": "2026-9"})
    assert r.status_code == 422
    # Year 0000 fits YYYY-MM but is no date: 422 on every 月报 route, never a 500.
    r = await post(client, world, "principal", url(world), {"month": "0000-01"})
    assert r.status_code == 422, r.text
    r = await post(
        client, world, "principal", f"{url(world)}/0000-01/corrections", {"reason": "补报"}
    )
    assert r.status_code == 422, r.text
    for path in (url(world), f"{url(world)}.xlsx"):
        r = await client.get(path, params={"month": "0000-01"}, headers=world.auth("principal"))
        assert r.status_code == 422, r.text
    r = await post(client, world, "head_teacher", url(world), {"month": "2026-08"})
    assert r.status_code == 403
    assert await count(ctx, MonthlyReport) == 2

    # 学生1 returns on the 29th: the stored report does not change.
    at(ctx, date(2026, 9, 29))
    await roll(client, world, [event(world.ids["student_A1"], "present", day=date(2026, 9, 29))])
    at(ctx, date(2026, 10, 15))
    got = (
        await client.get(
            url(world), params={"month": "2026-09"}, headers=world.auth("county_admin")
        )
    ).json()
    assert got == sent

    # A correction is a new version, counted afresh; the old one stays.
    r = await post(
        client, world, "principal", f"{url(world)}/2026-09/corrections", {"reason": "补报返校"}
    )
    assert r.status_code == 201, r.text
    v2 = r.json()
    assert v2["version"] == 2 and v2["correction_reason"] == "补报返校"
    assert [(x["student_name"], x["since"]) for x in v2["content"]["persuaded_back"]] == [
        ("学生1", "2026-09-29")
    ]
    assert v2["content"]["suspected_dropouts"] == []
    assert [v["version"] for v in v2["versions"]] == [1, 2]
    r = await client.get(
        url(world), params={"month": "2026-09", "version": 1}, headers=world.auth("principal")
    )
    assert r.json()["content"] == sent["content"]
    r = await post(client, world, "principal", f"{url(world)}/2026-08/corrections", {"reason": "x"})
    assert r.status_code == 404
    r = await post(client, world, "principal", f"{url(world)}/2026-09/corrections", {"reason": ""})
    assert r.status_code == 422

    # The county sees both submitted on time; October: nobody yet, and late after the 28th.
    view = (
        await client.get(county, params={"month": "2026-09"}, headers=world.auth("county_admin"))
    ).json()
    assert view["missing"] == []
    assert [(s["version"], s["late"]) for s in view["schools"]] == [(2, False), (1, False)]
    at(ctx, date(2026, 10, 29))
    view = (
        await client.get(county, params={"month": "2026-10"}, headers=world.auth("county_admin"))
    ).json()
    assert [s["late"] for s in view["schools"]] == [True, True]
    r = await client.get(county, params={"month": "2026-12"}, headers=world.auth("county_admin"))
    assert r.status_code == 422
    r = await client.get(county, params={"month": "2026-09"}, headers=world.auth("principal"))
    assert r.status_code == 403

    # The XLSX twin.
    r = await client.get(
        f"{url(world)}.xlsx", params={"month": "2026-09"}, headers=world.auth("principal")
    )
    assert r.status_code == 200, r.text
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["月报", "疑似辍学", "辍学", "劝返", "复学"]
    assert wb["劝返"]["A3"].value == "学生1"
    assert wb["月报"]["A1"].value.startswith("学校A 2026-09 控辍保学月报(第 2 版)")
