"""Queries for the access log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import AccessLog


def add(session: AsyncSession, row: dict[str, Any]) -> None:
    session.add(AccessLog(**row))


async def page(
    session: AsyncSession,
    *,
    county_id: int | None,
    student_id: int | None,
    actor_id: int | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[int, list[AccessLog]]:
    stmt = select(AccessLog)
    if county_id is not None:
        stmt = stmt.where(AccessLog.county_id == county_id)
    if student_id is not None:
        stmt = stmt.where(AccessLog.student_id == student_id)
    if actor_id is not None:
        stmt = stmt.where(AccessLog.actor_id == actor_id)
    if since is not None:
        stmt = stmt.where(col(AccessLog.at) >= since)
    if until is not None:
        stmt = stmt.where(col(AccessLog.at) < until)
    total = (await session.exec(select(func.count()).select_from(stmt.subquery()))).one()
    rows = await session.exec(
        stmt.order_by(col(AccessLog.at).desc(), col(AccessLog.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return int(total), list(rows)


async def purge(session: AsyncSession, before: datetime) -> int:
    result = await session.exec(delete(AccessLog).where(col(AccessLog.at) < before))
    return int(result.rowcount or 0)
