"""Queries of the schools' submitted monthly reports (月报)."""

from __future__ import annotations

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import MonthlyReport, Student


async def versions(session: AsyncSession, school_id: int, month: str) -> list[MonthlyReport]:
    rows = await session.exec(
        select(MonthlyReport)
        .where(MonthlyReport.school_id == school_id, MonthlyReport.month == month)
        .order_by(col(MonthlyReport.version))
    )
    return list(rows)


async def latest_of_county(
    session: AsyncSession, county_id: int, month: str
) -> dict[int, MonthlyReport]:
    """Each school's latest version of ``month`` in the county."""
    rows = await session.exec(
        select(MonthlyReport)
        .where(MonthlyReport.county_id == county_id, MonthlyReport.month == month)
        .order_by(col(MonthlyReport.version))
    )
    return {r.school_id: r for r in rows}


async def enrolled(session: AsyncSession, school_id: int) -> int:
    found = await session.exec(
        select(func.count()).where(Student.school_id == school_id, col(Student.active))
    )
    return int(found.one())
