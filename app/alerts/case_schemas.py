"""预警与缺勤案例 (alerts and absence cases): what clients send and what they get back.
Codes are English; every code people read comes with a Chinese ``*_label``."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from app.alerts.measure_schemas import AbsenceMeasureOut
from app.core.local_times import LocalTimes
from app.core.types import Instant, Labels, LabelSpec, SafeLine, SafeText, Schema
from app.delivery.schemas import NotificationOut
from app.domain.cases import (
    TASK_LABELS,
    TASK_STATUS_LABELS,
    AlertStatus,
    CaseStatus,
    CloseReason,
    DeadlineKind,
    Level,
    ReportStatus,
    TaskKind,
    TaskStatus,
)
from app.domain.roles import ROLE_LABELS, Role


class ReasonCategory(StrEnum):
    """Causes of absence schools name in their reports (一人一策)."""

    economic_hardship = "economic_hardship"
    learning_difficulty = "learning_difficulty"
    psychological = "psychological"
    family_change = "family_change"
    guardian_misunderstanding = "guardian_misunderstanding"
    work = "work"
    illness = "illness"
    other = "other"


class DeadlineState(StrEnum):
    pending = "pending"
    fired = "fired"
    cancelled = "cancelled"
    failed = "failed"  # set aside by the sweep after an error; retried with back-off


REASON_LABELS: dict[ReasonCategory, str] = {
    ReasonCategory.economic_hardship: "经济困难",
    ReasonCategory.learning_difficulty: "学习困难",
    ReasonCategory.psychological: "心理问题",
    ReasonCategory.family_change: "家庭变故",
    ReasonCategory.guardian_misunderstanding: "监护人对政策不理解",
    ReasonCategory.work: "外出务工/打工",
    ReasonCategory.illness: "生病",
    ReasonCategory.other: "其他",
}
ALERT_STATUS_LABELS: dict[AlertStatus, str] = {
    AlertStatus.raised: "待核查",
    AlertStatus.verified: "已核查",
    AlertStatus.withdrawn: "已撤回",
}
CASE_STATUS_LABELS: dict[CaseStatus, str] = {
    CaseStatus.open: "跟踪中",
    CaseStatus.awaiting_reenrollment: "已返校,待确认复学",
    CaseStatus.closed: "已结案",
}
CLOSE_REASON_LABELS: dict[CloseReason, str] = {
    CloseReason.returned: "学生返校",
    CloseReason.excused: "已批准请假",
    CloseReason.withdrawn: "点名更正,撤销",
    CloseReason.reenrolled: "已确认复学",
    CloseReason.transferred: "已转学",
}
REPORT_STATUS_LABELS: dict[ReportStatus, str] = {
    ReportStatus.due: "待提交",
    ReportStatus.submitted: "待教务处审核",
    ReportStatus.accepted: "教务处已接收",
    ReportStatus.returned: "已退回,待重新提交",
}
DEADLINE_KIND_LABELS: dict[DeadlineKind, str] = {
    DeadlineKind.contact: "联系家长(1 小时内)",
    DeadlineKind.report: "书面缺勤报告(24 小时内)",
    DeadlineKind.verify: "预警核查(48 小时内)",
    DeadlineKind.reenroll: "确认复学(一周内)",
}
DEADLINE_STATE_LABELS: dict[DeadlineState, str] = {
    DeadlineState.pending: "未触发",
    DeadlineState.fired: "已逾期并上报",
    DeadlineState.cancelled: "已按时完成或已失效",
    DeadlineState.failed: "触发出错,稍后重试",
}
WORK_GROUP_PARTS: dict[str, str] = {"lead": "牵头", "member": "成员"}

NOTE_MAX = 500
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=NOTE_MAX), SafeText]
RequiredNote = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NOTE_MAX), SafeText
]


# --- in -------------------------------------------------------------------------------------


class VerifyIn(Schema):
    note: Note = Field(default="", description="核查情况 (what the verification found)")


class ContactIn(Schema):
    at: Instant | None = Field(
        default=None, description="通话时间,带时区;默认为现在 (when the call was made)"
    )
    answered_by: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=50), SafeLine] | None
    ) = Field(default=None, description="接听人,如 母亲 / 爷爷", examples=["母亲"])
    reached: bool = Field(description="是否联系上家长 (whether anyone was reached)")
    reason_category: ReasonCategory | None = Field(
        default=None,
        description="家长说明的缺勤原因(仅联系上时): economic_hardship 经济困难, "
        "learning_difficulty 学习困难, psychological 心理问题, family_change 家庭变故, "
        "guardian_misunderstanding 监护人对政策不理解, work 外出务工/打工, illness 生病, "
        "other 其他",
    )
    reason_note: Note = Field(default="", description="原因说明 (details)")
    verified: bool = Field(default=False, description="原因是否已核实 (reason verified)")


class ReportIn(Schema):
    content: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), SafeText
    ] = Field(description="书面缺勤报告正文", examples=["该生 11 月 24 日未到校,家长称……"])


class DecisionIn(Schema):
    note: Note = Field(default="", description="审核意见")


class ReturnIn(Schema):
    note: RequiredNote = Field(description="退回理由 (why the report goes back)")


class TaskDoneIn(Schema):
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), SafeText] = (
        Field(default="", description="完成情况,如家访记录 (e.g. the home-visit record)")
    )


# --- out ------------------------------------------------------------------------------------


class AlertOut(LocalTimes, Schema):
    id: int
    case_id: int
    key: str = Field(description="episode:level:seq, unique within the case")
    student_id: int
    student_name: str
    school_id: int
    class_id: int
    level: Level
    level_label: str
    status: AlertStatus
    status_label: str
    raised_at: datetime
    days: list[date] = Field(description="计入的缺勤上学日 (the school days counted)")
    rule: str
    recipient_role: Role
    recipient_role_label: str
    verify_due: datetime
    verified_at: datetime | None
    verified_by: str | None = Field(description="kind:id:name")
    verify_note: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None = Field(description="kind:id:name")
    withdrawn_at: datetime | None
    withdrawn_reason: str | None


class NoticeRecipient(LocalTimes, Schema):
    staff_id: int
    name: str
    notified_at: datetime
    read_at: datetime | None
    acknowledged_at: datetime | None


class RecipientGroup(Schema):
    topic: str
    topic_label: str
    role: Role | None
    role_label: str | None
    staff: list[NoticeRecipient]


class DeadlineOut(LocalTimes, Schema):
    id: int
    kind: DeadlineKind
    kind_label: str
    key: str
    due_at: datetime
    state: DeadlineState
    state_label: str
    owed: bool = Field(
        description="义务仍未履行 (still owed: the deadline will escalate when it comes due)"
    )
    overdue: bool = Field(description="已过期仍未履行 (owed and past due)")
    fired_at: datetime | None
    lateness_ms: int | None


class TimelineOut(LocalTimes, Schema):
    id: int
    at: datetime
    kind: str
    text: str
    actor: str | None


class AlertExplanation(LocalTimes, Schema):
    rule: str = Field(description="触发规则")
    level_label: str
    days: list[date] = Field(description="计入的缺勤上学日")
    days_count: int
    recipient_role: Role
    recipient_role_label: str
    recipients: list[RecipientGroup] = Field(
        description="谁收到了通知:预警、逾期上报、撤回各一组 (who was told, per topic)"
    )
    verify_due: datetime
    deadlines: list[DeadlineOut] = Field(
        description="本预警的核查期限,以及该案例的联系家长、书面报告、复学期限"
    )


class AlertHistory(Schema):
    timeline: list[TimelineOut]
    notifications: list[NotificationOut]


class AlertDetail(AlertOut):
    explanation: AlertExplanation
    history: AlertHistory


class ContactOut(LocalTimes, Schema):
    id: int
    case_id: int
    at: datetime
    logged_by: str
    answered_by: str | None
    reached: bool
    reason_category: ReasonCategory | None
    reason_category_label: str | None
    reason_note: str | None
    verified: bool


class ReportOut(LocalTimes, Labels, Schema):
    labels: ClassVar[LabelSpec] = {"status_label": ("status", REPORT_STATUS_LABELS)}

    id: int
    case_id: int
    round: int
    content: str
    submitted_at: datetime
    submitted_by: str
    status: ReportStatus
    status_label: str
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None


class TaskOut(LocalTimes, Labels, Schema):
    labels: ClassVar[LabelSpec] = {
        "kind_label": ("kind", TASK_LABELS),
        "role_label": ("role", ROLE_LABELS),
        "status_label": ("status", TASK_STATUS_LABELS),
    }

    id: int
    case_id: int
    kind: TaskKind
    kind_label: str
    role: Role
    role_label: str
    due_at: datetime
    status: TaskStatus
    status_label: str
    done_at: datetime | None
    done_by: str | None
    note: str | None
    created_at: datetime


class WorkGroupMember(Schema):
    staff_id: int
    name: str
    role: Role
    role_label: str
    part: str = Field(description="lead 牵头 / member 成员")
    part_label: str


class CaseOut(LocalTimes, Schema):
    id: int
    student_id: int
    student_name: str
    school_id: int
    class_id: int
    status: CaseStatus
    status_label: str
    level: Level | None
    level_label: str | None
    episode: int
    opened_at: datetime
    closed_at: datetime | None
    close_reason: CloseReason | None
    close_reason_label: str | None
    run: list[date] = Field(description="当前连续无故缺勤的上学日")
    contact_day: date | None
    contact_attempt: int
    contact_done: bool
    report_status: ReportStatus | None
    report_status_label: str | None
    report_round: int
    reenroll_due: datetime | None
    version: int
    updated_at: datetime


class CaseDetail(CaseOut):
    timeline: list[TimelineOut]
    contacts: list[ContactOut]
    reports: list[ReportOut]
    tasks: list[TaskOut]
    work_group: list[WorkGroupMember] = Field(description="联合劝返工作组 (at red)")
    alerts: list[AlertOut]
    pending_deadlines: list[DeadlineOut] = Field(
        description="仍未履行的期限 (deadlines whose obligation is still owed)"
    )
    absence_measure: AbsenceMeasureOut | None = Field(
        default=None, description="该生本学期缺勤统计(缺课率、分档、长期与间歇性缺勤)"
    )
