"""Queries and writes for cases, alerts, deadlines and notifications."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import (
    AbsenceCase,
    Alert,
    AlertPolicyRow,
    Deadline,
    Notification,
    Staff,
    StaffRole,
)
from app.domain.roles import Role


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


async def open_cases(
    session: AsyncSession, student_ids: Collection[int], *, lock: bool = False
) -> dict[int, AbsenceCase]:
    """Cases not closed, by student; locked in student order when ``lock`` (PostgreSQL)."""
    if not student_ids:
        return {}
    stmt = (
        select(AbsenceCase)
        .where(col(AbsenceCase.student_id).in_(sorted(student_ids)), AbsenceCase.status != "closed")
        .order_by(col(AbsenceCase.id))
    )
    if lock:
        stmt = stmt.with_for_update()
    return {c.student_id: c for c in await session.exec(stmt)}


async def case_for_update(session: AsyncSession, case_id: int) -> AbsenceCase | None:
    stmt = select(AbsenceCase).where(AbsenceCase.id == case_id).with_for_update()
    return (await session.exec(stmt)).one_or_none()


async def alerts_of(session: AsyncSession, case_ids: Collection[int]) -> dict[int, list[Alert]]:
    found: dict[int, list[Alert]] = {cid: [] for cid in case_ids}
    if not case_ids:
        return found
    rows = await session.exec(
        select(Alert).where(col(Alert.case_id).in_(sorted(case_ids))).order_by(col(Alert.seq))
    )
    for a in rows:
        found[a.case_id].append(a)
    return found


async def add_deadline(session: AsyncSession, row: dict[str, Any]) -> None:
    """Insert unless a deadline for the same obligation exists (its dedupe key)."""
    insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
    stmt = insert(Deadline).values(**row).on_conflict_do_nothing(index_elements=["dedupe_key"])
    await session.exec(stmt)


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[Deadline]:
    """Due pending deadlines in due order, locked so a second engine skips them."""
    stmt = (
        select(Deadline)
        .where(Deadline.state == "pending", col(Deadline.due_at) <= now)
        .order_by(col(Deadline.due_at), col(Deadline.id))
        .limit(limit)
    )
    if _dialect(session) == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(await session.exec(stmt))


async def cases_by_id(
    session: AsyncSession, case_ids: Collection[int], *, lock: bool
) -> dict[int, AbsenceCase]:
    if not case_ids:
        return {}
    stmt = select(AbsenceCase).where(col(AbsenceCase.id).in_(sorted(case_ids)))
    stmt = stmt.order_by(col(AbsenceCase.id))  # one lock order for every engine: no deadlock
    if lock:
        stmt = stmt.with_for_update()
    return {c.id: c for c in await session.exec(stmt) if c.id is not None}


async def earliest_pending(session: AsyncSession) -> datetime | None:
    stmt = (
        select(Deadline.due_at)
        .where(Deadline.state == "pending")
        .order_by(col(Deadline.due_at))
        .limit(1)
    )
    return (await session.exec(stmt)).first()


async def mark_deadlines(
    session: AsyncSession, rows: Sequence[tuple[int, str, datetime, int]]
) -> None:
    """(id, state, fired_at, lateness_ms) for each claimed deadline."""
    for deadline_id, state, fired_at, lateness in rows:
        await session.exec(
            update(Deadline)
            .where(col(Deadline.id) == deadline_id)
            .values(state=state, fired_at=fired_at, lateness_ms=lateness)
        )


async def recipients(
    session: AsyncSession, role: Role, *, county_id: int, school_id: int, class_id: int
) -> list[tuple[int, str]]:
    """Active staff holding ``role`` for this student: (id, name)."""
    stmt = (
        select(Staff.id, Staff.name)
        .join(StaffRole, col(StaffRole.staff_id) == Staff.id)
        .where(StaffRole.role == role.value, col(Staff.active))
    )
    if role in (Role.head_teacher, Role.subject_teacher):
        stmt = stmt.where(StaffRole.class_id == class_id)
    elif role is Role.county_admin:
        stmt = stmt.where(StaffRole.county_id == county_id)
    else:
        stmt = stmt.where(StaffRole.school_id == school_id)
    rows = await session.exec(stmt.order_by(col(Staff.id)).distinct())
    return [(sid, name) for sid, name in rows if sid is not None]


async def add_notifications(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
    stmt = insert(Notification).on_conflict_do_nothing(index_elements=["idem_key"])
    conn = await session.connection()
    await conn.execute(stmt, list(rows))


async def policy_rows(
    session: AsyncSession, county_id: int, school_id: int
) -> tuple[AlertPolicyRow | None, AlertPolicyRow | None]:
    keys = [f"county:{county_id}", f"school:{school_id}"]
    rows = {
        r.scope_key: r
        for r in await session.exec(
            select(AlertPolicyRow).where(col(AlertPolicyRow.scope_key).in_(keys))
        )
    }
    return rows.get(keys[0]), rows.get(keys[1])
