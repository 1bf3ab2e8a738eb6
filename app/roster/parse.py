"""School rosters (花名册) as schools keep them: CSV or XLSX with Chinese column headers.

Columns (header names; a ``*`` or a note in brackets after a name is ignored, so
``姓名*`` and ``出生日期(yyyy-mm-dd)`` are read as ``姓名`` and ``出生日期``):

- required: 姓名, 学籍号, 班级, 监护人, 联系电话, and 身份证号 — or, for a roster without ID
  numbers, both 性别 and 出生日期;
- optional: 年级, 性别 (男/女), 出生日期, 监护人关系 (default 监护人), 送教上门, and the
  special-group flags 留守儿童, 残疾儿童, 单亲, 孤儿, 家庭经济困难 (是/否, blank = 否).

The class is named in one of two ways: a 年级 column (``三年级``, ``3`` or ``3年级``) with
a 班级 column holding the class name within that grade (``1班`` or ``1``); or a single
班级 column with the grade and class together (``三年级1班``, ``三年级(1)班``). A bare class
name is also accepted when it is unique in the school.

Dates may be ``2015-03-07``, ``2015/3/7``, ``2015.3.7``, ``2015年3月7日``, ``20150307`` or
Excel date cells. Unknown columns are ignored. The header is the first row containing 姓名
(title rows above it are skipped); row numbers are those the spreadsheet shows. CSV may be
UTF-8 (with or without BOM), GBK/GB18030 — what Excel in China saves — or UTF-16.

A file holds at most ``limits.max_rows`` data rows (``KCBX_IMPORT_MAX_ROWS``, default 20,000
— a large school's whole roster): reading stops at the first row beyond it and the file is
refused whole (``TooManyRows``, answered 413), so a small XLSX claiming a million rows never
fills memory. XLSX sheets are streamed (openpyxl read-only mode) through the workbook guard
(app/core/workbooks.py: the zip directory judged first, then shared strings, cells per row
and cell length counted as the XML streams), at most ``MAX_COLUMNS`` columns read; a CSV is
read row by row under the same cells-per-row and cell-length limits. Every reader checks
``limits``' deadline as it goes.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import PurePath
from typing import Any

from app.core.tables import DEFAULT_LIMITS, FileError, ReadLimits, TooManyRows
from app.core.workbooks import UNREADABLE, open_workbook
from app.domain.students import GENDER_FROM_LABEL

Cell = str | int | float | bool | date | datetime | None

NAME, GENDER, BIRTH_DATE, STUDENT_NO, ID_NUMBER = "姓名", "性别", "出生日期", "学籍号", "身份证号"
GRADE, CLASS, HOME_SCHOOLED = "年级", "班级", "送教上门"
GUARDIAN, RELATION, MOBILE = "监护人", "监护人关系", "联系电话"
# Header → the SpecialGroups field it sets.
SPECIAL_GROUP_COLUMNS = {
    "留守儿童": "left_behind",
    "残疾儿童": "disabled",
    "单亲": "single_parent",
    "孤儿": "orphan",
    "家庭经济困难": "poverty",
}
REQUIRED = (NAME, STUDENT_NO, CLASS, GUARDIAN, MOBILE)
KNOWN = frozenset(
    {*REQUIRED, GENDER, BIRTH_DATE, ID_NUMBER, GRADE, RELATION, HOME_SCHOOLED}
    | SPECIAL_GROUP_COLUMNS.keys()
)
# Other names the same columns go by in exports from 学籍系统 and school templates.
ALIASES = {
    "学生姓名": NAME,
    "全国学籍号": STUDENT_NO,
    "身份证件号": ID_NUMBER,
    "公民身份号码": ID_NUMBER,
    "身份证号码": ID_NUMBER,
    "班级名称": CLASS,
    "监护人姓名": GUARDIAN,
    "家长姓名": GUARDIAN,
    "与学生关系": RELATION,
    "监护人电话": MOBILE,
    "家长电话": MOBILE,
    "手机号": MOBILE,
    "联系方式": MOBILE,
    "单亲家庭": "单亲",
}

_HEADER_SEARCH_ROWS = 10
# Formatting can leave a sheet with a million empty rows; real rosters have no such gaps.
_MAX_BLANK_RUN = 1000
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 .xls
_NOTE = re.compile(r"[(（\[【].*?[)）\]】]")


MAX_COLUMNS = 200


@dataclass(frozen=True, slots=True)
class Row:
    number: int  # as the spreadsheet shows it: the header is usually row 1
    cells: dict[str, Cell]  # canonical header → value, known columns only


@dataclass(frozen=True, slots=True)
class Roster:
    columns: frozenset[str]
    rows: list[Row]


def read_roster(
    data: bytes, filename: str | None = None, limits: ReadLimits = DEFAULT_LIMITS
) -> Roster:
    """Read a CSV or XLSX roster; ``FileError`` when it is neither or lacks a required column,
    ``TooLarge`` beyond ``limits`` (``TooManyRows`` beyond ``limits.max_rows`` data rows)."""
    return _roster(raw_rows(data, filename, limits), limits.max_rows)


def raw_rows(
    data: bytes, filename: str | None, limits: ReadLimits = DEFAULT_LIMITS
) -> list[tuple[int, list[Cell]]]:
    """The rows of a CSV or XLSX file as (row number, cells), blank rows included, within
    ``limits``; ``FileError`` for a file of another kind or an empty one."""
    suffix = PurePath(filename or "").suffix.lower()
    if data.startswith(_OLE_MAGIC):
        raise FileError(
            "不支持 Excel 97-2003 (.xls) 文件,请另存为 .xlsx 或 CSV (save as .xlsx or CSV)"
        )
    is_zip = data.startswith(_ZIP_MAGIC)
    if suffix in (".xlsx", ".xlsm") or (is_zip and suffix in ("", ".csv")):
        raw = _xlsx_rows(data, limits)
    elif suffix in ("", ".csv", ".txt") and not is_zip:
        raw = _csv_rows(data, limits)
    else:
        raise FileError(_NOT_A_ROSTER)
    if not raw:
        raise FileError("文件是空的 (the file is empty)")
    return raw


_NOT_A_ROSTER = "仅支持 CSV 或 XLSX 文件 (only CSV and XLSX files are accepted)"


def _read_limit(max_rows: int) -> int:
    """Non-blank rows to read at most: the header may sit below title rows, so a file whose
    non-blank rows exceed this certainly has more than ``max_rows`` data rows."""
    return max_rows + _HEADER_SEARCH_ROWS + 1


def _csv_rows(data: bytes, limits: ReadLimits) -> list[tuple[int, list[Cell]]]:
    text = _decode(data)
    if "\x00" in text:
        raise FileError(_NOT_A_ROSTER)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[Cell]]] = []
    filled, limit = 0, _read_limit(limits.max_rows)
    try:
        for n, cells in enumerate(reader, start=1):
            limits.check_cells(len(cells))
            limits.check_chars(max(map(len, cells), default=0))
            if n % 1000 == 0:
                limits.check_time()
            row: list[Cell] = list(cells[:MAX_COLUMNS])
            if not _blank(row):
                filled += 1
                if filled > limit:
                    raise TooManyRows(limits.max_rows)
            rows.append((n, row))
    except csv.Error as exc:
        raise FileError(f"CSV 格式错误 (malformed CSV): {exc}") from exc
    return rows


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileError("无法识别 CSV 文件的编码,请存为 UTF-8 (unknown text encoding: save as UTF-8)")


def _xlsx_rows(data: bytes, limits: ReadLimits) -> list[tuple[int, list[Cell]]]:
    book, scan = open_workbook(data, limits)
    try:
        sheets = book.worksheets
        sheet = next((s for s in sheets if _has_header(s)), sheets[0] if sheets else None)
        if sheet is None:
            return []
        rows: list[tuple[int, list[Cell]]] = []
        blank_run = filled = 0
        limit = _read_limit(limits.max_rows)
        for n, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), 1):
            cells = list(values)
            if _blank(cells):
                blank_run += 1
                if blank_run > _MAX_BLANK_RUN:
                    break
            else:
                blank_run = 0
                filled += 1
                if filled > limit:
                    raise TooManyRows(limits.max_rows)
            rows.append((n, cells))
        return rows
    except FileError:
        raise
    except Exception as exc:  # a cell openpyxl cannot make sense of (a string index, a date)
        raise scan.refusal or FileError(UNREADABLE) from exc
    finally:
        book.close()


def _has_header(sheet: Any) -> bool:
    head = sheet.iter_rows(max_row=_HEADER_SEARCH_ROWS, values_only=True)
    return any(NAME in {header_name(c) for c in row} for row in head)


def header_name(cell: Cell) -> str:
    """The canonical column a header cell names ('' for an empty one)."""
    name = _NOTE.sub("", unicodedata.normalize("NFKC", text(cell)))
    name = re.sub(r"\s+", "", name).strip("*")
    return ALIASES.get(name, name)


def _roster(raw: list[tuple[int, list[Cell]]], max_rows: int) -> Roster:
    head = raw[:_HEADER_SEARCH_ROWS]
    start = next((i for i, (_, cells) in enumerate(head) if NAME in map(header_name, cells)), 0)
    positions: dict[str, int] = {}
    for index, cell in enumerate(raw[start][1]):
        name = header_name(cell)
        if name not in KNOWN:
            continue
        if name in positions:
            raise FileError(f"列“{name}”出现了两次 (column {name} appears twice)")
        positions[name] = index
    _require_columns(positions.keys())
    rows = [
        Row(number, {name: _at(cells, i) for name, i in positions.items()})
        for number, cells in raw[start + 1 :]
        if not _blank(cells)
    ]
    if not rows:
        raise FileError("文件中没有学生数据 (no student rows under the header)")
    if len(rows) > max_rows:
        raise TooManyRows(max_rows)
    return Roster(frozenset(positions), rows)


def _require_columns(have: AbstractSet[str]) -> None:
    missing = [c for c in REQUIRED if c not in have]
    if ID_NUMBER not in have and not {GENDER, BIRTH_DATE} <= have:
        missing.append(f"{ID_NUMBER}(或{GENDER}和{BIRTH_DATE})")
    if missing:
        raise FileError(f"缺少必填列:{'、'.join(missing)} (missing required columns)")


def _at(cells: list[Cell], index: int) -> Cell:
    return cells[index] if index < len(cells) else None


def _blank(cells: list[Cell]) -> bool:
    return all(text(c) == "" for c in cells)


# --- cell values ---------------------------------------------------------------------------


def text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "是" if cell else "否"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell).strip()


def compact(cell: Cell) -> str:
    """A code (ID number, 学籍号, phone): full-width digits folded, inner spaces removed."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text(cell)))


