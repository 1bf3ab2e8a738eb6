"""Queries over leave requests (请假)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.scope import IN_CHUNK, locked_row, paginate, visible_to
from app.db.models import LeaveRequest, School, Suspension
from app.domain.access import Visibility
from app.domain.attendance import LeaveStatus
from app.domain.students import suspension_last_day

# Statuses that hold a student's dates: a new request may not overlap them.
ACTIVE_STATUSES = (LeaveStatus.pending.value, LeaveStatus.approved.value)


async def school_counties(session: AsyncSession, school_ids: Collection[int]) -> dict[int, int]:
    """The county of each school (who may read a sick leave's symptoms depends on it)."""
    if not school_ids:
        return {}
    rows = await session.exec(
        select(School.id, School.county_id).where(col(School.id).in_(sorted(school_ids)))
    )
    return {sid: cid for sid, cid in rows.all() if sid is not None}


async def leave_for_update(session: AsyncSession, leave_id: int) -> LeaveRequest | None:
    """The leave row, locked: two concurrent decisions on it cannot both apply."""
    return await locked_row(session, LeaveRequest, leave_id)


async def overlapping(
    session: AsyncSession, student_id: int, start: date, end: date
) -> list[LeaveRequest]:
    """Pending or approved leave of the student sharing at least one date with [start, end]."""
    rows = await session.exec(
        select(LeaveRequest)
        .where(
            LeaveRequest.student_id == student_id,
            col(LeaveRequest.status).in_(ACTIVE_STATUSES),
            col(LeaveRequest.start_date) <= end,
            col(LeaveRequest.end_date) >= start,
        )
        .order_by(col(LeaveRequest.start_date))
    )
    return list(rows)


async def list_leaves(
    session: AsyncSession,
    vis: Visibility,
    *,
    student_id: int | None,
    class_id: int | None,
    school_id: int | None,
    status: str | None,
    leave_type: str | None,
    covering: date | None,
    limit: int,
    offset: int,
) -> tuple[list[LeaveRequest], int]:
    stmt = select(LeaveRequest).where(
        visible_to(vis, LeaveRequest.school_id, LeaveRequest.class_id)
    )
    if student_id is not None:
        stmt = stmt.where(LeaveRequest.student_id == student_id)
    if class_id is not None:
        stmt = stmt.where(LeaveRequest.class_id == class_id)
    if school_id is not None:
        stmt = stmt.where(LeaveRequest.school_id == school_id)
    if status is not None:
        stmt = stmt.where(LeaveRequest.status == status)
    if leave_type is not None:
        stmt = stmt.where(LeaveRequest.leave_type == leave_type)
    if covering is not None:
        stmt = stmt.where(
            col(LeaveRequest.start_date) <= covering, col(LeaveRequest.end_date) >= covering
        )
    return await paginate(
        session,
        stmt,
        limit=limit,
        offset=offset,
        order_by=(col(LeaveRequest.start_date).desc(), col(LeaveRequest.id).desc()),
    )


async def approved_leave_days(
    session: AsyncSession, student_ids: Collection[int], start: date, end: date
) -> dict[int, set[date]]:
    """For each student, the dates in [start, end] covered by approved leave or by a 休学
    (suspension: its days count like approved leave, so they are never absent). Students
    without any such date are absent from the answer. Dates are calendar dates: whether
    each is a school day is the caller's business."""
    found: dict[int, set[date]] = {}
    ids = sorted(set(student_ids))
    if not ids or end < start:
        return found
    for i in range(0, len(ids), IN_CHUNK):
        rows = await session.exec(
            select(
                LeaveRequest.student_id,
                col(LeaveRequest.start_date),
                col(LeaveRequest.end_date),
            ).where(
                col(LeaveRequest.student_id).in_(ids[i : i + IN_CHUNK]),
                LeaveRequest.status == LeaveStatus.approved.value,
                col(LeaveRequest.start_date) <= end,
                col(LeaveRequest.end_date) >= start,
            )
        )
        for student_id, first, last in rows:
            _add_days(found, student_id, max(first, start), min(last, end))
        suspended = await session.exec(
            select(
                Suspension.student_id,
                col(Suspension.start_date),
                col(Suspension.end_date),
                col(Suspension.ended_on),
            ).where(
                col(Suspension.student_id).in_(ids[i : i + IN_CHUNK]),
                col(Suspension.start_date) <= end,
                col(Suspension.end_date) >= start,
            )
        )
        for student_id, first, last, ended_on in suspended:
            last = suspension_last_day(last, ended_on)
            _add_days(found, student_id, max(first, start), min(last, end))
    return found


def _add_days(found: dict[int, set[date]], student_id: int, day: date, stop: date) -> None:
    if day > stop:
        return
    days = found.setdefault(student_id, set())
    while day <= stop:
        days.add(day)
        day += timedelta(days=1)
