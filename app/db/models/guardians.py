"""The family (issue 22): each school's guardian-notice settings, one notice per guardian
(a mobile number) per school and day, channel opt-outs, and the guardians' answers.

A guardian is identified by their mobile number: the roster replaces a student's guardian rows
on every edit, and siblings share the number, so the number is what a digest and an opt-out
hang on."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db.types import UTCDateTime


class GuardianSettings(SQLModel, table=True):
    """Per school; a school without a row sends guardians nothing (opt-in, see README)."""

    __tablename__ = "guardian_settings"
    school_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    enabled: bool = False
    grace_minutes: int = 15
    quiet_start: time = time(21, 0)
    quiet_end: time = time(7, 0)
    # In fallback order: "wechat" (where subscribed), "sms".
    channels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    name_mask: str = Field(default="middle", max_length=20)  # middle | given | surname_only
    # Reports ahead for today are taken until this school time (default: the check at 08:00).
    report_cutoff: time = time(8, 0)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class GuardianNotice(SQLModel, table=True):
    __tablename__ = "guardian_notice"
    __table_args__ = (
        UniqueConstraint("school_id", "school_date", "mobile", name="uq_guardian_notice_day"),
    )
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(index=True)
    school_date: date
    mobile: str = Field(max_length=20)
    student_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    channels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)
    # The answer link's expiry, on the real clock (app.guardians.links).
    link_expires_at: datetime = Field(sa_type=UTCDateTime)


class GuardianOptOut(SQLModel, table=True):
    __tablename__ = "guardian_opt_out"
    mobile: str = Field(primary_key=True, max_length=20)
    channel: str = Field(primary_key=True, max_length=20)
    at: datetime = Field(sa_type=UTCDateTime)


class GuardianAnswer(SQLModel, table=True):
    """One answer per (link, student): a link (one per notice) is single-use for each child
    it names."""

    __tablename__ = "guardian_answer"
    __table_args__ = (
        UniqueConstraint("notice_id", "student_id", name="uq_guardian_answer_notice_student"),
    )
    id: int | None = Field(default=None, primary_key=True)
    notice_id: int
    mobile: str = Field(max_length=20, index=True)
    school_id: int
    student_id: int
    school_date: date
    answer: str = Field(max_length=20)  # ill | family | on_the_way | dont_know
    symptoms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    note: str = Field(default="", max_length=200)
    case_id: int | None = None
    leave_id: int | None = None
    at: datetime = Field(sa_type=UTCDateTime)
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class GuardianAccount(SQLModel, table=True):
    """A guardian signed in through the parents' mini-program: their openid there (the
    session_key WeChat gives with it is never stored)."""

    __tablename__ = "guardian_account"
    id: int | None = Field(default=None, primary_key=True)
    openid: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    # Carried by the guardian's token; unbinding the last child increments it.
    token_version: int = 0
    # The roster mobile this guardian said is theirs (checked against the child's 监护人 rows
    # when binding): guardian notices are per mobile, so this is how a notice finds the
    # openid to send the parents' mini-program's subscribe message to.
    mobile: str | None = Field(default=None, max_length=11, index=True)


class GuardianChild(SQLModel, table=True):
    __tablename__ = "guardian_child"
    account_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    student_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    bound_at: datetime = Field(sa_type=UTCDateTime)


class GuardianBindingCode(SQLModel, table=True):
    """A one-time code the school prints on a student's 家校联系卡; only its hash is kept."""

    __tablename__ = "guardian_binding_code"
    id: int | None = Field(default=None, primary_key=True)
    student_id: int = Field(index=True)
    code_hash: str = Field(max_length=64, unique=True)
    issued_by: str = Field(max_length=100)
    issued_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by: int | None = None  # the guardian account


class GuardianBindingEvent(SQLModel, table=True):
    """The audit of bindings: who bound or unbound which child, when, by whose hand."""

    __tablename__ = "guardian_binding_event"
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(index=True)
    student_id: int
    kind: str = Field(max_length=10)  # bind | unbind
    by: str = Field(max_length=100)
    at: datetime = Field(sa_type=UTCDateTime)


class StaffWechatCode(SQLModel, table=True):
    """A one-time code an administrator issues so a staff member can bind the staff
    mini-program without typing a password there; only its hash is kept."""

    __tablename__ = "staff_wechat_code"
    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(index=True)
    code_hash: str = Field(max_length=64, unique=True)
    issued_by: str = Field(max_length=100)
    issued_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class StaffWechatEvent(SQLModel, table=True):
    """The audit of staff WeChat bindings: bind, rebind (another openid), unbind."""

    __tablename__ = "staff_wechat_event"
    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(index=True)
    kind: str = Field(max_length=10)  # bind | rebind | unbind
    how: str = Field(max_length=20)  # password | code | admin | self
    by: str = Field(max_length=100)
    at: datetime = Field(sa_type=UTCDateTime)
