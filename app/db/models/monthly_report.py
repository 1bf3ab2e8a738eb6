"""A school's submitted monthly report (月报): what was sent, stored as sent (figures and
lists as JSON), one row per version; a correction is a new version, the old kept."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db.models.base import fk_field
from app.db.types import UTCDateTime


class MonthlyReport(SQLModel, table=True):
    __tablename__ = "monthly_report"
    __table_args__ = (
        UniqueConstraint("school_id", "month", "version", name="uq_monthly_report_version"),
    )
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = fk_field("school.id", index=False)
    county_id: int = fk_field("county.id")
    month: str = Field(max_length=7)  # YYYY-MM
    version: int
    zero_report: bool
    content: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    correction_reason: str | None = Field(default=None, max_length=500)
    submitted_by: str = Field(max_length=100)
    submitted_at: datetime = Field(sa_type=UTCDateTime)
