"""The school calendar (校历): terms and their breaks, per-school overrides, the day-by-day
view, and the national holiday lists an admin loads for years the package does not know."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from app.core.types import SafeLine, Schema, SchoolDate
from app.domain.calendar import DayKind

TermName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), SafeLine
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), SafeLine]


class OverrideKind(StrEnum):
    closure = "closure"  # 学校停课: snow day, exam venue…
    extra_school_day = "extra_school_day"  # 补课日


# --- terms ----------------------------------------------------------------------------------


class TermBreakIn(Schema):
    name: TermName = Field(examples=["秋假"])
    start_date: SchoolDate = Field(description="第一天 (first day off)")
    end_date: SchoolDate = Field(description="最后一天 (last day off, inclusive)")


class TermBreakOut(TermBreakIn):
    id: int


class TermIn(Schema):
    name: TermName = Field(examples=["秋季学期"])
    start_date: SchoolDate = Field(
        description="开学日 (first day of term)", examples=["2026-09-01"]
    )
    end_date: SchoolDate = Field(
        description="学期最后一天 (last day of term, inclusive)", examples=["2027-01-22"]
    )
    breaks: list[TermBreakIn] = Field(
        default_factory=list, max_length=20, description="学期内的假期 (breaks inside the term)"
    )


class TermUpdate(Schema):
    """Fields sent replace the stored ones; ``breaks``, when sent, replaces the whole list."""

    name: TermName | None = None
    start_date: SchoolDate | None = None
    end_date: SchoolDate | None = None
    breaks: list[TermBreakIn] | None = Field(default=None, max_length=20)


class TermOut(Schema):
    id: int
    school_id: int
    name: str
    start_date: dt.date
    end_date: dt.date
    breaks: list[TermBreakOut]


# --- overrides ------------------------------------------------------------------------------


class CalendarOverrideIn(Schema):
    date: SchoolDate = Field(examples=["2026-12-15"])
    kind: OverrideKind = Field(description="closure 停课 / extra_school_day 补课日")
    reason: Reason = Field(default="", examples=["大雪停课"])


class CalendarOverrideOut(Schema):
    id: int
    school_id: int
    date: dt.date
    kind: OverrideKind
    reason: str


class CountyOverrideSkipped(Schema):
    school_id: int
    reason: str


class CountyOverridesOut(Schema):
    """A county's calendar entry, written to each of its schools' calendars."""

    created: list[CalendarOverrideOut]
    skipped: list[CountyOverrideSkipped] = Field(
        description="schools that already had an entry on that day (kept as they were)"
    )


# --- the day-by-day view --------------------------------------------------------------------


class CalendarDayOut(Schema):
    date: dt.date
    is_school_day: bool = Field(description="是否上学日")
    verified: bool = Field(
        description="false: 该年国家节假日安排未知,按周一至周五推定 (Monday–Friday guess)"
    )
    kind: DayKind
    reason: str = Field(description="原因 (Chinese, then English)")
    term: str | None = Field(default=None, description="所在学期 (the term the date lies in)")


class SchoolCalendarOut(Schema):
    school_id: int
    start: dt.date
    end: dt.date
    school_days: int = Field(description="上学日天数 (school days in the range)")
    unverified_days: int = Field(description="未核实天数 (days resting on the Monday–Friday guess)")
    days: list[CalendarDayOut]


# --- national holiday lists -----------------------------------------------------------------


class NationalYearIn(Schema):
    """国务院办公厅关于节假日安排的通知, as published for one year."""

    holidays: list[SchoolDate] = Field(
        min_length=1,
        max_length=366,
        description="放假日期,含假期内的周末 (days off, weekend days inside a holiday included)",
    )
    makeup_workdays: list[SchoolDate] = Field(
        default_factory=list,
        max_length=366,
        description="调休上班的周六、周日 (weekend days worked instead)",
    )


class NationalYearOut(Schema):
    year: int
    holidays: list[dt.date]
    makeup_workdays: list[dt.date]
    covered_by_package: bool = Field(
        description="chinesecalendar 也有该年;导入的安排优先 (the loaded list wins)"
    )
    loaded_by: int | None
    loaded_at: dt.datetime


class NationalCalendarOut(Schema):
    package_version: str = Field(description="chinesecalendar 版本")
    package_years: list[int] = Field(description="chinesecalendar 已知的年份 (years it covers)")
    loaded: list[NationalYearOut] = Field(description="管理员导入的年份 (years loaded by admins)")
