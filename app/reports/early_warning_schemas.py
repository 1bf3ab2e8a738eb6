"""The early-warning list (预警名单) and the measure shown on a student's page."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from app.alerts.measure_schemas import AbsenceMeasureOut
from app.core.local_times import LocalTimes


class SortKey(StrEnum):
    rate = "rate"
    window_rate = "window_rate"
    absent_days = "absent_days"
    trend = "trend"
    name = "name"


class SortOrder(StrEnum):
    asc = "asc"
    desc = "desc"


class EarlyWarningLine(AbsenceMeasureOut):
    student_name: str
    class_id: int
    class_name: str
    school_id: int


class EarlyWarningCounts(BaseModel):
    at_risk: int = Field(description="风险档(5%–10%)人数")
    moderate: int = Field(description="中度档(10%–20%)人数")
    severe: int = Field(description="严重档(≥20%)人数")
    intermittent: int = Field(description="间歇性缺勤人数")
    chronic: int = Field(description="长期缺勤人数")
    listed: int = Field(description="预警名单人数(任一档或间歇性)")


class EarlyWarningOut(LocalTimes):
    scope: str = Field(description="class:N, school:N or county:N")
    generated_at: datetime
    sort: SortKey
    order: SortOrder
    counts: EarlyWarningCounts
    items: list[EarlyWarningLine]
