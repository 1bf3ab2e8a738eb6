"""Delivery configuration: quiet hours and routes per school, robots, webhook subscriptions;
receipts; the staff inbox; and delivery health."""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.local_times import LocalTimes
from app.core.types import LineStr, LocalTime, Page, RefId, Schema, StoredUrl
from app.delivery.channels.sms_templates import SmsTemplate
from app.delivery.channels.webhook import parse_secret
from app.domain.cases import Level
from app.domain.roles import Role

TOPIC_LABELS: dict[str, str] = {
    "alert.raised": "预警",
    "alert.escalated": "预警逾期未核查",
    "alert.withdrawn": "预警撤回",
    "alert.verified": "预警已核查",
    "contact.overdue": "联系家长超时",
    "report.submitted": "书面报告待审核",
    "report.returned": "书面报告被退回",
    "report.overdue": "书面报告逾期",
    "case.returned": "学生返校",
    "reenroll.overdue": "复学确认逾期",
    "task.due": "任务到期",
    "task.overdue": "任务逾期",
    "care.due": "关爱联系逾期",
    "left_school.raised": "离校未归",
    "left_school.overdue": "离校未归联系超时",
    "left_school.withdrawn": "离校未归撤回",
    "early_warning.entered": "进入预警名单",
    "early_warning.digest": "预警名单周汇总",
    "student.suspected_dropout": "疑似辍学",
    "student.dropout": "辍学",
    "return_notice.reported_to_township": "已报告乡镇",
    "township.action_recorded": "乡镇处理",
    "township_report.raised_to_county": "乡镇报告提请县教育局",
    "monthly_report.overdue": "月报逾期未报送",
}


class ChannelName(StrEnum):
    wecom_robot = "wecom_robot"  # 企业微信群机器人
    dingtalk_robot = "dingtalk_robot"  # 钉钉自定义机器人
    wechat = "wechat"  # 小程序订阅消息
    sms = "sms"  # 短信


ROBOTS = frozenset({ChannelName.wecom_robot, ChannelName.dingtalk_robot})


class WebhookEvent(StrEnum):
    alert_raised = "alert.raised"
    alert_escalated = "alert.escalated"
    alert_withdrawn = "alert.withdrawn"
    alert_verified = "alert.verified"
    case_opened = "case.opened"
    case_closed = "case.closed"
    # The student's 控辍 status and the legal escalation (payload: topic, case_id, alert_id
    # null, student_id, school_id, level).
    student_suspected_dropout = "student.suspected_dropout"
    student_dropout = "student.dropout"
    return_notice_reported = "return_notice.reported_to_township"
    # The township's action on a report (payload as above) and a report raised to the county.
    township_action = "township.action_recorded"
    township_raised = "township_report.raised_to_county"
    # Issue 21: a filed 传染病疫情报告 (payload: app/illness/webhook.py).
    illness_cluster = "illness.cluster"


class DeliverySettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quiet_start: LocalTime = Field(default=time(22, 0), description="免打扰开始 (blue/yellow held)")
    quiet_end: LocalTime = Field(default=time(7, 0), description="免打扰结束")
    routes: dict[Role, list[ChannelName]] = Field(
        default_factory=dict,
        description="每个角色的渠道及回退顺序 (channels per role, in fallback order)",
        examples=[{"head_teacher": ["wecom_robot", "sms"], "principal": ["wechat", "sms"]}],
    )


class DeliverySettingsOut(DeliverySettingsIn):
    school_id: int
    configured_channels: list[ChannelName]


class ChannelTargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: StoredUrl = Field(description="机器人 webhook 地址")
    secret: str | None = Field(default=None, min_length=8, max_length=200)


class ChannelTargetOut(BaseModel):
    school_id: int
    channel: ChannelName
    url: str
    has_secret: bool
    enabled: bool


def _whsec(value: str | None) -> str | None:
    if value is not None:
        parse_secret(value)
    return value


