"""Alert policies per county and school: what may be set, and what is in force."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.domain.dropout_status import ThresholdUnit
from app.domain.roles import Role


class PolicyIn(BaseModel):
    """Overrides; fields left out keep the level above (school ← county ← defaults)."""

    model_config = ConfigDict(extra="forbid")
    contact_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    recontact_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    report_hours: int | None = Field(default=None, ge=1, le=24 * 14)
    yellow_days: int | None = Field(default=None, ge=1, le=60)
    red_days: int | None = Field(default=None, ge=1, le=60)
    verify_hours: int | None = Field(default=None, ge=1, le=24 * 30)
    reenroll_school_days: int | None = Field(default=None, ge=1, le=60)
    relapse_weeks: int | None = Field(
        default=None, ge=0, le=52, description="复学后多少周内再次缺勤按复发重新打开原案例"
    )
    task_overdue_hours: int | None = Field(
        default=None, ge=1, le=24 * 30, description="任务到期后多少小时仍未完成即上报上一级"
    )
    notice_days: int | None = Field(default=None, ge=1, le=60, description="返校通知书期限(天)")
    suspected_after_days: int | None = Field(
        default=None, ge=0, le=365, description="期限届满后多少天认定疑似辍学并报告乡镇"
    )
    dropout_after_days: int | None = Field(
        default=None, ge=1, le=365, description="疑似辍学后多少天认定辍学"
    )
    suspected_after: int | None = Field(
        default=None,
        ge=2,
        le=140,
        description="连续无故缺勤超过多少天认定疑似辍学(上学日最多 100,自然日最多 140)",
    )
    suspected_unit: ThresholdUnit | None = Field(
        default=None, description="疑似辍学阈值单位:school_days 或 calendar_days"
    )
    persuasion_every_days: int | None = Field(
        default=None, ge=1, le=60, description="疑似辍学后每隔多少天一次劝返任务"
    )
    township_ack_days: int | None = Field(
        default=None, ge=1, le=60, description="报告乡镇后多少天未签收即提请县教育局"
    )
    monthly_report_day: int | None = Field(
        default=None, ge=1, le=28, description="学校每月报送月报的截止日(每月几号)"
    )
    care_contact_days: int | None = Field(
        default=None, ge=1, le=365, description="成长导师多少天未记录关爱联系即提醒"
    )
    dropout_target_primary: float | None = Field(
        default=None, ge=0, le=1, description="小学辍学率控制目标(比例,0.02 即 2%)"
    )
    dropout_target_junior_middle: float | None = Field(
        default=None, ge=0, le=1, description="初中辍学率控制目标(比例)"
    )
    left_school_alerts: bool | None = Field(
        default=None, description="离校未归预警:晨检到校、午检或放学前未到即通知班主任"
    )
    intermittent_absences: int | None = Field(
        default=None, ge=2, le=60, description="间歇性缺勤:窗口内无故缺勤达到的天数"
    )
    intermittent_window_days: int | None = Field(
        default=None, ge=1, le=260, description="间歇性缺勤窗口(上学日,不短于红色预警天数)"
    )
    chronic_percent: float | None = Field(
        default=None, gt=0, le=100, description="长期缺勤百分比(任何原因)"
    )
    chronic_min_days: int | None = Field(
        default=None, ge=1, le=260, description="累计多少上学日后判定长期缺勤与分档"
    )
    band_at_risk_percent: float | None = Field(default=None, gt=0, le=100)
    band_moderate_percent: float | None = Field(default=None, gt=0, le=100)
    band_severe_percent: float | None = Field(default=None, gt=0, le=100)
    measure_window_days: int | None = Field(
        default=None, ge=1, le=260, description="滚动窗口(上学日,不短于红色预警天数)"
    )
    blue_to: Role | None = None
    yellow_to: Role | None = None
    red_to: Role | None = None
    blue_escalates_to: Role | None = None
    yellow_escalates_to: Role | None = None
    red_escalates_to: Role | None = None


class PolicyOut(BaseModel):
    scope: str = Field(description="defaults, county:N or school:N")
    overrides: dict[str, bool | int | float | str]
    effective: dict[str, bool | int | float | str]
