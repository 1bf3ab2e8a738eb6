"""The reviews as XLSX files: the monthly review, the county's bulletin and review, and the
persuasion-talk ledger."""

from __future__ import annotations

from app.core.report_files import ReportFile
from app.core.xlsx import CellValue, Sheet, workbook_bytes
from app.reports.bulletin import head_teacher_sheet, summary_sheet
from app.reports.reviews_schemas import (
    CountyBulletinOut,
    CountyMonthlyReviewOut,
    CountySchoolLine,
    MonthlyReviewOut,
    TalkLedgerOut,
)

_ALERT_HEADERS = (
    "学校",
    "蓝色预警",
    "黄色预警",
    "红色预警",
    "预警合计",
    "48小时内核查数",
    "48小时内核查率",
)
_ALERT_WIDTHS = (20, 10, 10, 10, 10, 15, 15)


def monthly_review_xlsx(out: MonthlyReviewOut) -> ReportFile:
    """Four sheets: 概况, 分周预警, 班主任, 未结案案例."""
    span = f"{out.month_start:%Y-%m-%d} 至 {out.month_end:%Y-%m-%d}"
    weeks: list[list[CellValue]] = [
        [
            f"{w.week_start:%m-%d} 至 {w.week_end:%m-%d}",
            w.alerts.blue,
            w.alerts.yellow,
            w.alerts.red,
            w.alerts.total,
        ]
        for w in out.weeks
    ]
    cases: list[list[CellValue]] = [
        [c.student_name, c.class_name, c.level_label, c.opened_on, c.days_open]
        for c in out.open_cases
    ]
    content = workbook_bytes(
        [
            summary_sheet(
                f"{out.school_name} 控辍保学月研判  {span}",
                out.alerts,
                out.verified_within_48h,
                out.open_cases_at_end,
                out.returned,
                "月",
            ),
            Sheet(
                name="分周预警",
                title=f"{out.school_name} 分周预警  {span}",
                headers=("周", "蓝色预警", "黄色预警", "红色预警", "合计"),
                rows=weeks,
                widths=(18, 10, 10, 10, 10),
            ),
            head_teacher_sheet(f"{out.school_name} 班主任落实情况  {span}", out.head_teachers),
            Sheet(
                name="未结案案例",
                title=f"{out.school_name} 月末未结案案例  {span}",
                headers=("学生", "班级", "预警级别", "开案日期", "已开案天数"),
                rows=cases,
                widths=(12, 12, 12, 14, 12),
            ),
        ]
    )
    stamp = out.month_start.strftime("%Y%m")
    return ReportFile(
        content,
        f"{out.school_name}月研判_{stamp}.xlsx",
        f"monthly-review-school-{out.school_id}-{stamp}.xlsx",
    )


def _alert_cells(line: CountySchoolLine) -> list[CellValue]:
    """学校, the alerts by level and their total, verified within 48 h (count, share)."""
    return [
        line.school_name,
        line.alerts.blue,
        line.alerts.yellow,
        line.alerts.red,
        line.alerts.total,
        line.verified_within_48h.count,
        line.verified_within_48h.share,
    ]


def county_bulletin_xlsx(out: CountyBulletinOut) -> ReportFile:
    """One sheet 各校: one line per school, then the county total."""
    span = f"{out.week_start:%Y-%m-%d} 至 {out.week_end:%Y-%m-%d}"
    rows: list[list[CellValue]] = [
        [*_alert_cells(line), line.open_cases_at_end, line.returned]
        for line in [*out.schools, out.total]
    ]
    content = workbook_bytes(
        [
            Sheet(
                name="各校",
                title=f"{out.county_name} 控辍保学周通报  {span}",
                headers=(*_ALERT_HEADERS, "周末未结案案例", "本周返校结案"),
                rows=rows,
                widths=(*_ALERT_WIDTHS, 15, 14),
                percent_columns=frozenset({6}),
            )
        ]
    )
    return ReportFile(
        content,
        f"{out.county_name}周通报_{out.week_start:%Y%m%d}.xlsx",
        f"weekly-bulletin-county-{out.county_id}-{out.week_start:%Y%m%d}.xlsx",
    )