_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.IGNORECASE)


def id_text(cell: Cell) -> str:
    """An ID number; one that Excel turned into a number has lost its last digits."""
    value = compact(cell)
    if (isinstance(cell, float) and cell >= 1e15) or _SCIENTIFIC.match(value):
        raise ValueError(
            "身份证号被 Excel 存成了数字,末几位已丢失;请把该列设为“文本”后重新填写 "
            "(Excel stored the ID number as a number and lost digits: format the column as text)"
        )
    return value


def mobile_text(cell: Cell) -> str:
    value = compact(cell).replace("-", "")
    return value.removeprefix("+86")


_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")
_EXCEL_EPOCH = date(1899, 12, 30)
_BAD_DATE = "出生日期应写作 2015-03-07、2015/3/7 或 20150307 (unrecognised date)"


def as_date(cell: Cell) -> date | None:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        if 19000101 <= cell <= 29991231:
            return _ymd(str(int(cell)))
        if 1 <= cell < 100_000:  # an Excel serial day number in a cell without date format
            return _EXCEL_EPOCH + timedelta(days=int(cell))
        raise ValueError(_BAD_DATE)
    value = unicodedata.normalize("NFKC", text(cell))
    if not value:
        return None
    if re.fullmatch(r"\d{8}", value):
        return _ymd(value)
    match = _YMD.match(value)
    if match is None:
        raise ValueError(_BAD_DATE)
    return _checked(*(int(g) for g in match.groups()))


def _ymd(digits: str) -> date:
    return _checked(int(digits[:4]), int(digits[4:6]), int(digits[6:]))


def _checked(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValueError(_BAD_DATE) from exc


def as_gender(cell: Cell) -> str | None:
    value = compact(cell).lower()
    if not value:
        return None
    if value not in GENDER_FROM_LABEL:
        raise ValueError("性别应填“男”或“女” (expected 男 or 女)")
    return GENDER_FROM_LABEL[value]


_YES = frozenset({"是", "y", "yes", "true", "1", "√", "✓", "有"})
_NO = frozenset({"否", "n", "no", "false", "0", "×", "无", ""})


def as_flag(cell: Cell) -> bool:
    value = compact(cell).lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise ValueError("应填“是”或“否” (expected 是 or 否)")
