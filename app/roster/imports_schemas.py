"""Bulk import of a school roster: the mode and the report every import answers with."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.api.problems import FieldError, ValidationProblem, problem_type, title_of
from app.core.tables import ImportMode
from app.core.types import Schema


class RowProblem(Schema):
    row: int = Field(description="表格中的行号,表头为第1行 (spreadsheet row; the header is 1)")
    column: str = Field(description="列名,如 身份证号 (the column header)", examples=["身份证号"])
    message: str = Field(examples=["身份证号校验码错误,应为 7 (wrong check character: expected 7)"])


class ImportReport(Schema):
    school_id: int
    mode: ImportMode
    total: int = Field(description="数据行数 (data rows in the file, blank rows not counted)")
    imported: int = Field(description="已导入 (students created)")
    rejected: int = Field(description="有问题的行数 (rows with at least one problem)")
    problems: list[RowProblem] = Field(
        default_factory=list,
        description="问题清单,按行号排列,最多列出前 N 条 (first N problems by row; "
        "N = KCBX_IMPORT_MAX_PROBLEMS, default 1000)",
    )
    problem_count: int = Field(
        default=0, description="问题总数,可能多于列出的条数 (all problems, listed or not)"
    )


def rows_rejected(problems: list[RowProblem], rejected: int) -> dict[str, Any]:
    """The problem fields of an import refused as a whole: one ``errors`` item per bad cell
    (loc = body, file, row, column)."""
    errors = [
        FieldError(
            loc=["body", "file", p.row, p.column],
            msg=f"第 {p.row} 行 {p.column}: {p.message}",
            type="import_row",
        )
        for p in problems
    ]
    return {
        "type": problem_type("import.rows_rejected"),
        "title": title_of(422),
        "status": 422,
        "detail": f"{rejected} 行有问题,未导入任何一行 ({rejected} rows rejected, none imported)",
        "code": "import.rows_rejected",
        "errors": errors,
    }


class ImportRejected(ValidationProblem):
    """422 of an all-or-nothing import with bad rows: a problem document (code
    ``import.rows_rejected``) with one ``errors`` item per problem and the full ``report``."""

    report: ImportReport | None = Field(
        default=None,
        description="有问题行时的完整报告 (absent when the file itself is refused)",
    )

    @classmethod
    def of(cls, report: ImportReport) -> ImportRejected:
        return cls(**rows_rejected(report.problems, report.rejected), report=report)