def county_monthly_review_xlsx(out: CountyMonthlyReviewOut) -> ReportFile:
    """Two sheets: 各校 (one line per school, then the county total) and 三率 (the rates of the
    school year: per school, per kind of school, the county)."""
    span = f"{out.month_start:%Y-%m-%d} 至 {out.month_end:%Y-%m-%d}"
    rows: list[list[CellValue]] = [
        [
            *_alert_cells(line),
            line.cases_opened,
            line.contacted_within_1h.count,
            line.contacted_within_1h.share,
            line.reported_within_24h.count,
            line.reported_within_24h.share,
            line.open_cases_at_end,
            line.returned,
        ]
        for line in [*out.schools, out.total]
    ]
    r = out.rates
    rate_rows: list[list[CellValue]] = [
        [
            ln.name,
            ln.enrolled,
            ln.suspected_dropouts,
            ln.dropouts,
            ln.dropout_rate,
            ln.retention_rate,
            ln.target,
            None if ln.target is None else "是" if ln.above_target else "否",
            ln.enrollment_rate,
        ]
        for ln in [*r.schools, *r.by_kind, r.total]
    ]
    content = workbook_bytes(
        [
            Sheet(
                name="各校",
                title=f"{out.county_name} 控辍保学月研判  {span}",
                headers=(
                    *_ALERT_HEADERS,
                    "本月新开案例",
                    "1小时内联系数",
                    "1小时内联系率",
                    "24小时内报告数",
                    "24小时内报告率",
                    "月末未结案案例",
                    "本月返校结案",
                ),
                rows=rows,
                widths=(*_ALERT_WIDTHS, 13, 14, 14, 15, 15, 15, 14),
                percent_columns=frozenset({6, 9, 11}),
            ),
            Sheet(
                name="三率",
                title=f"{out.county_name} 辍学率、巩固率  {r.school_year}学年"
                f"({r.period_start:%Y-%m-%d} 至 {r.period_end:%Y-%m-%d})",
                headers=(
                    "学校",
                    "在籍学生数",
                    "疑似辍学",
                    "辍学",
                    "辍学率",
                    "巩固率",
                    "辍学率目标",
                    "是否超标",
                    "入学率",
                ),
                rows=rate_rows,
                widths=(20, 12, 10, 8, 10, 10, 12, 10, 10),
                percent_columns=frozenset({4, 5, 6, 8}),
            ),
        ]
    )
    stamp = out.month_start.strftime("%Y%m")
    return ReportFile(
        content,
        f"{out.county_name}月研判_{stamp}.xlsx",
        f"monthly-review-county-{out.county_id}-{stamp}.xlsx",
    )


def talk_ledger_xlsx(out: TalkLedgerOut) -> ReportFile:
    rows: list[list[CellValue]] = [
        [r.talked_on, r.student_name, r.class_name, r.with_whom, r.by_whom, r.content]
        for r in out.rows
    ]
    span = f"{out.start:%Y-%m-%d} 至 {out.end:%Y-%m-%d}"
    stamp = f"{out.start:%Y%m%d}-{out.end:%Y%m%d}"
    content = workbook_bytes(
        [
            Sheet(
                name="劝返复学谈话记录册",
                title=f"{out.school_name} 劝返复学谈话记录册  {span}",
                headers=("日期", "学生", "班级", "谈话对象", "谈话人", "内容"),
                rows=rows,
                widths=(14, 12, 12, 18, 18, 60),
            )
        ]
    )
    return ReportFile(
        content,
        f"{out.school_name}劝返复学谈话记录册_{stamp}.xlsx",
        f"persuasion-talks-school-{out.school_id}-{stamp}.xlsx",
    )
