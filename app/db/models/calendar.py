"""Each school's 校历 (terms, breaks, closures, extra days) and loaded national years."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db.models.base import created_field, fk_field


class Term(SQLModel, table=True):
    __tablename__ = "term"
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = fk_field("school.id")
    name: str = Field(max_length=40)
    start_date: date
    end_date: date
    created_at: datetime = created_field()


class TermBreak(SQLModel, table=True):
    __tablename__ = "term_break"
    id: int | None = Field(default=None, primary_key=True)
    term_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("term.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    name: str = Field(max_length=40)
    start_date: date
    end_date: date


class CalendarOverride(SQLModel, table=True):
    """A date a school closes (``closure``) or opens although it would not
    (``extra_school_day``)."""

    __tablename__ = "calendar_override"
    __table_args__ = (UniqueConstraint("school_id", "day", name="uq_calendar_override_day"),)
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = fk_field("school.id")
    day: date
    kind: str = Field(max_length=20)
    reason: str = Field(default="", max_length=200)
    created_at: datetime = created_field()


class NationalYear(SQLModel, table=True):
    """The State Council's holiday list for a year the calendar package does not know."""

    __tablename__ = "national_year"
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    holidays: list[str] = Field(sa_column=Column(JSON, nullable=False))
    makeup_workdays: list[str] = Field(sa_column=Column(JSON, nullable=False))
    loaded_by: int | None = fk_field("staff.id", nullable=True, index=False)
    created_at: datetime = created_field()
