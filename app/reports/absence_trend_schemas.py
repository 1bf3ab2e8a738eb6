"""The daily absence rate per school over a span (a term): the console's term chart."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class TrendPoint(BaseModel):
    date: date
    on_roll: int = Field(description="当日在册学生数(三个名单与未点名之和)")
    absent: int = Field(description="缺勤(无故)人数")
    leave: int = Field(description="请假人数")
    not_recorded: int = Field(description="未点名人数")
    absence_rate: float | None = Field(
        description="缺勤率 = absent / (on_roll − not_recorded),4 位小数;当日未点名则为 null"
    )


class SchoolTrend(BaseModel):
    school_id: int
    school_name: str
    points: list[TrendPoint] = Field(description="每个上课日一点(到学校的今天为止)")


class AbsenceTrendOut(BaseModel):
    county_id: int | None
    school_id: int | None
    start: date
    end: date
    schools: list[SchoolTrend]
