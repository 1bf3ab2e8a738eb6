"""Queries of return notices (返校通知书). ``statuses`` is the caller's set of active statuses:
the status vocabulary belongs to the service."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import Guardian, ReturnNotice


async def first_guardian_name(session: AsyncSession, student_id: int) -> str | None:
    """The primary guardian's name, otherwise the first one on file."""
    rows = await session.exec(
        select(Guardian)
        .where(col(Guardian.student_id) == student_id)
        .order_by(col(Guardian.is_primary).desc(), col(Guardian.id))
    )
    first = rows.first()
    return first.name if first is not None else None


async def case_has_notice(session: AsyncSession, case_id: int, statuses: Collection[str]) -> bool:
    found = await session.exec(
        select(ReturnNotice.id).where(
            col(ReturnNotice.case_id) == case_id, col(ReturnNotice.status).in_(statuses)
        )
    )
    return found.first() is not None


async def latest_of_case(session: AsyncSession, case_id: int) -> ReturnNotice | None:
    found = await session.exec(
        select(ReturnNotice)
        .where(col(ReturnNotice.case_id) == case_id)
        .order_by(col(ReturnNotice.id).desc())
    )
    return found.first()


async def in_schools(
    session: AsyncSession, school_ids: Collection[int] | None, statuses: Collection[str]
) -> list[ReturnNotice]:
    """Notices in ``statuses`` of the schools (every school when None)."""
    stmt = select(ReturnNotice).where(col(ReturnNotice.status).in_(statuses))
    if school_ids is not None:
        stmt = stmt.where(col(ReturnNotice.school_id).in_(sorted(school_ids)))
    return list(await session.exec(stmt))


async def reread(session: AsyncSession, ids: Collection[int]) -> list[ReturnNotice]:
    """The notices as they stand now (loaded rows refreshed), in case-id order."""
    return list(
        await session.exec(
            select(ReturnNotice)
            .where(col(ReturnNotice.id).in_(sorted(ids)))
            .order_by(col(ReturnNotice.case_id), col(ReturnNotice.id))
            .execution_options(populate_existing=True)
        )
    )
