"""Writing small XLSX reports: a title row, a header row, data rows and column widths.

Row 1 holds the title (merged over the table's width, bold), row 2 the headers (bold,
shaded, frozen below), data from row 3. Columns listed in ``percent_columns`` (0-based)
are formatted as percentages; their values are shares between 0 and 1 (or blank).

Every text is written as text, never as a formula: names and notes come from schools and
guardians, and county officials open these files. A text starting with ``=``, ``+``, ``-``,
``@``, a tab or a line break gets a leading ``'`` (OWASP's CSV-injection advice, so a
copy saved as CSV stays inert too) and the cell is typed as a string. Characters XML cannot
hold are dropped (openpyxl's ``ILLEGAL_CHARACTERS_RE`` would otherwise refuse the whole
file), and sheet titles lose the characters Excel forbids in them.

Written with XlsxWriter (issue 24 item 7: a 50,000-row register in under 3 s): in its
constant-memory mode rows go to the file as they come, without openpyxl's cell objects (about
twice as fast for the same sheet, and flat in memory). openpyxl stays for reading workbooks.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import quote

import xlsxwriter
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from app.core.local_times import local_wall_time
from app.core.text import xml_safe

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

CellValue = str | int | float | date | datetime | None

# Workbook options: every text stays text (no formula, number or link guessed from it), rows
# stream to a temporary file as they are written (constant memory: a county's 50,000-row
# register never sits in memory as cell objects), a NaN or infinity becomes an error cell
# instead of failing the whole file.
_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
    "nan_inf_to_errors": True,
}


@dataclass
class Sheet:
    name: str
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[CellValue]]
    widths: Sequence[float] = ()
    percent_columns: frozenset[int] = field(default_factory=frozenset)


# What a spreadsheet may read as the start of a formula (OWASP CSV injection); a carriage
# return is a line feed by then (below).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\\/?*\[\]:]")


def safe_text(value: str) -> str:
    """``value`` as a spreadsheet must hold it: XML-legal, never the start of a formula."""
    if value.isprintable() and not value.startswith(FORMULA_START):
        return value  # most cells: no control character, nothing to neutralise (C-fast test)
    # A cell's line break is a line feed. A carriage return would be stored escaped
    # (``_x000D_``), which Excel reads back but openpyxl, and so our own imports, do not.
    value = value.replace("\r\n", "\n").replace("\r", "\n")
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


@dataclass
class _Formats:
    title: Format
    header: Format
    percent: Format
    moment: Format
    day: Format


def _formats(wb: xlsxwriter.Workbook) -> _Formats:
    return _Formats(
        title=wb.add_format({"bold": True, "font_size": 14}),
        header=wb.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "pattern": 1, "align": "center"}
        ),
        percent=wb.add_format({"num_format": "0.0%"}),
        moment=wb.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        day=wb.add_format({"num_format": "yyyy-mm-dd"}),
    )


def _put(
    ws: Worksheet, row: int, column: int, value: CellValue, fmt: _Formats, percent: bool
) -> None:
    """One cell (0-based). Text always as a string cell, whatever it starts with; no value
    and empty text leave the cell empty (as a reader expects of a blank)."""
    if value is None or value == "":
        if percent:  # a blank share keeps its column's format, for whoever fills it in
            ws.write_blank(row, column, None, fmt.percent)
        return
    if isinstance(value, str):
        _write_text(ws, row, column, value)
    elif isinstance(value, datetime):
        # Excel has no time zones: a sheet shows the school's wall-clock time, never UTC
        naive = local_wall_time(value) if value.tzinfo is not None else value
        ws.write_datetime(row, column, naive, fmt.percent if percent else fmt.moment)
    elif isinstance(value, date):
        ws.write_datetime(row, column, value, fmt.percent if percent else fmt.day)
    elif isinstance(value, bool):
        ws.write_boolean(row, column, value)
    else:
        ws.write_number(row, column, value, fmt.percent if percent else None)


# Text the fast path of ``_write`` hands to ``safe_text``: what may start a formula, and ``<``
# (see ``_write_text``); other printable text goes to the cell as it is.
_CAREFUL_START = (*FORMULA_START, "<")


def _write_text(
    ws: Worksheet, row: int, column: int, value: str, cell_format: Format | None = None
) -> None:
    """A text cell. In constant-memory mode XlsxWriter writes a string that starts with
    ``<r>`` and ends with ``</r>`` into the sheet's XML unescaped, as the rich text it
    builds itself (a name typed as ``<r><t>x</t></r></is><f>…</f><is><r>…</r>`` would be a
    formula); such a text goes through ``write_rich_string`` in plain runs, which escapes
    them, and reads back as the same text."""
    value = safe_text(value)
    if value.startswith("<r>") and value.endswith("</r>"):
        runs = (value[:1], value[1:2], value[2:])
        ws.write_rich_string(row, column, *runs, *([cell_format] if cell_format else []))
    else:
        ws.write_string(row, column, value, cell_format)


def _write(ws: Worksheet, sheet: Sheet, fmt: _Formats) -> None:
    # Widths and the frozen header before any row: in constant-memory mode rows are final
    # once the next one starts.
    for col, width in enumerate(sheet.widths):
        ws.set_column(col, col, width)
    ws.freeze_panes(2, 0)
    if len(sheet.headers) > 1:  # merged empty, then its first cell written (XlsxWriter's way)
        ws.merge_range(0, 0, 0, len(sheet.headers) - 1, "", fmt.title)
    _write_text(ws, 0, 0, sheet.title, fmt.title)
    for col, header in enumerate(sheet.headers):
        _write_text(ws, 1, col, header, fmt.header)
    _write_rows(ws, sheet, fmt)


def _write_cells(
    ws: Worksheet, r: int, row: Sequence[CellValue], fmt: _Formats, percent: frozenset[int]
) -> None:
    """One data row through XlsxWriter's typed methods: the cells most rows are made of
    (printable text, whole numbers outside the share columns) directly, the rest by _put."""
    write_string, write_number = ws.write_string, ws.write_number
    for c, value in enumerate(row):
        if isinstance(value, str) and value:
            if value.isprintable() and not value.startswith(_CAREFUL_START):
                write_string(r, c, value)
            else:
                _write_text(ws, r, c, value)
        elif type(value) is int and c not in percent:  # not bool
            write_number(r, c, value)
        else:
            _put(ws, r, c, value, fmt, c in percent)


# Text XlsxWriter would change on its way into the sheet's XML (``&<>`` escaped, ``_xHHHH_``
# escaped, ``xml:space="preserve"`` for edge whitespace: its xmlwriter and utility modules).
# With ``_CAREFUL_START`` (``<`` included) and a control character (not printable), what
# ``_write_text`` would not write as it is, either.
_NOT_AS_IT_IS = re.compile(r"[&<>]|_x[0-9a-fA-F]{4}_|^[\s=+\-@]|\s$")
_EXCEL_DAY_ZERO = date(1899, 12, 30).toordinal()  # serial 0, past Excel's 1900 leap-day bug
_FIRST_PLAIN_DAY = date(1900, 3, 1)  # from here a day's serial is its distance from day zero
_TEXT_LIMIT = 32767 // 2  # shorter than this, XlsxWriter never truncates a text


def _row_xml(
    r: int, row: Sequence[CellValue], cells: list[str], styles: _Styles, percent: frozenset[int]
) -> tuple[str, int, int] | None:
    """A data row's ``<row>`` element as XlsxWriter writes it in constant-memory mode, for
    rows of the common cells only (plain printable text, whole numbers and dates outside the
    share columns, blanks), with its first and last written column; None for any other row,
    which goes through XlsxWriter's methods. ``cells[c]`` is column c's ``<c r="`` and name."""
    n = str(r + 1)
    parts = [f'<row r="{n}">']
    first = last = -1
    for c, value in enumerate(row):
        if c in percent:
            return None
        kind = type(value)
        if kind is str:
            if not value:
                continue
            text: str = value  # type: ignore[assignment]
            if len(text) > _TEXT_LIMIT or not text.isprintable() or _NOT_AS_IT_IS.search(text):
                return None
            parts.append(f'{cells[c]}{n}" t="inlineStr"><is><t>{text}</t></is></c>')
        elif value is None:
            continue
        elif kind is int:
            parts.append(f'{cells[c]}{n}"><v>{value:.16G}</v></c>')
        elif kind is date and value >= _FIRST_PLAIN_DAY:  # type: ignore[operator]
            serial = value.toordinal() - _EXCEL_DAY_ZERO  # type: ignore[union-attr]
            parts.append(f'{cells[c]}{n}"{styles.day()}><v>{serial}</v></c>')
        else:
            return None
        if first < 0:
            first = c
        last = c
    if first < 0:
        return None  # nothing to write: XlsxWriter writes no row either
    parts.append("</row>")
    return "".join(parts), first, last


