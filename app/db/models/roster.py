"""Roster tables: county → township → school → grade → class → student; staff and keys.

ID numbers are stored encrypted, with a keyed hash for uniqueness and a masked form for
display (个人信息保护法 第28条).
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Column, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.db.models.base import created_field, fk_field
from app.db.types import UTCDateTime


class County(SQLModel, table=True):
    __tablename__ = "county"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    code: str = Field(max_length=20, unique=True)
    active: bool = True
    created_at: datetime = created_field()


class Township(SQLModel, table=True):
    __tablename__ = "township"
    __table_args__ = (UniqueConstraint("county_id", "name", name="uq_township_county_name"),)
    id: int | None = Field(default=None, primary_key=True)
    county_id: int = fk_field("county.id")
    name: str = Field(max_length=100)
    active: bool = True
    created_at: datetime = created_field()


class School(SQLModel, table=True):
    __tablename__ = "school"
    id: int | None = Field(default=None, primary_key=True)
    county_id: int = fk_field("county.id")
    township_id: int = fk_field("township.id")
    name: str = Field(max_length=100)
    code: str = Field(max_length=20, unique=True)
    kind: str = Field(max_length=20)  # primary | junior_middle
    # A model cannot see settings: creating a school always sets it (the configured default
    # when the request leaves it out).
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    morning_check: time = time(8, 0)
    noon_check: time = time(13, 30)
    dismissal_check: time = time(16, 30)
    active: bool = True
    created_at: datetime = created_field()


class Grade(SQLModel, table=True):
    __tablename__ = "grade"
    __table_args__ = (UniqueConstraint("school_id", "level", name="uq_grade_school_level"),)
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = fk_field("school.id")
    level: int  # 1-6 primary, 7-9 junior middle
    name: str = Field(max_length=20)
    active: bool = True
    created_at: datetime = created_field()


class SchoolClass(SQLModel, table=True):
    __tablename__ = "school_class"
    __table_args__ = (UniqueConstraint("grade_id", "name", name="uq_class_grade_name"),)
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = fk_field("school.id")
    grade_id: int = fk_field("grade.id")
    name: str = Field(max_length=40)
    active: bool = True
    created_at: datetime = created_field()


class Student(SQLModel, table=True):
    __tablename__ = "student"
    id: int | None = Field(default=None, primary_key=True)
    county_id: int = fk_field("county.id")
    school_id: int = fk_field("school.id")
    class_id: int = fk_field("school_class.id")
    name: str = Field(max_length=50)
    gender: str = Field(max_length=10)  # male | female
    birth_date: date
    student_no: str = Field(max_length=20, unique=True)  # 学籍号
    id_number_enc: str | None = Field(default=None, max_length=200)
    id_number_hash: str | None = Field(default=None, max_length=64, unique=True)
    id_number_masked: str | None = Field(default=None, max_length=20)
    status: str = Field(default="01", max_length=2)  # 学籍 status, JY/T 1001
    left_behind: bool = False  # 留守儿童
    disabled: bool = False  # 残疾儿童
    single_parent: bool = False  # 单亲
    orphan: bool = False  # 孤儿
    poverty: bool = False  # 家庭经济困难
    home_schooled: bool = False  # 送教上门: taught at home, never absent
    active: bool = True
    created_at: datetime = created_field()
    updated_at: datetime = created_field()


class Guardian(SQLModel, table=True):
    __tablename__ = "guardian"
    id: int | None = Field(default=None, primary_key=True)
    student_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("student.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    name: str = Field(max_length=50)
    relation: str = Field(max_length=20)
    mobile: str = Field(max_length=20)
    is_primary: bool = False


class Staff(SQLModel, table=True):
    __tablename__ = "staff"
    id: int | None = Field(default=None, primary_key=True)
    county_id: int = fk_field("county.id")
    school_id: int | None = fk_field("school.id", nullable=True)
    name: str = Field(max_length=50)
    mobile: str = Field(max_length=20, unique=True)  # also the sign-in name
    wechat_openid: str | None = Field(default=None, max_length=64)  # mini-program messages
    password_hash: str | None = Field(default=None, max_length=200)
    is_superuser: bool = False
    active: bool = True
    created_at: datetime = created_field()
    # Carried by every token as ``ver``; a password change or deactivation increments it,
    # so every token issued before is refused (app/org/auth.py).
    token_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


_HEAD = text("role = 'head_teacher'")
_PRINCIPAL = text("role = 'principal'")


class StaffRole(SQLModel, table=True):
    """A role grant bound to its scope; ``scope_key`` is ``county:1``, ``school:3`` or
    ``class:7``. One head teacher per class and one principal per school are enforced by
    partial unique indexes."""

    __tablename__ = "staff_role"
    __table_args__ = (
        UniqueConstraint("staff_id", "role", "scope_key", name="uq_staff_role_scope"),
        Index(
            "uq_one_head_teacher_per_class",
            "class_id",
            unique=True,
            sqlite_where=_HEAD,
            postgresql_where=_HEAD,
        ),
        Index(
            "uq_one_principal_per_school",
            "school_id",
            unique=True,
            sqlite_where=_PRINCIPAL,
            postgresql_where=_PRINCIPAL,
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("staff.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    role: str = Field(max_length=30)
    scope_key: str = Field(max_length=40)
    county_id: int = fk_field("county.id")
    school_id: int | None = fk_field("school.id", nullable=True)
    class_id: int | None = fk_field("school_class.id", nullable=True)
    # 乡镇 of a township_officer grant (scope_key ``township:<id>``), null for every other role.
    township_id: int | None = fk_field("township.id", nullable=True, index=False)
    created_at: datetime = created_field()


class ApiKey(SQLModel, table=True):
    """A county system's key. Only a SHA-256 of the secret is kept: keys are long random
    strings, so a slow hash adds nothing but latency on every request."""

    __tablename__ = "api_key"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    prefix: str = Field(sa_column=Column(String(16), unique=True, nullable=False))
    key_hash: str = Field(max_length=64)
    county_id: int = fk_field("county.id")
    school_id: int | None = fk_field("school.id", nullable=True)
    created_by: int | None = fk_field("staff.id", nullable=True, index=False)
    created_at: datetime = created_field()
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Space-separated extra read scopes, ``student_no`` (the full 学籍号), ``drill``
    # (may move the simulation clock of a drill deployment).
    scopes: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
