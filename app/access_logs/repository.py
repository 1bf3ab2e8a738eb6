"""Queries for the access log."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import AccessLog, AccessLogStudent


async def add(session: AsyncSession, row: dict[str, Any], students: Collection[int]) -> None:
    log = AccessLog(**row)
    session.add(log)
    if students:
        await session.flush()
        assert log.id is not None
        conn = await session.connection()  # a plain executemany: no ORM objects for 20,000
        await conn.execute(
            insert(AccessLogStudent),
            [{"access_log_id": log.id, "student_id": sid} for sid in sorted(students)],
        )


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
        tied = select(AccessLogStudent.access_log_id).where(
            AccessLogStudent.student_id == student_id
        )
        stmt = stmt.where((col(AccessLog.student_id) == student_id) | col(AccessLog.id).in_(tied))
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
    old = select(AccessLog.id).where(col(AccessLog.at) < before)
    # SQLite does not enforce the cascade unless asked per connection: delete the ties first.
    await session.exec(delete(AccessLogStudent).where(col(AccessLogStudent.access_log_id).in_(old)))
    result = await session.exec(delete(AccessLog).where(col(AccessLog.at) < before))
    return int(result.rowcount or 0)