WhSecret = Annotated[
    str | None,
    Field(
        max_length=200,
        description="Standard Webhooks 密钥 whsec_<base64 of 24–64 bytes>; "
        "omit it and the server generates one (returned once)",
    ),
]


class WebhookSubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    county_id: RefId | None = None
    school_id: RefId | None = None
    url: StoredUrl
    secret: WhSecret = None
    events: list[WebhookEvent] = Field(default_factory=lambda: list(WebhookEvent), min_length=1)

    _secret_format = field_validator("secret")(_whsec)


class WebhookRotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    secret: WhSecret = None
    window_hours: int = Field(
        default=24,
        ge=0,
        le=168,
        description="旧密钥继续有效的小时数 (both secrets sign meanwhile); 0 retires it now",
    )

    _secret_format = field_validator("secret")(_whsec)


class WebhookSubscriptionOut(BaseModel):
    id: int
    county_id: int
    school_id: int | None
    url: str
    events: list[WebhookEvent]
    active: bool
    created_at: datetime
    rotation_ends: datetime | None = Field(
        default=None, description="轮换期结束时间: until then both secrets sign"
    )
    secret: str | None = Field(
        default=None, description="服务器生成的密钥, 仅在创建或轮换时返回一次 (shown once)"
    )


class SmsTemplatesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    templates: dict[LineStr, SmsTemplate] = Field(
        description="通知类型 (topic, digest 或 default) → 短信模板",
        examples=[
            {
                "alert.raised": {
                    "template_id": "1234567",
                    "content": "{1}同学今日未到校({2}),请于{3}前核查。",
                    "params": {"1": "student", "2": "level", "3": "due"},
                }
            }
        ],
    )


class SmsTemplatesOut(SmsTemplatesIn):
    school_id: int
    provider: str


class AttemptOut(BaseModel):
    at: datetime
    channel: str
    status: str
    http_status: int | None
    code: str | None = Field(default=None, description="平台错误码 (the platform's error code)")
    error: str | None
    duration_ms: int | None


class DeliveryOut(BaseModel):
    id: int
    channel: str
    state: str
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
    staff_id: int | None
    notification_id: int | None
    subscription_id: int | None
    receipts: list[AttemptOut]


# --- inbox ----------------------------------------------------------------------------------


class NotificationOut(LocalTimes, Schema):
    id: int
    staff_id: int
    staff_name: str
    role: Role | None = Field(description="收件人以何种身份收到 (the recipient's role)")
    role_label: str | None
    topic: str
    topic_label: str
    title: str
    body: str
    level: Level | None
    level_label: str | None
    case_id: int | None
    alert_id: int | None
    student_id: int | None
    student_name: str | None
    school_id: int | None
    created_at: datetime
    read_at: datetime | None
    acknowledged_at: datetime | None


class InboxPage(Page[NotificationOut]):
    unread: int = Field(description="未读条数 (all of the caller's unread notices)")


# --- health ---------------------------------------------------------------------------------


class ChannelHealthOut(BaseModel):
    channel: str
    backlog: int = Field(description="deliveries not yet sent (pending or being sent)")
    due: bool = Field(description="some of them are due now")
    oldest_undelivered_at: datetime | None
    oldest_undelivered_seconds: float | None
    dead_24h: int = Field(description="dead letters in the last 24 hours")


class DeliveryHealthOut(BaseModel):
    status: str = Field(description="green, or red when notifications are not leaving")
    problems: list[str] = Field(description="why it is red, in words")
    undispatched: int = Field(description="outbox notifications not yet turned into deliveries")
    oldest_undispatched_at: datetime | None
    channels: list[ChannelHealthOut]


class ProcessOut(BaseModel):
    process_id: str
    hostname: str
    pid: int
    started_at: datetime
    beat_at: datetime
    last_sweep_at: datetime | None = Field(description="last deadline sweep without error")
    last_delivery_at: datetime | None = Field(description="last delivery tick without error")
    last_error: str | None
    alive: bool = Field(description="heard from within the stall limit")
