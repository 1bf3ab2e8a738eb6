"""A report's file and the format it is asked in, shared by every feature that exports XLSX."""

from __future__ import annotations

from enum import StrEnum


class ReportFormat(StrEnum):
    json = "json"
    xlsx = "xlsx"


class ReportFile:
    """An XLSX report: its bytes, its real (Chinese) file name and an ASCII fallback."""

    def __init__(self, content: bytes, filename: str, fallback: str) -> None:
        self.content = content
        self.filename = filename
        self.fallback = fallback
