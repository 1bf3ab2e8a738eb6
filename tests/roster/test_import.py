"""Bulk import of school rosters: the API, the command-line tool and the cell formats."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from app.cli.import_roster import main
from app.context import AppContext
from app.roster import parse
from tests.world import World, build_world, id_number

HEADERS = ["姓名", "性别", "出生日期", "学籍号", "身份证号", "年级", "班级"]
HEADERS += ["监护人", "监护人关系", "联系电话", "送教上门", "留守儿童"]
URL = "/api/v1/imports/students"
BEFORE = {"学生1", "学生2"}  # the world's students of school A
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def roster_row(seq: int, **changes: Any) -> dict[str, Any]:
    number = id_number(seq)
    row: dict[str, Any] = {
        "姓名": f"新生{seq}",
        "性别": "男",
        "出生日期": datetime(2015, 3, 7),
        "学籍号": f"G{number}",
        "身份证号": number,
        "年级": "3",
        "班级": "A1",
        "监护人": f"家长{seq}",
        "监护人关系": "父亲",
        "联系电话": f"1370000{seq:04d}",
        "送教上门": "否",
        "留守儿童": "否",
    }
    row.update(changes)
    return row


def xlsx(rows: list[dict[str, Any]], headers: list[str] = HEADERS, title: bool = False) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    if title:
        sheet.append(["学校A 2026年秋季学生花名册"])
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h) for h in headers])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[dict[str, Any]], headers: list[str], encoding: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers])
    return out.getvalue().encode(encoding)


async def upload(
    client: httpx.AsyncClient,
    w: World,
    content: bytes,
    *,
    who: str = "principal",
    school: str = "school_A",
    filename: str = "花名册.xlsx",
    mode: str | None = None,
) -> httpx.Response:
    form = {"school_id": str(w.ids[school])} | ({"mode": mode} if mode else {})
    files = {"file": (filename, content, XLSX if filename.endswith("xlsx") else "text/csv")}
    return await client.post(URL, files=files, data=form, headers=w.auth(who))


async def school_a_students(client: httpx.AsyncClient, w: World) -> dict[str, dict[str, Any]]:
    r = await client.get(
        "/api/v1/students",
        params={"school_id": w.ids["school_A"], "limit": 500},
        headers=w.auth("principal"),
    )
    assert r.status_code == 200, r.text
    return {s["name"]: s for s in r.json()["items"]}


async def test_valid_xlsx_imports_every_row(ctx: AppContext, client: httpx.AsyncClient) -> None:
    w = await build_world(ctx)
    rows = [
        roster_row(1000),
        roster_row(1001, 出生日期="2015/3/7", 班级="A2", 送教上门="是", 监护人关系=None),
        roster_row(1002, 出生日期=20150307, 年级="三年级", 留守儿童="是"),
    ]
    r = await upload(client, w, xlsx(rows))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "school_id": w.ids["school_A"],
        "mode": "all_or_nothing",
        "total": 3,
        "imported": 3,
        "rejected": 0,
        "problems": [],
        "problem_count": 0,
    }
    found = await school_a_students(client, w)
    assert set(found) == BEFORE | {"新生1000", "新生1001", "新生1002"}
    first, second, third = found["新生1000"], found["新生1001"], found["新生1002"]
    assert first["class_id"] == w.ids["class_A1"]
    assert first["birth_date"] == "2015-03-07" and first["gender"] == "male"
    assert first["id_number_masked"] == f"{id_number(1000)[:6]}********{id_number(1000)[-4:]}"
    assert first["guardians"] == [
        {
            "id": first["guardians"][0]["id"],
            "name": "家长1000",
            "relation": "父亲",
            "mobile": "13700001000",
            "is_primary": True,
        }
    ]
    assert second["class_id"] == w.ids["class_A2"] and second["home_schooled"] is True
    assert second["guardians"][0]["relation"] == "监护人"
    assert third["special_groups"]["left_behind"] is True


async def test_bad_check_character_imports_nothing_and_names_the_cell(
    ctx: AppContext, client: httpx.AsyncClient
) -> None:
    w = await build_world(ctx)
    good = id_number(1001)
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    rows = [roster_row(1000), roster_row(1001, 身份证号=wrong), roster_row(1002)]
    r = await upload(client, w, xlsx(rows))
    assert r.status_code == 422, r.text
    body = r.json()
    report = body["report"]
    assert (report["total"], report["imported"], report["rejected"]) == (3, 0, 1)
    [problem] = report["problems"]
    assert (problem["row"], problem["column"]) == (3, "身份证号")
    assert f"身份证号校验码错误,应为 {good[17]}" in problem["message"]
    assert body["errors"][0]["loc"] == ["body", "file", 3, "身份证号"]
    assert set(await school_a_students(client, w)) == BEFORE

    r = await upload(client, w, xlsx(rows), mode="valid_only")
    assert r.status_code == 200, r.text
    assert (r.json()["imported"], r.json()["rejected"]) == (2, 1)
    assert r.json()["problems"] == [problem]
    assert set(await school_a_students(client, w)) == BEFORE | {"新生1000", "新生1002"}


async def test_a_row_reports_all_its_problems(ctx: AppContext, client: httpx.AsyncClient) -> None:
    w = await build_world(ctx)
    rows = [
        roster_row(1000, 联系电话="1234", 出生日期="2015-03-08", 姓名=" "),
        roster_row(1001, 性别="女", 送教上门="也许"),
    ]
    r = await upload(client, w, xlsx(rows))
    assert r.status_code == 422, r.text
    problems = {(p["row"], p["column"]): p["message"] for p in r.json()["report"]["problems"]}
    assert set(problems) == {
        (2, "姓名"),
        (2, "联系电话"),
        (2, "出生日期"),
        (3, "性别"),
        (3, "送教上门"),
    }
    assert problems[2, "姓名"] == "必填 (required)"
    assert problems[2, "联系电话"].startswith("联系电话应为11位手机号")
    assert problems[2, "出生日期"].startswith("出生日期与身份证号不符,身份证号为 2015-03-07")
    assert problems[3, "性别"].startswith("性别与身份证号不符,身份证号为男")
    assert problems[3, "送教上门"].startswith("应填“是”或“否”")


async def test_duplicates_in_the_file_and_in_the_database(
    ctx: AppContext, client: httpx.AsyncClient
) -> None:
    w = await build_world(ctx)
    taken_no = f"G{id_number(1)}"  # the world's student_A1
    rows = [
        roster_row(1000),
        roster_row(1001, 学籍号=f"G{id_number(1000)}"),
        roster_row(1002, 学籍号=taken_no),
        roster_row(1003, 身份证号=id_number(2), 学籍号="L530101201503079999"),
        roster_row(1004, 身份证号=id_number(1000), 学籍号="L530101201503078888"),
    ]
    r = await upload(client, w, xlsx(rows), mode="valid_only")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["imported"], body["rejected"]) == (1, 4)
    assert [(p["row"], p["column"], p["message"]) for p in body["problems"]] == [
        (3, "学籍号", "学籍号与第 2 行重复 (same as row 2)"),
        (4, "学籍号", "学籍号已存在 (a student with this 学籍号 exists)"),
        (5, "身份证号", "身份证号已存在 (a student with this ID number exists)"),
        (6, "身份证号", "身份证号与第 2 行重复 (same as row 2)"),
    ]


async def test_unknown_class_is_reported_with_the_row_the_sheet_shows(
    ctx: AppContext, client: httpx.AsyncClient
) -> None:
    w = await build_world(ctx)
    rows = [roster_row(1000, 年级=None, 班级="五年级9班"), roster_row(1001, 班级="B1")]
    r = await upload(client, w, xlsx(rows, title=True))
    assert r.status_code == 422, r.text
    assert [(p["row"], p["column"]) for p in r.json()["report"]["problems"]] == [
        (3, "班级"),
        (4, "班级"),  # B1 is a class of another school
    ]
    assert "本校没有“五年级9班”这个班级" in r.json()["report"]["problems"][0]["message"]


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
async def test_csv_from_excel_with_one_class_column(
    ctx: AppContext, client: httpx.AsyncClient, encoding: str
) -> None:
    w = await build_world(ctx)
    headers = [h for h in HEADERS if h != "年级"] + ["备注"]
    rows = [
        roster_row(1000, 班级="三年级A1", 出生日期="2015/3/7", 备注="转入"),
        roster_row(1001, 班级="三年级 A2", 出生日期="20150307", 性别=""),
    ]
    r = await upload(client, w, csv_bytes(rows, headers, encoding), filename="花名册.csv")
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 2
    found = await school_a_students(client, w)
    assert found["新生1000"]["class_id"] == w.ids["class_A1"]
    assert found["新生1001"]["class_id"] == w.ids["class_A2"]


async def test_file_level_errors(ctx: AppContext, client: httpx.AsyncClient) -> None:
    w = await build_world(ctx)
    no_phone = xlsx([roster_row(1000)], [h for h in HEADERS if h != "联系电话"])
    r = await upload(client, w, no_phone)
    assert r.status_code == 422, r.text
    [item] = r.json()["errors"]
    assert item["loc"] == ["body", "file"]
    assert item["msg"] == "缺少必填列:联系电话 (missing required columns)"

    r = await upload(client, w, b"%PDF-1.7 not a roster", filename="roster.pdf")
    assert r.status_code == 422
    assert r.json()["errors"][0]["msg"].startswith("仅支持 CSV 或 XLSX 文件")

    r = await upload(client, w, b"x" * (10 * 1024 * 1024 + 1), filename="big.csv")
    assert r.status_code == 413
    assert set(await school_a_students(client, w)) == BEFORE


async def test_only_managers_of_the_school_import(
    ctx: AppContext, client: httpx.AsyncClient
) -> None:
    w = await build_world(ctx)
    content = xlsx([roster_row(1000)])
    r = await upload(client, w, content, who="head_teacher")
    assert r.status_code == 403, r.text
    r = await upload(client, w, content, who="principal_B")
    assert r.status_code == 404, r.text
    assert set(await school_a_students(client, w)) == BEFORE


async def test_cli_imports_into_the_database(
    ctx: AppContext, client: httpx.AsyncClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = await build_world(ctx)
    school = str(w.ids["school_A"])
    db = ["--database-url", ctx.settings.database_url]
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx([roster_row(1000), roster_row(1001, 联系电话="110")]))

    assert await asyncio.to_thread(main, [str(bad), "--school-id", school, *db]) == 1
    out = capsys.readouterr().out
    assert "共 2 行, 导入 0 行, 有问题 1 行" in out
    assert "第 3 行  联系电话: 联系电话应为11位手机号" in out
    assert set(await school_a_students(client, w)) == BEFORE

    args = [str(bad), "--school-id", school, "--mode", "valid_only", *db]
    assert await asyncio.to_thread(main, args) == 1
    assert "导入 1 行" in capsys.readouterr().out

    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx([roster_row(1002)]))
    assert await asyncio.to_thread(main, [str(good), "--school-id", school, *db]) == 0
    assert set(await school_a_students(client, w)) == BEFORE | {"新生1000", "新生1002"}

    missing = ["--school-id", str(w.ids["school_A"] + 99), *db]
    assert await asyncio.to_thread(main, [str(good), *missing]) == 2
    assert "不存在" in capsys.readouterr().err


@pytest.mark.parametrize(
    "cell",
    ["2015-03-07", "2015/3/7", "2015.3.7", "2015年3月7日", "20150307", 20150307, 42070,
     datetime(2015, 3, 7), "2015-03-07 00:00:00"],
)  # fmt: skip
def test_dates_as_schools_write_them(cell: parse.Cell) -> None:
    assert parse.as_date(cell) == date(2015, 3, 7)


def test_cells_that_cannot_be_read_say_why() -> None:
    with pytest.raises(ValueError, match="出生日期应写作"):
        parse.as_date("2015-02-30")
    with pytest.raises(ValueError, match="末几位已丢失"):
        parse.id_text(5.30101201503070e17)
    with pytest.raises(ValueError, match="末几位已丢失"):
        parse.id_text("5.30101E+17")
    with pytest.raises(ValueError, match="应填“是”或“否”"):
        parse.as_flag("可能")
    assert parse.header_name(" 出生日期(yyyy-mm-dd)* ") == "出生日期"
    assert parse.header_name("家长电话") == "联系电话"


def test_old_excel_files_are_refused_with_advice() -> None:
    with pytest.raises(parse.FileError, match=r"另存为 \.xlsx 或 CSV"):
        parse.read_roster(b"\xd0\xcf\x11\xe0" + b"\0" * 100, "花名册.xls")
