"""依法控辍: the request bodies of the return notice and the overdue check's counts."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from app.core.types import Name, SafeText, Schema


class NoticeIn(Schema):
    guardian_name: Name | None = Field(
        default=None, description="监护人姓名;不填则取学生的第一监护人", examples=["王某"]
    )


class StrikeOffIn(Schema):
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), SafeText
    ] = Field(description="销号原因", examples=["已返校复学并稳定就读一个月"])


class CheckOut(Schema):
    complied: int = Field(description="学生已返校而办结的通知书数")
    escalated: int = Field(description="期限届满报告乡镇、认定疑似辍学的数")
    dropout: int = Field(description="认定辍学的数")
