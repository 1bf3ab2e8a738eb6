"""The township's account: a report to the 乡镇人民政府 as the township reads it, and the
bodies of its acknowledgement, its actions and raising a report to the county."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from app.core.local_times import LocalTimes
from app.core.types import Labels, LabelSpec, SafeText, Schema, SchoolDate


class ActionKind(StrEnum):
    order_correction = "order_correction"  # 责令限期改正 (义务教育法第五十八条), with a deadline
    education = "education"  # 批评教育
    penalty = "penalty"  # 行政处罚
    other = "other"


ACTION_LABELS: dict[ActionKind, str] = {
    ActionKind.order_correction: "责令限期改正",
    ActionKind.education: "批评教育",
    ActionKind.penalty: "行政处罚",
    ActionKind.other: "其他",
}


class ReportStatus(StrEnum):
    received = "received"  # 待签收
    acknowledged = "acknowledged"  # 已签收
    raised = "raised"  # 已提请县教育局


REPORT_STATUS_LABELS: dict[ReportStatus, str] = {
    ReportStatus.received: "待签收",
    ReportStatus.acknowledged: "已签收",
    ReportStatus.raised: "已提请县教育局",
}

Note = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), SafeText
]


class ActionIn(Schema):
    kind: ActionKind = Field(description="order_correction 责令限期改正(须填 deadline)等")
    taken_on: SchoolDate = Field(description="处理日期(不早于报告日,不晚于今天)")
    deadline: SchoolDate | None = Field(
        default=None, description="限期改正的期限(晚于处理日期);责令限期改正必填"
    )
    note: Note = Field(description="处理情况", examples=["已约谈监护人,责令 7 日内送子女返校"])


class RaiseIn(Schema):
    reason: Note = Field(description="提请县教育局的原因", examples=["监护人拒不改正,提请县教育局"])


class ActionOut(LocalTimes, Labels, Schema):
    labels: ClassVar[LabelSpec] = {"kind_label": ("kind", ACTION_LABELS)}

    id: int
    kind: ActionKind
    kind_label: str
    taken_on: date
    deadline: date | None
    note: str
    recorded_by: str
    recorded_at: datetime


class TownshipReportOut(LocalTimes, Schema):
    id: int
    notice_id: int
    notice_number: str = Field(description="返校通知书编号")
    case_id: int
    student_id: int
    student_name: str
    school_id: int
    school_name: str
    township_id: int
    county_id: int
    guardian_name: str
    notice_deadline: date = Field(description="返校通知书规定的返校期限")
    reported_on: date = Field(description="报告乡镇的日期")
    acknowledge_by: date = Field(description="签收期限:此日后仍未签收即提请县教育局")
    status: ReportStatus
    status_label: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    raised_on: date | None
    raised_by: str | None = Field(description="提请人;系统自动提请时为空")
    raise_reason: str | None
    actions: list[ActionOut]
