"""Bodies and answers of the family's routes; every field bounded."""

from __future__ import annotations

from datetime import date, time
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.core.types import LocalTime, Mobile, RefId, SafeLine, SafeText, Schema, SchoolDate
from app.domain.attendance import Symptom
from app.guardians.masking import NameMask

GuardianChannel = Literal["wechat", "sms"]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), SafeLine]
Token = Annotated[str, StringConstraints(min_length=1, max_length=40)]


def _default_channels() -> list[GuardianChannel]:
    return ["wechat", "sms"]


class GuardianSettingsIn(Schema):
    enabled: bool = Field(description="是否给家长发未到校通知 (the school opts in)")
    grace_minutes: int = Field(default=15, ge=0, le=240, description="晨检后多少分钟发送")
    quiet_start: LocalTime = Field(default=time(21, 0), description="免打扰开始 (school time)")
    quiet_end: LocalTime = Field(default=time(7, 0), description="免打扰结束 (school time)")
    channels: list[GuardianChannel] = Field(
        default_factory=_default_channels,
        max_length=2,
        description="家长渠道,按回退顺序 (wechat: 已订阅的家长; sms: 学校的短信模板)",
    )
    name_mask: NameMask = Field(
        default="middle", description="孩子姓名显示: middle 张*明, given *明, surname_only 张同学"
    )
    report_cutoff: LocalTime = Field(
        default=time(8, 0), description="家长当天报告缺勤的截止时间 (school time)"
    )


class GuardianSettingsOut(GuardianSettingsIn):
    school_id: int


class Answer(StrEnum):
    ill = "ill"  # 生病
    family = "family"  # 家中有事
    on_the_way = "on_the_way"  # 在路上
    dont_know = "dont_know"  # 不知道孩子在哪


ANSWER_LABELS = {
    Answer.ill: "生病",
    Answer.family: "家中有事",
    Answer.on_the_way: "在路上",
    Answer.dont_know: "不清楚孩子去向",
}


class AnswerIn(Schema):
    student_id: RefId
    answer: Answer = Field(description="ill 生病 / family 家中有事 / on_the_way 在路上 / dont_know")
    symptoms: list[Symptom] = Field(
        default_factory=list, max_length=len(Symptom), description="生病时必填,至少一项"
    )
    note: Note = ""


class ChildOut(Schema):
    student_id: int
    name: str = Field(description="masked as the school chose")
    answered: Answer | None


class AnswerPageOut(Schema):
    school: str
    school_date: date
    children: list[ChildOut]


class AnswerOut(Schema):
    student_id: int
    answer: Answer
    counted_as_contact: bool
    leave_id: int | None
    escalated: bool


class OptOutIn(Schema):
    channel: GuardianChannel


class ReportAheadIn(Schema):
    student_id: RefId
    start_date: SchoolDate = Field(description="缺席开始日期(今天截止时间前,或以后)")
    end_date: SchoolDate = Field(description="缺席结束日期(含)")
    reason: Literal["ill", "family"] = Field(description="ill 生病 / family 家中有事")
    symptoms: list[Symptom] = Field(default_factory=list, max_length=len(Symptom))
    note: Note = ""


class ReportAheadOut(Schema):
    leave_id: int
    status: str


WxCode = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$"), SafeLine
]
BindingCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=6, max_length=20, pattern=r"^[A-Za-z0-9]+$"
    ),
    SafeLine,
]


class ParentSignInIn(Schema):
    code: WxCode = Field(description="wx.login 返回的 code")
    binding_code: BindingCode | None = Field(default=None, description="家校联系卡上的绑定码")
    mobile: Mobile | None = Field(
        default=None,
        description="家长本人的手机号(须是学籍登记的该孩子监护人手机号):"
        "未到校通知改用微信订阅消息发给本账号,未订阅时仍发短信",
    )


class StaffSignInIn(Schema):
    code: WxCode = Field(description="wx.login 返回的 code")
    mobile: Mobile | None = Field(default=None, description="首次绑定:手机号")
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    binding_code: BindingCode | None = Field(
        default=None, description="首次绑定:管理员发放的一次性绑定码(代替手机号和密码)"
    )


class BindingCodeOut(Schema):
    student_id: int
    code: str = Field(description="打印在家校联系卡上;只显示这一次")


class StaffBindingCodeOut(Schema):
    staff_id: int
    code: str = Field(description="交给本人,在教师小程序首次登录时填写;一次有效,只显示这一次")


class MyChildOut(Schema):
    student_id: int
    name: str
    school: str
    class_name: str


class SmsReplyIn(Schema):
    """Tencent Cloud SMS's reply callback (短信回复), as it posts it."""

    extend: Annotated[str, StringConstraints(max_length=64), SafeLine] | None = Field(
        default=None, description="通道扩展码"
    )
    mobile: Annotated[str, StringConstraints(max_length=20), SafeLine] = Field(
        description="手机号码"
    )
    nationcode: Annotated[str, StringConstraints(max_length=6), SafeLine] = Field(
        description="国家码"
    )
    sign: Annotated[str, StringConstraints(max_length=64), SafeLine] = Field(description="短信签名")
    text: Annotated[str, StringConstraints(max_length=500), SafeText] = Field(
        description="用户回复的内容"
    )
    time: int = Field(ge=0, description="UNIX 时间戳(秒)")


class SmsReplyOut(Schema):
    result: int = Field(description="0 成功;非 0 失败")
    errmsg: str
