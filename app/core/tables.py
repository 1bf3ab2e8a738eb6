"""What every spreadsheet import shares (rosters, staff sheets, the school-age register): the
file-level errors and the import mode."""

from __future__ import annotations

from enum import StrEnum


class FileError(ValueError):
    """The file as a whole cannot be imported; the message is for the person uploading it."""


class TooManyRows(FileError):
    """More data rows than one import may hold."""

    def __init__(self, max_rows: int) -> None:
        super().__init__(
            f"文件超过 {max_rows} 行,请拆分后分批导入 (more than {max_rows} rows: split the file)"
        )


class ImportMode(StrEnum):
    all_or_nothing = "all_or_nothing"  # any bad row: nothing is imported
    valid_only = "valid_only"  # import the good rows, report the others
