"""Opening an uploaded XLSX within bounds, so that a small file cannot tie up the server.

An XLSX is a zip of XML parts; what it costs to read is what it unpacks to, not its size on
disk (a 208 KB file can declare five million shared strings). Two checks, both cheap:

1. **The zip directory, before anything is inflated** (``check_archive``): at most
   ``max_parts`` entries (counted from the directory's signatures, an upper bound, before
   ``zipfile`` builds an object per entry), each part's declared uncompressed size at most
   ``max_part_bytes`` and all of them at most ``max_total_bytes``, and no part over 1 MiB
   packed more than ``max_ratio`` times. ``zipfile`` never inflates a part past the size its
   directory declares (it stops there and fails the CRC), so the declared sizes are binding.
   Encrypted parts are refused.
2. **While the XML streams** (``open_workbook``): openpyxl reads every part through the
   archive's ``open``; here every such stream is fed, chunk by chunk, to an expat parser
   *before* openpyxl's own parser sees the chunk. It counts shared strings (``<si>``), cells
   in the current ``<row>`` and characters in a cell or text node, refuses a DTD (no entity
   tricks), and checks the deadline on every chunk. The first limit passed stops the read
   there: openpyxl has parsed at most one chunk (64 KiB inflated) beyond it, so nothing
   builds up in memory.

A refusal is ``TooLarge`` (413) or ``FileError`` (422, not a workbook). openpyxl wraps
errors raised under it, so the refusal is also kept on ``Scan.refusal``: the caller answers
that, whatever openpyxl made of it. ``Scan`` also counts what was read, for tests and logs.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, Literal, cast
from xml.parsers import expat

from openpyxl import Workbook
from openpyxl.reader.excel import ExcelReader

from app.core.tables import FileError, MiB, ReadLimits, TooLarge

UNREADABLE = "无法读取该 XLSX 文件 (not a readable XLSX workbook)"
_CENTRAL_DIRECTORY_ENTRY = b"PK\x01\x02"
_RATIO_FROM_BYTES = MiB  # smaller parts cost nothing, whatever their ratio
_CHUNK = 64 * 1024
# SpreadsheetML's namespaces (transitional, strict) as expat names elements: "<uri> <name>".
_MAIN = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_CELL = frozenset(f"{ns} c" for ns in _MAIN)
_ROW = frozenset(f"{ns} row" for ns in _MAIN)
_STRING = frozenset(f"{ns} si" for ns in _MAIN)
_CELL_TEXT = frozenset(f"{ns} {tag}" for ns in _MAIN for tag in ("t", "v", "f"))


@dataclass
class Scan:
    """What the guard let through: inflated XML bytes, shared strings, the widest row."""

    limits: ReadLimits
    bytes_read: int = 0
    shared_strings: int = 0
    widest_row: int = 0
    parts_opened: list[str] = field(default_factory=list)
    refusal: FileError | None = None

    def refuse(self, error: FileError) -> FileError:
        """The first refusal met, which every later read raises again."""
        if self.refusal is None:
            self.refusal = error
        if self.refusal.inflated is None:
            self.refusal.inflated = self.bytes_read
        return self.refusal


def check_archive(data: bytes, limits: ReadLimits) -> _GuardedArchive:
    """The archive, once its directory is within ``limits`` (``TooLarge`` otherwise); every
    part opened from it is scanned (its ``scan`` counts)."""
    if data.count(_CENTRAL_DIRECTORY_ENTRY) > limits.max_parts:
        raise _too_large(f"超过 {limits.max_parts} 个部件 (more than {limits.max_parts} parts)")
    try:
        archive = _GuardedArchive(io.BytesIO(data), Scan(limits))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise FileError(UNREADABLE) from exc
    total = 0
    for info in archive.infolist():
        if info.flag_bits & 0x1:
            raise FileError("XLSX 文件已加密,请去掉密码后再导入 (encrypted: remove the password)")
        total += info.file_size
        if info.file_size > limits.max_part_bytes:
            most = limits.max_part_bytes // MiB
            raise _too_large(f"部件 {info.filename} 解压后超过 {most} MiB (a part over {most} MiB)")
        if info.file_size > _RATIO_FROM_BYTES and (
            info.file_size > limits.max_ratio * max(info.compress_size, 1)
        ):
            raise _too_large(
                f"部件 {info.filename} 压缩比超过 {limits.max_ratio:g} 倍 "
                f"(a part packed more than {limits.max_ratio:g} times)"
            )
    if total > limits.max_total_bytes:
        most = limits.max_total_bytes // MiB
        raise _too_large(f"解压后超过 {most} MiB (more than {most} MiB unpacked)")
    return archive


def _too_large(why: str) -> TooLarge:
    error = TooLarge(
        f"工作簿过大:{why},请拆分后分批导入 (workbook too large)", "import.workbook_too_large"
    )
    error.inflated = 0
    return error


def open_workbook(data: bytes, limits: ReadLimits) -> tuple[Workbook, Scan]:
    """openpyxl's read-only, values-only workbook over the checked archive, and its ``Scan``.
    Close the workbook when done; a refusal met later (while rows stream) is raised from the
    row iteration, and is also on ``Scan.refusal``."""
    archive = check_archive(data, limits)
    try:
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
        reader.archive.close()  # openpyxl's own, unguarded: it reads through ours instead
        reader.archive = archive
        reader.read()
    except Exception as exc:  # openpyxl raises a zoo of types for a damaged or foreign zip
        archive.close()
        raise archive.scan.refuse(
            exc if isinstance(exc, FileError) else FileError(UNREADABLE)
        ) from exc
    return reader.wb, archive.scan


class _GuardedArchive(zipfile.ZipFile):
    """A zip whose every opened part is scanned as it is read."""

    def __init__(self, file: IO[bytes], scan: Scan) -> None:
        super().__init__(file)
        self.scan = scan

    def open(
        self,
        name: str | zipfile.ZipInfo,
        mode: Literal["r", "w"] = "r",
        pwd: bytes | None = None,
        **kw: Any,
    ) -> IO[bytes]:
        stream = super().open(name, mode, pwd, **kw)
        if mode != "r":
            return stream
        part = name.filename if isinstance(name, zipfile.ZipInfo) else name
        self.scan.parts_opened.append(part)
        return cast(IO[bytes], _Scanned(stream, _PartScanner(self.scan)))


class _PartScanner:
    """One part's XML through expat, counting what the limits bound."""

    def __init__(self, scan: Scan) -> None:
        self.scan = scan
        self.limits = scan.limits
        self.cells = 0  # in the current row
        self.cell_chars = 0  # in the texts of the current cell or shared string
        self.run_chars = 0  # since the last tag
        self.in_cell_text = False
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.StartElementHandler = self._start
        parser.CharacterDataHandler = self._text
        parser.StartDoctypeDeclHandler = self._doctype
        self.parser = parser

    def feed(self, chunk: bytes, final: bool = False) -> None:
        self.scan.bytes_read += len(chunk)
        self._guarded(lambda: self.limits.check_time())
        self._guarded(lambda: self.parser.Parse(chunk, final))

    def _guarded(self, step: Callable[[], object]) -> None:
        if self.scan.refusal is not None:
            raise self.scan.refusal
        try:
            step()
        except FileError as exc:
            raise self.scan.refuse(exc) from None
        except expat.ExpatError as exc:
            raise self.scan.refuse(FileError(UNREADABLE)) from exc

    def _start(self, name: str, _attrs: object) -> None:
        self.run_chars = 0
        if name in _CELL_TEXT:  # a value, formula or text (run) of a cell or shared string
            self.in_cell_text = True
            return
        self.in_cell_text = False
        if name in _CELL:
            self.cells += 1
            self.cell_chars = 0
            if self.cells > self.scan.widest_row:
                self.scan.widest_row = self.cells
                self.limits.check_cells(self.cells)
        elif name in _ROW:
            self.cells = 0
        elif name in _STRING:
            self.cell_chars = 0
            self.scan.shared_strings += 1
            if self.scan.shared_strings > self.limits.max_shared_strings:
                most = self.limits.max_shared_strings
                raise TooLarge(
                    f"共享字符串超过 {most} 个,请拆分后分批导入 (more than {most} shared strings)",
                    "import.too_many_strings",
                )

    def _text(self, data: str) -> None:
        """Any text run is bounded; a cell's or shared string's runs (rich text has several)
        are bounded together."""
        self.run_chars += len(data)
        if self.in_cell_text:
            self.cell_chars += len(data)
            self.limits.check_chars(self.cell_chars)
        else:
            self.limits.check_chars(self.run_chars)

    def _doctype(self, *_args: object) -> None:
        raise FileError(UNREADABLE)


class _Scanned(io.RawIOBase):
    """A part's stream whose bytes pass the scanner before the reader gets them."""

    def __init__(self, stream: IO[bytes], scanner: _PartScanner) -> None:
        self._stream = stream
        self._scanner = scanner
        self._done = False

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(_CHUNK), b""))
        chunk = self._stream.read(min(size, _CHUNK))
        if chunk:
            self._scanner.feed(chunk)
        elif not self._done:
            self._done = True
            self._scanner.feed(b"", final=True)
        return chunk

    def readinto(self, buffer: Any) -> int:
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self._stream.close()
        super().close()
