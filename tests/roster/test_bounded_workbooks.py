"""Bounded workbooks (issue 26): a small hostile XLSX is refused fast and costs no memory.

The three files of the report, built here with ``zipfile`` (small on disk): five million
shared strings (~200 KB), one row of a million cells (~30 KB), one cell of 300 MB (~300 KB).
With the default limits each is refused from its zip directory alone, nothing inflated; with
the directory checks relaxed each is refused while it streams, at the first string, cell or
character past its limit. Each answer is a 413 problem document with the limit's code; the
log says how many bytes were unpacked (the count this file asserts), and tracemalloc's peak
and the memory left after the request are printed and bounded. Every import path (students,
onboarding roster, staff, school-age register) reads through the same guard.
"""

from __future__ import annotations

import gc
import io
import logging
import time
import tracemalloc
import zipfile
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.context import AppContext
from app.core import workbooks
from app.core.tables import FileError, ReadLimits, TooLarge
from app.roster import parse
from app.settings import Settings
from tests.roster.test_import import HEADERS, roster_row
from tests.world import World

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_OD = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XML = '<?xml version="1.0" encoding="UTF-8"?>'
_CT = f"""{_XML}<Types xmlns="{_PKG}/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="{_SML}.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_SML}.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="{_SML}.sharedStrings+xml"/>
</Types>"""
_RELS = f"""{_XML}<Relationships xmlns="{_PKG}/relationships">
<Relationship Id="rId1" Type="{_OD}/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
_BOOK = f"""{_XML}<workbook xmlns="{MAIN}" xmlns:r="{_OD}">{{views}}
<sheets><sheet name="花名册" sheetId="1" r:id="rId1"/></sheets></workbook>"""
_BOOK_RELS = f"""{_XML}<Relationships xmlns="{_PKG}/relationships">
<Relationship Id="rId1" Type="{_OD}/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{_OD}/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>"""
MiB = 1024 * 1024


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _inline(value: object) -> bytes:
    return f'<c t="inlineStr"><is><t>{_escape(str(value))}</t></is></c>'.encode()


def _header_row() -> bytes:
    """The roster's headers as shared strings 0..n-1."""
    cells = "".join(f'<c t="s"><v>{i}</v></c>' for i in range(len(HEADERS)))
    return f"<row>{cells}</row>".encode()


def _data_row(seq: int) -> bytes:
    row = roster_row(seq, 出生日期="2015-03-07")
    return b"<row>" + b"".join(_inline(row[h]) for h in HEADERS) + b"</row>"


