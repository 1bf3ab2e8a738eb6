"""离校未归 alerts as the API shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.local_times import LocalTimes
from app.core.types import SafeText


class LeftSchoolOut(LocalTimes):
    id: int
    kind: str = Field(default="left_school", description="预警类型:离校未归 (left during the day)")
    kind_label: str = "离校未归"
    student_id: int
    school_id: int
    class_id: int
    school_date: date
    check: str = Field(description="发现未到的点名:noon 午检 / dismissal 放学前")
    check_label: str
    status: str = Field(description="raised 待联系家长 / contacted 已联系家长 / withdrawn 已撤回")
    status_label: str
    found_at: datetime
    contact_due: datetime = Field(description="须在此前联系家长(发现时间 + 联系时限)")
    escalated_at: datetime | None = Field(description="联系超时、已报分管副校长的时间")
    contacted_at: datetime | None
    contacted_by: str | None
    contact_note: str | None
    withdrawn_at: datetime | None
    withdrawn_reason: str | None


Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), SafeText]


class LeftSchoolContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Note | None = Field(default=None, description="联系结果(如:家长已接回、已返校)")
