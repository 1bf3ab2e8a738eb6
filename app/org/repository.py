"""Queries over counties, townships, schools, grades and classes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.scope import paginate, visible_to
from app.db.models import County, Grade, School, SchoolClass, Staff, StaffRole, Township
from app.domain.access import Visibility
from app.domain.roles import Role


async def schools_by_county(
    session: AsyncSession, county_ids: set[int]
) -> dict[int, frozenset[int]]:
    if not county_ids:
        return {}
    rows = await session.exec(
        select(School.county_id, School.id).where(col(School.county_id).in_(county_ids))
    )
    found: dict[int, set[int]] = defaultdict(set)
    for county_id, school_id in rows:
        if school_id is not None:
            found[county_id].add(school_id)
    return {c: frozenset(s) for c, s in found.items()}


async def list_counties(
    session: AsyncSession,
    *,
    within: Collection[int] | None,
    include_inactive: bool,
    limit: int,
    offset: int,
) -> tuple[list[County], int]:
    stmt = select(County)
    if within is not None:
        stmt = stmt.where(col(County.id).in_(within))
    if not include_inactive:
        stmt = stmt.where(col(County.active))
    return await paginate(session, stmt, limit=limit, offset=offset, order_by=County.id)


async def list_townships(
    session: AsyncSession,
    *,
    within_counties: Collection[int] | None,
    county_id: int | None,
    include_inactive: bool,
    limit: int,
    offset: int,
) -> tuple[list[Township], int]:
    stmt = select(Township)
    if within_counties is not None:
        stmt = stmt.where(col(Township.county_id).in_(within_counties))
    if county_id is not None:
        stmt = stmt.where(Township.county_id == county_id)
    if not include_inactive:
        stmt = stmt.where(col(Township.active))
    return await paginate(session, stmt, limit=limit, offset=offset, order_by=Township.id)


async def list_schools(
    session: AsyncSession,
    vis: Visibility,
    *,
    county_id: int | None,
    township_id: int | None,
    kind: str | None,
    include_inactive: bool,
    limit: int,
    offset: int,
) -> tuple[list[School], int]:
    stmt = select(School).where(visible_to(vis, School.id))
    if county_id is not None:
        stmt = stmt.where(School.county_id == county_id)
    if township_id is not None:
        stmt = stmt.where(School.township_id == township_id)
    if kind is not None:
        stmt = stmt.where(School.kind == kind)
    if not include_inactive:
        stmt = stmt.where(col(School.active))
    return await paginate(session, stmt, limit=limit, offset=offset, order_by=School.id)


async def list_grades(
    session: AsyncSession, vis: Visibility, *, school_id: int | None, limit: int, offset: int
) -> tuple[list[Grade], int]:
    stmt = select(Grade).where(visible_to(vis, Grade.school_id), col(Grade.active))
    if school_id is not None:
        stmt = stmt.where(Grade.school_id == school_id)
    return await paginate(
        session, stmt, limit=limit, offset=offset, order_by=(Grade.school_id, Grade.level)
    )


async def list_classes(
    session: AsyncSession,
    vis: Visibility,
    *,
    school_id: int | None,
    grade_id: int | None,
    include_inactive: bool,
    limit: int,
    offset: int,
) -> tuple[list[SchoolClass], int]:
    stmt = select(SchoolClass).where(visible_to(vis, SchoolClass.school_id, SchoolClass.id))
    if school_id is not None:
        stmt = stmt.where(SchoolClass.school_id == school_id)
    if grade_id is not None:
        stmt = stmt.where(SchoolClass.grade_id == grade_id)
    if not include_inactive:
        stmt = stmt.where(col(SchoolClass.active))
    order = (SchoolClass.school_id, SchoolClass.grade_id, SchoolClass.id)
    return await paginate(session, stmt, limit=limit, offset=offset, order_by=order)


async def head_teachers(
    session: AsyncSession, class_ids: Collection[int]
) -> dict[int, tuple[int, str]]:
    """class id → (staff id, name) of its head teacher."""
    if not class_ids:
        return {}
    rows = await session.exec(
        select(StaffRole.class_id, Staff.id, Staff.name)
        .join(Staff, col(Staff.id) == StaffRole.staff_id)
        .where(StaffRole.role == Role.head_teacher.value, col(StaffRole.class_id).in_(class_ids))
    )
    return {cid: (sid, name) for cid, sid, name in rows if cid is not None and sid is not None}


async def head_teachers_of_schools(
    session: AsyncSession, school_ids: Collection[int]
) -> dict[int, tuple[int, str]]:
    """class id → (staff id, name) of the head teacher of each class of these schools."""
    rows = await session.exec(
        select(StaffRole.class_id, Staff.id, Staff.name)
        .join(Staff, col(Staff.id) == StaffRole.staff_id)
        .join(SchoolClass, col(SchoolClass.id) == StaffRole.class_id)
        .where(
            StaffRole.role == Role.head_teacher.value,
            col(SchoolClass.school_id).in_(sorted(school_ids)),
        )
    )
    return {cid: (sid, name) for cid, sid, name in rows if cid is not None and sid is not None}


async def classes_by_school(
    session: AsyncSession, school_id: int
) -> list[tuple[SchoolClass, Grade]]:
    rows = await session.exec(
        select(SchoolClass, Grade)
        .join(Grade, col(Grade.id) == SchoolClass.grade_id)
        .where(SchoolClass.school_id == school_id)
    )
    return list(rows)


async def classes_by_schools(
    session: AsyncSession, school_ids: Collection[int]
) -> list[tuple[SchoolClass, Grade]]:
    """The classes (with their grades) of these schools, in one statement."""
    rows = await session.exec(
        select(SchoolClass, Grade)
        .join(Grade, col(Grade.id) == SchoolClass.grade_id)
        .where(col(SchoolClass.school_id).in_(sorted(school_ids)))
    )
    return list(rows)


async def county_by_code(session: AsyncSession, code: str) -> County | None:
    return (await session.exec(select(County).where(County.code == code))).one_or_none()


async def schools_by_ids(session: AsyncSession, school_ids: Collection[int]) -> dict[int, School]:
    if not school_ids:
        return {}
    rows = await session.exec(select(School).where(col(School.id).in_(sorted(school_ids))))
    return {s.id: s for s in rows if s.id is not None}


async def active_school_ids(session: AsyncSession) -> list[int]:
    rows = await session.exec(select(School.id).where(col(School.active)).order_by(col(School.id)))
    return [i for i in rows if i is not None]


async def grades_by_school(session: AsyncSession, school_id: int) -> list[Grade]:
    return list(await session.exec(select(Grade).where(Grade.school_id == school_id)))


async def grade_names(session: AsyncSession, ids: Collection[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.exec(select(Grade.id, Grade.name).where(col(Grade.id).in_(sorted(ids))))
    return {gid: name for gid, name in rows if gid is not None}
