"""Legal escalation of an absence case: the 辍学生返校通知书 (return-to-school notice) given to
the guardian, its deadline, the report to the township, 疑似辍学 / 辍学 and 销号."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from app.db.models.base import fk_field
from app.db.types import UTCDateTime

_ACTIVE = text("status IN ('issued', 'escalated')")


class ReturnNotice(SQLModel, table=True):
    """``status``: issued | complied (student back) | escalated (reported to the township) |
    struck_off (销号, with its reason). At most one active (issued or escalated) per case."""

    __tablename__ = "return_notice"
    __table_args__ = (
        Index(
            "uq_return_notice_one_active",
            "case_id",
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = fk_field("absence_case.id", index=False)
    student_id: int = fk_field("student.id")
    school_id: int = fk_field("school.id")
    number: str = Field(max_length=60, unique=True)
    issued_on: date
    deadline: date
    guardian_name: str = Field(max_length=50)
    status: str = Field(max_length=20)
    complied_on: date | None = None
    reported_to_township_on: date | None = None
    suspected_dropout_on: date | None = None
    dropout_on: date | None = None
    struck_off_on: date | None = None
    # 送达: recorded by the school once the guardian has the notice (until then 已发出)
    delivered_on: date | None = None
    delivery_note: str | None = Field(default=None, max_length=200)
    strike_off_reason: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
