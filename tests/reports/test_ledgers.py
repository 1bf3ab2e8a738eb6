"""Ledgers and rates (item 6): the school's 学生缺勤追踪记录表, the county's 疑似辍学 / 辍学
ledgers and the dropout / retention rates, over a fixture built through the API; JSON figures
and XLSX cells checked against numbers worked out by hand."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from app.context import AppContext
from app.domain.idcard import mask_student_no
from tests.alerts.test_cases_api import get
from tests.helpers import FRIDAY, MONDAY, TUESDAY, WEDNESDAY, absent, event, move, post, roll
from tests.world import World, id_number

TRACKING = "/api/v1/ledgers/absence-tracking"
COUNTY = "/api/v1/ledgers/county"
RATES = "/api/v1/reports/rates"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def beijing(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour - 8, minute, tzinfo=UTC)


pytestmark = pytest.mark.world("two_per_class")


async def ok(r: httpx.Response) -> Any:
    assert r.status_code in (200, 201), r.text
    return r.json()


def sheet_rows(content: bytes) -> list[tuple[Any, ...]]:
    wb = load_workbook(io.BytesIO(content))
    return list(wb.worksheets[0].iter_rows(values_only=True))


async def case_of(client: httpx.AsyncClient, world: World, student: str) -> int:
    url = f"/api/v1/students/{world.ids[student]}/case"
    return int((await get(client, world, "principal", url))["id"])


async def build(world: World, client: httpx.AsyncClient, ctx: AppContext) -> int:
    """School A, Tuesday 24 November 2026, 09:00:

    - c1 A1 (学生1, class A1) absent Tuesday → blue; parent phoned 09:00, report 10:00; back
      Wednesday → closed as returned on 25 November;
    - c2 A1b (学生11, class A1) absent Tuesday → blue, nothing done, still open;
    - c3 A2b (学生12, class A2) absent Friday, Monday, Tuesday → red; a return notice (deadline
      1 December), escalated on 2 December (疑似辍学).
    Returns the notice id."""
    await absent(client, world, TUESDAY, student="student_A1")
    await absent(client, world, TUESDAY, student="student_A1b")
    await absent(client, world, FRIDAY, MONDAY, TUESDAY, student="student_A2b", who="principal")
    c1 = await case_of(client, world, "student_A1")
    c3 = await case_of(client, world, "student_A2b")
    call = {"reached": True, "at": "2026-11-24T09:00:00+08:00"}
    await ok(await post(client, world, "head_teacher", f"/api/v1/cases/{c1}/contacts", call))
    move(ctx, beijing(2026, 11, 24, 10))
    body = {"content": "说明"}
    await ok(await post(client, world, "head_teacher", f"/api/v1/cases/{c1}/reports", body))
    notice = await ok(await post(client, world, "principal", f"/api/v1/cases/{c3}/return-notice"))
    move(ctx, beijing(2026, 11, 25, 9))
    await roll(client, world, [event(world.ids["student_A1"], "present", day=WEDNESDAY)])
    move(ctx, beijing(2026, 12, 2, 9))
    await ok(
        await post(client, world, "principal", f"/api/v1/return-notices/{notice['id']}/escalate")
    )
    return int(notice["id"])


async def test_absence_tracking_record_as_json_and_xlsx(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await build(world, client, ctx)
    params = {"school_id": world.ids["school_A"], "start": "2026-11-23", "end": "2026-11-29"}
    out = await get(client, world, "vice_principal", TRACKING, **params)
    rows = [
        (
            r["student_name"],
            r["class_name"],
            r["start_date"],
            r["consecutive_days"],
            r["level_label"],
            r["contacted_at"],
            r["reported_at"],
            r["outcome"],
            r["outcome_label"],
            r["closed_on"],
        )
        for r in out["rows"]
    ]
    assert rows == [
        (
            "学生1",
            "三年级A1",
            "2026-11-24",
            1,
            "蓝色预警",
            "2026-11-24T09:00:00+08:00",
            "2026-11-24T10:00:00+08:00",
            "returned",
            "已返校",
            "2026-11-25",
        ),
        ("学生11", "三年级A1", "2026-11-24", 1, "蓝色预警", None, None, "open", "处理中", None),
        ("学生12", "三年级A2", "2026-11-20", 3, "红色预警", None, None, "open", "处理中", None),
    ]
    # Another week: nothing opened then.
    empty = await get(
        client,
        world,
        "county_admin",
        TRACKING,
        school_id=world.ids["school_A"],
        start="2026-11-30",
        end="2026-12-06",
    )
    assert empty["rows"] == []

    r = await client.get(
        TRACKING, params={**params, "format": "xlsx"}, headers=world.auth("academic_affairs")
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    assert (
        f"absence-tracking-school-{world.ids['school_A']}-20261123-20261129.xlsx"
        in (r.headers["content-disposition"])
    )
    cells = sheet_rows(r.content)
    assert cells[0][0] == "学校A 学生缺勤追踪记录表  2026-11-23 至 2026-11-29"
    # the XLSX twin: one operation, one answer type, for generated clients
    twin = await client.get(
        f"{TRACKING}.xlsx", params=params, headers=world.auth("academic_affairs")
    )
    assert twin.status_code == 200 and twin.headers["content-type"] == XLSX
    assert sheet_rows(twin.content) == cells
    assert cells[1] == (
        "学生",
        "班级",
        "缺勤起始日期",
        "连续缺勤天数",
        "预警级别",
        "联系家长时间",
        "书面报告提交时间",
        "处理结果",
        "结案日期",
    )
    assert cells[2:] == [
        (
            "学生1",
            "三年级A1",
            datetime(2026, 11, 24),
            1,
            "蓝色预警",
            datetime(2026, 11, 24, 9),
            datetime(2026, 11, 24, 10),
            "已返校",
            datetime(2026, 11, 25),
        ),
        ("学生11", "三年级A1", datetime(2026, 11, 24), 1, "蓝色预警", None, None, "处理中", None),
        ("学生12", "三年级A2", datetime(2026, 11, 20), 3, "红色预警", None, None, "处理中", None),
    ]


async def test_county_ledgers_follow_the_notice(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await build(world, client, ctx)
    county = world.ids["county"]
    suspected = await get(
        client, world, "county_admin", COUNTY, county_id=county, kind="suspected_dropout"
    )
    assert suspected["title"] == "示例县疑似辍学学生台账"
    assert [
        (
            r["school_name"],
            r["student_name"],
            r["student_no"],
            r["class_name"],
            r["date"],
            r["status"],
        )
        for r in suspected["rows"]
    ] == [
        (
            "学校A",
            "学生12",
            mask_student_no(f"G{id_number(12)}"),
            "三年级A2",
            "2026-12-02",
            "疑似辍学",
        )
    ]
    dropout = await get(client, world, "county_admin", COUNTY, county_id=county, kind="dropout")
    assert dropout["rows"] == []

    # 30 days after 疑似辍学 the check marks 辍学: the student moves to the other ledger.
    move(ctx, beijing(2027, 1, 1, 9))
    r = await post(client, world, "county_admin", "/api/v1/return-notices/check")
    assert r.json() == {
        "complied": 0,
        "escalated": 0,
        "dropout": 1,
        "raised_to_county": 1,
    }  # no township signed
    suspected = await get(
        client, world, "county_admin", COUNTY, county_id=county, kind="suspected_dropout"
    )
    assert suspected["rows"] == []
    r = await client.get(
        COUNTY,
        params={"county_id": county, "kind": "dropout", "format": "xlsx"},
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    assert f"dropout-ledger-county-{county}-20270101.xlsx" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["辍学学生台账"]
    cells = sheet_rows(r.content)
    assert cells[0][0] == "示例县辍学学生台账  2027-01-01"
    assert cells[1] == ("学校", "学生", "学籍号", "班级", "日期", "状态", "认定依据")
    assert cells[2:] == [
        (
            "学校A",
            "学生12",
            mask_student_no(f"G{id_number(12)}"),
            "三年级A2",
            datetime(2027, 1, 1),
            "辍学",
            "返校通知书 SA-2026-001 逾期未返校",
        )
    ]


async def test_rates_against_the_targets(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    notice = await build(world, client, ctx)
    county, school_a = world.ids["county"], world.ids["school_A"]
    # 2 December: one suspected dropout at A, no dropout yet.
    out = await get(client, world, "county_admin", RATES, county_id=county)
    assert (out["school_year"], out["period_start"], out["period_end"]) == (
        2026,
        "2026-09-01",
        "2027-08-31",
    )
    a = out["schools"][0]
    assert (a["school_id"], a["enrolled"], a["suspected_dropouts"], a["dropouts"]) == (
        school_a,
        4,
        1,
        0,
    )
    assert (a["dropout_rate"], a["retention_rate"], a["above_target"]) == (0.0, 1.0, False)
    assert out["schools_above_target"] == []

    move(ctx, beijing(2027, 1, 1, 9))
    await ok(await post(client, world, "county_admin", "/api/v1/return-notices/check"))
    out = await get(client, world, "county_admin", RATES, county_id=county)
    assert out["targets"] == {"primary": 0.02, "junior_middle": 0.03}
    assert "适龄儿童" in out["enrollment_rate_note"]
    lines = {line["name"]: line for line in out["schools"]}
    assert list(lines) == ["学校A", "学校B"]
    a, b = lines["学校A"], lines["学校B"]
    # A: 4 students (A1, A2, A1b, A2b), 1 dropout → 25%, retention 75%, above 2%.
    assert (a["enrolled"], a["suspected_dropouts"], a["dropouts"]) == (4, 0, 1)
    assert (a["dropout_rate"], a["retention_rate"], a["enrollment_rate"]) == (0.25, 0.75, None)
    assert (a["kind"], a["target"], a["above_target"]) == ("primary", 0.02, True)
    assert (b["enrolled"], b["dropouts"], b["dropout_rate"], b["above_target"]) == (
        1,
        0,
        0.0,
        False,
    )
    assert out["schools_above_target"] == [school_a]
    # County: 5 students, 1 dropout → 20%.
    (primary,) = out["by_kind"]
    assert (primary["name"], primary["enrolled"], primary["dropout_rate"]) == (
        "示例县小学合计",
        5,
        0.2,
    )
    assert (primary["target"], primary["above_target"]) == (0.02, True)
    total = out["total"]
    assert (total["enrolled"], total["dropouts"], total["dropout_rate"]) == (5, 1, 0.2)
    assert (total["retention_rate"], total["target"], total["above_target"]) == (0.8, None, False)
    # The year before knows nothing of it.
    before = await get(client, world, "county_admin", RATES, county_id=county, school_year=2025)
    assert before["total"]["dropouts"] == 0 and before["total"]["dropout_rate"] == 0.0

    # One school, for its principal.
    one = await get(client, world, "principal", RATES, school_id=school_a)
    assert [s["school_id"] for s in one["schools"]] == [school_a]
    assert one["total"]["dropout_rate"] == 0.25

    # The targets are the county's policy.
    r = await client.put(
        f"/api/v1/alert-policies/county/{county}",
        json={"dropout_target_primary": 0.3},
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 200, r.text
    out = await get(client, world, "county_admin", RATES, county_id=county)
    assert out["schools_above_target"] == [] and out["targets"]["primary"] == 0.3

    r = await client.get(
        RATES, params={"county_id": county, "format": "xlsx"}, headers=world.auth("county_admin")
    )
    assert r.status_code == 200, r.text
    cells = sheet_rows(r.content)
    assert cells[0][0] == "示例县 入学率、巩固率、辍学率  2026学年"
    assert cells[1][:6] == ("学校", "学段", "在籍学生数", "疑似辍学", "辍学", "辍学率")
    assert cells[2] == ("学校A", "小学", 4, 0, 1, 0.25, 0.75, None, 0.3, "否")
    assert cells[3] == ("学校B", "小学", 1, 0, 0, 0, 1, None, 0.3, "否")
    assert cells[5] == ("示例县合计", None, 5, 0, 1, 0.2, 0.8, None, None, "否")
    assert notice > 0


async def test_who_may_read_ledgers_and_rates(world: World, client: httpx.AsyncClient) -> None:
    ids = world.ids
    week = {"school_id": ids["school_A"], "start": "2026-11-23", "end": "2026-11-29"}
    for who, code in (
        ("head_teacher", 403),
        ("subject_teacher", 403),
        ("principal_B", 404),
        ("academic_affairs", 200),
        ("principal", 200),
        ("county_admin", 200),
    ):
        for fmt in ("json", "xlsx"):
            r = await client.get(TRACKING, params={**week, "format": fmt}, headers=world.auth(who))
            assert r.status_code == code, (who, fmt, r.text)
    r = await client.get(
        TRACKING, params={**week, "end": "2026-11-22"}, headers=world.auth("principal")
    )
    assert r.status_code == 422

    for who, county, code in (
        ("principal", "county", 403),
        ("head_teacher", "county", 403),
        ("principal_B", "county", 403),
        ("county_admin", "county", 200),
        ("county_admin", "county_other", 404),
        ("principal", "county_other", 404),
    ):
        for kind in ("suspected_dropout", "dropout"):
            r = await client.get(
                COUNTY, params={"county_id": ids[county], "kind": kind}, headers=world.auth(who)
            )
            assert r.status_code == code, (who, county, kind, r.text)
        r = await client.get(RATES, params={"county_id": ids[county]}, headers=world.auth(who))
        assert r.status_code == code, (who, county, r.text)
    r = await client.get(
        COUNTY, params={"county_id": 999999, "kind": "dropout"}, headers=world.auth("county_admin")
    )
    assert r.status_code == 404
    for who, code in (("head_teacher", 403), ("principal_B", 404), ("vice_principal", 200)):
        r = await client.get(RATES, params={"school_id": ids["school_A"]}, headers=world.auth(who))
        assert r.status_code == code, (who, r.text)
    for params in ({}, {"county_id": ids["county"], "school_id": ids["school_A"]}):
        r = await client.get(RATES, params=params, headers=world.auth("county_admin"))
        assert r.status_code == 422, params
