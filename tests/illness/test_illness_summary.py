"""Issue 21: the daily 因病缺勤 summary (班级汇总表, today and the 3 school days before, by
symptom), the 零报告, JSON and XLSX, and the county's view of every school."""

from __future__ import annotations

import io

import httpx
from openpyxl import load_workbook

from app.context import AppContext
from tests.helpers import FRIDAY, MONDAY, TUESDAY
from tests.illness.common import sick_roll, students
from tests.world import World

SUMMARY = "/api/v1/illness/summary"
COUNTY = "/api/v1/illness/county-summary"


async def test_the_summary_counts_by_class_day_and_symptom(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    a1 = await students(world, "A1", 4, 600)
    await sick_roll(client, world, a1[:3], MONDAY)
    await sick_roll(client, world, a1[3:], TUESDAY, symptoms=("vomiting",))
    q = {"school_id": world.ids["school_A"], "day": TUESDAY.isoformat()}
    r = await client.get(SUMMARY, params=q, headers=world.auth("principal"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["days"][-2:] == [MONDAY.isoformat(), TUESDAY.isoformat()]
    assert len(out["days"]) == 4 and FRIDAY.isoformat() in out["days"]
    [row] = [c for c in out["classes"] if c["class_id"] == world.ids["class_A1"]]
    assert row["by_day"][MONDAY.isoformat()] == {"total": 3, "fever": 3, "cough": 3}
    assert row["by_day"][TUESDAY.isoformat()] == {"total": 1, "vomiting": 1}
    assert row["total_today"] == 1 and not out["zero_report"]
    assert out["by_symptom_today"] == {"total": 1, "vomiting": 1}
    assert out["open_alerts"] == 1
    assert "学生" not in r.text  # figures only, no child named

    xlsx = await client.get(SUMMARY + ".xlsx", params=q, headers=world.auth("principal"))
    assert xlsx.status_code == 200, xlsx.text
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    assert ws is not None
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert "因病缺勤班级汇总表" in str(values[0][0])
    assert values[1][:4] == ["班级", "日期", "因病缺勤人数", "发热"]
    monday = [v for v in values[2:] if v[0] == "A1" and str(v[1]).startswith("2026-11-23")]
    assert monday and monday[0][2] == 3 and monday[0][3] == 3


async def test_a_day_without_illness_is_a_zero_report_and_the_county_sees_every_school(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    await sick_roll(client, world, [world.ids["student_A1"]], MONDAY)
    q = {"county_id": world.ids["county"], "day": MONDAY.isoformat()}
    r = await client.get(COUNTY, params=q, headers=world.auth("county_admin"))
    assert r.status_code == 200, r.text
    by_school = {s["school_id"]: s for s in r.json()["schools"]}
    assert set(by_school) == {world.ids["school_A"], world.ids["school_B"]}
    assert not by_school[world.ids["school_A"]]["zero_report"]
    assert by_school[world.ids["school_B"]]["zero_report"]
    xlsx = await client.get(COUNTY + ".xlsx", params=q, headers=world.auth("county_admin"))
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    assert len(book.worksheets) == 2 and "零报告" in str(book.worksheets[1]["A1"].value)
    # Another school's principal, a head teacher: not their summary.
    for who, params in (
        ("principal_B", {"school_id": world.ids["school_A"], "day": MONDAY.isoformat()}),
        ("head_teacher", {"school_id": world.ids["school_A"], "day": MONDAY.isoformat()}),
    ):
        denied = await client.get(SUMMARY, params=params, headers=world.auth(who))
        assert denied.status_code == 404, who
    denied = await client.get(COUNTY, params=q, headers=world.auth("principal"))
    assert denied.status_code == 404
