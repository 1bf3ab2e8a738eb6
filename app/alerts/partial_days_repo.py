"""Queries of 离校未归 alerts (``left_school_alert``)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import select as sa_select
from sqlalchemy import text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import LeftSchoolAlert
from app.domain.partial_days import LeftSchoolStatus


async def of_students_on(
    session: AsyncSession, pairs: Collection[tuple[int, date]], *, lock: bool = True
) -> dict[tuple[int, date], LeftSchoolAlert]:
    """The alerts of these (student, school day) pairs, locked for the caller's transaction."""
    if not pairs:
        return {}
    students = sorted({s for s, _ in pairs})
    days = sorted({d for _, d in pairs})
    stmt = select(LeftSchoolAlert).where(
        col(LeftSchoolAlert.student_id).in_(students), col(LeftSchoolAlert.school_date).in_(days)
    )
    if lock:
        stmt = stmt.order_by(col(LeftSchoolAlert.id)).with_for_update()
    wanted = set(pairs)
    return {
        (r.student_id, r.school_date): r
        for r in await session.exec(stmt)
        if (r.student_id, r.school_date) in wanted
    }


_PG_DAYS_WITH_ALERTS = text(
    "SELECT student_id, school_date FROM left_school_alert"
    " WHERE student_id = ANY(CAST(:ids AS INT[])) AND school_date = ANY(CAST(:days AS DATE[]))"
)


async def days_with_alerts(
    session: AsyncSession, pairs: Collection[tuple[int, date]]
) -> set[tuple[int, date]]:
    """Which of these (student, school day) pairs have an alert, read without a lock and
    without building rows: on nearly every roll none has, and then there is nothing to lock.
    One statement whatever the count (arrays on PostgreSQL: one prepared plan)."""
    if not pairs:
        return set()
    students = sorted({s for s, _ in pairs})
    days = sorted({d for _, d in pairs})
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        found = await conn.execute(_PG_DAYS_WITH_ALERTS, {"ids": students, "days": days})
    else:
        table = LeftSchoolAlert.__table__  # type: ignore[attr-defined]
        found = await conn.execute(
            sa_select(table.c.student_id, table.c.school_date).where(
                table.c.student_id.in_(students), table.c.school_date.in_(days)
            )
        )
    wanted = set(pairs)
    return {(r[0], r[1]) for r in found if (r[0], r[1]) in wanted}


async def claim_overdue(session: AsyncSession, now: datetime) -> list[LeftSchoolAlert]:
    """Raised alerts whose call is overdue and not yet escalated, marked escalated in the same
    statement: a second engine running the job at once finds none of them."""
    table = LeftSchoolAlert.__table__  # type: ignore[attr-defined]
    stmt = (
        update(table)
        .where(
            table.c.status == LeftSchoolStatus.raised,
            table.c.escalated_at.is_(None),
            table.c.contact_due <= now,
        )
        .values(escalated_at=now, updated_at=now)
        .returning(table.c.id)
    )
    conn = await session.connection()
    ids = [r[0] for r in await conn.execute(stmt)]
    if not ids:
        return []
    found = await session.exec(
        select(LeftSchoolAlert)
        .where(col(LeftSchoolAlert.id).in_(ids))
        .order_by(col(LeftSchoolAlert.id))
        .execution_options(populate_existing=True)
    )
    return list(found)


async def one_for_update(session: AsyncSession, alert_id: int) -> LeftSchoolAlert | None:
    stmt = select(LeftSchoolAlert).where(LeftSchoolAlert.id == alert_id).with_for_update()
    return (await session.exec(stmt)).first()


async def listed(
    session: AsyncSession,
    *,
    school_id: int,
    class_ids: Collection[int] | None,
    start: date,
    end: date,
    status: str | None,
) -> list[LeftSchoolAlert]:
    stmt = select(LeftSchoolAlert).where(
        LeftSchoolAlert.school_id == school_id,
        col(LeftSchoolAlert.school_date) >= start,
        col(LeftSchoolAlert.school_date) <= end,
    )
    if class_ids is not None:
        stmt = stmt.where(col(LeftSchoolAlert.class_id).in_(sorted(class_ids)))
    if status is not None:
        stmt = stmt.where(LeftSchoolAlert.status == status)
    stmt = stmt.order_by(col(LeftSchoolAlert.school_date).desc(), col(LeftSchoolAlert.id))
    return list(await session.exec(stmt))
