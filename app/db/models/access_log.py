"""Who read what: one row per authenticated read of the API (网络安全法 第21条: logs kept
at least six months; 未成年人个人信息 is sensitive under 个人信息保护法 第28条)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from app.db.models.base import bigint_pk
from app.db.types import UTCDateTime


class AccessLog(SQLModel, table=True):
    __tablename__ = "access_log"
    id: int | None = bigint_pk()
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor_kind: str = Field(max_length=10)
    actor_id: int = Field(index=True)
    actor_name: str = Field(max_length=100)
    county_id: int | None = Field(default=None, index=True)  # the actor's (first grant's)
    method: str = Field(max_length=8)
    path: str = Field(max_length=300)
    query: str = Field(default="", max_length=500)
    status: int
    client: str | None = Field(default=None, max_length=45)
    student_id: int | None = Field(default=None, index=True)  # when the path names one


class AccessLogStudent(SQLModel, table=True):
    """The students a read concerned, when it concerned more than the path names (a case, an
    alert, a transfer, a ledger export): one row per student."""

    __tablename__ = "access_log_student"
    access_log_id: int = Field(
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"),
            ForeignKey("access_log.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    student_id: int = Field(primary_key=True, index=True)


class SignInFailure(SQLModel, table=True):
    """A failed sign-in, counted per account and per client address by every process
    (app/org/throttle.py); rows older than the window are deleted as new ones come."""

    __tablename__ = "sign_in_failure"
    id: int | None = bigint_pk()
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    account: str = Field(max_length=64, index=True)
    client: str = Field(max_length=45, index=True)
