"""Bulletins and reviews: the school's and the county's monthly review (月研判), the county's
weekly bulletin (县周通报) and the school's 劝返复学谈话记录册."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from app.core.local_times import LocalTimes
from app.core.types import Row
from app.reports.bulletin_schemas import AlertsByLevel, HeadTeacherLine, Rate
from app.reports.early_warning_schemas import EarlyWarningCounts
from app.reports.ledgers_schemas import RatesOut


class WeekAlerts(Row):
    week_start: date = Field(description="该周在本月内的第一天")
    week_end: date = Field(description="该周在本月内的最后一天")
    alerts: AlertsByLevel


class OpenCaseLine(Row):
    case_id: int
    student_id: int
    student_name: str
    class_id: int
    class_name: str
    level: str | None
    level_label: str
    opened_on: date = Field(description="开案日期(学校时区)")
    days_open: int = Field(description="开案日至月末的天数(月末次日 − 开案日期)")


class MonthlyReviewOut(LocalTimes):
    school_id: int
    school_name: str
    month: str = Field(description="YYYY-MM")
    month_start: date
    month_end: date = Field(description="月末(含)")
    generated_at: datetime
    alerts: AlertsByLevel = Field(description="本月发出的预警(不含已撤销)")
    verified_within_48h: Rate
    head_teachers: list[HeadTeacherLine]
    open_cases_at_end: int = Field(description="月末(最后一天24时)仍未结案的案例数")
    returned: int = Field(description="本月以返校或复学结案的案例数")
    weeks: list[WeekAlerts] = Field(description="按周(周一起,截在本月内)的预警分级")
    open_cases: list[OpenCaseLine] = Field(description="月末仍未结案的案例")
    early_warning: EarlyWarningCounts | None = Field(
        default=None,
        description="预警名单各档人数(生成时的统计:缺勤分档、间歇性与长期缺勤)",
    )


class CountySchoolLine(Row):
    school_id: int
    school_name: str
    alerts: AlertsByLevel
    verified_within_48h: Rate
    open_cases_at_end: int
    returned: int


class CountyBulletinOut(LocalTimes):
    county_id: int
    county_name: str
    week_start: date
    week_end: date = Field(description="周日 (Sunday, inclusive)")
    generated_at: datetime
    schools: list[CountySchoolLine]
    total: CountySchoolLine = Field(description="全县合计 (school_id 0)")


class CountyReviewLine(CountySchoolLine):
    """A school's (or the county's) month: the bulletin's figures plus the head-teacher lines
    summed (counts added, share = summed count / summed denominator)."""

    cases_opened: int = Field(description="本月新开的缺勤案例数")
    contacted_within_1h: Rate = Field(description="1小时内联系家长(各班主任合计)")
    reported_within_24h: Rate = Field(description="24小时内提交书面报告(各班主任合计)")


class CountyMonthlyReviewOut(LocalTimes):
    county_id: int
    county_name: str
    month: str = Field(description="YYYY-MM")
    month_start: date
    month_end: date = Field(description="月末(含)")
    generated_at: datetime
    schools: list[CountyReviewLine] = Field(description="县内各校(各按本校时区)")
    total: CountyReviewLine = Field(description="全县合计 (school_id 0)")
    rates: RatesOut = Field(
        description="该月所在学年(9月1日至次年8月31日)的辍学率、巩固率、入学率与目标,"
        "按生成时的数据计算 (as of generation)"
    )


class TalkLedgerRow(Row):
    talk_id: int
    case_id: int
    talked_on: date
    student_id: int
    student_name: str
    class_id: int
    class_name: str
    with_whom: str
    by_whom: str
    content: str


class TalkLedgerOut(LocalTimes):
    school_id: int
    school_name: str
    start: date
    end: date
    generated_at: datetime
    rows: list[TalkLedgerRow]
