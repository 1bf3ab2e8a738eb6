"""请假 (leave requests): what clients send and what they get back, with Chinese labels."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from app.core.local_times import LocalTimes
from app.core.types import Instant, RefId, SafeText, Schema, SchoolDate
from app.domain.attendance import LeaveStatus, LeaveType, Symptom

LEAVE_TYPE_LABELS: dict[LeaveType, str] = {
    LeaveType.sick: "病假",
    LeaveType.personal: "事假",
    LeaveType.other: "其他",
}
SYMPTOM_LABELS: dict[Symptom, str] = {
    Symptom.fever: "发热",
    Symptom.cough: "咳嗽",
    Symptom.sore_throat: "咽痛",
    Symptom.rash: "皮疹",
    Symptom.diarrhoea: "腹泻",
    Symptom.vomiting: "呕吐",
    Symptom.headache: "头痛",
    Symptom.other: "其他",
    Symptom.parotid_swelling: "腮腺肿大",
    Symptom.abdominal_pain: "腹痛",
    Symptom.dizziness: "头晕",
    Symptom.fatigue: "乏力",
    Symptom.conjunctival_congestion: "结膜充血",
    Symptom.high_fever: "高热",
    Symptom.breathing_difficulty: "呼吸困难",
    Symptom.severe_vomiting_diarrhoea: "剧烈呕吐/腹泻",
}

REASON_MAX = 500  # the columns' length
REJECTION_MAX = 500

Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=REASON_MAX), SafeText]
RejectionReason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=REJECTION_MAX), SafeText
]


class LeaveIn(Schema):
    student_id: RefId
    start_date: SchoolDate = Field(description="请假开始日期(含)")
    end_date: SchoolDate = Field(description="请假结束日期(含);不超过 60 天,更长的请走休学")
    leave_type: LeaveType = Field(description="sick 病假 / personal 事假 / other 其他")
    reason: Reason = Field(default="", examples=["发烧,家长电话请假"])
    onset_at: Instant | None = Field(
        default=None, description="病假必填:发病时间,带时区 (onset, with UTC offset)"
    )
    symptoms: list[Symptom] = Field(
        default_factory=list,
        max_length=len(Symptom),
        description="病假必填,至少一项 (因病缺勤追踪 WS/T 772-2020)",
    )
    approve: bool = Field(
        default=False,
        description="直接批准(班主任代家长登记电话请假);仅限有审批权的人",
    )


class LeaveRejectIn(Schema):
    reason: RejectionReason = Field(description="驳回理由", examples=["请补交病历"])


RejectIn = LeaveRejectIn  # the component is LeaveRejectIn: transfers have their own


class SymptomOut(Schema):
    code: Symptom
    label: str


class LeaveOut(LocalTimes, Schema):
    id: int
    student_id: int
    student_name: str
    school_id: int
    class_id: int
    start_date: date
    end_date: date
    leave_type: LeaveType
    leave_type_label: str
    reason: str
    onset_at: datetime | None
    symptoms: list[SymptomOut]
    health_masked: bool = Field(
        default=False,
        description="症状与发病时间已隐去:仅疫情报告人、校长、本班班主任、县卫生健康联络人可见 "
        "(symptoms and onset withheld: health information of a minor)",
    )
    status: LeaveStatus
    status_label: str
    rejection_reason: str | None = Field(default=None, description="驳回理由 (when rejected)")
    requested_by: str = Field(description="申请人: kind:id:name, e.g. staff:12:李老师")
    decided_by: str | None = Field(default=None, description="最后审批/驳回/撤销的人: kind:id:name")
    decided_at: datetime | None
    created_at: datetime
