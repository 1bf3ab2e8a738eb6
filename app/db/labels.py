"""Names people read, built in SQL so every list, ledger and export spells them alike.

A class is stored by its name within its grade (``1班``): three grades of one school each have
a ``1班``, so a list that shows the class alone is ambiguous. Everything a person reads shows
the grade with it, ``三年级1班`` — the same name the return notice (返校通知书) prints.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from app.db.models import Grade, SchoolClass


def class_label() -> Any:
    """``三年级1班`` for the row's ``school_class``: a correlated subquery, so a query that
    selected ``SchoolClass.name`` selects this instead without a new join."""
    return (
        select(col(Grade.name) + col(SchoolClass.name))
        .where(col(Grade.id) == col(SchoolClass.grade_id))
        .correlate(SchoolClass)
        .scalar_subquery()
        .label("class_label")
    )


def full_class_name(grade_name: str | None, class_name: str | None) -> str:
    """The same name in Python, for rows already loaded (``三年级`` + ``1班``)."""
    return f"{grade_name or ''}{class_name or ''}"
