"""Writing small XLSX reports: a title row, a header row, data rows and column widths.

Row 1 holds the title (merged over the table's width, bold), row 2 the headers (bold,
shaded, frozen below), data from row 3. Columns listed in ``percent_columns`` (0-based)
are formatted as percentages; their values are shares between 0 and 1 (or blank).

Every text is written as text, never as a formula: names and notes come from schools and
guardians, and county officials open these files. A text starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return gets a leading ``'`` (OWASP's CSV-injection advice, so a
copy saved as CSV stays inert too) and the cell is typed as a string. Characters XML cannot
hold are dropped (openpyxl's ``ILLEGAL_CHARACTERS_RE`` would otherwise refuse the whole
file), and sheet titles lose the characters Excel forbids in them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from app.core.local_times import local_wall_time
from app.core.text import xml_safe

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


# What a spreadsheet may read as the start of a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\\/?*\[\]:]")


def safe_text(value: str) -> str:
    """``value`` as a spreadsheet must hold it: XML-legal, never the start of a formula."""
    value = ILLEGAL_CHARACTERS_RE.sub("", xml_safe(value))
    if len(value) > 1 and value.startswith(FORMULA_START):
        return "'" + value
    return value


def sheet_title(name: str, taken: set[str]) -> str:
    """A title Excel accepts: no ``\\ / ? * [ ] :``, not blank, no edge apostrophes,
    at most 31 characters, unique within the workbook (case-insensitively)."""
    title = _SHEET_TITLE_FORBIDDEN.sub("_", ILLEGAL_CHARACTERS_RE.sub("", xml_safe(name)))
    title = title.strip().strip("'")[:31] or "Sheet"
    base, n = title, 1
    while title.casefold() in taken:
        n += 1
        suffix = f"({n})"
        title = base[: 31 - len(suffix)] + suffix
    taken.add(title.casefold())
    return title


def _put(ws: Worksheet, row: int, column: int, value: CellValue) -> Cell:
    if isinstance(value, datetime) and value.tzinfo is not None:
        # Excel has no time zones: a sheet shows the school's wall-clock time, never UTC
        value = local_wall_time(value)
    if isinstance(value, str):
        cell = ws.cell(row=row, column=column, value=safe_text(value))
        cell.data_type = "s"  # openpyxl types any text starting with "=" as a formula
        return cell
    return ws.cell(row=row, column=column, value=value)


def _write(ws: Worksheet, sheet: Sheet, taken: set[str]) -> None:
    ws.title = sheet_title(sheet.name, taken)
    _put(ws, 1, 1, sheet.title).font = _TITLE
    if len(sheet.headers) > 1:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(sheet.headers))
    for col, header in enumerate(sheet.headers, start=1):
        cell = _put(ws, 2, col, header)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
    for r, row in enumerate(sheet.rows, start=3):
        for c, value in enumerate(row, start=1):
            cell = _put(ws, r, c, value)
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
    taken: set[str] = set()
    for i, sheet in enumerate(sheets):
        _write(first if i == 0 else wb.create_sheet(), sheet, taken)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the real name as RFC 5987 ``filename*``."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
