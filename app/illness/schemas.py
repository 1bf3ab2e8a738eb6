"""因病缺勤 over HTTP: the register, the follow-up, cluster alerts, reports, rules, summaries
and 复课证明."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from app.core.local_times import LocalTimes
from app.core.types import Id, SafeLine, SafeText, Schema, SchoolDate
from app.domain.attendance import Symptom
from app.domain.illness import Disease, Scope
from app.illness.roll_schemas import DiagnosisNote

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), SafeText]
Line100 = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), SafeLine
]


class RegisterSource(StrEnum):
    roll = "roll"  # 晨午检
    leave = "leave"  # 病假


class SymptomLabel(Schema):
    code: Symptom
    label: str


class RegisterEntryOut(LocalTimes, Schema):
    """One illness absence. ``masked``: the caller may not see health information — symptoms,
    onset, diagnosis and follow-up are left out (个人信息保护法 第28条)."""

    source: RegisterSource
    id: int = Field(description="illness record id (roll) or leave id (leave)")
    student_id: int
    student_name: str
    school_id: int
    class_id: int
    start_date: date
    last_date: date
    kind: str = Field(description="absent 因病缺勤 / sent_home 因病离校 / sick_leave 病假")
    masked: bool
    symptoms: list[SymptomLabel] | None = None
    onset_at: datetime | None = None
    onset_place: str | None = None
    diagnosis: Disease | None = None
    diagnosis_label: str | None = None
    diagnosis_note: str | None = None
    called_family: bool | None = None
    doctor_seen: bool | None = None
    followup_note: str | None = None
    followed_up_by: str | None = None
    followed_up_at: datetime | None = None
    returned_on: date | None = None
    certificate: bool | None = None


class RegisterOut(Schema):
    school_id: int
    start: date
    end: date
    entries: list[RegisterEntryOut]


class FollowUpIn(Schema):
    """病因追查: what the head teacher found out."""

    called_family: bool = Field(description="已联系家长")
    doctor_seen: bool = Field(default=False, description="已就医")
    symptoms: list[Symptom] | None = Field(
        default=None, min_length=1, max_length=len(Symptom), description="核实后的症状(替换)"
    )
    diagnosis: Disease | None = Field(default=None, description="诊断")
    diagnosis_note: DiagnosisNote | None = None
    note: Note | None = None


class AlertCaseOut(LocalTimes, Schema):
    student_id: int
    student_name: str | None = None
    class_id: int
    day: date
    symptoms: list[SymptomLabel] | None = None
    onset_at: datetime | None = None


class IllnessAlertOut(LocalTimes, Schema):
    id: int
    school_id: int
    rule_code: str
    rule_name: str
    scope: Scope
    scope_id: int
    window_start: date
    window_end: date
    count: int
    status: str = Field(description="open 待报告 / reported 已报告 / escalated 逾期已上报县")
    status_label: str
    report_due: datetime
    reported_at: datetime | None
    escalated_at: datetime | None
    masked: bool
    cases: list[AlertCaseOut]


class IllnessReportIn(Schema):
    note: Note | None = Field(default=None, description="补充说明")


class IllnessReportOut(LocalTimes, Schema):
    id: int
    alert_id: int
    school_id: int
    reported_by: str
    reported_at: datetime
    recipients: list[str]
    note: str | None


class RuleIn(Schema):
    """A county's cluster rule; a default's code replaces that default."""

    name: Line100
    scope: Scope
    count: int = Field(ge=1, le=1000, description="至少多少名学生")
    window_days: int = Field(ge=1, le=60, description="连续上学日数")
    symptoms: list[Symptom] = Field(
        default_factory=list, max_length=len(Symptom), description="任一症状 (any of)"
    )
    symptoms_all: list[Symptom] = Field(
        default_factory=list,
        max_length=len(Symptom),
        description="且须同时具有的症状 (all of these too; 高热 counts as 发热)",
    )
    disease: Disease | None = None
    deadline_hours: int = Field(default=24, ge=1, le=168, description="报告时限(小时)")
    unexplained_only: bool = Field(default=False, description="只计尚无诊断的病例")
    active: bool = True


class RuleOut(Schema):
    code: str
    name: str
    scope: Scope
    count: int
    window_days: int
    symptoms: list[Symptom]
    symptoms_all: list[Symptom]
    disease: Disease | None
    deadline_hours: int
    unexplained_only: bool
    default: bool = Field(description="系统默认规则 (not changed by the county)")
    active: bool


class CertificateIn(Schema):
    institution: Line100 = Field(description="出具复课证明的医疗机构")
    issued_on: SchoolDate = Field(description="证明日期")


class CertificateOut(LocalTimes, Schema):
    record_id: int
    student_id: int
    institution: str
    issued_on: date
    recorded_by: str
    recorded_at: datetime


class ReturnOut(Schema):
    record_id: int
    student_id: int
    student_name: str
    class_id: int
    start_date: date
    last_date: date
    school_days: int
    returned_on: date
    notifiable: bool


class SummaryClassRow(Schema):
    class_id: int
    class_name: str
    by_day: dict[str, dict[str, int]] = Field(
        description="日期 → 症状 → 人数 (today and the last 3 school days)"
    )
    total_today: int


class SummaryOut(Schema):
    """因病缺勤 班级汇总表 for one school day; ``zero_report`` (零报告) when nobody was absent
    for illness that day."""

    school_id: int
    school_name: str
    day: date = Field(description="汇总日期")
    days: list[date]
    zero_report: bool
    classes: list[SummaryClassRow]
    by_symptom_today: dict[str, int]
    open_alerts: int


class CountySummaryOut(Schema):
    county_id: int
    day: date
    schools: list[SummaryOut]


IdPath = Id
