"""Exports cannot attack their readers, and one bad legacy name cannot break them.

A name starting with ``=`` must come out of every XLSX as text (no formula cell), and a
control character stored before input was checked must neither break an export (it used to
answer 500 for the whole school) nor reach the file.
"""

from __future__ import annotations

import io
from typing import Any

import docx
import httpx
from openpyxl import load_workbook
from sqlalchemy import text

from app.context import AppContext
from app.core.text import XML_ILLEGAL
from app.core.xlsx import XLSX_MEDIA_TYPE, Sheet, safe_text, sheet_title, workbook_bytes
from app.main import create_app
from tests.helpers import FRIDAY, MONDAY, TUESDAY, absent_case
from tests.world import World

HOSTILE = ['=HYPERLINK("http://evil.example","点我")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def _cells(content: bytes) -> list[Any]:
    wb = load_workbook(io.BytesIO(content))
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row]


def test_hostile_text_is_written_as_text_never_as_a_formula() -> None:
    rows = [[name, 1] for name in HOSTILE] + [["学生\x01甲\x0b", 2], ["-", 3], ["普通", -4]]
    content = workbook_bytes(
        [
            Sheet("三年级[1]班:名单?", "=TITLE()", ["=姓名", "数"], rows),
            Sheet("三年级[1]班:名单?", "t", ["x"], []),
        ]
    )
    cells = _cells(content)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    values = [c.value for c in cells if isinstance(c.value, str)]
    for name in HOSTILE:
        # a carriage return is stored as the line feed a cell breaks lines with
        assert "'" + name.replace("\r", "\n") in values
    assert "'=TITLE()" in values and "'=姓名" in values
    assert "学生甲" in values and "-" in values
    assert not any(XML_ILLEGAL.search(v) for v in values)
    wb = load_workbook(io.BytesIO(content))
    assert wb.sheetnames == ["三年级_1_班_名单_", "三年级_1_班_名单_(2)"]
    assert -4 in [c.value for c in cells]


def test_text_shaped_like_rich_text_markup_stays_that_text() -> None:
    # XlsxWriter's streaming mode writes a string of the form <r>…</r> into the sheet as
    # markup; written so, this one would be a formula cell.
    forged = "<r><t>x</t></r></is><f>1+1</f><is><r><t>y</t></r>"
    texts = [forged, "<r><t>甲</t></r>", "<r>", "<r></r>", "a<r>b</r>"]
    content = workbook_bytes([Sheet("s", "<r>t</r>", ["<r>h</r>"], [[t, 1] for t in texts])])
    cells = _cells(content)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert [c.value for c in cells if isinstance(c.value, str)] == ["<r>t</r>", "<r>h</r>", *texts]


def test_sheet_titles_and_texts_are_made_safe() -> None:
    assert sheet_title("''", set()) == "Sheet"
    assert len(sheet_title("长" * 40, set())) == 31
    assert safe_text("=1\x00") == "'=1"
    assert safe_text("+") == "+"
    assert safe_text("\r\n=1") == "'\n=1" and safe_text("甲\r乙") == "甲\n乙"


def _params(op: dict[str, Any], world: World, kind: str | None) -> dict[str, str]:
    values = {
        "school_id": str(world.ids["school_A"]),
        "county_id": str(world.ids["county"]),
        "start": "2026-11-01",
        "end": "2026-11-30",
        "week_start": "2026-11-23",
        "month": "2026-11",
        "day": "2026-11-20",
        "format": "xlsx",
    }
    out = {}
    names = {p["name"] for p in op.get("parameters", [])}
    wanted = {"format"} | ({"school_id"} if "county_id" not in names else {"county_id"})
    for p in op.get("parameters", []):
        if p["in"] == "query" and (p.get("required") or p["name"] in wanted):
            out[p["name"]] = kind if p["name"] == "kind" and kind else values[p["name"]]
    return out


async def test_every_export_survives_hostile_and_broken_names(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    case_id = await absent_case(client, world, FRIDAY, MONDAY, TUESDAY)
    r = await client.post(
        f"/api/v1/cases/{case_id}/return-notice", json={}, headers=world.auth("principal")
    )
    assert r.status_code == 201, r.text
    notice_id = r.json()["id"]
    # Legacy rows, written before input was checked: formulas and control characters.
    poison = {
        "student": ('=HYPERLINK("http://evil.example","点我")\x01', world.ids["student_A1"]),
        "school": ("@学校A\x0b", world.ids["school_A"]),
        "school_class": ("+A1\x02", world.ids["class_A1"]),
        "county": ("-示例县\x1f", world.ids["county"]),
        "township": ("=镇\x08", world.ids["township_county"]),
    }
    async with ctx.engine.begin() as conn:
        for table, (name, ident) in poison.items():
            await conn.execute(
                text(f"UPDATE {table} SET name = :n WHERE id = :i"), {"n": name, "i": ident}
            )
        await conn.execute(text("UPDATE guardian SET name = :n"), {"n": "-家长\x03"})
        await conn.execute(text("UPDATE return_notice SET guardian_name = :n"), {"n": "=家长\x03"})
    ctx.cache.clear()
    # A monthly report submitted now stores the hostile names as sent; its XLSX is an export.
    r = await client.post(
        f"/api/v1/schools/{world.ids['school_A']}/monthly-reports",
        json={"month": "2026-11"},
        headers=world.auth("principal"),
    )
    assert r.status_code == 201, r.text

    doc = create_app(ctx).openapi()
    exports = [
        (path, op)
        for path, ops in doc["paths"].items()
        for op in ops.values()
        if XLSX_MEDIA_TYPE in op.get("responses", {}).get("200", {}).get("content", {})
    ]
    assert len(exports) >= 11
    seen_student = False
    files = 0
    for path, op in exports:
        url = path.replace("{county_id}", str(world.ids["county"]))
        url = url.replace("{school_id}", str(world.ids["school_A"]))
        kinds: list[str | None] = [None]
        if any(p["name"] == "kind" for p in op.get("parameters", [])):
            kinds = ["suspected_dropout", "dropout"]
        for kind in kinds:
            params = _params(op, world, kind)
            r = await client.get(url, params=params, headers=world.auth("county_admin"))
            if r.status_code == 403:
                r = await client.get(url, params=params, headers=world.auth("principal"))
            assert r.status_code == 200, (path, kind, r.text)
            assert r.headers["content-type"].startswith(XLSX_MEDIA_TYPE)
            files += 1
            cells = _cells(r.content)
            assert [c.coordinate for c in cells if c.data_type == "f"] == [], path
            values = [c.value for c in cells if isinstance(c.value, str)]
            assert not any(XML_ILLEGAL.search(v) for v in values), path
            assert not any(v.startswith(("=", "+", "-", "@")) and len(v) > 1 for v in values)
            seen_student |= '\'=HYPERLINK("http://evil.example","点我")' in values
    assert files >= 12
    assert seen_student  # the special-group ledger lists the student by name

    r = await client.get(
        f"/api/v1/return-notices/{notice_id}/document", headers=world.auth("principal")
    )
    assert r.status_code == 200, r.text
    body = "\n".join(p.text for p in docx.Document(io.BytesIO(r.content)).paragraphs)
    assert "=家长（家长/监护人）" in body and "\x03" not in body
    assert '=HYPERLINK("http://evil.example","点我")' in body
