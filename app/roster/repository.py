"""Queries over students, their guardians and their 学籍异动 (enrollment changes)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.scope import IN_CHUNK, locked_row, paginate, visible_to
from app.db.models import EnrollmentChange, Guardian, Student
from app.domain.access import Visibility


async def guardians_of(
    session: AsyncSession, student_ids: Collection[int]
) -> dict[int, list[Guardian]]:
    found: dict[int, list[Guardian]] = {sid: [] for sid in student_ids}
    if not student_ids:
        return found
    rows = await session.exec(
        select(Guardian).where(col(Guardian.student_id).in_(student_ids)).order_by(col(Guardian.id))
    )
    for g in rows:
        found[g.student_id].append(g)
    return found


async def replace_guardians(
    session: AsyncSession, student_id: int, guardians: list[Guardian]
) -> None:
    await session.exec(delete(Guardian).where(col(Guardian.student_id) == student_id))
    session.add_all(guardians)


async def existing_student_nos(session: AsyncSession, numbers: Collection[str]) -> set[str]:
    if not numbers:
        return set()
    rows = await session.exec(
        select(Student.student_no).where(col(Student.student_no).in_(numbers))
    )
    return set(rows)


async def existing_id_hashes(session: AsyncSession, hashes: Collection[str]) -> set[str]:
    if not hashes:
        return set()
    rows = await session.exec(
        select(Student.id_number_hash).where(col(Student.id_number_hash).in_(hashes))
    )
    return {h for h in rows if h is not None}


async def list_students(
    session: AsyncSession,
    vis: Visibility,
    *,
    school_id: int | None,
    class_id: int | None,
    name: str | None,
    student_no: str | None,
    home_schooled: bool | None,
    include_inactive: bool,
    limit: int,
    offset: int,
) -> tuple[list[Student], int]:
    stmt = select(Student).where(visible_to(vis, Student.school_id, Student.class_id))
    if school_id is not None:
        stmt = stmt.where(Student.school_id == school_id)
    if class_id is not None:
        stmt = stmt.where(Student.class_id == class_id)
    if name:
        stmt = stmt.where(col(Student.name).contains(name))
    if student_no:
        stmt = stmt.where(Student.student_no == student_no.strip().upper())
    if home_schooled is not None:
        stmt = stmt.where(Student.home_schooled == home_schooled)
    if not include_inactive:
        stmt = stmt.where(col(Student.active))
    return await paginate(session, stmt, limit=limit, offset=offset, order_by=Student.id)


async def students_by_numbers(session: AsyncSession, numbers: Collection[str]) -> list[Student]:
    """The students holding any of these 学籍号 (in any school)."""
    if not numbers:
        return []
    rows = await session.exec(select(Student).where(col(Student.student_no).in_(numbers)))
    return list(rows)


async def student_for_update(session: AsyncSession, student_id: int) -> Student | None:
    """The student row, locked: two requests for the same student cannot both pass the
    overlap check."""
    return await locked_row(session, Student, student_id)


async def student_names(session: AsyncSession, student_ids: Collection[int]) -> dict[int, str]:
    ids = sorted(set(student_ids))
    found: dict[int, str] = {}
    for i in range(0, len(ids), IN_CHUNK):
        rows = await session.exec(
            select(Student.id, Student.name).where(col(Student.id).in_(ids[i : i + IN_CHUNK]))
        )
        found.update({sid: name for sid, name in rows if sid is not None})
    return found


async def enrollment_changes_of(session: AsyncSession, student_id: int) -> list[EnrollmentChange]:
    """Oldest first, in the order they were recorded within a day."""
    rows = await session.exec(
        select(EnrollmentChange)
        .where(col(EnrollmentChange.student_id) == student_id)
        .order_by(col(EnrollmentChange.changed_on), col(EnrollmentChange.id))
    )
    return list(rows)
