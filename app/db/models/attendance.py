"""Attendance: every event as it arrived (the history), and leave.

The current mark per (student, date, check) is not stored (migration 0035): it is the event
with the latest ``occurred_at`` for it, ties to the larger ``event_id``, so arrival order never
changes the final state. A stored copy cost 138 bytes per event (its table, key and index:
issue 24, storage per event); the reads rank the events instead, filtered by student or class
and date inside the ranking (app/attendance/current_marks.py).

The events carry no foreign keys, on purpose: they take the whole county's roll
three times a day, the intake has already checked every student (students are deactivated,
never deleted), and the foreign-key checks tripled the cost of that insert (bench/attendance).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, LargeBinary
from sqlmodel import Field, SQLModel

from app.db.models.base import created_field, fk_field
from app.db.types import (
    EVENT_ID,
    CheckCode,
    LeaveTypeCode,
    RecorderKindCode,
    StatusCode,
    UTCDateTime,
)


class AttendanceEvent(SQLModel, table=True):
    """One roll-check observation as a client sent it. Never updated: a correction is a
    later event for the same (student, date, check)."""

    __tablename__ = "attendance_event"
    # The marks are ranked from the events (migration 0035), read by student and date range
    # (a day's roll, a week's statuses, a history, a term's measures) and by class and day
    # (the rolls taken): both indexes end in the date, so a range is read in index order,
    # already grouped as the ranking wants it.
    __table_args__ = (
        Index("ix_attendance_event_student_day", "student_id", "school_date"),
        Index("ix_attendance_event_class_day", "class_id", "school_date"),
    )
    # The client-generated UUID is the key: no surrogate id and no second unique index to
    # store for every event (issue 24, storage per event). On PostgreSQL the table is
    # partitioned by month of ``school_date`` (migration 0029), and a partitioned table's key
    # must hold the partition key, so the key is (school_date, event_id). The intake looks an
    # id up across all dates before inserting: the same id on another date is a ``conflict``.
    school_date: date = Field(primary_key=True)
    event_id: str = Field(sa_type=EVENT_ID, primary_key=True)
    # The first 16 bytes of the content's SHA-256 (app.domain.attendance.fingerprint).
    content_hash: bytes = Field(sa_type=LargeBinary(16))
    student_id: int
    school_id: int
    class_id: int
    # The words are smallint codes on PostgreSQL (app.db.types.Coded, migration 0032).
    check: str = Field(sa_type=CheckCode)  # morning | noon | dismissal
    status: str = Field(sa_type=StatusCode)  # present | late | absent | leave
    leave_type: str | None = Field(default=None, sa_type=LeaveTypeCode)
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    note: str | None = Field(default=None, max_length=500)
    recorded_by_kind: str = Field(sa_type=RecorderKindCode)  # staff | api_key
    recorded_by_id: int
    recorded_by_name: str = Field(max_length=100)
    received_at: datetime = Field(sa_type=UTCDateTime)


class LeaveRequest(SQLModel, table=True):
    """请假: a date range; approved leave explains absences in it. Sick leave records onset
    and symptoms for illness tracking (因病缺勤追踪)."""

    __tablename__ = "leave_request"
    __table_args__ = (Index("ix_leave_student_dates", "student_id", "start_date", "end_date"),)
    id: int | None = Field(default=None, primary_key=True)
    student_id: int = fk_field("student.id", index=False)
    school_id: int = fk_field("school.id")
    class_id: int = fk_field("school_class.id")
    start_date: date
    end_date: date
    leave_type: str = Field(max_length=10)  # sick | personal | other
    reason: str = Field(default="", max_length=500)
    onset_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    symptoms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=10)  # pending|approved|rejected|cancelled
    requested_by: str = Field(max_length=100)
    decided_by: str | None = Field(default=None, max_length=100)
    decision_note: str | None = Field(default=None, max_length=500)  # e.g. 驳回理由
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_field()
