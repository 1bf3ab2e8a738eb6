"""Requests and responses of 转学 (transfers) and 休学 (suspensions)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from app.core.local_times import LocalTimes
from app.core.types import LineStr, RefId, SafeText, Schema, SchoolDate
from app.domain.transfers import SuspensionStatus, TransferStatus

Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), SafeText
]


class TransferIn(Schema):
    student_id: RefId
    to_school_id: RefId | None = Field(default=None, description="转入学校(系统内)")
    to_school_name: LineStr | None = Field(
        default=None, max_length=100, description="转入学校名称(系统外的学校必填)"
    )
    applied_on: SchoolDate = Field(description="书面申请日期")
    leave_on: SchoolDate | None = Field(default=None, description="拟转出日期(不早于申请日期)")
    reason: Text = Field(description="转学原因", examples=["随父母务工迁居"])


class ReceivingSignIn(Schema):
    class_id: RefId | None = Field(
        default=None, description="转入班级(接收学校在系统内时必填,为该校在用班级)"
    )


class TransferRejectIn(Schema):
    reason: Text = Field(description="不予批准的原因")


RejectIn = TransferRejectIn  # the component is TransferRejectIn: leaves have their own


class SuspensionIn(Schema):
    start_date: SchoolDate
    end_date: SchoolDate
    reason: Text = Field(description="休学原因", examples=["因病休学"])


class StudentStatusOut(Schema):
    student_id: int
    status: str = Field(description="学籍状态代码 (JY/T 1001)")
    active: bool


class FollowUpOut(LocalTimes, Schema):
    task_id: int
    week: int = Field(description="复学后第几周")
    due_at: datetime
    status: str = Field(description="open 待办 | done 已完成 | cancelled 已取消")
    done_at: datetime | None
    done_by: str | None
    note: str | None = Field(description="回访情况")


class TransferOut(LocalTimes, Schema):
    id: int
    student_id: int
    from_school_id: int
    to_school_id: int | None
    to_school_name: str
    to_class_id: int | None = Field(description="转入班级(系统内学校)")
    number: str = Field(description="文书编号 {学校代码}-ZX-{年份}-{序号}")
    applied_on: date
    leave_on: date | None
    reason: str
    status: TransferStatus
    status_label: str
    applied_by: str
    head_teacher_signed_at: datetime | None
    head_teacher_signed_by: str | None
    receiving_signed_at: datetime | None
    receiving_signed_by: str | None
    decided_at: datetime | None = Field(description="批准或不予批准的时间")
    decided_by: str | None
    reject_reason: str | None
    moved_at: datetime | None = Field(
        default=None, description="学生离开原学校名册的时间(批准时,或离校日当天零点)"
    )
    incoming: bool = Field(
        default=False,
        description="已批准、离校日未到:学生仍在原学校名册上,接收学校看到的是待转入",
    )


class SuspensionOut(Schema):
    id: int
    student_id: int
    school_id: int
    start_date: date
    end_date: date
    reason: str
    status: SuspensionStatus
    approved_by: str
    ended_on: date | None
    ended_by: str | None
