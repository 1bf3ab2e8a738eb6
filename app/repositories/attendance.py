"""Queries and writes for attendance events and marks.

Both writes are single multi-row statements that are safe under concurrent requests: events
insert with ON CONFLICT DO NOTHING on ``event_id`` (a racing duplicate is simply not
inserted), and marks upsert with a conditional update that keeps the latest observation, so
whichever transaction commits last cannot put an older observation back.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, or_, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import AttendanceEvent, AttendanceMark, Student

_CHUNK = 500  # rows per statement: far below SQLite's and asyncpg's parameter limits


@dataclass(frozen=True, slots=True)
class StudentBrief:
    id: int
    name: str
    school_id: int
    class_id: int
    active: bool
    home_schooled: bool


def _brief(s: Student) -> StudentBrief:
    return StudentBrief(s.id or 0, s.name, s.school_id, s.class_id, s.active, s.home_schooled)


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def students_brief(
    session: AsyncSession, student_ids: Collection[int]
) -> dict[int, StudentBrief]:
    found: dict[int, StudentBrief] = {}
    ids = sorted(set(student_ids))
    for i in range(0, len(ids), _CHUNK):
        rows = await session.exec(select(Student).where(col(Student.id).in_(ids[i : i + _CHUNK])))
        found.update((r.id, _brief(r)) for r in rows if r.id is not None)
    return found


async def class_students(session: AsyncSession, class_ids: Collection[int]) -> list[StudentBrief]:
    rows = await session.exec(
        select(Student)
        .where(col(Student.class_id).in_(sorted(class_ids)), col(Student.active))
        .order_by(col(Student.class_id), col(Student.id))
    )
    return [_brief(r) for r in rows]


async def content_hashes(session: AsyncSession, event_ids: Collection[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    ids = sorted(set(event_ids))
    for i in range(0, len(ids), _CHUNK):
        rows = await session.exec(
            select(AttendanceEvent.event_id, AttendanceEvent.content_hash).where(
                col(AttendanceEvent.event_id).in_(ids[i : i + _CHUNK])
            )
        )
        found.update(dict(rows.all()))
    return found


async def insert_events(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert events; returns the event ids actually inserted (not those already there)."""
    inserted: set[str] = set()
    for i in range(0, len(rows), _CHUNK):
        stmt = (
            _insert(session, AttendanceEvent)
            .values(list(rows[i : i + _CHUNK]))
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(col(AttendanceEvent.event_id))
        )
        result = await session.exec(stmt)
        inserted.update(result.scalars().all())
    return inserted


async def upsert_marks(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Each row becomes the mark of its (student, date, check) unless a later one is there."""
    table = AttendanceMark.__table__  # type: ignore[attr-defined]
    for i in range(0, len(rows), _CHUNK):
        stmt = _insert(session, AttendanceMark).values(list(rows[i : i + _CHUNK]))
        newer = or_(
            stmt.excluded.occurred_at > table.c.occurred_at,
            and_(
                stmt.excluded.occurred_at == table.c.occurred_at,
                stmt.excluded.event_id > table.c.event_id,
            ),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["student_id", "school_date", "check"],
            set_={
                k: stmt.excluded[k]
                for k in (
                    "status",
                    "leave_type",
                    "occurred_at",
                    "event_id",
                    "updated_at",
                    "class_id",
                    "school_id",
                )
            },
            where=newer,
        )
        await session.exec(stmt)


async def marks_between(
    session: AsyncSession, student_ids: Collection[int], start: date, end: date
) -> list[AttendanceMark]:
    found: list[AttendanceMark] = []
    ids = sorted(set(student_ids))
    for i in range(0, len(ids), _CHUNK):
        rows = await session.exec(
            select(AttendanceMark).where(
                col(AttendanceMark.student_id).in_(ids[i : i + _CHUNK]),
                col(AttendanceMark.school_date) >= start,
                col(AttendanceMark.school_date) <= end,
            )
        )
        found.extend(rows)
    return found


async def marks_for_keys(
    session: AsyncSession, keys: Collection[tuple[int, date]]
) -> list[AttendanceMark]:
    """The marks of the given (student, date) pairs."""
    found: list[AttendanceMark] = []
    ordered = sorted(set(keys))
    for i in range(0, len(ordered), _CHUNK):
        chunk = ordered[i : i + _CHUNK]
        rows = await session.exec(
            select(AttendanceMark).where(
                tuple_(col(AttendanceMark.student_id), col(AttendanceMark.school_date)).in_(chunk)
            )
        )
        found.extend(rows)
    return found


async def rolls_taken(
    session: AsyncSession, school_ids: Collection[int], day: date
) -> set[tuple[int, str]]:
    """(class id, check) pairs with at least one mark on ``day``."""
    rows = await session.exec(
        select(AttendanceMark.class_id, AttendanceMark.check)
        .where(
            col(AttendanceMark.school_id).in_(sorted(school_ids)),
            AttendanceMark.school_date == day,
        )
        .distinct()
    )
    return {(c, k) for c, k in rows}


async def student_events(
    session: AsyncSession, student_id: int, start: date, end: date
) -> list[AttendanceEvent]:
    rows = await session.exec(
        select(AttendanceEvent)
        .where(
            AttendanceEvent.student_id == student_id,
            col(AttendanceEvent.school_date) >= start,
            col(AttendanceEvent.school_date) <= end,
        )
        .order_by(
            col(AttendanceEvent.school_date),
            col(AttendanceEvent.check),
            col(AttendanceEvent.occurred_at),
            col(AttendanceEvent.event_id),
        )
    )
    return list(rows)


async def school_students(
    session: AsyncSession, school_id: int, class_ids: Collection[int] | None
) -> list[StudentBrief]:
    """Active students of a school, or only of the listed classes in it."""
    stmt = select(Student).where(Student.school_id == school_id, col(Student.active))
    if class_ids is not None:
        stmt = stmt.where(col(Student.class_id).in_(sorted(class_ids)))
    rows = await session.exec(stmt.order_by(col(Student.class_id), col(Student.id)))
    return [_brief(r) for r in rows]
