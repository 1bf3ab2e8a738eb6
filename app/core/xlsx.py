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

Written here, part by part, into the zip (issue 24 item 7: a 50,000-row register in under
3 s): each row's cells go out as SpreadsheetML text (inline strings, styles by index into a
fixed styles.xml), a few thousand rows at a time, streamed into the sheet's deflated part.
XlsxWriter's constant-memory mode, used before, spent about 5 µs of Python a cell (3.4 s CPU
for 650,000 cells; this writer 0.5–0.7 s) and openpyxl's cell objects twice that. The files
read the same (values, number formats, fonts, fill, merged title, frozen header, column
widths as XlsxWriter computed them). openpyxl stays for reading workbooks.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import quote

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from app.core.local_times import local_wall_time
from app.core.text import xml_safe

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

CellValue = str | int | float | date | datetime | None

# The package's namespaces and content types.
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
# Deflate level of the parts: 1 is a few times faster than the default 6 on a 30 MB sheet
# and the file about a third larger.
_LEVEL = 1


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


# Cell styles (``cellXfs`` of styles.xml, by index): the default, the title (bold, 14 pt), the
# header (bold, shaded, centred), a share (0.0%), an instant (yyyy-mm-dd hh:mm), a day.
_TITLE, _HEADER, _PERCENT, _MOMENT, _DAY = 1, 2, 3, 4, 5
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="3"><numFmt numFmtId="164" formatCode="0.0%"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/>'
    '<numFmt numFmtId="166" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="3">'
    '<font><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/>'
    '<scheme val="minor"/></font>'
    '<font><b/><sz val="14"/><color theme="1"/><name val="Calibri"/><family val="2"/>'
    '<scheme val="minor"/></font>'
    '<font><b/><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/>'
    '<scheme val="minor"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/>'
    '<bgColor indexed="64"/></patternFill></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="6"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="2" fillId="2" borderId="0" xfId="0" applyFont="1" '
    'applyFill="1" applyAlignment="1"><alignment horizontal="center"/></xf>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
# Spreadsheet dates: days since 1899-12-30 (Excel's 1900 system, its phantom 29 February
# 1900 included, as XlsxWriter counts them).
_EPOCH = datetime(1899, 12, 31)
_DAY_SECONDS = 86400.0


def _serial(value: datetime) -> float:
    delta = value - _EPOCH
    days = delta.days + (delta.seconds + delta.microseconds / 1e6) / _DAY_SECONDS
    return days + 1 if days > 59 else days


def _column(index: int) -> str:
    """Column letters of a 0-based column index (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(value: str) -> str:
    """Text as XML element content (already ``safe_text``)."""
    if "&" in value or "<" in value or ">" in value:
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value


def _attr(value: str) -> str:
    return _text(value).replace('"', "&quot;")


def _string_cell(ref: str, value: str, style: int = 0) -> str:
    s = f' s="{style}"' if style else ""
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{_text(value)}</t></is></c>'


def _cell(ref: str, value: CellValue, percent: bool) -> str:
    """One cell. Text always as an inline string cell, whatever it starts with; no value and
    empty text leave the cell out (as a reader expects of a blank), but a blank share keeps
    its column's format, for whoever fills it in."""
    if value is None or value == "":
        return f'<c r="{ref}" s="{_PERCENT}"/>' if percent else ""
    if isinstance(value, str):
        return _string_cell(ref, safe_text(value))
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, datetime):
        # Excel has no time zones: a sheet shows the school's wall-clock time, never UTC
        naive = local_wall_time(value) if value.tzinfo is not None else value
        style = _PERCENT if percent else _MOMENT
        return f'<c r="{ref}" s="{style}"><v>{_serial(naive):.16G}</v></c>'
    if isinstance(value, date):
        style = _PERCENT if percent else _DAY
        days = _serial(datetime(value.year, value.month, value.day))
        return f'<c r="{ref}" s="{style}"><v>{days:.16G}</v></c>'
    s = f' s="{_PERCENT}"' if percent else ""
    if isinstance(value, float) and not math.isfinite(value):
        # an error cell instead of a file Excel refuses
        return f'<c r="{ref}"{s} t="e"><v>{"#NUM!" if math.isnan(value) else "#DIV/0!"}</v></c>'
    return f'<c r="{ref}"{s}><v>{value if isinstance(value, int) else f"{value:.16G}"}</v></c>'


