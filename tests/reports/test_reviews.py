"""Bulletins and reviews (item 6): the school's monthly review (月研判), the county's weekly
bulletin (县周通报) and monthly review (县月研判), and the 劝返复学谈话记录册, over the week built
in ``test_reports`` plus persuasion talks on its red case (and, for the county's month, two
cases at school B and a dropout at A); figures checked against numbers worked out by hand."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import event as sa_event

from app.context import AppContext
from app.org import service as org
from app.org.schemas import ClassIn, GradeIn, SchoolIn, SchoolKind
from tests.alerts.test_cases_api import get
from tests.helpers import absent, event, move, post, roll
from tests.reports.test_reports import XLSX, build_week, case_of, ok, sheet_rows
from tests.world import OPS, World

REVIEW = "/api/v1/reports/monthly-review"
COUNTY = "/api/v1/reports/county-bulletin"
TALKS = "/api/v1/ledgers/persuasion-talks"
COUNTY_REVIEW = "/api/v1/reports/county-monthly-review"


pytestmark = pytest.mark.world("two_per_class")


def talk(on: str, with_whom: str, content: str) -> dict[str, Any]:
    return {"talked_on": on, "with_whom": with_whom, "by_whom": "班主任 李老师", "content": content}


async def build(world: World, client: httpx.AsyncClient, ctx: AppContext) -> None:
    """``build_week`` (clock left at Monday 30 November 09:00), then talks: two on A2b's red
    case (c4) on 27 and 26 November, one on A1b's case (c2) on 30 November."""
    await build_week(world, client, ctx)
    c4 = await case_of(client, world, "student_A2b")
    c2 = await case_of(client, world, "student_A1b")
    for case, body in (
        (c4, talk("2026-11-27", "学生及其母亲", "第二次谈话,同意下周返校")),
        (c4, talk("2026-11-26", "学生父亲", "了解原因:外出务工")),
        (c2, talk("2026-11-30", "学生本人", "学习困难,安排辅导")),
    ):
        await ok(await post(client, world, "principal", f"/api/v1/cases/{case}/talks", body))


