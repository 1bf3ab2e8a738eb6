"""联合劝返 (joint persuasion): home-visit records, persuasion talks and the 一人一策 plan.
Codes are English; every code people read comes with a Chinese ``*_label``."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from app.alerts.case_schemas import ReasonCategory
from app.core.local_times import LocalTimes
from app.core.types import Name, RefId, SafeLine, SafeText, Schema, SchoolDate

Short = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SafeLine
]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), SafeText
]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), SafeText]


class ParticipantKind(StrEnum):
    staff = "staff"
    village_committee = "village_committee"
    township = "township"
    police = "police"
    other = "other"


class VisitOutcome(StrEnum):
    agreed_to_return = "agreed_to_return"
    refused = "refused"
    not_met = "not_met"
    other = "other"


class MeasureKind(StrEnum):
    subsidy = "subsidy"
    tutoring = "tutoring"
    psychological_support = "psychological_support"
    mentor = "mentor"
    other = "other"


PARTICIPANT_LABELS: dict[ParticipantKind, str] = {
    ParticipantKind.staff: "学校教职工",
    ParticipantKind.village_committee: "村委会",
    ParticipantKind.township: "乡镇",
    ParticipantKind.police: "派出所",
    ParticipantKind.other: "其他",
}
OUTCOME_LABELS: dict[VisitOutcome, str] = {
    VisitOutcome.agreed_to_return: "同意返校",
    VisitOutcome.refused: "拒绝",
    VisitOutcome.not_met: "未见到",
    VisitOutcome.other: "其他",
}
MEASURE_LABELS: dict[MeasureKind, str] = {
    MeasureKind.subsidy: "两免一补",
    MeasureKind.tutoring: "学业辅导",
    MeasureKind.psychological_support: "心理疏导",
    MeasureKind.mentor: "成长导师",
    MeasureKind.other: "其他",
}


# --- in -------------------------------------------------------------------------------------


class ParticipantIn(Schema):
    name: Name = Field(description="姓名或单位,如 村委会主任 王某", examples=["王主任"])
    kind: ParticipantKind = Field(
        description="staff 学校教职工, village_committee 村委会, township 乡镇, "
        "police 派出所, other 其他"
    )
    staff_id: RefId | None = Field(
        default=None, description="本校教职工的编号(仅 kind=staff 时填写,须为本校教职工)"
    )


class HomeVisitIn(Schema):
    visited_on: SchoolDate = Field(description="家访日期(不能晚于学校当地今天)")
    place: Short = Field(description="地点", examples=["某村 3 组学生家中"])
    participants: list[ParticipantIn] = Field(min_length=1, description="参加人员")
    met: Short = Field(description="见到的人", examples=["学生本人及其祖母"])
    summary: Text = Field(description="谈话内容 (what was said)")
    outcome: VisitOutcome = Field(
        description="agreed_to_return 同意返校, refused 拒绝, not_met 未见到, other 其他"
    )


class TalkIn(Schema):
    talked_on: SchoolDate = Field(description="谈话日期(不能晚于学校当地今天)")
    with_whom: Short = Field(description="谈话对象", examples=["学生及其父亲"])
    by_whom: Short = Field(description="谈话人", examples=["班主任 李老师"])
    content: Text = Field(description="谈话内容")


class MeasureIn(Schema):
    kind: MeasureKind = Field(
        description="subsidy 两免一补, tutoring 学业辅导, psychological_support 心理疏导, "
        "mentor 成长导师, other 其他"
    )
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), SafeText
    ] = Field(description="措施内容")
    owner_staff_id: RefId = Field(description="责任人(本校教职工)")
    review_dates: list[SchoolDate] = Field(
        min_length=1, description="回访/复查日期,按先后顺序,不能重复"
    )


class PlanIn(Schema):
    cause: ReasonCategory = Field(
        description="辍学原因: economic_hardship 经济困难, learning_difficulty 学习困难, "
        "psychological 心理问题, family_change 家庭变故, guardian_misunderstanding "
        "监护人对政策不理解, work 外出务工/打工, illness 生病, other 其他"
    )
    cause_note: Note = Field(default="", description="原因说明")
    measures: list[MeasureIn] = Field(min_length=1, max_length=20, description="帮扶措施")


# --- out ------------------------------------------------------------------------------------


class ParticipantOut(Schema):
    name: str
    kind: ParticipantKind
    kind_label: str
    staff_id: int | None


class HomeVisitOut(LocalTimes, Schema):
    id: int
    case_id: int
    visited_on: date
    place: str
    participants: list[ParticipantOut]
    met: str
    summary: str
    outcome: VisitOutcome
    outcome_label: str
    recorded_by: str = Field(description="kind:id:name")
    created_at: datetime


class TalkOut(LocalTimes, Schema):
    id: int
    case_id: int
    talked_on: date
    with_whom: str
    by_whom: str
    content: str
    recorded_by: str = Field(description="kind:id:name")
    created_at: datetime


class MeasureOut(Schema):
    kind: MeasureKind
    kind_label: str
    description: str
    owner_staff_id: int
    owner_name: str
    review_dates: list[date]


class PlanOut(LocalTimes, Schema):
    id: int
    case_id: int
    cause: ReasonCategory
    cause_label: str
    cause_note: str | None
    measures: list[MeasureOut]
    updated_at: datetime
    updated_by: str = Field(description="kind:id:name")
