"""Special-group care: a student's 成长导师 (mentor) and the contacts recorded with them."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from app.db.models.base import created_field, fk_field


class MentorAssignment(SQLModel, table=True):
    """The current mentor is the row with ``until`` empty; a new one ends it (``until`` = the
    school's today)."""

    __tablename__ = "mentor_assignment"
    id: int | None = Field(default=None, primary_key=True)
    student_id: int = fk_field("student.id")
    staff_id: int = fk_field("staff.id")
    since: date
    until: date | None = None
    assigned_by: str = Field(max_length=100)
    created_at: datetime = created_field()


class CareContact(SQLModel, table=True):
    """``kind``: home_visit | phone | talk | other."""

    __tablename__ = "care_contact"
    id: int | None = Field(default=None, primary_key=True)
    student_id: int = fk_field("student.id")
    staff_id: int = fk_field("staff.id")
    contacted_on: date
    kind: str = Field(max_length=20)
    note: str = Field(max_length=1000)
    created_at: datetime = created_field()
