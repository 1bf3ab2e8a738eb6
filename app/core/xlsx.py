"""Writing XLSX reports: a title row, a header row, data rows and column widths.

Row 1 holds the title (merged over the table's width, bold), row 2 the headers (bold,
shaded, frozen below), data from row 3. Columns listed in ``percent_columns`` (0-based)
are formatted as percentages; their values are shares between 0 and 1 (or blank).

Every text is written as text, never as a formula: names and notes come from schools and
guardians, and county officials open these files. A text starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return gets a leading ``'`` (OWASP's CSV-injection advice, so a
copy saved as CSV stays inert too) and the cell is written as a string. Characters XML cannot
hold are dropped, and sheet titles lose the characters Excel forbids in them.

The writer is XlsxWriter in ``constant_memory`` mode (issue 24 item 7): rows stream to a
temporary file as they are written, so a county's 50,000-row register costs a row's memory,
and it writes about four times faster than openpyxl's in-memory workbook (11.6 s CPU before).
Its own string conversions (formulas, numbers, URLs) are all off: each cell is written with
the method of its type. openpyxl stays for *reading* workbooks (app/core/workbooks.py).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import xlsxwriter
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from app.core.local_times import local_wall_time
from app.core.text import xml_safe

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

CellValue = str | int | float | date | datetime | None

_HEADER_FILL = "#DDEBF7"
# distinct texts of a sheet made safe once, at most (a bounded memo, see ``_write``)
_TEXTS_KEPT = 4096


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


class _Formats:
    """The workbook's cell formats, made once (XlsxWriter formats belong to a workbook)."""

    def __init__(self, wb: Any) -> None:
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.header = wb.add_format(
            {"bold": True, "bg_color": _HEADER_FILL, "pattern": 1, "align": "center"}
        )
        self.percent = wb.add_format({"num_format": "0.0%"})
        self.when = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.day = wb.add_format({"num_format": "yyyy-mm-dd"})


def _put(ws: Any, row: int, col: int, value: CellValue, fmt: Any, f: _Formats) -> None:
    """One cell (0-based), by its type; ``fmt`` overrides the date formats (percent columns)."""
    if isinstance(value, str):
        # an empty text is a blank cell, as openpyxl wrote it (read back as None)
        value = safe_text(value) or None
    if value is None:
        if fmt is not None:
            ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float | Decimal):
        number = float(value)
        if math.isfinite(number):
            ws.write_number(row, col, number, fmt)
        else:  # Excel has no NaN or infinity: blank, as a share of nothing
            ws.write_blank(row, col, None, fmt)
    elif isinstance(value, datetime):
        if value.tzinfo is not None:
            # Excel has no time zones: a sheet shows the school's wall-clock time, never UTC
            value = local_wall_time(value)
        ws.write_datetime(row, col, value, fmt or f.when)
    elif isinstance(value, date):
        ws.write_datetime(row, col, value, fmt or f.day)
    else:  # anything else is shown as its text, never interpreted
        ws.write_string(row, col, safe_text(str(value)), fmt)


def _write(wb: Any, sheet: Sheet, taken: set[str], f: _Formats) -> None:
    ws = wb.add_worksheet(sheet_title(sheet.name, taken))
    for col, width in enumerate(sheet.widths):
        ws.set_column(col, col, width)
    ws.freeze_panes(2, 0)
    # constant_memory writes rows in order: the title row, then the headers, then the data
    if len(sheet.headers) > 1:
        ws.merge_range(0, 0, 0, len(sheet.headers) - 1, "", f.title)
    _put(ws, 0, 0, sheet.title, f.title, f)
    for col, header in enumerate(sheet.headers):
        _put(ws, 1, col, header, f.header, f)
    percent = sheet.percent_columns
    write_string = ws.write_string
    # A register repeats its townships, schools and statuses on every row: each distinct text
    # is made safe once, up to _TEXTS_KEPT of them (a quarter of our own time went to the
    # two regexes of ``safe_text``).
    texts: dict[str, str | None] = {}
    for r, row in enumerate(sheet.rows, start=2):
        for c, value in enumerate(row):
            fmt = f.percent if c in percent else None
            if type(value) is str:  # the common case, without _put's dispatch
                text = texts.get(value, "")
                if text == "":
                    text = safe_text(value) or None
                    if len(texts) < _TEXTS_KEPT:
                        texts[value] = text
                if text is not None:
                    write_string(r, c, text, fmt)
                elif fmt is not None:
                    ws.write_blank(r, c, None, fmt)
            else:
                _put(ws, r, c, value, fmt, f)


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """One worksheet per ``Sheet``, in order; the file's bytes."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    f = _Formats(wb)
    taken: set[str] = set()
    for sheet in sheets or [Sheet(name="Sheet", title="", headers=(), rows=())]:
        _write(wb, sheet, taken, f)
    wb.close()
    return buf.getvalue()


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the real name as RFC 5987 ``filename*``."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
