"""Students and their guardians."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field

from app.core.types import LineStr, Mobile, Name, RefId, Schema, SchoolDate
from app.domain.idcard import normalize_student_no, parse_id_number
from app.domain.students import ChangeKind


class Gender(StrEnum):
    male = "male"  # 男
    female = "female"  # 女


def _id_number(value: str) -> str:
    return parse_id_number(value).value


def _student_no(value: str) -> str:
    return normalize_student_no(value)


IdNumberStr = Annotated[
    str,
    AfterValidator(_id_number),
    Field(description="身份证号 (GB 11643, with its check character)"),
]
StudentNo = Annotated[
    str,
    AfterValidator(_student_no),
    Field(description="学籍号: G+身份证号, 或 L/J 临时号", examples=["G110105201403070017"]),
]


class GuardianIn(Schema):
    name: Name = Field(examples=["张建国"])
    relation: Annotated[LineStr, Field(min_length=1, max_length=20, examples=["父亲"])]
    mobile: Mobile
    is_primary: bool = False


class GuardianOut(Schema):
    id: int
    name: str
    relation: str
    mobile: str = Field(description="masked (138****1234) for subject teachers")
    is_primary: bool


class SpecialGroups(Schema):
    """特殊群体标记 — shown only to the roles allowed to see them."""

    left_behind: bool = Field(default=False, description="留守儿童")
    disabled: bool = Field(default=False, description="残疾儿童")
    single_parent: bool = Field(default=False, description="单亲家庭")
    orphan: bool = Field(default=False, description="孤儿")
    poverty: bool = Field(default=False, description="家庭经济困难")


class StudentIn(Schema):
    class_id: RefId
    name: Name = Field(examples=["张小明"])
    student_no: StudentNo
    id_number: IdNumberStr | None = None
    gender: Gender | None = Field(default=None, description="有身份证号时可省略")
    birth_date: SchoolDate | None = Field(default=None, description="有身份证号时可省略")
    special_groups: SpecialGroups = Field(default_factory=SpecialGroups)
    home_schooled: bool = Field(default=False, description="送教上门: never counted absent")
    guardians: list[GuardianIn] = Field(default_factory=list, max_length=6)


class StudentUpdate(Schema):
    class_id: RefId | None = None
    name: Name | None = None
    special_groups: SpecialGroups | None = None
    home_schooled: bool | None = None
    guardians: list[GuardianIn] | None = Field(default=None, max_length=6)


class StudentOut(Schema):
    id: int
    school_id: int
    class_id: int
    name: str
    gender: Gender
    birth_date: date
    student_no: str = Field(
        description="学籍号; masked like the ID number for subject teachers and API keys "
        "without the student_no scope"
    )
    id_number_masked: str | None = Field(description="身份证号(脱敏)")
    status: str = Field(description="学籍状态 (JY/T 1001): 01 在读 …")
    home_schooled: bool
    special_groups: SpecialGroups | None = Field(
        default=None, description="null when the caller may not see special-group labels"
    )
    guardians: list[GuardianOut] = Field(default_factory=list)
    active: bool


class EnrollmentChangeOut(Schema):
    id: int
    student_id: int
    school_id: int
    kind: ChangeKind
    kind_label: str
    from_status: str = Field(description="学籍状态代码 (JY/T 1001)")
    to_status: str
    to_status_label: str
    changed_on: date = Field(description="异动日期(学校当地)")
    reason: str | None
    reference: str | None = Field(description="文书编号")
    changed_by: str
