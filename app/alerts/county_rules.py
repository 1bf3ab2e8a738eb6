"""Rules a county sets beside its alert thresholds, in the same policy rows
(``PUT /alert-policies/county/{id}``, a school may override for itself): the periods of legal
escalation, how often a mentor should record a care contact, and the dropout-rate targets.
Every threshold is configuration (some counties count 疑似辍学 after a week, 辍学 after a
month); the defaults are the figures schools' own 控辍保学 reports give.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator
from sqlmodel.ext.asyncio.session import AsyncSession

from app.alerts import engine_repo as alerts_repo
from app.domain.absence_measures import MeasureRules
from app.domain.dropout_status import Thresholds, ThresholdUnit


class CountyRules(BaseModel):
    notice_days: int = Field(default=7, ge=1, le=60, description="返校通知书的期限(天)")
    suspected_after_days: int = Field(
        default=0,
        ge=0,
        le=365,
        description="期限届满后再过多少天仍未返校即报告乡镇并认定疑似辍学(0:期限届满次日)",
    )
    dropout_after_days: int = Field(
        default=30, ge=1, le=365, description="认定疑似辍学后多少天仍未返校认定辍学"
    )
    suspected_after: int = Field(
        default=5,
        ge=2,
        le=140,
        description="连续无故缺勤超过多少天认定疑似辍学(单位见 suspected_unit;默认 5 个上学日)",
    )
    suspected_unit: ThresholdUnit = Field(
        default=ThresholdUnit.school_days,
        description="疑似辍学阈值的单位:school_days 上学日(≤100)或 calendar_days 自然日(≤140)",
    )
    persuasion_every_days: int = Field(
        default=7,
        ge=1,
        le=60,
        description="疑似辍学或未办理转学手续离校后,每隔多少天一次劝返任务(家访或电话)",
    )
    township_ack_days: int = Field(
        default=3,
        ge=1,
        le=60,
        description="报告乡镇后多少天乡镇仍未签收即提请县教育局(默认 3 天)",
    )
    monthly_report_day: int = Field(
        default=28, ge=1, le=28, description="学校每月报送月报的截止日(每月几号,默认 28 日)"
    )
    care_contact_days: int = Field(
        default=30, ge=1, le=365, description="成长导师多少天未记录关爱联系即提醒"
    )
    dropout_target_primary: float = Field(
        default=0.02, ge=0, le=1, description="小学辍学率控制目标(比例,0.02 即 2%)"
    )
    dropout_target_junior_middle: float = Field(
        default=0.03, ge=0, le=1, description="初中辍学率控制目标(比例)"
    )
    left_school_alerts: bool = Field(
        default=True, description="离校未归预警:晨检到校、午检或放学前未到即通知班主任(默认开启)"
    )
    # Chronic and intermittent absence (app/domain/absence_measures.py); windows in school days.
    intermittent_absences: int = Field(
        default=3, ge=2, le=60, description="间歇性缺勤:任意窗口内无故缺勤达到的天数"
    )
    intermittent_window_days: int = Field(
        default=20, ge=1, le=260, description="间歇性缺勤的窗口(连续上学日数,不超过一学年)"
    )
    chronic_percent: float = Field(
        default=10, gt=0, le=100, description="长期缺勤:缺课(含请假)占上学日的百分比"
    )
    chronic_min_days: int = Field(
        default=20, ge=1, le=260, description="至少累计多少个上学日后才判定长期缺勤与分档"
    )
    band_at_risk_percent: float = Field(default=5, gt=0, le=100, description="风险档起点(%)")
    band_moderate_percent: float = Field(default=10, gt=0, le=100, description="中度档起点(%)")
    band_severe_percent: float = Field(default=20, gt=0, le=100, description="严重档起点(%)")
    measure_window_days: int = Field(
        default=20, ge=1, le=260, description="滚动窗口(最近多少个上学日,不超过一学年)"
    )

    def measure_rules(self) -> MeasureRules:
        return MeasureRules(
            intermittent_absences=self.intermittent_absences,
            intermittent_window=self.intermittent_window_days,
            chronic_percent=self.chronic_percent,
            min_days=self.chronic_min_days,
            at_risk_percent=self.band_at_risk_percent,
            moderate_percent=self.band_moderate_percent,
            severe_percent=self.band_severe_percent,
            window_days=self.measure_window_days,
        )

    @model_validator(mode="after")
    def _fits_a_term(self) -> CountyRules:
        self.thresholds()  # raises ValueError: 0, or longer than a term
        return self

    def thresholds(self) -> Thresholds:
        """The 疑似辍学 / 辍学 thresholds (``app/domain/dropout_status.py``)."""
        return Thresholds(self.suspected_after, self.suspected_unit, self.dropout_after_days)

    def target_for(self, kind: str | None) -> float | None:
        return {
            "primary": self.dropout_target_primary,
            "junior_middle": self.dropout_target_junior_middle,
        }.get(kind or "")


RULE_KEYS = frozenset(CountyRules.model_fields)


def rules_from(*layers: dict[str, Any] | None) -> CountyRules:
    """County values, then the school's; keys of the alert policy are left to it.
    Raises ``pydantic.ValidationError`` on a bad value."""
    values: dict[str, Any] = {}
    for layer in layers:
        values.update({k: v for k, v in (layer or {}).items() if k in RULE_KEYS})
    return CountyRules.model_validate(values)


async def rules_for(
    session: AsyncSession, county_id: int, school_id: int | None = None
) -> CountyRules:
    """The rules in force for a county, or for one of its schools."""
    county, own = await alerts_repo.policy_rows(session, county_id, school_id or 0)
    return rules_from(county.values if county else None, own.values if own and school_id else None)
