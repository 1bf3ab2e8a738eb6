"""Queries over the county's list of school-age children (适龄儿童名单) and what the roster
says about each child: the student with the same ID-number hash, wherever they study, and
the state of that student's escalated return notices. Rows are read through Core as plain
tuples: a county's list is tens of thousands of children."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import case, func, text
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.gc import gc_paused
from app.db.models import (
    DropoutStatusPeriod,
    Grade,
    School,
    SchoolAgeChild,
    SchoolClass,
    Student,
    Township,
)

# The most serious escalated notice of a student: 2 辍学 (dropout_on set), 1 疑似辍学
# (suspected_dropout_on set, no dropout_on yet), 0 reported to the township, nothing more yet.
DROPOUT, SUSPECTED = 2, 1
# Ids per statement of a look-up: far below SQLite's and asyncpg's parameter limits.
CHUNK = 500


class RegisterRow(NamedTuple):
    """A child of the list; the ``student_*``, school and class fields are those of the
    student with the same ID-number hash (all None when there is none). The names of the
    township, school and class are looked up by id (``names_of``): a few dozen names, which
    joined they would be sorted and sent with each of 50,000 rows (40 of the statement's
    190 ms, issue 24 item 7). The sort keys come first (``register_rows``)."""

    township_id: int
    child_id: int
    village: str | None
    name: str
    gender: str
    birth_date: date
    id_number_masked: str
    address: str | None
    guardian_name: str | None
    guardian_phone: str | None
    declared: str
    note: str | None
    student_id: int | None
    student_no: str | None
    student_status: str | None  # 学籍 status code, JY/T 1001
    student_active: bool | None
    notice_level: int | None  # DROPOUT, SUSPECTED, 0, or None without an escalated notice
    school_id: int | None
    class_id: int | None


class Names(NamedTuple):
    """The names the register shows of the ids on its rows (``names_of``)."""

    # keyed by ``int | None`` for the rows' look-ups: a row without a school finds None
    townships: dict[int | None, str]
    schools: dict[int | None, str]
    classes: dict[int | None, str]  # 三年级1班: grade and class, as app/db/labels.py spells it


class StatusGroup(NamedTuple):
    """How many children of a township share everything their 就学状态 depends on."""

    township_id: int
    declared: str
    student_status: str | None
    student_active: bool | None
    notice_level: int | None
    children: int


async def townships_of(
    session: AsyncSession, county_id: int, *, include_inactive: bool = False
) -> list[Township]:
    stmt = select(Township).where(Township.county_id == county_id)
    if not include_inactive:
        stmt = stmt.where(col(Township.active))
    return list(await session.exec(stmt.order_by(col(Township.id))))


async def township(session: AsyncSession, township_id: int) -> Township | None:
    return await session.get(Township, township_id)


async def children_by_hash(
    session: AsyncSession, school_year: int, hashes: Collection[str]
) -> dict[str, SchoolAgeChild]:
    if not hashes:
        return {}
    rows = await session.exec(
        select(SchoolAgeChild).where(
            SchoolAgeChild.school_year == school_year,
            col(SchoolAgeChild.id_number_hash).in_(hashes),
        )
    )
    return {c.id_number_hash: c for c in rows}


async def has_list(session: AsyncSession, county_id: int, school_year: int) -> bool:
    found = await session.exec(
        select(SchoolAgeChild.id)
        .where(SchoolAgeChild.county_id == county_id, SchoolAgeChild.school_year == school_year)
        .limit(1)
    )
    return found.first() is not None


def _notice_levels(escalated: str) -> Any:
    """Each student's 控辍 status today, from the status history (its open period): the same
    children as the county ledgers. (``escalated`` is no longer needed: the history already
    holds what an escalated notice caused.)"""
    level = func.max(case((col(DropoutStatusPeriod.status) == "dropout", DROPOUT), else_=SUSPECTED))
    return (
        select(col(DropoutStatusPeriod.student_id).label("student_id"), level.label("level"))
        .where(col(DropoutStatusPeriod.valid_to).is_(None))
        .group_by(col(DropoutStatusPeriod.student_id))
        .subquery("notice_level")
    )


async def _county_wide(session: AsyncSession) -> None:
    """Settings for a statement over a county's whole list (PostgreSQL; until the end of the
    read's transaction). JIT off: the plan is a few hash joins over 50,000 rows, which
    compiling costs more than it saves (139 of 963 ms in EXPLAIN ANALYZE, issue 24 item 7);
    the register's sort in memory rather than spilled to disk (7 MB at 50,000 children)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        conn = await session.connection()
        # SET LOCAL both, in one round trip.
        await conn.execute(
            text("SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)")
        )


