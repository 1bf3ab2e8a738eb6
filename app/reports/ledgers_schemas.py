"""Ledgers (台账) and rates (入学率 / 巩固率 / 辍学率); definitions in app/reports/ledgers.py."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from app.core.local_times import LocalTimes
from app.core.types import Row


class LedgerKind(StrEnum):
    suspected_dropout = "suspected_dropout"
    dropout = "dropout"


class AbsenceTrackingRow(LocalTimes):
    case_id: int
    student_id: int
    student_name: str = Field(description="学生")
    class_id: int
    class_name: str = Field(description="班级")
    start_date: date | None = Field(description="缺勤起始日期")
    consecutive_days: int = Field(description="连续缺勤天数")
    level: str | None = Field(description="预警级别 blue | yellow | red")
    level_label: str = Field(description="预警级别(中文)")
    contacted_at: datetime | None = Field(description="联系家长时间(首次)")
    reported_at: datetime | None = Field(description="书面报告提交时间(首次)")
    outcome: str = Field(description="处理结果: open | awaiting_reenrollment | 结案原因")
    outcome_label: str = Field(description="处理结果(中文)")
    closed_on: date | None = Field(description="结案日期(学校时区)")


class AbsenceTrackingOut(LocalTimes):
    school_id: int
    school_name: str
    start: date
    end: date
    generated_at: datetime
    rows: list[AbsenceTrackingRow]


class CountyLedgerRow(Row):
    notice_id: int | None = Field(description="返校通知书(未办转学手续离校的学生无)")
    school_id: int
    school_name: str = Field(description="学校")
    student_id: int
    student_name: str = Field(description="学生")
    student_no: str = Field(description="学籍号")
    class_id: int
    class_name: str = Field(description="班级")
    date: dt.date = Field(description="认定疑似辍学 / 辍学的日期")
    status: str = Field(description="状态: 疑似辍学 | 辍学")
    basis: str = Field(
        description="认定依据:连续无故缺勤超过阈值、返校通知书逾期未返校,或未办理转学手续离校"
    )


class CountyLedgerOut(LocalTimes):
    county_id: int
    county_name: str
    kind: LedgerKind
    title: str
    as_of: date = Field(description="台账日期:该日的状态(来自状态历史,何时读取都相同)")
    generated_at: datetime
    rows: list[CountyLedgerRow]


class RateLine(Row):
    """One school, or a total (``school_id`` null) for a kind of school or the whole county."""

    school_id: int | None
    name: str
    kind: str | None = Field(description="primary | junior_middle; null for the county total")
    enrolled: int = Field(description="在籍学生数(分母)")
    suspected_dropouts: int = Field(description="as_of 当日疑似辍学(尚未认定辍学)")
    dropouts: int = Field(description="本学年至 as_of 认定辍学的学生")
    dropout_rate: float | None = Field(description="辍学率 = dropouts / enrolled")
    retention_rate: float | None = Field(description="巩固率 = 1 − 辍学率")
    enrollment_rate: float | None = Field(
        default=None,
        description="入学率:仅全县合计行,且该学年有适龄儿童台账时有值 (county total only)",
    )
    target: float | None = Field(description="辍学率控制目标(小学 2%,初中 3%)")
    above_target: bool = Field(description="辍学率超过目标")


class EnrollmentLine(Row):
    """入学率 of a township, or of the county (``township_id`` null), from the 适龄儿童台账."""

    township_id: int | None
    name: str
    children: int = Field(description="名单人数")
    exempt: int = Field(description="免学")
    deferred: int = Field(description="缓学")
    due: int = Field(description="应入学 = 名单人数 − 免学 − 缓学")
    enrolled: int = Field(description="已入学 = 在读 + 休学 + 转出 + 外出就读")
    enrollment_rate: float | None = Field(description="入学率 = 已入学 / 应入学")


class RateTargetsOut(Row):
    primary: float
    junior_middle: float


class RatesOut(LocalTimes):
    county_id: int
    county_name: str
    school_year: int = Field(description="学年:school_year 年 9月1日 至 次年 8月31日")
    period_start: date
    period_end: date
    as_of: date = Field(description="疑似辍学按该日状态,辍学按学年初至该日认定的人数")
    generated_at: datetime
    targets: RateTargetsOut
    enrollment_rate_note: str
    enrollment: list[EnrollmentLine] = Field(
        default_factory=list,
        description="各乡镇入学率(县级指标,且该学年有适龄儿童台账时)",
    )
    enrollment_total: EnrollmentLine | None = Field(default=None, description="全县入学率(同上)")
    schools: list[RateLine]
    by_kind: list[RateLine] = Field(description="按学段合计(有学校的学段)")
    total: RateLine = Field(description="全县(或所选学校)合计,无目标")
    schools_above_target: list[int]