def build(
    rows: Iterable[bytes],
    extra_strings: Iterable[bytes] = (),
    *,
    doctype: bytes = b"",
    views: str = "",
) -> bytes:
    """An XLSX whose sheet holds ``rows`` (each a ``<row>`` element, header row first) and
    whose shared strings are the headers then ``extra_strings``; written part by part, in
    chunks, so that a part of hundreds of MB never sits in the test's memory."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, text in (
            ("[Content_Types].xml", _CT),
            ("_rels/.rels", _RELS),
            ("xl/workbook.xml", _BOOK.format(views=views)),
            ("xl/_rels/workbook.xml.rels", _BOOK_RELS),
        ):
            z.writestr(name, text)
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0" encoding="UTF-8"?>' + doctype)
            part.write(f'<sst xmlns="{MAIN}">'.encode())
            part.write(b"".join(f"<si><t>{h}</t></si>".encode() for h in HEADERS))
            for chunk in extra_strings:
                part.write(chunk)
            part.write(b"</sst>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">'.encode())
            part.write(b"<sheetData>")
            for row in rows:
                part.write(row)
            part.write(b"</sheetData></worksheet>")
    return out.getvalue()


def _repeat(piece: bytes, times: int, per_chunk: int = 100_000) -> Iterator[bytes]:
    while times > 0:
        n = min(times, per_chunk)
        yield piece * n
        times -= n


@cache
def many_strings() -> bytes:
    """Five million shared strings."""
    return build([_header_row(), _data_row(1)], _repeat(b"<si><t>x</t></si>", 5_000_000))


@cache
def wide_row() -> bytes:
    """A header row, then one row of a million cells."""
    row = b"<row>" + b"".join(_repeat(b"<c><v>1</v></c>", 1_000_000)) + b"</row>"
    return build([_header_row(), row])


@cache
def long_cell() -> bytes:
    """A header row, then a row whose first cell holds 300 MB of text."""

    def row() -> Iterator[bytes]:
        yield b'<row><c t="inlineStr"><is><t>'
        yield from _repeat(b"x" * 1024, 300 * 1024, per_chunk=1024)
        yield b"</t></is></c></row>"

    return build([_header_row(), *row()])


HOSTILE = {
    "many_strings": (many_strings, "import.too_many_strings", "共享字符串"),
    "wide_row": (wide_row, "import.row_too_wide", "单元格"),
    "long_cell": (long_cell, "import.cell_too_long", "字符"),
}
# Directory checks out of the way, so that the streaming limits are what stops each file.
RELAXED = {
    "import_max_ratio": 1e9,
    "import_max_part_bytes": 2**40,
    "import_max_unpacked_bytes": 2**40,
    "import_max_shared_strings": 10_000,
}
_KEYS = (*RELAXED, "import_time_limit_seconds", "import_max_concurrent", "import_max_parts")


@pytest.fixture
def limits(ctx: AppContext) -> Iterator[Any]:
    saved = {k: getattr(ctx.settings, k) for k in _KEYS}

    def set_(**values: Any) -> None:
        for key, value in values.items():
            setattr(ctx.settings, key, value)

    yield set_
    set_(**saved)


def _rss() -> int:
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def _refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "kcbx.imports" and hasattr(r, "refusal")]


async def _post(client: httpx.AsyncClient, world: World, data: bytes) -> httpx.Response:
    return await client.post(
        "/api/v1/imports/students",
        files={"file": ("花名册.xlsx", data)},
        data={"school_id": str(world.ids["school_A"])},
        headers=world.auth("principal"),
    )


async def _measured(
    client: httpx.AsyncClient, world: World, data: bytes, label: str
) -> tuple[httpx.Response, int, int]:
    """The answer, tracemalloc's peak during the request and what stayed allocated after it
    (the request is made once before, so first-use caches are not counted)."""
    await _post(client, world, data)
    gc.collect()
    rss_before = _rss()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        started = time.perf_counter()
        r = await _post(client, world, data)
        elapsed = time.perf_counter() - started
        gc.collect()
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    kept = after - before
    print(
        f"\n{label}: {len(data) / 1024:.0f} KB file → {r.status_code} in {elapsed:.2f} s; "
        f"peak {(peak - before) / MiB:.1f} MiB allocated, {kept / 1024:.0f} KiB kept; "
        f"RSS {rss_before / MiB:.0f} → {_rss() / MiB:.0f} MiB"
    )
    return r, peak - before, kept


def _declared(data: bytes) -> int:
    return sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_each_hostile_workbook_is_refused_from_its_directory(
    world: World, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    make, _, _ = HOSTILE[name]
    data = make()
    assert len(data) < 400 * 1024 and _declared(data) > 10 * MiB  # small on disk, big inside
    caplog.set_level(logging.INFO, "kcbx.imports")
    r, peak, kept = await _measured(client, world, data, f"{name} (default limits)")
    assert r.status_code == 413, r.text
    body = r.json()
    assert body["code"] == "import.workbook_too_large" and "工作簿过大" in body["detail"]
    assert r.headers["content-type"].startswith("application/problem+json")
    assert all(rec.inflated == 0 for rec in _refusals(caplog))  # nothing was unpacked
    assert peak < 16 * MiB and kept < 4 * MiB
    r = await client.get(
        "/api/v1/students",
        params={"school_id": world.ids["school_A"]},
        headers=world.auth("principal"),
    )
    assert r.json()["total"] == 2  # nothing imported


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_past_the_directory_checks_the_stream_stops_at_the_limit(
    world: World,
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    limits: Any,
    name: str,
) -> None:
    limits(**RELAXED)
    make, code, words = HOSTILE[name]
    data = make()
    caplog.set_level(logging.INFO, "kcbx.imports")
    r, peak, kept = await _measured(client, world, data, f"{name} (directory relaxed)")
    assert r.status_code == 413, r.text
    assert r.json()["code"] == code and words in r.json()["detail"]
    inflated = [rec.inflated for rec in _refusals(caplog)]
    print(f"unpacked {inflated[-1] / 1024:.0f} KiB of {_declared(data) / MiB:.0f} MiB declared")
    assert inflated and max(inflated) < 2 * MiB  # stopped at the limit, not at the end
    assert peak < 32 * MiB and kept < 4 * MiB


def test_the_scan_counts_what_it_let_through() -> None:
    """The same three files read by the roster reader itself: the refusal comes at the first
    string, cell or character past the limit, one chunk of XML read beyond it at most."""
    relaxed = ReadLimits(max_ratio=1e9, max_part_bytes=2**40, max_total_bytes=2**40)
    cases = {
        "many_strings": (many_strings(), relaxed, "shared_strings", relaxed.max_shared_strings),
        "wide_row": (wide_row(), relaxed, "widest_row", relaxed.max_row_cells),
        "long_cell": (long_cell(), relaxed, None, None),
    }
    for name, (data, lim, counter, most) in cases.items():
        archive = workbooks.check_archive(data, lim)
        with pytest.raises(TooLarge) as refused:
            book, _ = workbooks.open_workbook(data, lim)
            try:
                for sheet in book.worksheets:
                    for _ in sheet.iter_rows(values_only=True):
                        pass
            finally:
                book.close()
        archive.close()
        assert refused.value.code == HOSTILE[name][1]
        inflated = refused.value.inflated
        assert inflated is not None
        print(f"{name}: refused after {inflated / 1024:.0f} KiB of {_declared(data) / MiB:.0f} MiB")
        if counter == "shared_strings":
            # 17 bytes a string: the limit's worth of XML and one 64 KiB chunk at most.
            assert inflated <= (most or 0) * 17 + 64 * 1024 + 4096
        elif counter == "widest_row":
            assert inflated <= (most or 0) * 16 + 64 * 1024 + 4096
        else:
            assert inflated <= 32_767 + 2 * 64 * 1024
        with pytest.raises(TooLarge):
            parse.read_roster(data, "花名册.xlsx", lim)


def test_an_ordinary_workbook_built_the_same_way_is_read() -> None:
    """The builder makes real workbooks: without hostile parts the reader reads them."""
    data = build([_header_row(), *(_data_row(i) for i in range(1, 4))])
    roster = parse.read_roster(data, "花名册.xlsx")
    assert [r.cells["姓名"] for r in roster.rows] == ["新生1", "新生2", "新生3"]


def test_only_cells_are_bounded_together_and_whitespace_between_tags_is_not_a_cell() -> None:
    # A pretty-printed part: 40,000 characters of indentation, in runs between tags.
    views = "<bookViews>" + "\n    <workbookView/>" * 10_000 + "</bookViews>"
    data = build([_header_row(), _data_row(1)], views=views)
    assert len(parse.read_roster(data, "x.xlsx").rows) == 1
    # A cell of 30,000 characters is within Excel's 32,767 ...
    long = "长" * 30_000
    data = build([_header_row(), b"<row>" + _inline(long) + b"</row>"])
    parse.raw_rows(data, "x.xlsx")
    # ... and a shared string of three rich-text runs of 15,000 is not.
    rich = b"<si>" + (b"<r><t>" + b"x" * 15_000 + b"</t></r>") * 3 + b"</si>"
    with pytest.raises(TooLarge) as refused:
        parse.raw_rows(build([_header_row(), _data_row(1)], [rich]), "x.xlsx")
    assert refused.value.code == "import.cell_too_long"


def test_directory_limits() -> None:
    plain = build([_header_row(), _data_row(1)])
    parse.read_roster(plain, "x.xlsx", ReadLimits(max_parts=6))  # 6 parts: within
    with pytest.raises(TooLarge, match="部件"):
        parse.read_roster(plain, "x.xlsx", ReadLimits(max_parts=5))
    with pytest.raises(TooLarge, match="解压后超过"):
        parse.read_roster(plain, "x.xlsx", ReadLimits(max_part_bytes=100))
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as z:  # 2,000 empty entries, refused before zipfile parses
        for i in range(2000):
            z.writestr(f"p{i}", b"")
    with pytest.raises(TooLarge) as refused:
        parse.read_roster(many.getvalue(), "x.xlsx")
    assert refused.value.code == "import.workbook_too_large"


def test_a_dtd_is_refused_before_any_entity_is_expanded() -> None:
    laughs = (
        b'<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    )
    data = build([_header_row(), _data_row(1)], [b"<si><t>&c;</t></si>"], doctype=laughs)
    with pytest.raises(FileError) as refused:
        parse.read_roster(data, "x.xlsx")
    assert not isinstance(refused.value, TooLarge)


def test_a_shared_string_index_out_of_range_is_a_422_not_a_500() -> None:
    data = build([_header_row(), b'<row><c t="s"><v>999999</v></c></row>'])
    with pytest.raises(FileError, match="XLSX"):
        parse.read_roster(data, "x.xlsx")


def test_csv_rows_and_cells_are_bounded_too() -> None:
    header = ",".join(HEADERS)
    with pytest.raises(TooLarge) as refused:
        parse.read_roster((header + "\n" + "," * 20_000).encode(), "x.csv")
    assert refused.value.code == "import.row_too_wide"
    with pytest.raises(TooLarge) as refused:
        parse.read_roster((header + "\n" + "x" * 40_000).encode(), "x.csv")
    assert refused.value.code == "import.cell_too_long"


PATHS = {
    "students": lambda w: (
        "/api/v1/imports/students",
        {"school_id": str(w.ids["school_A"])},
        w.auth("principal"),
    ),
    "roster": lambda w: (
        "/api/v1/imports/roster",
        {"school_id": str(w.ids["school_A"])},
        w.auth("principal"),
    ),
    "staff": lambda w: (
        "/api/v1/imports/staff",
        {"school_id": str(w.ids["school_A"])},
        w.auth("principal"),
    ),
    "school_age": lambda w: (
        f"/api/v1/counties/{w.ids['county']}/school-age-children/import",
        {},
        w.auth("county_admin"),
    ),
}


@pytest.mark.parametrize("path", list(PATHS))
async def test_every_import_path_reads_through_the_guard(
    world: World, client: httpx.AsyncClient, limits: Any, path: str
) -> None:
    url, form, auth = PATHS[path](world)
    for data, code in ((many_strings(), "import.workbook_too_large"), (wide_row(), None)):
        if code is None:
            limits(**RELAXED)
        r = await client.post(url, files={"file": ("表.xlsx", data)}, data=form, headers=auth)
        assert r.status_code == 413, r.text
        assert r.json()["code"] == (code or "import.row_too_wide")


async def test_imports_beyond_the_cap_are_told_to_come_back(
    ctx: AppContext, world: World, client: httpx.AsyncClient, limits: Any
) -> None:
    limits(import_max_concurrent=1)
    data = build([_header_row(), _data_row(500)])
    assert ctx.import_slots.take(1)  # an import is running
    try:
        r = await _post(client, world, data)
        assert r.status_code == 429, r.text
        assert r.json()["code"] == "import.busy" and int(r.headers["Retry-After"]) > 0
    finally:
        ctx.import_slots.give_back()
    r = await _post(client, world, data)
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 1
    assert ctx.import_slots.busy == 0  # given back after the import, and after a refusal
    await _post(client, world, wide_row())
    assert ctx.import_slots.busy == 0


async def test_an_import_stops_at_its_time_limit(
    world: World, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, limits: Any
) -> None:
    limits(import_time_limit_seconds=0.2)
    rows = [_header_row(), *(_data_row(i) for i in range(1, 20_001))]
    data = build(rows)
    caplog.set_level(logging.INFO, "kcbx.imports")
    started = time.perf_counter()
    r = await _post(client, world, data)
    print(f"\ntime limit 0.2 s: {r.status_code} after {time.perf_counter() - started:.2f} s")
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "import.time_limit" and "0.2 秒" in r.json()["detail"]
    inflated = _refusals(caplog)[-1].inflated
    assert inflated is not None and inflated < _declared(data) / 2  # stopped part way
    r = await client.get(
        "/api/v1/students",
        params={"school_id": world.ids["school_A"]},
        headers=world.auth("principal"),
    )
    assert r.json()["total"] == 2


def test_the_readers_defaults_are_the_settings_defaults_and_documented() -> None:
    """``ReadLimits()`` (the CLI's and the tests' default) is what a bare deployment reads
    with, and the README's configuration table names every limit with its default."""
    defaults = Settings(environment="test")
    assert ReadLimits.of(defaults, timed=False) == ReadLimits()
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name, field in Settings.model_fields.items():
        if name.startswith("import_"):
            default = field.default
            shown = str(
                int(default) if isinstance(default, float) and default.is_integer() else default
            )
            assert f"| `KCBX_{name.upper()}` | `{shown}` |" in readme, name