async def register_rows(
    session: AsyncSession,
    *,
    county_id: int,
    school_year: int,
    township_id: int | None,
    escalated: str,
) -> list[RegisterRow]:
    """The year's children of the county (of one township), each with its matched student,
    that student's school and class, and its notice level; by township, village (none last),
    then id."""
    notices = _notice_levels(escalated)
    child = SchoolAgeChild
    stmt = (
        # The sort keys first, plain columns in a plain ORDER BY: the database's sort reads
        # them at a fixed place in each row instead of walking its text columns, and no
        # ``village IS NULL`` column is computed for it (ascending puts no village last on
        # PostgreSQL, NULLS LAST says so to SQLite). With ``IS NULL`` and the keys after
        # the row's texts, the sort was most of the statement (fetch 290 → 225 ms at 50,000
        # children, issue 24 item 7).
        sa_select(
            col(child.township_id),
            col(child.id),
            col(child.village),
            col(child.name),
            col(child.gender),
            col(child.birth_date),
            col(child.id_number_masked),
            col(child.address),
            col(child.guardian_name),
            col(child.guardian_phone),
            col(child.declared),
            col(child.note),
            col(Student.id),
            col(Student.student_no),
            col(Student.status),
            col(Student.active),
            notices.c.level,
            col(Student.school_id),
            col(Student.class_id),
        )
        .select_from(child)
        .outerjoin(Student, col(Student.id_number_hash) == child.id_number_hash)
        .outerjoin(notices, notices.c.student_id == Student.id)
        .where(col(child.county_id) == county_id, col(child.school_year) == school_year)
        .order_by(col(child.township_id), col(child.village).nulls_last(), col(child.id))
    )
    if township_id is not None:
        stmt = stmt.where(col(child.township_id) == township_id)
    await _county_wide(session)
    conn = await session.connection()
    result = await conn.execute(stmt)  # the rows are in memory once this returns
    # All at once (row by row, each fetch is a call through the async adapter), without the
    # collector walking the 50,000 new rows as they pile up (app/core/gc.py).
    with gc_paused():
        return list(map(RegisterRow._make, result.tuples().all()))


async def names_of(
    session: AsyncSession,
    township_ids: Collection[int],
    school_ids: Collection[int],
    class_ids: Collection[int],
) -> Names:
    """The names of the given townships, schools and classes (a school of any county: a
    child may study in another)."""
    conn = await session.connection()
    townships: dict[int | None, str] = {}
    schools: dict[int | None, str] = {}
    classes: dict[int | None, str] = {}
    for table, names in ((Township, townships), (School, schools)):
        wanted = sorted(township_ids if table is Township else school_ids)
        for i in range(0, len(wanted), CHUNK):
            found = await conn.execute(
                sa_select(col(table.id), col(table.name)).where(
                    col(table.id).in_(wanted[i : i + CHUNK])
                )
            )
            names.update(found.tuples().all())
    wanted = sorted(class_ids)
    for i in range(0, len(wanted), CHUNK):
        found = await conn.execute(
            # the label as app.db.labels.class_label spells it, joined here (one row a class)
            sa_select(col(SchoolClass.id), col(Grade.name) + col(SchoolClass.name))
            .join(Grade, col(Grade.id) == SchoolClass.grade_id)
            .where(col(SchoolClass.id).in_(wanted[i : i + CHUNK]))
        )
        classes.update(found.tuples().all())
    return Names(townships, schools, classes)


async def status_groups(
    session: AsyncSession, *, county_id: int, school_year: int, escalated: str
) -> list[StatusGroup]:
    """The year's children of the county counted by township and by everything their
    就学状态 depends on (a few dozen groups, not one row per child)."""
    notices = _notice_levels(escalated)
    child = SchoolAgeChild
    keys = (
        col(child.township_id),
        col(child.declared),
        col(Student.status),
        col(Student.active),
        notices.c.level,
    )
    await _county_wide(session)
    conn = await session.connection()
    rows = await conn.execute(
        sa_select(*keys, func.count())
        .select_from(child)
        .outerjoin(Student, col(Student.id_number_hash) == child.id_number_hash)
        .outerjoin(notices, notices.c.student_id == Student.id)
        .where(col(child.county_id) == county_id, col(child.school_year) == school_year)
        .group_by(*keys)
    )
    return [StatusGroup._make(r) for r in rows]
