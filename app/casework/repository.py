"""Queries of joint persuasion (联合劝返): home visits, talks, the 一人一策 plan and the staff a
plan's measures may name."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import HomeVisit, PersuasionTalk, ReturnPlan, Staff, StaffRole


async def school_staff(session: AsyncSession, school_id: int, ids: Collection[int]) -> set[int]:
    """Those of ``ids`` who are active staff of the school (home school or a role there)."""
    if not ids:
        return set()
    in_school = select(StaffRole.staff_id).where(col(StaffRole.school_id) == school_id)
    rows = await session.exec(
        select(Staff.id).where(
            col(Staff.id).in_(sorted(set(ids))),
            col(Staff.active).is_(True),
            or_(col(Staff.school_id) == school_id, col(Staff.id).in_(in_school)),
        )
    )
    return {sid for sid in rows if sid is not None}


async def home_visits(session: AsyncSession, case_id: int) -> list[HomeVisit]:
    rows = await session.exec(
        select(HomeVisit)
        .where(col(HomeVisit.case_id) == case_id)
        .order_by(col(HomeVisit.visited_on), col(HomeVisit.id))
    )
    return list(rows)


async def talks(session: AsyncSession, case_id: int) -> list[PersuasionTalk]:
    rows = await session.exec(
        select(PersuasionTalk)
        .where(col(PersuasionTalk.case_id) == case_id)
        .order_by(col(PersuasionTalk.talked_on), col(PersuasionTalk.id))
    )
    return list(rows)


async def plan(session: AsyncSession, case_id: int) -> ReturnPlan | None:
    rows = await session.exec(select(ReturnPlan).where(col(ReturnPlan.case_id) == case_id))
    return rows.one_or_none()
