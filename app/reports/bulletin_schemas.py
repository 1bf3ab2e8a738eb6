"""Reports: the weekly bulletin (周通报); the three lists reuse ``ThreeListsOut``."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from app.core.local_times import LocalTimes
from app.reports.early_warning_schemas import EarlyWarningCounts


class Rate(BaseModel):
    """``count`` of ``of`` met the mark; ``share`` = count / of (null when of = 0)."""

    count: int
    of: int
    share: float | None


class AlertsByLevel(BaseModel):
    blue: int
    yellow: int
    red: int
    total: int


class HeadTeacherLine(BaseModel):
    class_id: int
    class_name: str
    head_teacher_id: int | None
    head_teacher_name: str | None
    cases: int = Field(description="本周新开的缺勤案例数 (cases opened in the week)")
    contacted_within_1h: Rate = Field(description="1小时内联系家长")
    reported_within_24h: Rate = Field(description="24小时内提交书面报告")


class WeeklyBulletinOut(LocalTimes):
    school_id: int
    school_name: str
    week_start: date
    week_end: date = Field(description="周日 (Sunday, inclusive)")
    generated_at: datetime
    alerts: AlertsByLevel = Field(description="本周发出的预警(不含已撤销)")
    verified_within_48h: Rate = Field(description="48小时内核查")
    head_teachers: list[HeadTeacherLine]
    open_cases_at_end: int = Field(description="周末(周日24时)仍未结案的案例数")
    returned: int = Field(description="本周以返校或复学结案的案例数")
    early_warning: EarlyWarningCounts | None = Field(
        default=None, description="预警名单当前人数(缺勤分档、间歇性与长期缺勤;引擎每小时统计)"
    )
