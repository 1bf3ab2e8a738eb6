"""适龄儿童台账 (item: the county's register of school-age children): the import of the
townships' lists, the ledger's 就学状态 of each child matched to the roster, and 入学率 — over
a county built through the API, JSON figures and XLSX cells checked against numbers worked out
by hand."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from app.context import AppContext
from app.domain.idcard import mask_student_no
from app.reports.school_age_schemas import SchoolAgeLedgerOut
from tests.alerts.test_cases_api import get
from tests.helpers import move, post
from tests.reports.test_ledgers import beijing, build
from tests.roster.test_import import csv_bytes, xlsx
from tests.world import World, id_number

RATES = "/api/v1/reports/rates"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = ["姓名", "身份证号", "乡镇", "村(社区)", "户籍地址", "监护人", "联系电话", "就学情况"]
HEADERS += ["备注"]
GIRL_BORN = date(2018, 6, 1)


def import_url(world: World, county: str = "county") -> str:
    return f"/api/v1/counties/{world.ids[county]}/school-age-children/import"


def ledger_url(world: World, county: str = "county") -> str:
    return f"/api/v1/counties/{world.ids[county]}/ledgers/school-age-children"


def masked(number: str) -> str:
    return f"{number[:6]}********{number[-4:]}"


def child(
    name: str, number: str, township: str, village: str | None, **more: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "姓名": name,
        "身份证号": number,
        "乡镇": township,
        "村(社区)": village,
        "户籍地址": f"{township}{village or ''}",
        "监护人": f"{name}家长",
        "联系电话": "13700000000",
    }
    row.update(more)
    return row


# The list of the fixture, in file order (row 2 is the first child). 镇 and 青山镇 are the
# county's townships; 青山 is written without its 镇.
def the_list() -> list[dict[str, Any]]:
    return [
        child("学生1", id_number(1), "镇", "东村", 就学情况="缓学"),  # on a roll: 在读 wins
        child("学生2", id_number(2), "镇", "东村"),
        child("学生14", id_number(14), "镇", "东村", 备注="转学"),
        child("学生3", id_number(3), "镇", "西村"),
        child("学生12", id_number(12), "镇", "西村"),
        child("学生13", id_number(13), "镇", "西村"),
        child(
            "儿童21",
            id_number(21, born=GIRL_BORN, male=False),
            "镇",
            "西村",
            就学情况="免学",
            备注="因病免学",
        ),
        child("儿童22", id_number(22), "镇", "东村", 就学情况="缓学"),
        child("学生4", id_number(4), "青山", "南村"),  # studies in the other county
        child("儿童23", id_number(23), "青山镇", "南村", 就学情况="随迁就读"),
        child("儿童24", id_number(24), "青山镇", "北村"),
        child("学生11", id_number(11), "青山镇", "北村"),
        child("儿童25", id_number(25), "青山镇", None, 联系电话="0871-6543210"),
    ]


pytestmark = pytest.mark.world("school_age")


async def ok(r: httpx.Response) -> Any:
    assert r.status_code in (200, 201), r.text
    return r.json()


async def upload(
    client: httpx.AsyncClient,
    world: World,
    content: bytes,
    *,
    who: str = "county_admin",
    county: str = "county",
    filename: str = "适龄儿童名单.csv",
    form: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    kind = XLSX if filename.endswith("xlsx") else "text/csv"
    return await client.post(
        import_url(world, county),
        files={"file": (filename, content, kind)},
        data=form or {},
        params=params or {},
        headers=world.auth(who),
    )


async def roster_changes(world: World, client: httpx.AsyncClient, ctx: AppContext) -> None:
    """On 2 December 2026 (after tests.reports.test_ledgers.build: 学生12 疑似辍学 by an escalated
    notice): 学生14 transferred to a school outside the system (10 转出), 学生3 suspended
    from 1 December (02 休学), 学生13 left without a transfer (15 下落不明)."""
    await build(world, client, ctx)
    body = {
        "student_id": world.ids["student_A1c"],
        "to_school_name": "外县第一小学",
        "applied_on": "2026-12-01",
        "leave_on": "2026-12-02",  # the day of approval: the move is at once
        "reason": "随父母务工迁居",
    }
    t = await ok(await post(client, world, "head_teacher", "/api/v1/transfers", body))
    base = f"/api/v1/transfers/{t['id']}"
    await ok(await post(client, world, "head_teacher", f"{base}/head-teacher-sign"))
    await ok(await post(client, world, "principal", f"{base}/receiving-sign", {}))
    await ok(await post(client, world, "vice_principal", f"{base}/approve"))
    suspension = {"start_date": "2026-12-01", "end_date": "2027-01-31", "reason": "因病休学"}
    url = f"/api/v1/students/{world.ids['student_B1']}/suspensions"
    await ok(await post(client, world, "principal_B", url, suspension))
    url = f"/api/v1/students/{world.ids['student_B1b']}/left-without-transfer"
    await ok(await post(client, world, "principal_B", url))


# The ledger of the fixture: by township (镇, then 青山镇), village (东村 < 西村, 北村 < 南村,
# none last), import order. (姓名, seq of the ID number, 乡镇, 村, 就学状态, 学校, 班级, 备注)
EXPECTED = [
    ("学生1", 1, "镇", "东村", "在读", "学校A", "三年级A1", None),
    ("学生2", 2, "镇", "东村", "在读", "学校A", "三年级A2", None),
    ("学生14", 14, "镇", "东村", "转出", "学校A", "三年级A1", "转学"),
    ("儿童22", 22, "镇", "东村", "缓学", None, None, None),
    ("学生3", 3, "镇", "西村", "休学", "学校B", "三年级B1", None),
    ("学生12", 12, "镇", "西村", "疑似辍学", "学校A", "三年级A2", None),
    ("学生13", 13, "镇", "西村", "疑似辍学", "学校B", "三年级B1", None),
    ("儿童21", 21, "镇", "西村", "免学", None, None, "因病免学"),
    ("儿童24", 24, "青山镇", "北村", "未入学", None, None, None),
    ("学生11", 11, "青山镇", "北村", "在读", "学校A", "三年级A1", None),
    ("学生4", 4, "青山镇", "南村", "在读", "学校Z", "三年级Z1", None),
    ("儿童23", 23, "青山镇", "南村", "外出就读", None, None, None),
    ("儿童25", 25, "青山镇", None, "未入学", None, None, None),
]
LABELS = ["在读", "休学", "转出", "疑似辍学", "辍学", "缓学", "免学", "外出就读", "未入学"]
# Per status, in LABELS order: the county, 镇, 青山镇.
COUNTY = [4, 1, 1, 2, 0, 1, 1, 1, 2]
ZHEN = [2, 1, 1, 2, 0, 1, 1, 0, 0]
QINGSHAN = [2, 0, 0, 0, 0, 0, 0, 1, 2]


def number_of(seq: int) -> str:
    return id_number(seq, born=GIRL_BORN, male=False) if seq == 21 else id_number(seq)


async def test_the_register_as_json_and_xlsx(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await roster_changes(world, client, ctx)
    r = await upload(client, world, csv_bytes(the_list(), HEADERS, "gbk"))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "county_id": world.ids["county"],
        "school_year": 2026,
        "mode": "all_or_nothing",
        "total": 13,
        "imported": 13,
        "created": 13,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "problems": [],
        "problem_count": 0,
    }

    raw = await client.get(ledger_url(world), headers=world.auth("county_admin"))
    # Written from the rows' dicts, the answer is byte for byte its response model's dump.
    assert (
        SchoolAgeLedgerOut.model_validate_json(raw.content).model_dump_json(by_alias=True).encode()
        == raw.content
    )
    out = raw.json()
    assert (out["title"], out["school_year"]) == ("示例县2026学年适龄儿童台账", 2026)
    got = [
        (
            r["name"],
            r["id_number_masked"],
            r["township_name"],
            r["village"],
            r["status_label"],
            r["school_name"],
            r["class_name"],
            r["note"],
        )
        for r in out["rows"]
    ]
    assert got == [
        (name, masked(number_of(seq)), t, v, status, school, klass, note)
        for name, seq, t, v, status, school, klass, note in EXPECTED
    ]
    assert [r["seq"] for r in out["rows"]] == list(range(1, 14))
    first, girl = out["rows"][0], out["rows"][7]
    assert (first["gender"], first["birth_date"], first["student_no"]) == (
        "male",
        "2015-03-07",
        mask_student_no(f"G{id_number(1)}"),
    )
    assert (first["declared"], first["status"]) == ("deferred", "studying")
    assert first["student_id"] == world.ids["student_A1"]
    assert (girl["gender"], girl["birth_date"], girl["student_no"]) == (
        "female",
        "2018-06-01",
        None,
    )
    assert out["rows"][-1]["guardian_phone"] == "08716543210"
    # Full ID numbers are never shown (a student's 学籍号 is G + the number, as on the roll).
    assert number_of(21) not in str(out) and number_of(24) not in str(out)

    summary = out["summary"]
    assert summary["total"] == 13
    assert [(s["label"], s["count"]) for s in summary["by_status"]] == list(
        zip(LABELS, COUNTY, strict=True)
    )
    zhen, qingshan = summary["by_township"]
    assert (zhen["township_name"], zhen["total"]) == ("镇", 8)
    assert (qingshan["township_name"], qingshan["total"]) == ("青山镇", 5)
    order = [s["status"] for s in summary["by_status"]]
    assert [zhen["counts"][s] for s in order] == ZHEN
    assert [qingshan["counts"][s] for s in order] == QINGSHAN

    r = await client.get(
        ledger_url(world), params={"format": "xlsx"}, headers=world.auth("county_admin")
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    assert (
        f"school-age-children-county-{world.ids['county']}-2026-20261202.xlsx"
        in r.headers["content-disposition"]
    )
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["适龄儿童台账", "汇总"]
    cells = list(wb["适龄儿童台账"].iter_rows(values_only=True))
    assert cells[0][0] == "示例县2026学年适龄儿童台账  2026-12-02"
    assert cells[1] == (
        "序号",
        "姓名",
        "性别",
        "出生日期",
        "身份证号",
        "乡镇",
        "村(社区)",
        "监护人",
        "就学状态",
        "学校",
        "班级",
        "学籍号",
        "备注",
    )
    students = {1, 2, 3, 4, 11, 12, 13, 14}
    assert cells[2:] == [
        (
            i,
            name,
            "女" if seq == 21 else "男",
            datetime(2018, 6, 1) if seq == 21 else datetime(2015, 3, 7),
            masked(number_of(seq)),
            t,
            v,
            f"{name}家长",
            status,
            school,
            klass,
            mask_student_no(f"G{id_number(seq)}") if seq in students else None,
            note,
        )
        for i, (name, seq, t, v, status, school, klass, note) in enumerate(EXPECTED, start=1)
    ]
    summary_cells = list(wb["汇总"].iter_rows(values_only=True))
    assert summary_cells[1] == ("乡镇", "合计", *LABELS)
    assert summary_cells[2:] == [
        ("镇", 8, *ZHEN),
        ("青山镇", 5, *QINGSHAN),
        ("合计", 13, *COUNTY),
    ]

    # Filters: one township, one status.
    only = await get(
        client, world, "county_admin", ledger_url(world), township_id=world.ids["township_qingshan"]
    )
    assert [r["name"] for r in only["rows"]] == ["儿童24", "学生11", "学生4", "儿童23", "儿童25"]
    assert only["summary"]["total"] == 5
    missing = await get(client, world, "county_admin", ledger_url(world), status="not_enrolled")
    assert [(r["seq"], r["name"]) for r in missing["rows"]] == [(1, "儿童24"), (2, "儿童25")]
    assert [t["township_name"] for t in missing["summary"]["by_township"]] == ["青山镇"]

    # 30 days after 疑似辍学 the notice marks 辍学: the register follows the county ledgers;
    # so does 学生13, who left without a transfer more than 30 days before.
    move(ctx, beijing(2027, 1, 1, 9))
    await ok(await post(client, world, "county_admin", "/api/v1/return-notices/check"))
    dropouts = await get(client, world, "county_admin", ledger_url(world), status="dropout")
    assert [(r["name"], r["school_name"], r["class_name"]) for r in dropouts["rows"]] == [
        ("学生12", "学校A", "三年级A2"),
        ("学生13", "学校B", "三年级B1"),
    ]
    # Another year has no list.
    other = await get(client, world, "county_admin", ledger_url(world), school_year=2027)
    assert other["rows"] == [] and other["summary"]["total"] == 0


async def test_enrollment_rate_from_the_register(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await roster_changes(world, client, ctx)
    county = world.ids["county"]
    before = await get(client, world, "county_admin", RATES, county_id=county)
    assert before["total"]["enrollment_rate"] is None and before["enrollment"] == []
    assert before["enrollment_total"] is None
    assert "适龄儿童" in before["enrollment_rate_note"]

    await ok(await upload(client, world, csv_bytes(the_list(), HEADERS, "utf-8")))
    out = await get(client, world, "county_admin", RATES, county_id=county)
    # 镇: 8 on the list, 免学 1, 缓学 1 → 6 due; 在读 2 + 休学 1 + 转出 1 = 4 → 4/6.
    # 青山镇: 5, none excused → 5 due; 在读 2 + 外出就读 1 = 3 → 3/5.
    # County: 13 − 2 = 11 due, 7 enrolled → 7/11 = 0.6364.
    lines = [
        (e["name"], e["children"], e["exempt"], e["deferred"], e["due"], e["enrolled"])
        for e in [*out["enrollment"], out["enrollment_total"]]
    ]
    assert lines == [
        ("镇", 8, 1, 1, 6, 4),
        ("青山镇", 5, 0, 0, 5, 3),
        ("示例县合计", 13, 1, 1, 11, 7),
    ]
    assert [e["enrollment_rate"] for e in out["enrollment"]] == [0.6667, 0.6]
    assert out["enrollment_total"]["enrollment_rate"] == 0.6364
    assert out["total"]["enrollment_rate"] == 0.6364
    assert [s["enrollment_rate"] for s in out["schools"]] == [None, None]
    assert "2026 学年适龄儿童台账(13 人)" in out["enrollment_rate_note"]

    r = await client.get(
        RATES, params={"county_id": county, "format": "xlsx"}, headers=world.auth("county_admin")
    )
    assert r.status_code == 200, r.text
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["控辍指标", "入学率"]
    rates = list(wb["控辍指标"].iter_rows(values_only=True))
    assert rates[-1][0] == "示例县合计" and rates[-1][7] == 0.6364
    cells = list(wb["入学率"].iter_rows(values_only=True))
    assert cells[0][0] == "示例县 入学率  2026学年(据适龄儿童台账)"
    assert cells[1] == ("乡镇", "名单人数", "免学", "缓学", "应入学", "已入学", "入学率")
    assert cells[2:] == [
        ("镇", 8, 1, 1, 6, 4, 0.6667),
        ("青山镇", 5, 0, 0, 5, 3, 0.6),
        ("示例县合计", 13, 1, 1, 11, 7, 0.6364),
    ]

    # A school's rates carry no 入学率; another year without a list keeps the old note.
    one = await get(client, world, "principal", RATES, school_id=world.ids["school_A"])
    assert one["total"]["enrollment_rate"] is None and one["enrollment"] == []
    assert "乡镇" in one["enrollment_rate_note"]
    old = await get(client, world, "county_admin", RATES, county_id=county, school_year=2025)
    assert old["total"]["enrollment_rate"] is None
    assert old["enrollment_rate_note"] == before["enrollment_rate_note"]


async def test_xlsx_with_a_title_row_and_other_header_spellings(
    world: World, client: httpx.AsyncClient
) -> None:
    headers = ["儿童姓名", "身份证号码", "所属乡镇", "村(居)委会", "家庭住址", "家长", "手机号"]
    headers += ["就学状态", "说明"]
    rows = [
        {
            "儿童姓名": "学生1",
            "身份证号码": id_number(1),
            "所属乡镇": "镇",
            "村(居)委会": "东村",
            "家庭住址": "东村1号",
            "家长": "王芳",
            "手机号": 13712345678,  # a number cell
            "就学状态": "",
            "说明": "",
        },
        {
            "儿童姓名": "儿童30",
            "身份证号码": id_number(30).lower(),
            "所属乡镇": "青 山 镇",
            "村(居)委会": None,
            "家长": None,
            "手机号": None,
            "就学状态": "外出就读",
        },
    ]
    r = await upload(
        client,
        world,
        xlsx(rows, headers, title=True),
        filename="名单.xlsx",
        form={"school_year": "2027", "mode": "valid_only"},
    )
    report = await ok(r)
    assert (report["school_year"], report["mode"], report["created"]) == (2027, "valid_only", 2)
    out = await get(client, world, "county_admin", ledger_url(world), school_year=2027)
    got = [
        (
            r["name"],
            r["township_name"],
            r["village"],
            r["address"],
            r["guardian_name"],
            r["guardian_phone"],
            r["status_label"],
        )
        for r in out["rows"]
    ]
    assert got == [
        ("学生1", "镇", "东村", "东村1号", "王芳", "13712345678", "在读"),
        ("儿童30", "青山镇", None, None, None, None, "外出就读"),
    ]
    # The current year (2026) has no list: the file went to 2027.
    assert (await get(client, world, "county_admin", ledger_url(world)))["rows"] == []
    # school_year in the query string works as well.
    r = await upload(
        client, world, xlsx(rows, headers), filename="名单.xlsx", params={"school_year": "2025"}
    )
    assert (await ok(r))["school_year"] == 2025


async def test_bad_rows_are_named_and_all_or_nothing_writes_nothing(
    world: World, client: httpx.AsyncClient
) -> None:
    bad_check = id_number(31)[:17] + ("0" if id_number(31)[17] != "0" else "1")
    rows = [
        child("儿童30", id_number(30), "镇", "东村"),
        child("儿童31", bad_check, "镇", "东村"),
        child("儿童32", id_number(32), "白云乡", "东村"),
        child("儿童33", id_number(30), "镇", "东村"),  # the same child as row 2
        child("儿童34", id_number(34), "镇", "东村", 就学情况="打工", 联系电话="12a"),
        child("", id_number(35), "", "东村"),
    ]
    r = await upload(client, world, csv_bytes(rows, HEADERS, "utf-8"))
    assert r.status_code == 422, r.text
    body = r.json()
    expected = [
        (3, "身份证号", f"身份证号校验码错误,应为 {id_number(31)[17]}"),
        (4, "乡镇", "本县没有“白云乡”这个乡镇"),
        (5, "身份证号", "身份证号与第 2 行重复"),
        (6, "联系电话", "联系电话应为手机号或座机号"),
        (6, "就学情况", "就学情况应为空、缓学、免学、外出就读或随迁就读"),
        (7, "姓名", "必填"),
        (7, "乡镇", "必填"),
    ]
    problems = body["report"]["problems"]
    assert sorted((p["row"], p["column"]) for p in problems) == sorted(
        (r, c) for r, c, _ in expected
    )
    for row, column, message in expected:
        found = next(p for p in problems if (p["row"], p["column"]) == (row, column))
        assert found["message"].startswith(message), found
    assert body["report"]["imported"] == 0 and body["report"]["rejected"] == 5
    assert {"loc": ["body", "file", 3, "身份证号"], "type": "import_row"}.items() <= body["errors"][
        0
    ].items()
    assert body["errors"][0]["msg"].startswith("第 3 行 身份证号: 身份证号校验码错误")
    # Nothing was written, not even the good row 2.
    assert (await get(client, world, "county_admin", ledger_url(world)))["rows"] == []

    # valid_only writes the good row and reports the others.
    r = await upload(client, world, csv_bytes(rows, HEADERS, "utf-8"), form={"mode": "valid_only"})
    report = await ok(r)
    assert (report["imported"], report["created"], report["rejected"]) == (1, 1, 5)
    out = await get(client, world, "county_admin", ledger_url(world))
    assert [(r["name"], r["status_label"]) for r in out["rows"]] == [("儿童30", "未入学")]

    # A child on another county's list for the year is that county's.
    other = [child("儿童30", id_number(30), "镇", "河村")]
    r = await upload(
        client,
        world,
        csv_bytes(other, HEADERS, "utf-8"),
        who="county_admin_other",
        county="county_other",
    )
    assert r.status_code == 422
    (problem,) = r.json()["report"]["problems"]
    assert (problem["row"], problem["column"]) == (2, "身份证号")
    assert "其他县" in problem["message"]


async def test_reimport_updates_the_child_and_is_idempotent(
    world: World, client: httpx.AsyncClient
) -> None:
    rows = the_list()[:3]
    content = csv_bytes(rows, HEADERS, "utf-8")
    assert (await ok(await upload(client, world, content)))["created"] == 3
    again = await ok(await upload(client, world, content))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)

    # The township's corrected list: 学生2 now 外出就读 in 西村; a file without the 备注 column
    # keeps the notes, a blank 村 cell clears the village.
    changed = [dict(r) for r in rows]
    changed[1].update({"村(社区)": "西村", "就学情况": "外出就读", "姓名": "学生2改"})
    changed[2]["村(社区)"] = None
    headers = [h for h in HEADERS if h != "备注"]
    report = await ok(await upload(client, world, csv_bytes(changed, headers, "utf-8")))
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 2, 1)
    out = await get(client, world, "county_admin", ledger_url(world))
    got = [(r["name"], r["village"], r["declared"], r["note"]) for r in out["rows"]]
    assert got == [
        ("学生1", "东村", "deferred", None),
        ("学生2改", "西村", "elsewhere", None),
        ("学生14", None, "none", "转学"),
    ]
    assert len(out["rows"]) == 3


async def test_who_may_import_and_read_the_register(
    world: World, client: httpx.AsyncClient
) -> None:
    content = csv_bytes(the_list()[:1], HEADERS, "utf-8")
    for who, county, code in (
        ("principal", "county", 403),
        ("head_teacher", "county", 403),
        ("principal_B", "county", 403),
        ("county_admin_other", "county", 404),
        ("principal", "county_other", 404),
        ("county_admin", "county_other", 404),
    ):
        r = await upload(client, world, content, who=who, county=county)
        assert r.status_code == code, (who, county, r.text)
        for fmt in ("json", "xlsx"):
            r = await client.get(
                ledger_url(world, county), params={"format": fmt}, headers=world.auth(who)
            )
            assert r.status_code == code, (who, county, fmt, r.text)
    assert (await client.get(ledger_url(world))).status_code == 401
    r = await client.get(
        "/api/v1/counties/999999/ledgers/school-age-children", headers=world.auth("county_admin")
    )
    assert r.status_code == 404
    # Nothing was imported by those refused.
    assert (await get(client, world, "county_admin", ledger_url(world)))["rows"] == []
    assert (await upload(client, world, content)).status_code == 200
    # A township of another county is not a filter of this one.
    r = await client.get(
        ledger_url(world),
        params={"township_id": world.ids["township_county_other"]},
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 404


async def test_files_that_are_not_a_list(world: World, client: httpx.AsyncClient) -> None:
    no_township = csv_bytes(the_list()[:1], ["姓名", "身份证号", "村(社区)"], "utf-8")
    r = await upload(client, world, no_township)
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "file"]
    assert "乡镇" in r.json()["errors"][0]["msg"]
    r = await upload(client, world, b"\xd0\xcf\x11\xe0" + b"\0" * 100, filename="名单.xls")
    assert r.status_code == 422 and ".xls" in r.text
    r = await upload(client, world, "姓名,身份证号,乡镇\n".encode(), filename="空.csv")
    assert r.status_code == 422 and "没有数据" in r.text
    r = await upload(client, world, b"x", form={"school_year": "1999"})
    assert r.status_code == 422
