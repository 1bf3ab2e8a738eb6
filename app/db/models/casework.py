"""联合劝返 (joint persuasion) casework: home visits, persuasion talks and the 一人一策 return
plan of an absence case. Each write also appends to the case's timeline (``case_event``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from app.db.models.base import fk_field
from app.db.types import UTCDateTime


class HomeVisit(SQLModel, table=True):
    """联合家访记录. ``participants``: ``[{name, kind, staff_id}]``."""

    __tablename__ = "home_visit"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = fk_field("absence_case.id")
    visited_on: date
    place: str = Field(max_length=200)
    participants: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    met: str = Field(max_length=200)
    summary: str = Field(max_length=4000)
    outcome: str = Field(max_length=20)
    recorded_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime)


class PersuasionTalk(SQLModel, table=True):
    """劝返复学谈话记录."""

    __tablename__ = "persuasion_talk"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = fk_field("absence_case.id")
    talked_on: date
    with_whom: str = Field(max_length=200)
    by_whom: str = Field(max_length=200)
    content: str = Field(max_length=4000)
    recorded_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ReturnPlan(SQLModel, table=True):
    """一人一策: one per case. ``measures``: ``[{kind, description, owner_staff_id,
    review_dates}]`` with ISO dates."""

    __tablename__ = "return_plan"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="absence_case.id", unique=True)
    cause: str = Field(max_length=30)
    cause_note: str | None = Field(default=None, max_length=500)
    measures: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    updated_at: datetime = Field(sa_type=UTCDateTime)
    updated_by: str = Field(max_length=100)
