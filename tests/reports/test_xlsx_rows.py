"""XLSX data rows written in one piece (app/core/xlsx.py ``_write_rows``, issue 24 item 7)
read back exactly as the cells XlsxWriter writes one by one: the same values, types,
formats and sheet extent, rows of plain cells and rows of any other cells mixed."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from app.core import xlsx
from app.core.xlsx import Sheet, workbook_bytes

ROWS: list[list[Any]] = [
    [1, "张三", "男", date(2015, 3, 4), "530102********1234", None, "", "a&b", "x"],
    [2, " 前空格", "后空格 ", "=1+1", "<r>x</r>", "_x0041_", "甲\n乙", date(1900, 1, 5), 2.5],
    [None, None, ""],
    [3, "普通", "青山镇", date(2016, 1, 1), "\u3000全角", "ok", None, None, 10**17],
    [4, "长" * 20000, True, datetime(2026, 9, 1, 0, 30, tzinfo=UTC)],
    [5, "宽", None, None, None, None, None, None, None, None, None, "第十二列"],
    [6, "李四", "女", date(2014, 12, 31), "530102********5678", "一村", "王五", "在读", "x"],
]
SHARES: list[list[Any]] = [["甲", 0.5, None, 3], ["乙", None, "", 2], ["丙", 1, "x", 1]]


def _book() -> bytes:
    return workbook_bytes(
        [
            Sheet("名单", "标题", [f"列{i}" for i in range(9)], ROWS, widths=(6, 10)),
            Sheet(
                "比例",
                "比例",
                ["乡镇", "甲", "乙", "丙"],
                SHARES,
                percent_columns=frozenset({1, 2}),
            ),
            Sheet("无表头", "", [], [[date(2020, 1, 1), 1]]),
        ]
    )


def _parts(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        # docProps/core.xml holds the time the file was made
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


def test_rows_written_in_one_piece_are_the_cells_xlsxwriter_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one_piece = xlsx._row_xml
    written: list[int] = []

    def counted(r: int, *args: Any) -> Any:
        found = one_piece(r, *args)
        if found is not None:
            written.append(r)
        return found

    monkeypatch.setattr(xlsx, "_row_xml", counted)
    fast = _parts(_book())
    # in one piece: 名单's last two rows (0-based 7, 8), the last sheet's row; the others
    # hold a cell XlsxWriter writes its own way (a share, "&", edge space, a float, ...)
    assert written == [7, 8, 2]
    monkeypatch.setattr(xlsx, "_row_xml", lambda *args: None)  # every row through XlsxWriter
    assert _parts(_book()) == fast


def test_mixed_rows_read_back_with_their_values() -> None:
    wb = load_workbook(io.BytesIO(_book()))
    ws = wb["名单"]
    assert ws.max_row == 2 + len(ROWS) and ws.max_column == 12
    got = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
    assert got[0][:5] == [1, "张三", "男", datetime(2015, 3, 4), "530102********1234"]
    assert got[0][5:9] == [None, None, "a&b", "x"]
    assert ws["D3"].number_format == "yyyy-mm-dd"
    # (_x0041_ is stored escaped, as XlsxWriter escapes it, and openpyxl reads it so: not
    # compared here; the test above holds it to XlsxWriter's own writing)
    assert got[1][1:5] == [" 前空格", "后空格 ", "'=1+1", "<r>x</r>"] and got[1][6] == "甲\n乙"
    assert got[2] == [None] * 12
    assert got[3][4] == "\u3000全角" and got[3][8] == 10**17
    assert got[4][2] is True and len(got[4][1]) == 20000
    assert got[5][11] == "第十二列"
    assert got[6][:8] == [6, "李四", "女", datetime(2014, 12, 31), *ROWS[6][4:8]]
    shares = wb["比例"]
    assert shares["B3"].number_format == "0.0%"
    assert [[c.value for c in row] for row in shares.iter_rows(min_row=3)] == [
        ["甲", 0.5, None, 3],
        ["乙", None, None, 2],
        ["丙", 1, "x", 1],
    ]
