"""What every spreadsheet import shares (rosters, staff sheets, the school-age register): the
file-level errors, the import mode, the limits a reader obeys and the slots imports take.

A refusal is a ``FileError``: ``TooLarge`` (answered 413) when the file holds more than one
import may read — rows, a workbook's parts or sizes, shared strings, cells in a row, characters
in a cell, or more time than ``ReadLimits.seconds`` — and any other ``FileError`` (422) when it
is not a table we can read. ``code`` is the problem document's code.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.settings import Settings


class FileError(ValueError):
    """The file as a whole cannot be imported; the message is for the person uploading it.
    ``inflated``: for a workbook, how many bytes were unpacked before it was refused."""

    inflated: int | None = None


class TooLarge(FileError):
    """More than one import may read (413); ``code`` says which limit."""

    def __init__(self, message: str, code: str = "payload_too_large") -> None:
        super().__init__(message)
        self.code = code


class TooManyRows(TooLarge):
    """More data rows than one import may hold."""

    def __init__(self, max_rows: int) -> None:
        super().__init__(
            f"文件超过 {max_rows} 行,请拆分后分批导入 (more than {max_rows} rows: split the file)"
        )


class ImportMode(StrEnum):
    all_or_nothing = "all_or_nothing"  # any bad row: nothing is imported
    valid_only = "valid_only"  # import the good rows, report the others


MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """How much of an uploaded table one import reads (settings ``KCBX_IMPORT_*``; the
    defaults are the settings' defaults). Workbooks (app/core/workbooks.py): the zip
    directory is judged before anything is inflated (``max_parts``, ``max_part_bytes``,
    ``max_total_bytes`` declared uncompressed, ``max_ratio`` of a part over 1 MiB), then
    ``max_shared_strings``, ``max_row_cells`` and ``max_cell_chars`` are counted while the
    XML streams; CSV rows obey the last two as well. ``deadline`` (``time.monotonic``) ends
    reading and checking ``seconds`` after the import began; None: no time limit (the CLI)."""

    max_rows: int = 20_000
    max_parts: int = 1000
    max_part_bytes: int = 100 * MiB
    max_total_bytes: int = 200 * MiB
    max_ratio: float = 100
    max_shared_strings: int = 500_000
    max_row_cells: int = 16_384  # Excel's own column count
    max_cell_chars: int = 32_767  # Excel's own limit for a cell
    seconds: float | None = None
    deadline: float | None = None

    @classmethod
    def of(cls, settings: Settings, *, timed: bool = True) -> ReadLimits:
        """The settings' limits; with ``timed``, the time limit starts now."""
        seconds = settings.import_time_limit_seconds if timed else None
        return cls(
            max_rows=settings.import_max_rows,
            max_parts=settings.import_max_parts,
            max_part_bytes=settings.import_max_part_bytes,
            max_total_bytes=settings.import_max_unpacked_bytes,
            max_ratio=settings.import_max_ratio,
            max_shared_strings=settings.import_max_shared_strings,
            max_row_cells=settings.import_max_row_cells,
            max_cell_chars=settings.import_max_cell_chars,
            seconds=seconds,
            deadline=None if seconds is None else time.monotonic() + seconds,
        )

    def check_time(self) -> None:
        """``TooLarge`` (``import.time_limit``) once the deadline has passed."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TooLarge(
                f"文件在 {self.seconds:g} 秒内未能读完,请拆分后分批导入 "
                f"(not read within {self.seconds:g} s: split the file)",
                "import.time_limit",
            )

    def check_cells(self, cells: int) -> None:
        if cells > self.max_row_cells:
            raise TooLarge(
                f"一行超过 {self.max_row_cells} 个单元格 "
                f"(a row holds more than {self.max_row_cells} cells)",
                "import.row_too_wide",
            )

    def check_chars(self, chars: int) -> None:
        if chars > self.max_cell_chars:
            raise TooLarge(
                f"单元格超过 {self.max_cell_chars} 个字符 "
                f"(a cell holds more than {self.max_cell_chars} characters)",
                "import.cell_too_long",
            )


DEFAULT_LIMITS = ReadLimits()


class ImportSlots:
    """The imports one process runs at once. The event loop is one thread, so a plain count
    is enough; ``take`` says whether a slot was free (the caller answers 429 if not)."""

    def __init__(self) -> None:
        self.busy = 0

    def take(self, capacity: int) -> bool:
        if self.busy >= capacity:
            return False
        self.busy += 1
        return True

    def give_back(self) -> None:
        self.busy = max(0, self.busy - 1)
