"""A student's absence measure as the student's page, the case and the early-warning list
show it (the row the measures job stored, ``absence_measure``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from app.core.local_times import LocalTimes
from app.db.models import AbsenceMeasure
from app.domain.absence_measures import BAND_LABELS, Band


class AbsenceMeasureOut(LocalTimes):
    student_id: int
    term_id: int
    as_of: date = Field(description="统计截至(学校当地日期)")
    school_days: int = Field(description="本学期在籍上学日")
    absent_days: int = Field(description="无故缺勤天数")
    leave_days: dict[str, int] = Field(
        description="请假天数,按类型:sick 病假、personal 事假、other"
    )
    late_days: int = Field(description="迟到天数")
    rate: float = Field(description="缺课率(缺勤 + 请假,任何原因)/ 在籍上学日")
    band: str = Field(description="none 正常 / at_risk 风险 / moderate 中度 / severe 严重")
    band_label: str
    chronic: bool = Field(description="长期缺勤(≥10%,累计至少 20 个上学日后判定)")
    intermittent: bool = Field(description="间歇性缺勤(任意 20 个连续上学日内无故缺勤 ≥3 天)")
    window_days: int = Field(description="滚动窗口内的上学日")
    window_absent: int
    window_rate: float
    window_band: str
    trend: float | None = Field(description="与一周前相比缺课率的变化(正数为上升)")
    computed_at: datetime

    @classmethod
    def fields_of(cls, m: AbsenceMeasure) -> dict[str, Any]:
        return {
            "student_id": m.student_id,
            "term_id": m.term_id,
            "as_of": m.as_of,
            "school_days": m.school_days,
            "absent_days": m.absent_days,
            "leave_days": dict(m.leave_days),
            "late_days": m.late_days,
            "rate": m.rate,
            "band": m.band,
            "band_label": BAND_LABELS[Band(m.band)],
            "chronic": m.chronic,
            "intermittent": m.intermittent,
            "window_days": m.window_days,
            "window_absent": m.window_absent,
            "window_rate": m.window_rate,
            "window_band": m.window_band,
            "trend": None if m.previous_rate is None else round(m.rate - m.previous_rate, 6),
            "computed_at": m.computed_at,
        }

    @classmethod
    def of(cls, m: AbsenceMeasure | None) -> AbsenceMeasureOut | None:
        return None if m is None else cls.model_validate(cls.fields_of(m))
