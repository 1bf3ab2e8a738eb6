"""The ledgers as XLSX files: the absence-tracking record, the county ledgers and the rates."""

from __future__ import annotations

from datetime import datetime

from app.context import AppContext
from app.core.report_files import ReportFile
from app.core.xlsx import CellValue, Sheet, workbook_bytes
from app.reports.ledgers import LEDGER_TITLES, SCHOOL_KIND_LABELS
from app.reports.ledgers_schemas import (
    AbsenceTrackingOut,
    CountyLedgerOut,
    RatesOut,
)


def _naive(at: datetime | None) -> datetime | None:
    """Excel has no time zones: the school-local wall time."""
    return at.replace(tzinfo=None) if at is not None else None


def absence_tracking_xlsx(out: AbsenceTrackingOut) -> ReportFile:
    rows: list[list[CellValue]] = [
        [
            r.student_name,
            r.class_name,
            r.start_date,
            r.consecutive_days,
            r.level_label,
            _naive(r.contacted_at),
            _naive(r.reported_at),
            r.outcome_label,
            r.closed_on,
        ]
        for r in out.rows
    ]
    span = f"{out.start:%Y-%m-%d} 至 {out.end:%Y-%m-%d}"
    content = workbook_bytes(
        [
            Sheet(
                name="学生缺勤追踪记录表",
                title=f"{out.school_name} 学生缺勤追踪记录表  {span}",
                headers=(
                    "学生",
                    "班级",
                    "缺勤起始日期",
                    "连续缺勤天数",
                    "预警级别",
                    "联系家长时间",
                    "书面报告提交时间",
                    "处理结果",
                    "结案日期",
                ),
                rows=rows,
                widths=(12, 12, 14, 14, 12, 18, 18, 14, 14),
            )
        ]
    )
    return ReportFile(
        content,
        f"{out.school_name}学生缺勤追踪记录表_{out.start:%Y%m%d}-{out.end:%Y%m%d}.xlsx",
        f"absence-tracking-school-{out.school_id}-{out.start:%Y%m%d}-{out.end:%Y%m%d}.xlsx",
    )


def county_ledger_xlsx(ctx: AppContext, out: CountyLedgerOut) -> ReportFile:
    rows: list[list[CellValue]] = [
        [r.school_name, r.student_name, r.student_no, r.class_name, r.date, r.status, r.basis]
        for r in out.rows
    ]
    stamp = f"{out.as_of:%Y%m%d}"
    content = workbook_bytes(
        [
            Sheet(
                name=LEDGER_TITLES[out.kind],
                title=f"{out.title}  {out.as_of:%Y-%m-%d}",
                headers=("学校", "学生", "学籍号", "班级", "日期", "状态", "认定依据"),
                rows=rows,
                widths=(16, 12, 24, 12, 14, 12, 30),
            )
        ]
    )
    return ReportFile(
        content,
        f"{out.title}_{stamp}.xlsx",
        f"{out.kind.value.replace('_', '-')}-ledger-county-{out.county_id}-{stamp}.xlsx",
    )


def rates_xlsx(out: RatesOut) -> ReportFile:
    rows: list[list[CellValue]] = [
        [
            ln.name,
            SCHOOL_KIND_LABELS.get(ln.kind or "", ""),
            ln.enrolled,
            ln.suspected_dropouts,
            ln.dropouts,
            ln.dropout_rate,
            ln.retention_rate,
            ln.enrollment_rate,
            ln.target,
            "是" if ln.above_target else "否",
        ]
        for ln in [*out.schools, *out.by_kind, out.total]
    ]
    enrollment: list[Sheet] = []
    if out.enrollment_total is not None:
        enrollment.append(
            Sheet(
                name="入学率",
                title=f"{out.county_name} 入学率  {out.school_year}学年(据适龄儿童台账)",
                headers=("乡镇", "名单人数", "免学", "缓学", "应入学", "已入学", "入学率"),
                rows=[
                    [e.name, e.children, e.exempt, e.deferred, e.due, e.enrolled, e.enrollment_rate]
                    for e in [*out.enrollment, out.enrollment_total]
                ],
                widths=(20, 10, 8, 8, 10, 10, 10),
                percent_columns=frozenset({6}),
            )
        )
    content = workbook_bytes(
        [
            Sheet(
                name="控辍指标",
                title=f"{out.county_name} 入学率、巩固率、辍学率  {out.school_year}学年",
                headers=(
                    "学校",
                    "学段",
                    "在籍学生数",
                    "疑似辍学",
                    "辍学",
                    "辍学率",
                    "巩固率",
                    "入学率",
                    "辍学率目标",
                    "超过目标",
                ),
                rows=rows,
                widths=(20, 8, 12, 10, 8, 10, 10, 10, 12, 10),
                percent_columns=frozenset({5, 6, 7, 8}),
            ),
            *enrollment,
        ]
    )
    return ReportFile(
        content,
        f"{out.county_name}控辍指标_{out.school_year}学年.xlsx",
        f"rates-county-{out.county_id}-{out.school_year}.xlsx",
    )