def _width(width: float) -> float:
    """A column width in characters as Excel stores it: whole pixels (Calibri 11: 7-pixel
    digits and 5 pixels of padding, below one character 12 pixels each) in 1/256ths of a
    digit, as XlsxWriter converts it."""
    pixels = int(width * 12 + 0.5) if width < 1 else int(width * 7 + 0.5) + 5
    return (pixels * 256 // 7) / 256


def _cols(widths: Sequence[float]) -> Iterator[str]:
    """``<col>`` of each run of neighbouring columns of the same width."""
    first = 0
    for c, w in enumerate(widths):
        if c + 1 == len(widths) or widths[c + 1] != w:
            yield f'<col min="{first + 1}" max="{c + 1}" width="{_width(w):.16g}" customWidth="1"/>'
            first = c + 1


# Text that ``_cell`` must look at (escape, neutralise, keep its edge spaces); any other
# printable text goes into the cell as it is.
_NEEDS_CARE = re.compile(r"[&<>]|^[=+\-@\s]|\s$")


def _rows_xml(
    rows: Sequence[Sequence[CellValue]], first: int, letters: list[str], percent: frozenset[int]
) -> str:
    """Rows numbered from ``first``: plain text and whole numbers written here (most cells
    of a register), everything else by ``_cell``."""
    out: list[str] = []
    add = out.append
    care = _NEEDS_CARE.search
    for n, row in enumerate(rows, start=first):
        add(f'<row r="{n}">')
        for c, value in enumerate(row):
            if isinstance(value, str) and value and value.isprintable() and not care(value):
                add(f'<c r="{letters[c]}{n}" t="inlineStr"><is><t>{value}</t></is></c>')
            elif type(value) is int and c not in percent:
                add(f'<c r="{letters[c]}{n}"><v>{value}</v></c>')
            else:
                add(_cell(f"{letters[c]}{n}", value, c in percent))
        add("</row>")
    return "".join(out)


# Rows go to the file in batches of this many, each as one string.
_BATCH = 2000


def _sheet_xml(sheet: Sheet, selected: bool) -> Iterator[str]:
    """The worksheet's XML in pieces: the title row (merged over the headers' width), the
    header row frozen above the data, then the data rows as they come."""
    width = max(len(sheet.headers), max(map(len, sheet.rows), default=0), 1)
    letters = [_column(c) for c in range(width)]
    last_row = len(sheet.rows) + 2
    tab = ' tabSelected="1"' if selected else ""
    yield (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
        f'<dimension ref="A1:{letters[-1]}{last_row}"/>'
        f'<sheetViews><sheetView{tab} workbookViewId="0">'
        '<pane ySplit="2" topLeftCell="A3" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
    )
    if sheet.widths:
        yield f"<cols>{''.join(_cols(sheet.widths))}</cols>"
    title = _string_cell("A1", safe_text(sheet.title), _TITLE)
    merged = len(sheet.headers) > 1
    if merged:  # the merged range's other cells carry the title's format too
        title += "".join(f'<c r="{x}1" s="{_TITLE}"/>' for x in letters[1 : len(sheet.headers)])
    headers = "".join(
        _string_cell(f"{letters[c]}2", safe_text(h), _HEADER) for c, h in enumerate(sheet.headers)
    )
    yield f'<sheetData><row r="1">{title}</row><row r="2">{headers}</row>'
    rows = sheet.rows
    for first in range(0, len(rows), _BATCH):
        yield _rows_xml(rows[first : first + _BATCH], first + 3, letters, sheet.percent_columns)
    yield "</sheetData>"
    if merged:
        end = letters[len(sheet.headers) - 1]
        yield f'<mergeCells count="1"><mergeCell ref="A1:{end}1"/></mergeCells>'
    yield (
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        "</worksheet>"
    )


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """One worksheet per ``Sheet``, in order; the file's bytes."""
    sheets = sheets or [Sheet(name="Sheet", title="", headers=(), rows=())]
    taken: set[str] = set()
    titles = [sheet_title(sheet.name, taken) for sheet in sheets]
    n = range(1, len(sheets) + 1)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=_LEVEL) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Types xmlns="{_PKG}/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                f'ContentType="{_CT}.worksheet+xml"/>'
                for i in n
            )
            + f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{_PKG}/relationships">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        z.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView/></bookViews>'
            "<sheets>"
            + "".join(
                f'<sheet name="{_attr(t)}" sheetId="{i}" r:id="rId{i}"/>'
                for i, t in zip(n, titles, strict=True)
            )
            + "</sheets></workbook>",
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{_PKG}/relationships">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" '
                f'Target="worksheets/sheet{i}.xml"/>'
                for i in n
            )
            + f'<Relationship Id="rId{len(sheets) + 1}" Type="{_REL}/styles" '
            'Target="styles.xml"/></Relationships>',
        )
        z.writestr("xl/styles.xml", _STYLES)
        for i, sheet in zip(n, sheets, strict=True):
            with z.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as f:
                for piece in _sheet_xml(sheet, selected=i == 1):
                    f.write(piece.encode())
    return buf.getvalue()


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the real name as RFC 5987 ``filename*``."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