async def test_monthly_review_figures_and_xlsx(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await build(world, client, ctx)
    ids = world.ids
    params = {"school_id": ids["school_A"], "month": "2026-11"}
    out = await get(client, world, "principal", REVIEW, **params)
    assert (out["month_start"], out["month_end"]) == ("2026-11-01", "2026-11-30")
    # The week's seven alerts plus Monday 30 November's blue for A1; two verified in time.
    assert out["alerts"] == {"blue": 5, "yellow": 2, "red": 1, "total": 8}
    assert out["verified_within_48h"] == {"count": 2, "of": 8, "share": 0.25}
    a1, a2 = out["head_teachers"]
    # A1: c1, c2 and Monday's c5 (not contacted, no report yet).
    assert (a1["class_name"], a1["cases"]) == ("三年级A1", 3)
    assert a1["contacted_within_1h"] == {"count": 1, "of": 3, "share": 0.3333}
    assert a1["reported_within_24h"] == {"count": 1, "of": 3, "share": 0.3333}
    assert (a2["class_name"], a2["cases"], a2["contacted_within_1h"]["count"]) == ("三年级A2", 2, 0)
    # Open on 30 November at 24:00: c2, c3, c4 and c5; c1 returned.
    assert (out["open_cases_at_end"], out["returned"]) == (4, 1)
    # Weeks clipped to November: Sunday 1st alone, four full weeks, Monday 30th alone.
    assert [(w["week_start"], w["week_end"]) for w in out["weeks"]] == [
        ("2026-11-01", "2026-11-01"),
        ("2026-11-02", "2026-11-08"),
        ("2026-11-09", "2026-11-15"),
        ("2026-11-16", "2026-11-22"),
        ("2026-11-23", "2026-11-29"),
        ("2026-11-30", "2026-11-30"),
    ]
    assert [w["alerts"]["total"] for w in out["weeks"]] == [0, 0, 0, 0, 7, 1]
    assert out["weeks"][4]["alerts"] == {"blue": 4, "yellow": 2, "red": 1, "total": 7}
    assert out["weeks"][5]["alerts"] == {"blue": 1, "yellow": 0, "red": 0, "total": 1}
    # Days open = 1 December − opening date.
    assert [
        (c["student_name"], c["class_name"], c["level"], c["opened_on"], c["days_open"])
        for c in out["open_cases"]
    ] == [
        ("学生11", "三年级A1", "blue", "2026-11-24", 7),
        ("学生2", "三年级A2", "yellow", "2026-11-24", 7),
        ("学生12", "三年级A2", "red", "2026-11-24", 7),
        ("学生1", "三年级A1", "blue", "2026-11-30", 1),
    ]

    # December: no alerts, the four cases still open (31 more days each).
    dec = await get(
        client, world, "county_admin", REVIEW, school_id=ids["school_A"], month="2026-12"
    )
    assert dec["alerts"]["total"] == 0 and dec["returned"] == 0
    assert [c["days_open"] for c in dec["open_cases"]] == [38, 38, 38, 32]
    assert len(dec["weeks"]) == 5 and dec["weeks"][0]["week_start"] == "2026-12-01"

    r = await client.get(
        REVIEW, params={**params, "format": "xlsx"}, headers=world.auth("vice_principal")
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    cd = r.headers["content-disposition"]
    assert cd.endswith("filename*=UTF-8''" + quote("学校A月研判_202611.xlsx", safe=""))
    assert f'filename="monthly-review-school-{ids["school_A"]}-202611.xlsx"' in cd
    summary = sheet_rows(r.content, "概况")
    assert summary[0][0] == "学校A 控辍保学月研判  2026-11-01 至 2026-11-30"
    assert summary[1:] == [
        ("指标", "数量", "占比"),
        ("蓝色预警", 5, None),
        ("黄色预警", 2, None),
        ("红色预警", 1, None),
        ("预警合计", 8, None),
        ("48小时内核查", 2, 0.25),
        ("月末未结案案例", 4, None),
        ("本月返校结案", 1, None),
    ]
    weeks = sheet_rows(r.content, "分周预警")
    assert weeks[1] == ("周", "蓝色预警", "黄色预警", "红色预警", "合计")
    assert weeks[6:] == [("11-23 至 11-29", 4, 2, 1, 7), ("11-30 至 11-30", 1, 0, 0, 1)]
    teachers = sheet_rows(r.content, "班主任")
    assert teachers[2] == ("三年级A1", "head_teacher", 3, 1, 0.3333, 1, 0.3333)
    assert teachers[3] == ("三年级A2", None, 2, 0, 0, 0, 0)
    cases = sheet_rows(r.content, "未结案案例")
    assert cases[1] == ("学生", "班级", "预警级别", "开案日期", "已开案天数")
    assert cases[2:] == [
        ("学生11", "三年级A1", "蓝色预警", datetime(2026, 11, 24), 7),
        ("学生2", "三年级A2", "黄色预警", datetime(2026, 11, 24), 7),
        ("学生12", "三年级A2", "红色预警", datetime(2026, 11, 24), 7),
        ("学生1", "三年级A1", "蓝色预警", datetime(2026, 11, 30), 1),
    ]


async def test_county_bulletin_figures_and_xlsx(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await build(world, client, ctx)
    ids = world.ids
    params = {"county_id": ids["county"], "week_start": "2026-11-23"}
    out = await get(client, world, "county_admin", COUNTY, **params)
    assert (out["county_name"], out["week_end"]) == ("示例县", "2026-11-29")
    a, b = out["schools"]  # school Z is in the other county
    assert (a["school_name"], b["school_name"]) == ("学校A", "学校B")
    assert a["alerts"] == {"blue": 4, "yellow": 2, "red": 1, "total": 7}
    assert a["verified_within_48h"] == {"count": 2, "of": 7, "share": round(2 / 7, 4)}
    assert (a["open_cases_at_end"], a["returned"]) == (3, 1)
    assert b["alerts"]["total"] == 0 and b["verified_within_48h"]["share"] is None
    total = out["total"]
    assert total["school_name"] == "示例县合计"
    assert total["alerts"] == a["alerts"] and total["verified_within_48h"]["count"] == 2
    assert (total["open_cases_at_end"], total["returned"]) == (3, 1)

    r = await client.get(
        COUNTY, params={**params, "format": "xlsx"}, headers=world.auth("county_admin")
    )
    assert r.status_code == 200, r.text
    cd = r.headers["content-disposition"]
    assert cd.endswith("filename*=UTF-8''" + quote("示例县周通报_20261123.xlsx", safe=""))
    rows = sheet_rows(r.content, "各校")
    assert rows[0][0] == "示例县 控辍保学周通报  2026-11-23 至 2026-11-29"
    assert rows[1] == (
        "学校",
        "蓝色预警",
        "黄色预警",
        "红色预警",
        "预警合计",
        "48小时内核查数",
        "48小时内核查率",
        "周末未结案案例",
        "本周返校结案",
    )
    assert rows[2:] == [
        ("学校A", 4, 2, 1, 7, 2, round(2 / 7, 4), 3, 1),
        ("学校B", 0, 0, 0, 0, 0, None, 0, 0),
        ("示例县合计", 4, 2, 1, 7, 2, round(2 / 7, 4), 3, 1),
    ]


async def test_persuasion_talk_ledger_json_and_xlsx(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await build(world, client, ctx)
    ids = world.ids
    params = {"school_id": ids["school_A"], "start": "2026-11-01", "end": "2026-11-29"}
    out = await get(client, world, "county_admin", TALKS, **params)
    # By date: the 30 November talk falls after ``end``.
    assert [
        (r["talked_on"], r["student_name"], r["class_name"], r["with_whom"]) for r in out["rows"]
    ] == [
        ("2026-11-26", "学生12", "三年级A2", "学生父亲"),
        ("2026-11-27", "学生12", "三年级A2", "学生及其母亲"),
    ]
    r = await client.get(
        TALKS,
        params={**params, "end": "2026-11-30", "format": "xlsx"},
        headers=world.auth("academic_affairs"),
    )
    assert r.status_code == 200, r.text
    cd = r.headers["content-disposition"]
    name = quote("学校A劝返复学谈话记录册_20261101-20261130.xlsx", safe="")
    assert cd.endswith("filename*=UTF-8''" + name)
    rows = sheet_rows(r.content, "劝返复学谈话记录册")
    assert rows[0][0] == "学校A 劝返复学谈话记录册  2026-11-01 至 2026-11-30"
    assert rows[1] == ("日期", "学生", "班级", "谈话对象", "谈话人", "内容")
    assert rows[2:] == [
        (
            datetime(2026, 11, 26),
            "学生12",
            "三年级A2",
            "学生父亲",
            "班主任 李老师",
            "了解原因:外出务工",
        ),
        (
            datetime(2026, 11, 27),
            "学生12",
            "三年级A2",
            "学生及其母亲",
            "班主任 李老师",
            "第二次谈话,同意下周返校",
        ),
        (
            datetime(2026, 11, 30),
            "学生11",
            "三年级A1",
            "学生本人",
            "班主任 李老师",
            "学习困难,安排辅导",
        ),
    ]


async def test_bad_input_and_access(world: World, client: httpx.AsyncClient) -> None:
    ids = world.ids
    school_a = ids["school_A"]
    for month in ("2026-13", "2026-1", "11-2026", "2026-11-01"):
        r = await client.get(
            REVIEW, params={"school_id": school_a, "month": month}, headers=world.auth("principal")
        )
        assert r.status_code == 422 and "YYYY-MM" in r.text, (month, r.text)
    r = await client.get(
        COUNTY,
        params={"county_id": ids["county"], "week_start": "2026-11-24"},
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 422 and "周一" in r.text
    r = await client.get(
        TALKS,
        params={"school_id": school_a, "start": "2026-11-30", "end": "2026-11-01"},
        headers=world.auth("principal"),
    )
    assert r.status_code == 422

    school = {"school_id": school_a}
    for url, query in (
        (REVIEW, {**school, "month": "2026-11"}),
        (TALKS, {**school, "start": "2026-11-01", "end": "2026-11-30"}),
    ):
        for who, code in (
            ("head_teacher", 403),
            ("subject_teacher", 403),
            ("principal_B", 404),
            ("vice_principal", 200),
            ("county_admin", 200),
        ):
            for fmt in ("json", "xlsx"):
                r = await client.get(url, params={**query, "format": fmt}, headers=world.auth(who))
                assert r.status_code == code, (url, who, fmt, r.text)
    for who, county, code in (
        ("principal", "county", 403),
        ("principal_B", "county", 403),
        ("county_admin", "county", 200),
        ("county_admin", "county_other", 404),
    ):
        for fmt in ("json", "xlsx"):
            r = await client.get(
                COUNTY,
                params={"county_id": ids[county], "week_start": "2026-11-23", "format": fmt},
                headers=world.auth(who),
            )
            assert r.status_code == code, (who, county, fmt, r.text)
    r = await client.get(
        COUNTY,
        params={"county_id": 999999, "week_start": "2026-11-23"},
        headers=world.auth("principal"),
    )
    assert r.status_code == 404


# --- county monthly review ------------------------------------------------------------------


def beijing(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """2026 (January: 2027), Beijing wall time, as UTC."""
    return datetime(2027 if month == 1 else 2026, month, day, hour - 8, minute, tzinfo=UTC)


async def build_county_month(world: World, client: httpx.AsyncClient, ctx: AppContext) -> None:
    """``build`` (school A's November, clock left at Monday 30 November 09:00), then school B
    (class B1, no head teacher: its principal does the casework):

    - Monday 30 November, 08:05 roll: B1 (学生3) and B1b (学生13) absent → a blue alert and a
      case each (cB1, cB2), opened 09:00; first contact due 09:05, first report due
      1 December 09:00;
    - cB1: parent reached at 09:00 ✓; report at 10:00 ✓; its blue verified at 10:00 (1 h) ✓;
      B1 back on Tuesday 1 December → closed as returned (a December return);
    - cB2: a missed call at 10:30 ✗; report on 1 December at 10:00 ✗; its blue never verified;

    and at A, a return notice on A2b's red case (c4) on 1 December (deadline 8 December),
    reported to the township on 9 December (疑似辍学), 辍学 by the check on 8 January 2027.
    The clock is left at 8 January 2027, 09:00."""
    await build(world, client, ctx)
    await world.add_student("student_B1b", "class_B1", 13)
    monday = date(2026, 11, 30)
    for student in ("student_B1", "student_B1b"):
        await absent(client, world, monday, student=student, who="principal_B")
    b1 = await case_of_b(client, world, "student_B1")
    b2 = await case_of_b(client, world, "student_B1b")
    call = {"reached": True, "at": "2026-11-30T09:00:00+08:00"}
    await ok(await post(client, world, "principal_B", f"/api/v1/cases/{b1}/contacts", call))
    move(ctx, beijing(11, 30, 10))
    report = {"content": "说明"}
    await ok(await post(client, world, "principal_B", f"/api/v1/cases/{b1}/reports", report))
    blue = await get(
        client, world, "principal_B", "/api/v1/alerts", student_id=world.ids["student_B1"]
    )
    (alert,) = blue["items"]
    await ok(await post(client, world, "principal_B", f"/api/v1/alerts/{alert['id']}/verify", {}))
    move(ctx, beijing(11, 30, 10, 30))
    missed = {"reached": False}
    await ok(await post(client, world, "principal_B", f"/api/v1/cases/{b2}/contacts", missed))
    move(ctx, beijing(12, 1, 10))
    await ok(await post(client, world, "principal_B", f"/api/v1/cases/{b2}/reports", report))
    day = date(2026, 12, 1)
    await roll(client, world, [event(world.ids["student_B1"], "present", day=day)], "principal_B")

    c4 = await case_of(client, world, "student_A2b")
    notice = await ok(await post(client, world, "principal", f"/api/v1/cases/{c4}/return-notice"))
    move(ctx, beijing(12, 9, 9))
    url = f"/api/v1/return-notices/{notice['id']}/escalate"
    await ok(await post(client, world, "principal", url))
    move(ctx, beijing(1, 8, 9))
    r = await post(client, world, "county_admin", "/api/v1/return-notices/check")
    assert r.json() == {
        "complied": 0,
        "escalated": 0,
        "dropout": 1,
        "raised_to_county": 1,
    }  # no township signed


async def case_of_b(client: httpx.AsyncClient, world: World, student: str) -> int:
    url = f"/api/v1/students/{world.ids[student]}/case"
    return int((await get(client, world, "principal_B", url))["id"])


def review_line(line: dict[str, Any]) -> tuple[Any, ...]:
    """A line's figures: name, alerts, 48 h, opened, 1 h, 24 h, open at end, returned."""
    return (
        line["school_name"],
        tuple(line["alerts"].values()),
        tuple(line["verified_within_48h"].values()),
        line["cases_opened"],
        tuple(line["contacted_within_1h"].values()),
        tuple(line["reported_within_24h"].values()),
        line["open_cases_at_end"],
        line["returned"],
    )


async def test_county_monthly_review_figures_and_xlsx(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await build_county_month(world, client, ctx)
    ids = world.ids
    params = {"county_id": ids["county"], "month": "2026-11"}
    out = await get(client, world, "county_admin", COUNTY_REVIEW, **params)
    assert (out["county_name"], out["month_start"], out["month_end"]) == (
        "示例县",
        "2026-11-01",
        "2026-11-30",
    )
    assert [line["school_id"] for line in out["schools"]] == [ids["school_A"], ids["school_B"]]
    a, b = out["schools"]
    # A: the school's monthly review (above) — 8 alerts, 2 verified in time; cases c1–c3, c4
    # and Monday's c5, one contacted and one reported in time (c1); c2–c5 open, c1 returned.
    assert review_line(a) == (
        "学校A",
        (5, 2, 1, 8),
        (2, 8, 0.25),
        5,
        (1, 5, 0.2),
        (1, 5, 0.2),
        4,
        1,
    )
    # B: two blues, cB1 verified in time; cB1 contacted and reported in time, cB2 late twice;
    # both open on 30 November at 24:00 (cB1 returned on 1 December).
    assert review_line(b) == (
        "学校B",
        (2, 0, 0, 2),
        (1, 2, 0.5),
        2,
        (1, 2, 0.5),
        (1, 2, 0.5),
        2,
        0,
    )
    # The county: counts added, shares from them (2 of 7 is not the mean of 0.2 and 0.5).
    total = out["total"]
    assert total["school_id"] == 0
    assert review_line(total) == (
        "示例县合计",
        (7, 2, 1, 10),
        (3, 10, 0.3),
        7,
        (2, 7, 0.2857),
        (2, 7, 0.2857),
        6,
        1,
    )
    # The rates of school year 2026 as of November's last day, however late November is read:
    # nobody is 疑似辍学 or 辍学 yet (A2b is 疑似辍学 from 9 December, 辍学 from 8 January).
    rates = out["rates"]
    assert (rates["school_year"], rates["period_start"], rates["period_end"]) == (
        2026,
        "2026-09-01",
        "2027-08-31",
    )
    assert rates["as_of"] == "2026-11-30"
    assert rates["targets"] == {"primary": 0.02, "junior_middle": 0.03}
    ra, rb = rates["schools"]
    assert (ra["enrolled"], ra["suspected_dropouts"], ra["dropouts"]) == (4, 0, 0)
    assert (ra["dropout_rate"], ra["above_target"]) == (0.0, False)
    # January, read on 8 January: A2b is 辍学.
    jan = await get(client, world, "county_admin", COUNTY_REVIEW, **{**params, "month": "2027-01"})
    rates = jan["rates"]
    assert rates["as_of"] == "2027-01-08"
    ra, rb = rates["schools"]
    # A: 4 students, 1 dropout → 25 %, retention 75 %, above the 2 % target; B: 2, none.
    assert (ra["enrolled"], ra["suspected_dropouts"], ra["dropouts"]) == (4, 0, 1)
    assert (ra["dropout_rate"], ra["retention_rate"], ra["above_target"]) == (0.25, 0.75, True)
    assert (rb["enrolled"], rb["dropouts"], rb["dropout_rate"], rb["above_target"]) == (
        2,
        0,
        0.0,
        False,
    )
    (primary,) = rates["by_kind"]
    assert (primary["enrolled"], primary["dropouts"], primary["dropout_rate"]) == (6, 1, 0.1667)
    assert (primary["retention_rate"], primary["target"], primary["above_target"]) == (
        0.8333,
        0.02,
        True,
    )
    assert (rates["total"]["retention_rate"], rates["total"]["target"]) == (0.8333, None)
    assert rates["schools_above_target"] == [ids["school_A"]]
    assert rates["total"]["enrollment_rate"] is None and rates["enrollment_rate_note"]

    # December: no alert, no new case; B1's return; c2–c5 and cB2 still open. Its school
    # year is still 2026; August belongs to the year before, September starts the next.
    dec = await get(client, world, "county_admin", COUNTY_REVIEW, **{**params, "month": "2026-12"})
    assert review_line(dec["total"]) == (
        "示例县合计",
        (0, 0, 0, 0),
        (0, 0, None),
        0,
        (0, 0, None),
        (0, 0, None),
        5,
        1,
    )
    assert [line["returned"] for line in dec["schools"]] == [0, 1]
    assert dec["rates"]["school_year"] == 2026
    # As of 31 December A2b is 疑似辍学 (since 9 December), not yet 辍学.
    assert (dec["rates"]["total"]["suspected_dropouts"], dec["rates"]["total"]["dropouts"]) == (
        1,
        0,
    )
    for month, year in (("2026-08", 2025), ("2026-09", 2026), ("2027-08", 2026)):
        out_ = await get(client, world, "county_admin", COUNTY_REVIEW, **{**params, "month": month})
        assert out_["rates"]["school_year"] == year, month
    aug = await get(client, world, "county_admin", COUNTY_REVIEW, **{**params, "month": "2026-08"})
    assert aug["rates"]["total"]["dropouts"] == 0  # the dropout is dated January 2027

    r = await client.get(
        COUNTY_REVIEW, params={**params, "format": "xlsx"}, headers=world.auth("county_admin")
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    cd = r.headers["content-disposition"]
    assert cd.endswith("filename*=UTF-8''" + quote("示例县月研判_202611.xlsx", safe=""))
    assert f'filename="monthly-review-county-{ids["county"]}-202611.xlsx"' in cd
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["各校", "三率"]
    rows = sheet_rows(r.content, "各校")
    assert rows[0][0] == "示例县 控辍保学月研判  2026-11-01 至 2026-11-30"
    assert rows[1] == (
        "学校",
        "蓝色预警",
        "黄色预警",
        "红色预警",
        "预警合计",
        "48小时内核查数",
        "48小时内核查率",
        "本月新开案例",
        "1小时内联系数",
        "1小时内联系率",
        "24小时内报告数",
        "24小时内报告率",
        "月末未结案案例",
        "本月返校结案",
    )
    assert rows[2:] == [
        ("学校A", 5, 2, 1, 8, 2, 0.25, 5, 1, 0.2, 1, 0.2, 4, 1),
        ("学校B", 2, 0, 0, 2, 1, 0.5, 2, 1, 0.5, 1, 0.5, 2, 0),
        ("示例县合计", 7, 2, 1, 10, 3, 0.3, 7, 2, 0.2857, 2, 0.2857, 6, 1),
    ]
    schools = wb["各校"]
    for column in "GJL":
        assert schools[f"{column}3"].number_format == "0.0%", column
    assert schools["F3"].number_format == "General"
    three = sheet_rows(r.content, "三率")
    assert three[0][0] == "示例县 辍学率、巩固率  2026学年(2026-09-01 至 2027-08-31)"
    assert three[1] == (
        "学校",
        "在籍学生数",
        "疑似辍学",
        "辍学",
        "辍学率",
        "巩固率",
        "辍学率目标",
        "是否超标",
        "入学率",
    )
    # Per school, the primary schools' total (against the primary target), the county (none).
    assert three[2:] == [
        ("学校A", 4, 0, 0, 0, 1, 0.02, "否", None),
        ("学校B", 2, 0, 0, 0, 1, 0.02, "否", None),
        ("示例县小学合计", 6, 0, 0, 0, 1, 0.02, "否", None),
        ("示例县合计", 6, 0, 0, 0, 1, None, None, None),
    ]
    rates_sheet = wb["三率"]
    for column in "EFGI":
        assert rates_sheet[f"{column}3"].number_format == "0.0%", column

    # The weekly bulletin's lines are the same per-school figures over the week of 30 November:
    # A's Monday blue (c5) and B's two, cB1 verified in time.
    week = await get(
        client, world, "county_admin", COUNTY, county_id=ids["county"], week_start="2026-11-30"
    )
    assert [(s["alerts"]["total"], s["verified_within_48h"]["count"]) for s in week["schools"]] == [
        (1, 0),
        (2, 1),
    ]
    assert "cases_opened" not in week["total"]


async def test_county_monthly_review_access_and_bad_month(
    world: World, client: httpx.AsyncClient
) -> None:
    ids = world.ids
    for who, county, code in (
        ("county_admin", "county", 200),
        ("principal", "county", 403),
        ("vice_principal_B", "county", 403),
        ("head_teacher", "county", 403),
        ("county_admin", "county_other", 404),
    ):
        for fmt in ("json", "xlsx"):
            r = await client.get(
                COUNTY_REVIEW,
                params={"county_id": ids[county], "month": "2026-11", "format": fmt},
                headers=world.auth(who),
            )
            assert r.status_code == code, (who, county, fmt, r.text)
    r = await client.get(
        COUNTY_REVIEW,
        params={"county_id": 999999, "month": "2026-11"},
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 404
    for month in ("2026-13", "2026-00", "2026-1", "11-2026", "2026-11-01", ""):
        r = await client.get(
            COUNTY_REVIEW,
            params={"county_id": ids["county"], "month": month},
            headers=world.auth("county_admin"),
        )
        assert r.status_code == 422 and "YYYY-MM" in r.text, (month, r.text)
    # Year 0000 matches the pattern but is no date (was a 500 on the 月报's routes).
    for month in ("0000-01", "9999-12"):
        r = await client.get(
            COUNTY_REVIEW,
            params={"county_id": ids["county"], "month": month},
            headers=world.auth("county_admin"),
        )
        assert r.status_code == 422 and "out of range" in r.text, (month, r.text)
    r = await client.get(
        COUNTY_REVIEW, params={"county_id": ids["county"]}, headers=world.auth("county_admin")
    )
    assert r.status_code == 422


async def test_county_monthly_review_takes_the_same_statements_whatever_the_schools(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    """Issue 24 item 7: a bounded number of queries (it was about ten a school)."""
    await build_county_month(world, client, ctx)
    params = {"county_id": world.ids["county"], "month": "2026-11"}
    statements: list[str] = []

    def capture(conn, cursor, statement, params, context, many) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    async def count() -> tuple[int, int]:
        statements.clear()
        sa_event.listen(ctx.engine.sync_engine, "before_cursor_execute", capture)
        try:
            out = await get(client, world, "county_admin", COUNTY_REVIEW, **params)
        finally:
            sa_event.remove(ctx.engine.sync_engine, "before_cursor_execute", capture)
        return len(statements), len(out["schools"])

    # Each counted on a second call: the first after a change of the county reloads the
    # caller's roles and the schools' scope (three statements, not the report's).
    await count()
    before, schools = await count()
    first = list(statements)
    for n in range(4):  # four more schools, each with a class
        async with ctx.uow() as uow:
            school = await org.create_school(
                uow,
                OPS,
                SchoolIn(
                    township_id=world.ids["township_county"],
                    name=f"新校{n}",
                    code=f"N{n}",
                    kind=SchoolKind.primary,
                ),
            )
            grade = await org.create_grade(uow, OPS, GradeIn(school_id=school.id, level=3))
            await org.create_class(uow, OPS, ClassIn(grade_id=grade.id, name=f"{n}班"))
    await count()
    after, more = await count()
    assert (schools, more) == (2, 6)
    assert after == before, [s[:200] for s in statements if statements.count(s) != first.count(s)]
