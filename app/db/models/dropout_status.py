"""A student's 控辍 status history: each 疑似辍学 or 辍学 period, from the day it began to the
day it ended (exclusive; null while it lasts), and why. 在校 is the absence of a period. Rows
are written in the transaction of the change that causes them (a roll, a return notice
reported to the township, leaving without a transfer, 复学, the daily pass as days go by) and
never deleted: a ledger as of a date reads the periods covering that date."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from app.db.models.base import fk_field
from app.db.types import UTCDateTime

_OPEN = text("valid_to IS NULL")


class DropoutStatusPeriod(SQLModel, table=True):
    """``status``: suspected_dropout | dropout; ``basis``: absence_run | return_notice |
    left_without_transfer | no_return; ``end_basis``: returned | resumed | transferred |
    no_return (became 辍学) | corrected (the facts no longer show it)."""

    __tablename__ = "dropout_status"
    __table_args__ = (
        Index(
            "uq_dropout_status_one_open",
            "student_id",
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        Index("ix_dropout_status_county_from", "county_id", "valid_from"),
    )
    id: int | None = Field(default=None, primary_key=True)
    student_id: int = fk_field("student.id")
    county_id: int = fk_field("county.id", index=False)
    school_id: int = fk_field("school.id", index=False)
    class_id: int = fk_field("school_class.id", index=False)
    status: str = Field(max_length=20)
    valid_from: date
    valid_to: date | None = None
    basis: str = Field(max_length=30)
    basis_text: str = Field(max_length=200)
    end_basis: str | None = Field(default=None, max_length=30)
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
