"""What a roll event may say about illness (因病缺勤 / 因病离校)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from app.core.types import Instant, SafeLine, Schema
from app.domain.attendance import LeaveType, Mark, Symptom
from app.domain.illness import Disease


class OnsetPlace(StrEnum):
    home = "home"  # 在家
    school = "school"  # 在校
    other = "other"  # 其他


ONSET_PLACE_LABELS = {OnsetPlace.home: "在家", OnsetPlace.school: "在校", OnsetPlace.other: "其他"}

DiagnosisNote = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), SafeLine]


class IllnessAtRollIn(Schema):
    symptoms: list[Symptom] = Field(
        min_length=1, max_length=len(Symptom), description="症状 (WS/T 772-2020),至少一项"
    )
    onset_at: Instant = Field(description="发病时间,带时区;不晚于点名时间")
    onset_place: OnsetPlace = Field(default=OnsetPlace.home, description="发病地点")
    sent_home: bool = Field(default=False, description="在校发病、送回家 (因病离校)")
    diagnosis: Disease | None = Field(default=None, description="诊断(已知时)")
    diagnosis_note: DiagnosisNote | None = None


def illness_problem(
    illness: IllnessAtRollIn,
    status: Mark | None,
    leave_type: LeaveType | None,
    occurred_at: datetime | None,
) -> str | None:
    """Why this illness cannot go with this roll mark, or None. An illness absence is a sick
    leave mark at the roll (status ``leave``, leave type ``sick``): the day status rules
    already count it as explained, so it never starts the dropout clock."""
    if status is not Mark.leave or leave_type is not LeaveType.sick:
        return (
            "因病缺勤须记为病假 (illness only with status leave and leave_type sick; "
            "a present child has no illness at the roll)"
        )
    if occurred_at is not None and illness.onset_at > occurred_at:
        return "发病时间晚于点名时间 (illness.onset_at is after the roll)"
    return None
