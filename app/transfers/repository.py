"""Queries of 转学 (transfers) and 休学 (suspensions)."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import Suspension, Transfer
from app.domain.access import Actor


async def has_transfer_in(
    session: AsyncSession, student_id: int, statuses: Collection[str]
) -> bool:
    rows = await session.exec(
        select(Transfer.id).where(
            col(Transfer.student_id) == student_id, col(Transfer.status).in_(statuses)
        )
    )
    return rows.first() is not None


async def awaiting_move(
    session: AsyncSession, approved: str, student_id: int | None = None
) -> list[Transfer]:
    """Approved transfers whose student has not left the sending school's roll yet (of one
    student, or all), in student order."""
    stmt = select(Transfer).where(
        col(Transfer.status) == approved, col(Transfer.moved_at).is_(None)
    )
    if student_id is not None:
        stmt = stmt.where(col(Transfer.student_id) == student_id)
    return list(await session.exec(stmt.order_by(col(Transfer.student_id), col(Transfer.id))))


async def visible_transfers(
    session: AsyncSession, actor: Actor, *, student_id: int | None, status: str | None
) -> list[Transfer]:
    """Newest first; out of or into the actor's schools (a class's staff: that class's)."""
    stmt = select(Transfer)
    if not actor.superuser:
        managed = sorted(actor.managed_school_ids)
        stmt = stmt.where(
            col(Transfer.from_school_id).in_(managed)
            | col(Transfer.to_school_id).in_(managed)
            | col(Transfer.class_id).in_(sorted(actor.class_ids))
        )
    if student_id is not None:
        stmt = stmt.where(col(Transfer.student_id) == student_id)
    if status is not None:
        stmt = stmt.where(col(Transfer.status) == status)
    rows = await session.exec(stmt.order_by(col(Transfer.id).desc()))
    return list(rows)


async def suspensions_of(session: AsyncSession, student_id: int) -> list[Suspension]:
    rows = await session.exec(
        select(Suspension)
        .where(col(Suspension.student_id) == student_id)
        .order_by(col(Suspension.start_date))
    )
    return list(rows)