class _Styles:
    """The style attributes of the cells ``_row_xml`` writes, each format's index taken on
    its first use, as XlsxWriter takes it (the indices are numbered in order of use)."""

    def __init__(self, fmt: _Formats) -> None:
        self._fmt = fmt
        self._day: str | None = None

    def day(self) -> str:
        if self._day is None:
            self._day = f' s="{self._fmt.day._get_xf_index()}"'
        return self._day


def _write_rows(ws: Worksheet, sheet: Sheet, fmt: _Formats) -> None:
    """The data rows, from the sheet's third row. XlsxWriter spends about 5 µs on each cell
    (argument checks, a cell tuple, the XML written piece by piece: 2.3 of the 50,000-row
    register's 2.8 s, issue 24 item 7); a row of common cells is written here as the same
    XML in one piece, straight to the worksheet's row file (constant-memory mode), and any
    other row through XlsxWriter. The two take turns by XlsxWriter's own rule: a row it holds
    is written out when a later row starts (``_write_single_row``)."""
    rows, percent, first = sheet.rows, sheet.percent_columns, 2
    width = max(map(len, rows), default=0)
    if not ws.constant_memory or width > ws.xls_colmax or first + len(rows) > ws.xls_rowmax:
        for r, row in enumerate(rows, start=first):
            _write_cells(ws, r, row, fmt, percent)
        return
    cells = [f'<c r="{xl_col_to_name(c)}' for c in range(width)]
    styles = _Styles(fmt)
    # The extent of the rows written here, for the sheet's <dimension> (XlsxWriter's
    # _check_dimensions notes it of the cells it is given).
    low_row = low_col = ws.xls_rowmax
    high_row = high_col = -1
    write = ws.fh.write
    for r, row in enumerate(rows, start=first):
        if ws.table:  # a row XlsxWriter holds: out first (and its formats' indices given)
            ws._write_single_row(r)
        found = _row_xml(r, row, cells, styles, percent)
        if found is None:
            _write_cells(ws, r, row, fmt, percent)
            continue
        xml, lo, hi = found
        write(xml)
        ws.previous_row = r
        if low_row > r:
            low_row = r
        high_row = r
        if lo < low_col:
            low_col = lo
        if hi > high_col:
            high_col = hi
    if high_row >= 0:
        for name, value, pick in (
            ("dim_rowmin", low_row, min),
            ("dim_rowmax", high_row, max),
            ("dim_colmin", low_col, min),
            ("dim_colmax", high_col, max),
        ):
            now = getattr(ws, name)
            setattr(ws, name, value if now is None else pick(now, value))


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """One worksheet per ``Sheet``, in order; the file's bytes."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, _OPTIONS)
    fmt = _formats(wb)
    taken: set[str] = set()
    for sheet in sheets or [Sheet(name="Sheet", title="", headers=(), rows=())]:
        _write(wb.add_worksheet(sheet_title(sheet.name, taken)), sheet, fmt)
    wb.close()
    return buf.getvalue()


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the real name as RFC 5987 ``filename*``."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
