"""Absence patterns beyond the consecutive-day run: 离校未归 (seen at school, then missing
at a later check of the day) and each student's absence measures (chronic and intermittent
absence), stored by the periodic job that computes them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.db.models.base import fk_field
from app.db.types import UTCDateTime

_RAISED = text("status = 'raised'")


class LeftSchoolAlert(SQLModel, table=True):
    """One per student and school day: found missing at 午检 or 放学前 after being seen."""

    __tablename__ = "left_school_alert"
    __table_args__ = (
        UniqueConstraint("student_id", "school_date"),
        Index(
            "ix_left_school_alert_raised_due",
            "contact_due",
            sqlite_where=_RAISED,
            postgresql_where=_RAISED,
        ),
        Index("ix_left_school_alert_school_day", "school_id", "school_date"),
    )
    id: int | None = Field(default=None, primary_key=True)
    student_id: int = fk_field("student.id", index=False)
    county_id: int = fk_field("county.id", index=False)
    school_id: int = fk_field("school.id", index=False)
    class_id: int = fk_field("school_class.id", index=False)
    school_date: date
    check: str = Field(max_length=10)  # noon | dismissal
    status: str = Field(max_length=20)  # raised | contacted | withdrawn
    found_at: datetime = Field(sa_type=UTCDateTime)
    contact_due: datetime = Field(sa_type=UTCDateTime)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    contacted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    contacted_by: str | None = Field(default=None, max_length=100)
    contact_note: str | None = Field(default=None, max_length=500)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_reason: str | None = Field(default=None, max_length=200)
    raised_times: int = 1  # raised again after a withdrawal (a correction): a new notice
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class AbsenceMeasure(SQLModel, table=True):
    """A student's absence measures over the current term and the rolling window, as the
    last run of the measures job computed them."""

    __tablename__ = "absence_measure"
    __table_args__ = (Index("ix_absence_measure_school_class", "school_id", "class_id"),)
    student_id: int = Field(primary_key=True, foreign_key="student.id")
    county_id: int = fk_field("county.id")
    school_id: int = fk_field("school.id", index=False)
    class_id: int = fk_field("school_class.id", index=False)
    term_id: int = fk_field("term.id", index=False)
    as_of: date
    school_days: int
    absent_days: int  # unexplained
    leave_days: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    late_days: int
    rate: float  # missed days (absent or on leave) / school days enrolled
    band: str = Field(max_length=10)  # none | at_risk | moderate | severe
    chronic: bool
    intermittent: bool
    window_days: int
    window_absent: int
    window_rate: float
    window_band: str = Field(max_length=10)
    previous_rate: float | None = None  # the rate a week before ``as_of``: the trend
    computed_at: datetime = Field(sa_type=UTCDateTime)
