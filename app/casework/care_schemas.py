"""特殊群体关爱: a special-group student's 成长导师, care contacts and the school's ledger."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from app.core.types import RefId, SafeText, Schema, SchoolDate

Note = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), SafeText
]


class ContactKind(StrEnum):
    home_visit = "home_visit"
    phone = "phone"
    talk = "talk"
    other = "other"


class MentorIn(Schema):
    staff_id: RefId = Field(description="成长导师(该学生所在学校的教职工)")


class MentorOut(Schema):
    id: int
    student_id: int
    staff_id: int
    staff_name: str
    since: date
    until: date | None
    assigned_by: str


class CareContactIn(Schema):
    contacted_on: SchoolDate = Field(description="关爱日期(不晚于今天)")
    kind: ContactKind = Field(description="home_visit 家访, phone 电话, talk 谈心, other 其他")
    note: Note = Field(description="关爱内容", examples=["电话联系在外务工的父亲,了解近况"])


class CareContactOut(Schema):
    id: int
    student_id: int
    staff_id: int
    staff_name: str
    contacted_on: date
    kind: ContactKind
    kind_label: str
    note: str


class CareLedgerRow(Schema):
    student_id: int
    student_name: str = Field(description="学生")
    class_name: str = Field(description="班级")
    categories: str = Field(description="类别(以“、”分隔)")
    mentor_name: str | None = Field(description="成长导师")
    last_contact_on: date | None = Field(description="最近关爱记录日期")
    contacts: int = Field(description="近 90 天关爱次数")


class CareLedgerOut(Schema):
    school_id: int
    school_name: str
    as_of: date = Field(description="学校当地日期")
    window_start: date = Field(description="关爱次数的统计起始日(含),as_of 前 89 天")
    rows: list[CareLedgerRow]
