"""依法控辍: the request bodies of the return notice and the overdue check's counts."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field, StringConstraints

from app.core.types import Name, SafeLine, SafeText, Schema, SchoolDate
from app.domain.return_notices import NoticeStatus


class NoticeIn(Schema):
    guardian_name: Name | None = Field(
        default=None, description="监护人姓名;不填则取学生的第一监护人", examples=["王某"]
    )


class StrikeOffIn(Schema):
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), SafeText
    ] = Field(description="销号原因", examples=["已返校复学并稳定就读一个月"])


class DeliveryIn(Schema):
    delivered_on: SchoolDate | None = Field(
        default=None, description="送达日期(学校当地日期);不填为今天。不早于发出日期、不晚于今天"
    )
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), SafeLine] = (
        Field(default="", description="送达方式,如 直接送达监护人、留置送达", examples=["直接送达"])
    )


class CheckOut(Schema):
    complied: int = Field(description="学生已返校而办结的通知书数")
    escalated: int = Field(description="期限届满报告乡镇、认定疑似辍学的数")
    dropout: int = Field(description="认定辍学的数")
    raised_to_county: int = Field(default=0, description="报告乡镇后逾期未签收、提请县教育局的数")


class NoticeOut(Schema):
    id: int
    case_id: int
    student_id: int
    school_id: int
    number: str = Field(description="文书编号 {学校代码}-{年份}-{序号}")
    issued_on: date
    deadline: date
    guardian_name: str
    status: NoticeStatus
    status_label: str
    complied_on: date | None
    reported_to_township_on: date | None
    suspected_dropout_on: date | None = Field(description="认定疑似辍学的日期")
    dropout_on: date | None = Field(description="认定辍学的日期")
    struck_off_on: date | None
    strike_off_reason: str | None
    delivered_on: date | None = Field(
        default=None, description="送达日期;未记录送达时状态为 已发出 (issued, not yet delivered)"
    )
    delivery_note: str | None = Field(default=None, description="送达方式等说明")
    created_by: str = Field(description="kind:id:name")
