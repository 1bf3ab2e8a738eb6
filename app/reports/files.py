"""Answering a report as JSON or as an XLSX download, for every report router."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import Response

from app.core.report_files import ReportFile, ReportFormat
from app.core.xlsx import XLSX_MEDIA_TYPE, content_disposition

XLSX_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {XLSX_MEDIA_TYPE: {}},
        "description": "JSON,或 format=xlsx 时为 Excel 文件 (an XLSX file with format=xlsx)",
    }
}
Format = Annotated[ReportFormat, Query(description="json(默认)或 xlsx")]


def xlsx_file(report: ReportFile) -> Response:
    return Response(
        report.content,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(report.filename, report.fallback)},
    )
