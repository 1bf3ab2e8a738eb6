"""The township's side of legal escalation (乡镇人民政府): a return notice reported to it, its
acknowledgement, the actions it records (责令限期改正, 行政处罚, ...) and a report raised to
the county (app/casework/township.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db.models.base import fk_field
from app.db.types import UTCDateTime


class TownshipReport(SQLModel, table=True):
    """One per return notice reported to the township (``notice_id`` unique)."""

    __tablename__ = "township_report"
    __table_args__ = (UniqueConstraint("notice_id", name="uq_township_report_notice"),)
    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = fk_field("return_notice.id", index=False)
    case_id: int = fk_field("absence_case.id")
    student_id: int = fk_field("student.id")
    school_id: int = fk_field("school.id")
    township_id: int = fk_field("township.id")
    county_id: int = fk_field("county.id")
    reported_on: date
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=100)
    raised_on: date | None = None
    raised_by: str | None = Field(default=None, max_length=100)
    raise_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)


class TownshipAction(SQLModel, table=True):
    """What the township did: ``kind`` order_correction (责令限期改正, with ``deadline``) |
    penalty (行政处罚) | education (批评教育) | other."""

    __tablename__ = "township_action"
    id: int | None = Field(default=None, primary_key=True)
    report_id: int = fk_field("township_report.id")
    kind: str = Field(max_length=30)
    taken_on: date
    deadline: date | None = None
    note: str = Field(max_length=500)
    recorded_by: str = Field(max_length=100)
    recorded_at: datetime = Field(sa_type=UTCDateTime)
