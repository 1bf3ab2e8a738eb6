"""The township's list of school-age children (适龄儿童名单), one row per child and school year.

The ID number is stored as ``Student`` stores it — encrypted, a keyed hash (the same cipher, so
a child's hash equals the hash of the same student) and a masked form — and the hash is how
the 适龄儿童台账 finds the child on a school's roll. Rules: app/reports/school_age.py.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db.models.base import created_field, fk_field


class SchoolAgeChild(SQLModel, table=True):
    """``school_year`` is the year the school year starts in (2026 = 1 September 2026 to
    31 August 2027), as in the rates; ``declared``: none | deferred (缓学) | exempt (免学) |
    elsewhere (外出就读 / 随迁就读)."""

    __tablename__ = "school_age_child"
    __table_args__ = (
        UniqueConstraint("school_year", "id_number_hash"),
        Index("ix_school_age_child_county_id_school_year", "county_id", "school_year"),
    )
    id: int | None = Field(default=None, primary_key=True)
    county_id: int = fk_field("county.id", index=False)
    township_id: int = fk_field("township.id")
    school_year: int
    name: str = Field(max_length=50)
    gender: str = Field(max_length=10)  # male | female, from the ID number
    birth_date: date  # from the ID number
    id_number_enc: str = Field(max_length=200)
    id_number_hash: str = Field(max_length=64)
    id_number_masked: str = Field(max_length=20)
    village: str | None = Field(default=None, max_length=100)  # 村(社区)
    address: str | None = Field(default=None, max_length=200)  # 户籍地址
    guardian_name: str | None = Field(default=None, max_length=50)
    guardian_phone: str | None = Field(default=None, max_length=20)
    declared: str = Field(default="none", max_length=20)
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_field()
    updated_at: datetime = created_field()
