"""因病缺勤 surveillance (issue 21): the illness register, the county's cluster rules, cluster
alerts with their report obligation, the reports sent and the 复课证明 filed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db.models.base import fk_field
from app.db.types import UTCDateTime


class IllnessRecord(SQLModel, table=True):
    """One illness absence (因病缺勤) of a student: begun at a roll (absent or sent home for
    illness), extended day by day while the roll keeps saying so, followed up by the head
    teacher (病因追查). Sick leave is read from ``leave_request`` alongside, not copied."""

    __tablename__ = "illness_record"
    __table_args__ = (
        UniqueConstraint("student_id", "school_date"),
        Index("ix_illness_record_school_day", "school_id", "school_date"),
        Index("ix_illness_record_student_last", "student_id", "last_day"),
    )
    id: int | None = Field(default=None, primary_key=True)
    county_id: int = fk_field("county.id", index=False)
    school_id: int = fk_field("school.id", index=False)
    grade_id: int = fk_field("grade.id", index=False)
    class_id: int = fk_field("school_class.id", index=False)
    student_id: int = fk_field("student.id", index=False)
    school_date: date  # the first school day of the illness absence
    last_day: date  # the last school day the roll said so
    kind: str = Field(max_length=10)  # absent | sent_home
    event_id: str | None = Field(default=None, max_length=36)
    onset_at: datetime = Field(sa_type=UTCDateTime)
    onset_place: str = Field(max_length=10)  # home | school | other
    symptoms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    diagnosis: str | None = Field(default=None, max_length=20)
    diagnosis_note: str | None = Field(default=None, max_length=200)
    called_family: bool = False
    doctor_seen: bool = False
    followup_note: str | None = Field(default=None, max_length=500)
    followed_up_by: str | None = Field(default=None, max_length=100)
    followed_up_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    returned_on: date | None = None  # the first school day present again
    recorded_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class IllnessRule(SQLModel, table=True):
    """A county's cluster rule; a row with a default rule's code replaces it (``active``
    false switches it off)."""

    __tablename__ = "illness_rule"
    __table_args__ = (UniqueConstraint("county_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    county_id: int = fk_field("county.id", index=False)
    code: str = Field(max_length=40)
    name: str = Field(max_length=100)
    scope: str = Field(max_length=10)  # class | grade | school
    count: int
    window_days: int
    symptoms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    disease: str | None = Field(default=None, max_length=20)
    deadline_hours: int = 24
    active: bool = True
    # Every one of these too (``symptoms`` is "any of"); only undiagnosed cases (migration 0031).
    symptoms_all: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    unexplained_only: bool = False
    updated_by: str = Field(max_length=100)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class IllnessAlert(SQLModel, table=True):
    """A cluster met (疫情预警), distinct from absence alerts: one per rule, scope and window
    (``idem_key``), later cases in its window join it. It carries the report obligation: due
    at ``report_due``, escalated to the county when missed."""

    __tablename__ = "illness_alert"
    __table_args__ = (
        Index("ix_illness_alert_school_open", "school_id", "status"),
        Index("ix_illness_alert_due", "report_due"),
    )
    id: int | None = Field(default=None, primary_key=True)
    idem_key: str = Field(max_length=120, unique=True)
    county_id: int = fk_field("county.id", index=False)
    school_id: int = fk_field("school.id", index=False)
    rule_code: str = Field(max_length=40)
    rule_name: str = Field(max_length=100)
    scope: str = Field(max_length=10)
    scope_id: int
    symptoms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    disease: str | None = Field(default=None, max_length=20)
    window_start: date
    window_end: date  # the last school day whose cases join this alert
    # [{"student_id", "class_id", "day", "symptoms", "onset_at"}]
    cases: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    status: str = Field(default="open", max_length=12)  # open | reported | escalated
    report_due: datetime = Field(sa_type=UTCDateTime)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class IllnessReport(SQLModel, table=True):
    """A 传染病疫情报告 as sent: who, when, to whom, and the payload itself (never
    regenerated)."""

    __tablename__ = "illness_report"
    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = fk_field("illness_alert.id")
    county_id: int = fk_field("county.id", index=False)
    school_id: int = fk_field("school.id", index=False)
    reported_by: str = Field(max_length=100)
    reported_at: datetime = Field(sa_type=UTCDateTime)
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    note: str | None = Field(default=None, max_length=500)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ReturnCertificate(SQLModel, table=True):
    """复课证明 from a medical institution, checked and filed by the school doctor."""

    __tablename__ = "return_certificate"
    __table_args__ = (UniqueConstraint("record_id"),)
    id: int | None = Field(default=None, primary_key=True)
    record_id: int = fk_field("illness_record.id", index=False)
    student_id: int = fk_field("student.id")
    institution: str = Field(max_length=100)
    issued_on: date
    recorded_by: str = Field(max_length=100)
    recorded_at: datetime = Field(sa_type=UTCDateTime)


class IllnessDayChange(SQLModel, table=True):
    """A school day whose register changed since the cluster rules last looked at it: written
    by the roll (one upsert per batch with a sick child), cleared by the engine's
    ``illness-clusters`` job in the transaction that looked (``app.illness.detection``). The
    roll itself never runs the detector: a row here is its whole cost."""

    __tablename__ = "illness_day_change"
    school_id: int = Field(
        sa_column_args=[ForeignKey("school.id")], sa_type=Integer, primary_key=True
    )
    school_date: date = Field(primary_key=True)
    changed_at: datetime = Field(sa_type=UTCDateTime)
