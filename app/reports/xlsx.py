"""Writing small XLSX reports: a title row, a header row, data rows and column widths.

Row 1 holds the title (merged over the table's width, bold), row 2 the headers (bold,
shaded, frozen below), data from row 3. Columns listed in ``percent_columns`` (0-based)
are formatted as percentages; their values are shares between 0 and 1 (or blank).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

CellValue = str | int | float | date | datetime | None

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


@dataclass
class Sheet:
    name: str
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[CellValue]]
    widths: Sequence[float] = ()
    percent_columns: frozenset[int] = field(default_factory=frozenset)


def _write(ws: Worksheet, sheet: Sheet) -> None:
    ws.title = sheet.name[:31]
    ws.cell(row=1, column=1, value=sheet.title).font = _TITLE
    if len(sheet.headers) > 1:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(sheet.headers))
    for col, header in enumerate(sheet.headers, start=1):
        cell = ws.cell(row=2, column=col, value=header)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
    for r, row in enumerate(sheet.rows, start=3):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c, value=value)
            if c - 1 in sheet.percent_columns:
                cell.number_format = "0.0%"
            elif isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
    for col, width in enumerate(sheet.widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A3"


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """One worksheet per ``Sheet``, in order; the file's bytes."""
    wb = Workbook()
    first = wb.active
    assert first is not None
    for i, sheet in enumerate(sheets):
        _write(first if i == 0 else wb.create_sheet(), sheet)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def table_bytes(
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[CellValue]],
    widths: Sequence[float] = (),
    *,
    sheet_name: str = "Sheet1",
) -> bytes:
    """A workbook with a single table."""
    return workbook_bytes([Sheet(sheet_name, title, headers, rows, widths)])


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the real name as RFC 5987 ``filename*``."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
