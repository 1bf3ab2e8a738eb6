"""The school's monthly report (月报): what is submitted and stored, and the county's view of
who has submitted."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.local_times import LocalTimes
from app.core.types import LineStr, Row, SafeText


class MonthlyReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    month: LineStr = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="月份 YYYY-MM")


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), SafeText
    ] = Field(description="更正原因(必填)", examples=["补报 9 月 28 日返校的学生"])


class ReportLine(Row):
    student_id: int
    student_name: str = Field(description="学生")
    student_no: str = Field(description="学籍号(脱敏)")
    class_name: str = Field(description="班级")
    since: date = Field(description="认定日期(劝返、复学为结束日期)")
    basis: str = Field(description="认定依据")


class ReportFigures(BaseModel):
    enrolled: int = Field(description="在籍学生数(提交时)")
    suspected_dropouts: int = Field(description="月末疑似辍学")
    dropouts: int = Field(description="月末辍学")
    new_suspected: int = Field(description="本月新认定疑似辍学")
    new_dropouts: int = Field(description="本月新认定辍学")
    persuaded_back: int = Field(description="本月劝返(返校)")
    resumed: int = Field(description="本月复学")


class ReportContent(Row):
    """What was sent, stored as sent."""

    as_of: date = Field(description="统计截止日:月末,或提交当天(月中提交)")
    figures: ReportFigures
    suspected_dropouts: list[ReportLine] = Field(description="疑似辍学名单")
    dropouts: list[ReportLine] = Field(description="辍学名单")
    persuaded_back: list[ReportLine] = Field(description="劝返名单")
    resumed: list[ReportLine] = Field(description="复学名单")


class VersionLine(LocalTimes):
    version: int
    submitted_by: str
    submitted_at: datetime
    correction_reason: str | None


class MonthlyReportOut(LocalTimes):
    id: int
    school_id: int
    school_name: str
    county_id: int
    month: str
    version: int
    zero_report: bool = Field(description="零报告:本月无疑似辍学、辍学、劝返、复学")
    report_label: str = Field(description="月报 / 零报告")
    submitted_by: str
    submitted_at: datetime
    correction_reason: str | None
    content: ReportContent
    versions: list[VersionLine] = Field(description="该月的所有版本(更正保留旧版本)")


class SubmissionLine(LocalTimes):
    school_id: int
    school_name: str
    submitted: bool
    version: int | None
    zero_report: bool | None
    submitted_by: str | None
    submitted_at: datetime | None
    late: bool = Field(description="首次提交晚于截止日,或截止日已过仍未提交")


class SubmissionsOut(BaseModel):
    county_id: int
    county_name: str
    month: str
    due_on: date = Field(description="截止日(县里设定,默认每月 28 日)")
    schools: list[SubmissionLine]
    missing: list[int] = Field(description="尚未提交的学校")
