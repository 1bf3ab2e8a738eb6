"""The monthly report's XLSX twin: the figures, then one sheet per list."""

from __future__ import annotations

from app.core.report_files import ReportFile
from app.core.xlsx import CellValue, Sheet, workbook_bytes
from app.reports.monthly_report_schemas import MonthlyReportOut, ReportLine

_HEADERS = ("学生", "学籍号", "班级", "日期", "认定依据")


def _rows(lines: list[ReportLine]) -> list[list[CellValue]]:
    return [[x.student_name, x.student_no, x.class_name, x.since, x.basis] for x in lines]


def monthly_report_xlsx(out: MonthlyReportOut) -> ReportFile:
    c, f = out.content, out.content.figures
    title = f"{out.school_name} {out.month} 控辍保学{out.report_label}(第 {out.version} 版)"
    figures: list[list[CellValue]] = [
        ["统计截止日", c.as_of],
        ["在籍学生数", f.enrolled],
        ["疑似辍学", f.suspected_dropouts],
        ["辍学", f.dropouts],
        ["本月新认定疑似辍学", f.new_suspected],
        ["本月新认定辍学", f.new_dropouts],
        ["本月劝返", f.persuaded_back],
        ["本月复学", f.resumed],
        ["提交人", out.submitted_by],
        ["提交时间", out.submitted_at],
    ]
    sheets = [
        Sheet(name="月报", title=title, headers=("项目", "数值"), rows=figures, widths=(22, 24))
    ]
    for name, lines in (
        ("疑似辍学", c.suspected_dropouts),
        ("辍学", c.dropouts),
        ("劝返", c.persuaded_back),
        ("复学", c.resumed),
    ):
        sheets.append(
            Sheet(
                name=name,
                title=f"{title} {name}名单",
                headers=_HEADERS,
                rows=_rows(lines),
                widths=(12, 24, 12, 14, 40),
            )
        )
    stamp = out.month.replace("-", "")
    return ReportFile(
        workbook_bytes(sheets),
        f"{out.school_name}月报_{stamp}_v{out.version}.xlsx",
        f"monthly-report-school-{out.school_id}-{stamp}-v{out.version}.xlsx",
    )
