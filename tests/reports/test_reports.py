"""Reports (item 6): the three lists as JSON and XLSX, and the weekly bulletin (周通报) over a
week built through the API, its figures checked against numbers worked out by hand."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from openpyxl import load_workbook

from app.context import AppContext
from tests.alerts.test_cases_api import get
from tests.helpers import FRIDAY, MONDAY, TUESDAY, WEDNESDAY, absent, event, move, post, roll
from tests.world import World

WEEK = "2026-11-23"
BULLETIN = "/api/v1/reports/weekly-bulletin"
LISTS = "/api/v1/reports/three-lists"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def beijing(day: int, hour: int, minute: int = 0) -> datetime:
    """November 2026, Beijing wall time, as UTC."""
    return datetime(2026, 11, day, hour - 8, minute, tzinfo=UTC)


pytestmark = pytest.mark.world("two_per_class")


async def case_of(client: httpx.AsyncClient, world: World, student: str) -> int:
    url = f"/api/v1/students/{world.ids[student]}/case"
    return int((await get(client, world, "principal", url))["id"])


async def alert_of(client: httpx.AsyncClient, world: World, student: str, level: str) -> int:
    items = (
        await get(client, world, "principal", "/api/v1/alerts", student_id=world.ids[student])
    )["items"]
    return int(next(a["id"] for a in items if a["level"] == level))


async def ok(r: httpx.Response) -> Any:
    assert r.status_code in (200, 201), r.text
    return r.json()


def sheet_rows(content: bytes, name: str) -> list[tuple[Any, ...]]:
    wb = load_workbook(io.BytesIO(content))
    return list(wb[name].iter_rows(values_only=True))


# --- three lists ----------------------------------------------------------------------------


async def test_three_lists_as_json_and_xlsx(world: World, client: httpx.AsyncClient) -> None:
    ids = world.ids
    await roll(
        client,
        world,
        [event(ids["student_A1"], "late"), event(ids["student_A1b"], "absent")],
    )
    await roll(client, world, [event(ids["student_A2"], "present")], who="principal")
    params = {"school_id": ids["school_A"], "start": "2026-11-23", "end": "2026-11-24"}

    as_json = await get(client, world, "principal", LISTS, **params)
    assert as_json == await get(client, world, "principal", "/api/v1/attendance/lists", **params)
    tuesday = as_json["days"][1]
    assert [e["name"] for e in tuesday["present"]] == ["学生1", "学生2"]
    assert [e["name"] for e in tuesday["absent"]] == ["学生11"]

    r = await client.get(
        LISTS, params={**params, "format": "xlsx"}, headers=world.auth("academic_affairs")
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    name = quote("学校A三个名单_20261123-20261124.xlsx", safe="")
    assert r.headers["content-disposition"] == (
        f'attachment; filename="three-lists-school-{ids["school_A"]}-20261123-20261124.xlsx"; '
        f"filename*=UTF-8''{name}"
    )
    rows = sheet_rows(r.content, "三个名单")
    assert rows[0][0] == "学校A 三个名单(正常到校/请假/缺勤)  2026-11-23 至 2026-11-24"
    assert rows[1] == ("日期", "班级", "学生", "状态")
    monday, tuesday_ = datetime(2026, 11, 23), datetime(2026, 11, 24)
    assert rows[2:] == [
        (monday, "三年级A1", "学生1", "未点名"),
        (monday, "三年级A1", "学生11", "未点名"),
        (monday, "三年级A2", "学生2", "未点名"),
        (monday, "三年级A2", "学生12", "未点名"),
        (tuesday_, "三年级A1", "学生1", "迟到"),
        (tuesday_, "三年级A1", "学生11", "缺勤"),
        (tuesday_, "三年级A2", "学生2", "正常到校"),
        (tuesday_, "三年级A2", "学生12", "未点名"),
    ]

    # A class's lists: the head teacher sees their class; the title names the class.
    r = await client.get(
        LISTS,
        params={"class_id": ids["class_A1"], "start": WEEK, "end": WEEK, "format": "xlsx"},
        headers=world.auth("head_teacher"),
    )
    assert r.status_code == 200, r.text
    rows = sheet_rows(r.content, "三个名单")
    assert rows[0][0] == "学校A三年级A1 三个名单(正常到校/请假/缺勤)  2026-11-23 至 2026-11-23"
    assert [row[2] for row in rows[2:]] == ["学生1", "学生11"]
    for who in ("principal_B", "head_teacher"):
        r = await client.get(
            LISTS,
            params={"class_id": ids["class_A2"], "start": WEEK, "end": WEEK},
            headers=world.auth(who),
        )
        assert r.status_code == 404, (who, r.text)


# --- weekly bulletin ------------------------------------------------------------------------


async def build_week(world: World, client: httpx.AsyncClient, ctx: AppContext) -> None:
    """Week of Monday 23 November 2026 at school A (hand-worked figures in the test below).

    Tuesday 09:00: A1 and A1b (class A1) absent at 08:05 → blue each (cases c1, c2); A2
    (class A2) absent → blue (c3); A2b absent Friday, Monday, Tuesday → blue, yellow, red (c4).
    """
    ids = world.ids
    await absent(client, world, TUESDAY, student="student_A1")
    await absent(client, world, TUESDAY, student="student_A1b")
    await absent(client, world, TUESDAY, student="student_A2", who="principal")
    await absent(client, world, FRIDAY, MONDAY, TUESDAY, student="student_A2b", who="principal")
    c1 = await case_of(client, world, "student_A1")
    c2 = await case_of(client, world, "student_A1b")
    # c1: parent phoned at 09:00 (due 09:05) ✓, report at 10:00 ✓, blue verified after 1 h ✓.
    call = {"reached": True, "at": "2026-11-24T09:00:00+08:00"}
    await ok(await post(client, world, "head_teacher", f"/api/v1/cases/{c1}/contacts", call))
    move(ctx, beijing(24, 10))
    await ok(
        await post(
            client, world, "head_teacher", f"/api/v1/cases/{c1}/reports", {"content": "说明"}
        )
    )
    blue1 = await alert_of(client, world, "student_A1", "blue")
    await ok(await post(client, world, "head_teacher", f"/api/v1/alerts/{blue1}/verify", {}))
    # c2: a missed call at 10:30 (first due 09:05) ✗.
    move(ctx, beijing(24, 10, 30))
    missed = {"reached": False}
    await ok(await post(client, world, "head_teacher", f"/api/v1/cases/{c2}/contacts", missed))
    # Wednesday 09:00: A1 back (c1 closed as returned); A2 absent again → yellow.
    move(ctx, beijing(25, 9))
    await roll(client, world, [event(ids["student_A1"], "present", day=WEDNESDAY)])
    await absent(client, world, WEDNESDAY, student="student_A2", who="principal")
    yellow2 = await alert_of(client, world, "student_A2", "yellow")
    move(ctx, beijing(25, 10))
    await ok(await post(client, world, "vice_principal", f"/api/v1/alerts/{yellow2}/verify", {}))
    # Thursday 10:00: c2's report (due Wednesday 09:00) ✗ and its blue verified after 49 h ✗.
    move(ctx, beijing(26, 10))
    await ok(
        await post(client, world, "head_teacher", f"/api/v1/cases/{c2}/reports", {"content": "迟"})
    )
    blue2 = await alert_of(client, world, "student_A1b", "blue")
    await ok(await post(client, world, "head_teacher", f"/api/v1/alerts/{blue2}/verify", {}))
    # Next Monday 09:00: A1 absent again — next week's alert and case, outside the bulletin.
    move(ctx, beijing(30, 9))
    await absent(client, world, date(2026, 11, 30), student="student_A1")


async def test_weekly_bulletin_figures_and_xlsx(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await build_week(world, client, ctx)
    ids = world.ids
    params = {"school_id": ids["school_A"], "week_start": WEEK}
    out = await get(client, world, "principal", BULLETIN, **params)

    # Alerts raised Tuesday–Wednesday: blue A1, A1b, A2, A2b; yellow A2b, A2; red A2b.
    assert out["alerts"] == {"blue": 4, "yellow": 2, "red": 1, "total": 7}
    # Verified in time: A1's blue (1 h) and A2's yellow (1 h); A1b's blue took 49 h.
    assert out["verified_within_48h"] == {"count": 2, "of": 7, "share": round(2 / 7, 4)}
    assert (out["week_start"], out["week_end"]) == ("2026-11-23", "2026-11-29")
    lines = {line["class_name"]: line for line in out["head_teachers"]}
    assert list(lines) == ["三年级A1", "三年级A2"]
    a1, a2 = lines["三年级A1"], lines["三年级A2"]
    assert (a1["head_teacher_id"], a1["head_teacher_name"]) == (ids["head_teacher"], "head_teacher")
    assert a1["cases"] == 2
    assert a1["contacted_within_1h"] == {"count": 1, "of": 2, "share": 0.5}
    assert a1["reported_within_24h"] == {"count": 1, "of": 2, "share": 0.5}
    assert a2["head_teacher_id"] is None and a2["cases"] == 2
    assert a2["contacted_within_1h"] == {"count": 0, "of": 2, "share": 0.0}
    assert a2["reported_within_24h"] == {"count": 0, "of": 2, "share": 0.0}
    # c2, c3, c4 still open on Sunday night (next Monday's case does not count); c1 returned.
    assert out["open_cases_at_end"] == 3
    assert out["returned"] == 1

    # The week before: nothing; the county admin may read it too.
    before = await get(
        client, world, "county_admin", BULLETIN, school_id=ids["school_A"], week_start="2026-11-16"
    )
    assert before["alerts"]["total"] == 0 and before["open_cases_at_end"] == 0
    assert before["verified_within_48h"] == {"count": 0, "of": 0, "share": None}
    # The next week: Monday's blue alert, and the three cases still open plus the new one.
    after = await get(
        client, world, "principal", BULLETIN, school_id=ids["school_A"], week_start="2026-11-30"
    )
    assert after["alerts"]["total"] == 1 and after["open_cases_at_end"] == 4
    assert after["returned"] == 0

    r = await client.get(
        BULLETIN, params={**params, "format": "xlsx"}, headers=world.auth("vice_principal")
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    cd = r.headers["content-disposition"]
    assert cd.endswith("filename*=UTF-8''" + quote("学校A周通报_20261123.xlsx", safe=""))
    assert f'filename="weekly-bulletin-school-{ids["school_A"]}-20261123.xlsx"' in cd
    summary = sheet_rows(r.content, "概况")
    assert summary[0][0] == "学校A 控辍保学周通报  2026-11-23 至 2026-11-29"
    assert summary[1] == ("指标", "数量", "占比")
    assert summary[2] == ("蓝色预警", 4, None)
    assert summary[3] == ("黄色预警", 2, None)
    assert summary[4] == ("红色预警", 1, None)
    assert summary[5] == ("预警合计", 7, None)
    assert summary[6] == ("48小时内核查", 2, round(2 / 7, 4))
    assert summary[7] == ("周末未结案案例", 3, None)
    assert summary[8] == ("本周返校结案", 1, None)
    teachers = sheet_rows(r.content, "班主任")
    assert teachers[0][0] == "学校A 班主任落实情况  2026-11-23 至 2026-11-29"
    assert teachers[1] == (
        "班级",
        "班主任",
        "缺勤案例数",
        "1小时内联系数",
        "1小时内联系率",
        "24小时内报告数",
        "24小时内报告率",
    )
    assert teachers[2] == ("三年级A1", "head_teacher", 2, 1, 0.5, 1, 0.5)
    assert teachers[3] == ("三年级A2", None, 2, 0, 0, 0, 0)
    wb = load_workbook(io.BytesIO(r.content))
    assert wb["班主任"]["E3"].number_format == "0.0%"


async def test_weekly_bulletin_refuses_bad_weeks_and_other_roles(
    world: World, client: httpx.AsyncClient
) -> None:
    ids = world.ids
    school_a = ids["school_A"]
    r = await client.get(
        BULLETIN,
        params={"school_id": school_a, "week_start": "2026-11-24"},
        headers=world.auth("principal"),
    )
    assert r.status_code == 422 and "周一" in r.text
    week = {"school_id": school_a, "week_start": WEEK}
    for who, code in (
        ("head_teacher", 403),
        ("subject_teacher", 403),
        ("principal_B", 404),
        ("academic_affairs", 200),
        ("county_admin", 200),
    ):
        for fmt in ("json", "xlsx"):
            r = await client.get(BULLETIN, params={**week, "format": fmt}, headers=world.auth(who))
            assert r.status_code == code, (who, fmt, r.text)
    r = await client.get(
        BULLETIN, params={"school_id": 999999, "week_start": WEEK}, headers=world.auth("principal")
    )
    assert r.status_code == 404
