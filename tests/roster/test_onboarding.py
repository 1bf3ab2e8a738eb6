"""One-step onboarding: a whole school from the 学籍 system's student export in one call, with
a dry run that reports exactly what the real run does, and re-imports that change nothing."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli.onboard import main as onboard
from app.context import AppContext
from app.domain.idcard import check_character
from tests.world import World

pytestmark = pytest.mark.db

URL = "/api/v1/imports/roster"
HEADERS = ["序号", "姓名", "性别", "出生日期", "身份证件类型", "身份证件号", "全国学籍号"]
HEADERS += ["年级", "班级", "民族", "成员1姓名", "成员1关系", "成员1联系电话"]
GRADES = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"]


def pupil(n: int, grade: int, klass: int) -> dict[str, Any]:
    born = f"{2019 - grade}{(n % 12) + 1:02d}{(n % 28) + 1:02d}"
    first17 = f"530122{born}{n % 1000:03d}"
    number = first17 + check_character(first17)
    return {
        "序号": n,
        "姓名": f"学生{n}",
        "性别": "男" if int(first17[16]) % 2 else "女",
        "出生日期": f"{born[:4]}-{born[4:6]}-{born[6:]}",
        "身份证件类型": "居民身份证",
        "身份证件号": number,
        "全国学籍号": f"G{number}",
        "年级": GRADES[grade - 1],
        "班级": f"({klass})班",
        "民族": "汉族",
        "成员1姓名": f"家长{n}",
        "成员1关系": "母亲",
        "成员1联系电话": f"139{n:08d}",
    }


def school_rows(total: int = 482) -> list[dict[str, Any]]:
    """482 pupils in grades 1-6, two classes each: 12 classes."""
    return [pupil(n, grade=(n % 12) // 2 + 1, klass=n % 2 + 1) for n in range(1, total + 1)]


def as_csv(rows: list[dict[str, Any]], headers: list[str] = HEADERS) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=headers, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


async def new_school(client: httpx.AsyncClient, world: World) -> int:
    body = {"township_id": world.ids["township_county"], "name": "新校", "code": "NEW-1"}
    body["kind"] = "primary"
    r = await client.post("/api/v1/schools", json=body, headers=world.auth("county_admin"))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def upload(
    client: httpx.AsyncClient, world: World, school_id: int, data: bytes, **form: Any
) -> httpx.Response:
    return await client.post(
        URL,
        files={"file": ("学籍.csv", data, "text/csv")},
        data={"school_id": str(school_id), **{k: str(v).lower() for k, v in form.items()}},
        headers=world.auth("county_admin"),
    )


async def counts(client: httpx.AsyncClient, world: World, school_id: int) -> tuple[int, int, int]:
    auth = world.auth("county_admin")
    params = {"school_id": school_id, "limit": 1}
    grades = (await client.get("/api/v1/grades", params=params, headers=auth)).json()["total"]
    classes = (await client.get("/api/v1/classes", params=params, headers=auth)).json()["total"]
    pupils = (await client.get("/api/v1/students", params=params, headers=auth)).json()["total"]
    return grades, classes, pupils


async def test_a_school_of_482_in_one_call_with_a_dry_run_first(
    world: World, client: httpx.AsyncClient
) -> None:
    school = await new_school(client, world)
    data = as_csv(school_rows())

    dry = await upload(client, world, school, data, dry_run=True)
    assert dry.status_code == 200, dry.text
    plan = dry.json()
    assert plan["dry_run"] is True and plan["problems"] == []
    assert plan["grades_created"] == GRADES
    assert len(plan["classes_created"]) == 12 and "三年级1班" in plan["classes_created"]
    assert (plan["students_created"], plan["unchanged"], plan["total"]) == (482, 0, 482)
    assert await counts(client, world, school) == (0, 0, 0)  # a dry run writes nothing

    real = await upload(client, world, school, data)
    assert real.status_code == 200, real.text
    assert {**real.json(), "dry_run": True} == plan  # the dry run said exactly this
    assert await counts(client, world, school) == (6, 12, 482)

    again = (await upload(client, world, school, data)).json()
    assert (again["students_created"], again["unchanged"]) == (0, 482)
    assert again["grades_created"] == again["classes_created"] == again["students_moved"] == []
    assert await counts(client, world, school) == (6, 12, 482)

    rows = school_rows()
    rows[0]["班级"] = "(1)班"  # pupil 1 moves from 一年级2班 to 1班
    moved = (await upload(client, world, school, as_csv(rows), dry_run=True)).json()
    assert [(m["row"], m["to_class"]) for m in moved["students_moved"]] == [(2, "一年级1班")]
    assert moved["unchanged"] == 481


async def test_bad_input_is_listed_by_row_and_an_all_or_nothing_run_changes_nothing(
    world: World, client: httpx.AsyncClient
) -> None:
    school = await new_school(client, world)
    rows = school_rows(6)
    rows[1].update({"年级": "三年级", "班级": "三年级(1)班"})
    rows[2].update({"年级": "四年级", "班级": "三年级(1)班"})  # the same class, another grade
    rows[5]["成员1联系电话"] = "12345"  # the only pupil of 四年级1班
    data = as_csv([{**r, "爱好": "跳绳"} for r in rows], headers=[*HEADERS, "爱好"])

    dry = await upload(client, world, school, data, dry_run=True)
    assert dry.status_code == 200, dry.text
    found = {(p["row"], p["column"]): p["message"] for p in dry.json()["problems"]}
    assert "未知列“爱好”" in found[(1, "爱好")]
    assert "第 3 行为三年级" in found[(4, "班级")]
    assert "11位手机号" in found[(7, "联系电话")]
    assert len(found) == 3

    real = await upload(client, world, school, data)
    assert real.status_code == 422
    assert real.headers["content-type"].startswith("application/problem+json")
    body = real.json()
    assert body["code"] == "import.rows_rejected"
    assert ["body", "file", 1, "爱好"] in [e["loc"] for e in body["errors"]]
    assert body["report"]["classes_created"] == [] and body["report"]["students_created"] == 0
    assert await counts(client, world, school) == (0, 0, 0)

    valid = await upload(client, world, school, data, mode="valid_only")
    assert valid.status_code == 200
    assert valid.json()["students_created"] == 4  # rows 2, 3, 5, 6
    assert valid.json()["classes_created"] == ["一年级2班", "三年级1班", "三年级2班"]
    assert await counts(client, world, school) == (2, 3, 4)  # no 四年级 for refused rows


async def test_a_file_without_a_required_column_is_refused(
    world: World, client: httpx.AsyncClient
) -> None:
    school = await new_school(client, world)
    headers = [h for h in HEADERS if h != "年级"]
    r = await upload(client, world, school, as_csv(school_rows(2), headers=headers))
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "file"]
    assert "年级" in r.json()["errors"][0]["msg"]


STAFF_HEADERS = ["姓名", "手机号", "职务", "年级", "班级", "初始密码"]


def staff_rows() -> list[dict[str, Any]]:
    rows = [
        {"姓名": "周校长", "手机号": "13600000001", "职务": "校长"},
        {"姓名": "吴副校长", "手机号": "13600000002", "职务": "分管副校长"},
        {"姓名": "郑主任", "手机号": "13600000003", "职务": "教务处"},
    ]
    for i, grade in enumerate(GRADES):
        for k in (1, 2):
            rows.append(
                {
                    "姓名": f"班主任{grade}{k}",
                    "手机号": f"1361000{i}{k:03d}",
                    "职务": "班主任",
                    "年级": grade,
                    "班级": f"{k}班",
                    "初始密码": "first-pass-1",
                }
            )
    for k in (1, 2):  # one teacher, two classes: two rows
        rows.append(
            {"姓名": "钱老师", "手机号": "13620000001", "职务": "任课教师", "年级": "三年级"}
            | {"班级": f"{k}班"}
        )
    return rows


async def upload_staff(
    client: httpx.AsyncClient, world: World, school_id: int, data: bytes, **form: Any
) -> httpx.Response:
    return await client.post(
        "/api/v1/imports/staff",
        files={"file": ("教职工.csv", data, "text/csv")},
        data={"school_id": str(school_id), **{k: str(v).lower() for k, v in form.items()}},
        headers=world.auth("county_admin"),
    )


async def staff_count(client: httpx.AsyncClient, world: World, school_id: int) -> int:
    r = await client.get(
        "/api/v1/staff", params={"school_id": school_id}, headers=world.auth("county_admin")
    )
    return int(r.json()["total"])


async def test_a_school_and_its_staff_in_three_calls(
    world: World, client: httpx.AsyncClient
) -> None:
    school = await new_school(client, world)  # 1
    assert (await upload(client, world, school, as_csv(school_rows()))).status_code == 200  # 2
    data = as_csv(staff_rows(), headers=STAFF_HEADERS)
    dry = await upload_staff(client, world, school, data, dry_run=True)
    assert dry.status_code == 200, dry.text
    assert await staff_count(client, world, school) == 0
    r = await upload_staff(client, world, school, data)  # 3
    assert r.status_code == 200, r.text
    assert {**r.json(), "dry_run": True} == dry.json()
    report = r.json()
    assert len(report["staff_created"]) == 16 and len(report["grants_added"]) == 17
    labels = {(g["name"], g["role_label"], g["class_name"]) for g in report["grants_added"]}
    assert ("吴副校长", "分管副校长", None) in labels
    assert ("班主任三年级1", "班主任", "三年级1班") in labels
    assert await staff_count(client, world, school) == 16

    again = (await upload_staff(client, world, school, data)).json()
    assert (again["staff_created"], again["grants_added"], again["unchanged"]) == ([], [], 17)

    # the head teacher signs in with the file's password and sees their class
    token = await client.post(
        "/api/v1/auth/token", data={"username": "13610002001", "password": "first-pass-1"}
    )
    assert token.status_code == 200, token.text
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    mine = (await client.get("/api/v1/classes", headers=auth)).json()["items"]
    assert [(c["name"]) for c in mine] == ["1班"] and mine[0]["school_id"] == school


async def test_bad_staff_rows_are_listed_and_nothing_is_written(
    world: World, client: httpx.AsyncClient
) -> None:
    school = await new_school(client, world)
    assert (await upload(client, world, school, as_csv(school_rows(24)))).status_code == 200
    rows = staff_rows()
    rows[3]["班级"] = "9班"  # row 5: no such class
    rows[4].update({"年级": "一年级", "班级": "1班"})  # row 6: head teacher of 一年级1班
    rows[5].update({"年级": "一年级", "班级": "1班"})  # row 7: a second one for it
    data = as_csv(rows, headers=STAFF_HEADERS)
    dry = await upload_staff(client, world, school, data, dry_run=True)
    assert dry.status_code == 200
    found = {(p["row"], p["column"]): p["message"] for p in dry.json()["problems"]}
    assert "没有“一年级9班”" in found[(5, "班级")]
    assert "第 6 行已是该班班主任" in found[(7, "职务")]
    assert len(found) == 2

    real = await upload_staff(client, world, school, data)
    assert real.status_code == 422 and real.json()["code"] == "import.rows_rejected"
    assert real.json()["report"]["staff_created"] == []
    assert await staff_count(client, world, school) == 0


async def test_the_cli_onboards_a_school_with_both_files(
    world: World,
    client: httpx.AsyncClient,
    ctx: AppContext,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    school = await new_school(client, world)
    roster, staff = tmp_path / "学籍.csv", tmp_path / "教职工.csv"
    roster.write_bytes(as_csv(school_rows(24)))
    staff.write_bytes(as_csv(staff_rows(), headers=STAFF_HEADERS))
    args = ["--school-id", str(school), "--roster", str(roster), "--staff", str(staff)]
    args += ["--database-url", ctx.settings.database_url]
    assert await asyncio.to_thread(onboard, args) == 0
    out = capsys.readouterr().out
    assert '"students_created": 24' in out and '"unchanged": 0' in out
    assert await counts(client, world, school) == (6, 12, 24)
    assert await staff_count(client, world, school) == 16
    assert await asyncio.to_thread(onboard, args) == 0  # again: nothing to do
    assert '"unchanged": 24' in capsys.readouterr().out
