"""转学 (transfer out) and 休学 (suspension) of a student."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from app.db.models.base import fk_field
from app.db.types import UTCDateTime


class Transfer(SQLModel, table=True):
    """``status``: applied → head_teacher_signed → receiving_signed → approved (by the sending
    school's vice principal or principal), or rejected at any step before approval. The
    receiving school is ``to_school_id`` (in the system) or only ``to_school_name``."""

    __tablename__ = "transfer"
    id: int | None = Field(default=None, primary_key=True)
    student_id: int = fk_field("student.id")
    from_school_id: int = fk_field("school.id")
    class_id: int = fk_field("school_class.id", index=False)
    to_school_id: int | None = fk_field("school.id", nullable=True)
    to_school_name: str = Field(max_length=100)
    # The class at the receiving school (in the system) chosen when it signs: on approval the
    # student moves there (one child, one 学籍).
    to_class_id: int | None = fk_field("school_class.id", nullable=True, index=False)
    number: str = Field(max_length=60, unique=True)
    applied_on: date
    leave_on: date | None = None
    reason: str = Field(max_length=500)
    status: str = Field(max_length=20)
    applied_by: str = Field(max_length=100)
    head_teacher_signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    head_teacher_signed_by: str | None = Field(default=None, max_length=100)
    receiving_signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    receiving_signed_by: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=100)
    reject_reason: str | None = Field(default=None, max_length=500)
    # When the approved student left the sending school's roll: at approval, or at the start
    # of the leaving date in the sending school's timezone (app/transfers/moves.py).
    moved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Suspension(SQLModel, table=True):
    """``status``: active | ended. Days from ``start_date`` to ``end_date`` (an ended one: to
    the day before ``ended_on``) count like approved leave."""

    __tablename__ = "suspension"
    id: int | None = Field(default=None, primary_key=True)
    student_id: int = fk_field("student.id")
    school_id: int = fk_field("school.id")
    class_id: int = fk_field("school_class.id", index=False)
    start_date: date
    end_date: date
    reason: str = Field(max_length=500)
    status: str = Field(max_length=10)
    approved_by: str = Field(max_length=100)
    ended_on: date | None = None
    ended_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class EnrollmentChange(SQLModel, table=True):
    """学籍异动: a change of a student's 学籍 status (JY/T 1001 codes) with its date and cause.
    ``kind``: transfer_out | transfer_in | left_without_transfer | suspended | resumed.
    ``school_id``: the school the change belongs to (the sending school of a transfer out)."""

    __tablename__ = "enrollment_change"
    id: int | None = Field(default=None, primary_key=True)
    student_id: int = fk_field("student.id")
    school_id: int = fk_field("school.id")
    kind: str = Field(max_length=30)
    from_status: str = Field(max_length=2)
    to_status: str = Field(max_length=2)
    changed_on: date
    reason: str | None = Field(default=None, max_length=500)
    reference: str | None = Field(default=None, max_length=60)  # 转学文书编号, …
    changed_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime)
