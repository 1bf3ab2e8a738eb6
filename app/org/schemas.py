"""County → township → school → grade → class."""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from app.core.types import Code, LocalTime, RefId, SafeLine, Schema, TimezoneName, Title


class SchoolKind(StrEnum):
    primary = "primary"  # 小学
    junior_middle = "junior_middle"  # 初中


class CountyIn(Schema):
    name: Title = Field(examples=["示例县"])
    code: Code = Field(description="行政区划代码或县自定代码", examples=["530122"])


class CountyUpdate(Schema):
    name: Title | None = None


class CountyOut(Schema):
    id: int
    name: str
    code: str
    active: bool


class TownshipIn(Schema):
    county_id: RefId
    name: Title = Field(examples=["青山镇"])


class TownshipUpdate(Schema):
    name: Title | None = None


class TownshipOut(Schema):
    id: int
    county_id: int
    name: str
    active: bool


class CheckTimes(Schema):
    morning_check: LocalTime = Field(default=time(8, 0), description="晨检时间")
    noon_check: LocalTime = Field(default=time(13, 30), description="午检时间")
    dismissal_check: LocalTime = Field(default=time(16, 30), description="放学前检查时间")

    @model_validator(mode="after")
    def _in_order(self) -> CheckTimes:
        if not (self.morning_check < self.noon_check < self.dismissal_check):
            raise ValueError("晨检、午检、放学前须按时间先后 (checks must be in order of the day)")
        return self


class SchoolIn(CheckTimes):
    township_id: RefId
    name: Title = Field(examples=["青山镇中心小学"])
    code: Code = Field(examples=["QS-01"])
    kind: SchoolKind
    # Unsent, the service uses the configured KCBX_DEFAULT_TIMEZONE; the literal is only what
    # the OpenAPI document shows, as a schema is built before any settings are read.
    timezone: TimezoneName = "Asia/Shanghai"


class SchoolUpdate(Schema):
    name: Title | None = None
    timezone: TimezoneName | None = None
    morning_check: LocalTime | None = None
    noon_check: LocalTime | None = None
    dismissal_check: LocalTime | None = None


class SchoolOut(Schema):
    id: int
    county_id: int
    township_id: int
    name: str
    code: str
    kind: SchoolKind
    timezone: str
    morning_check: LocalTime
    noon_check: LocalTime
    dismissal_check: LocalTime
    active: bool


GRADE_NAMES = {
    1: "一年级",
    2: "二年级",
    3: "三年级",
    4: "四年级",
    5: "五年级",
    6: "六年级",
    7: "七年级",
    8: "八年级",
    9: "九年级",
}


# The grade and class name columns are shorter than other names (20 and 40 characters).
GradeName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20), SafeLine
]
ClassName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), SafeLine
]


class GradeIn(Schema):
    school_id: RefId
    level: int = Field(ge=1, le=9, description="1–6 小学, 7–9 初中")
    name: GradeName | None = Field(default=None, description="默认:一年级…九年级")


class GradeUpdate(Schema):
    name: GradeName | None = None


class GradeOut(Schema):
    id: int
    school_id: int
    level: int
    name: str
    active: bool


class ClassIn(Schema):
    grade_id: RefId
    name: ClassName = Field(examples=["1班"])


class ClassUpdate(Schema):
    name: ClassName | None = None


class ClassOut(Schema):
    id: int
    school_id: int
    grade_id: int
    name: str
    full_name: str = Field(default="", description="年级与班级,如 三年级1班 (what people read)")
    active: bool
    head_teacher_id: int | None = None
    head_teacher_name: str | None = None
