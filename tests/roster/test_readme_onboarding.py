"""The README's "A school in three calls" runs as written, with the files the repository ships;
the import templates download with one example row that imports as it is."""

from __future__ import annotations

import io
import json
import re
import shlex
from pathlib import Path

import httpx
import openpyxl

from tests.world import World

ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1"


def _three_calls() -> list[list[str]]:
    """The README block's curl commands, split as a shell would (continuations joined)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A school in three calls", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0].replace("\\\n", " ")
    calls = []
    for line in block.splitlines():
        line = line.split("  # ", 1)[0]
        if "curl" in line and "auth/token" not in line:
            command = line[line.index("curl") :].split(" | ", 1)[0].rstrip(")")
            calls.append(shlex.split(command))
    return calls


def _option(args: list[str], flag: str) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a == flag]


async def test_the_readme_onboarding_runs_with_the_shipped_files(
    world: World, client: httpx.AsyncClient
) -> None:
    calls = _three_calls()
    assert len(calls) == 4  # the school, the roster's dry run and its real run, the staff
    auth = world.auth("county_admin")
    school_id: int | None = None
    answers = []
    for args in calls:
        url = args[-1].replace("$B", API)
        if data := _option(args, "-d"):
            body = json.loads(data[0])
            body["township_id"] = world.ids["township_county"]  # the test world's township
            r = await client.post(url, json=body, headers=auth)
            assert r.status_code == 201, r.text
            school_id = r.json()["id"]
            continue
        form, files = {}, {}
        for item in _option(args, "-F"):
            key, value = item.split("=", 1)
            if value.startswith("@"):
                path = ROOT / value[1:]
                assert path.is_file(), f"the README uploads {value[1:]}, which must be shipped"
                files[key] = (path.name, path.read_bytes(), "text/csv")
            else:
                form[key] = str(school_id) if value == "$S" else value
        r = await client.post(url, data=form, files=files, headers=auth)
        assert r.status_code == 200, r.text
        answers.append(r.json())
    dry, roster, staff = answers
    assert dry["dry_run"] and not roster["dry_run"]
    assert dry["classes_created"] == roster["classes_created"]
    assert sorted(roster["classes_created"]) == ["三年级1班", "三年级2班", "四年级1班"]
    assert roster["students_created"] == 5 and roster["rejected"] == 0
    assert staff["rejected"] == 0 and len(staff["grants_added"]) == 5
    assert len(staff["staff_created"]) == 4


async def _template(client: httpx.AsyncClient, world: World, which: str) -> bytes:
    r = await client.get(f"{API}/imports/templates/{which}.xlsx", headers=world.auth("principal"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    return r.content


async def test_the_templates_download_and_their_example_rows_import(
    world: World, client: httpx.AsyncClient
) -> None:
    r = await client.get(f"{API}/imports/templates/roster.xlsx")
    assert r.status_code == 401
    roster = await _template(client, world, "roster")
    staff = await _template(client, world, "staff")
    sheet = openpyxl.load_workbook(io.BytesIO(roster)).active
    assert sheet is not None
    assert [c.value for c in sheet[2]][:2] == ["姓名", "学籍号"]
    assert sheet.cell(row=3, column=1).value == "张小明"  # the filled example row

    body = {"township_id": world.ids["township_county"], "name": "模板校", "code": "TPL-1"}
    r = await client.post(
        f"{API}/schools", json={**body, "kind": "primary"}, headers=world.auth("county_admin")
    )
    school = str(r.json()["id"])
    for url, content in ((f"{API}/imports/roster", roster), (f"{API}/imports/staff", staff)):
        r = await client.post(
            url,
            data={"school_id": school},
            files={"file": ("模板.xlsx", content, "application/octet-stream")},
            headers=world.auth("county_admin"),
        )
        assert r.status_code == 200, r.text
        assert r.json()["rejected"] == 0
    assert re.search("三年级1班", json.dumps(r.json(), ensure_ascii=False))
