"""Queries of the simulation clock: its row, its move log, the newest school-time record, and
the next due times a drill has to stop at."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select, type_coerce, union_all, update
from sqlalchemy.sql.schema import Table
from sqlmodel import SQLModel, col
from sqlmodel import select as sm_select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from app.db.models import (
    AbsenceCase,
    CaseTask,
    Deadline,
    Delivery,
    Notification,
    SimClockMove,
    SimClockRow,
)
from app.db.types import UTCDateTime
from app.domain.cases import TaskStatus
from app.domain.delivery import DeliveryState

# Roster and configuration are not school time: a roster imported in November must not keep
# the autumn term from being drilled. Nor is the access log (who read what: reading the clock
# is logged too). Everything else that records when it happened counts.
_SET_UP = frozenset(
    {
        "access_log",
        "county",
        "township",
        "school",
        "grade",
        "school_class",
        "staff",
        "staff_role",
        "student",
        "guardian",
        "api_key",
        "term",
        "term_break",
        "calendar_override",
        "national_year",
        "channel_target",
        "delivery_settings",
        "webhook_subscription",
        "alert_policy",
        "school_age_child",
        "mentor_assignment",
        "sim_clock",
        "sim_clock_move",
        # Real-time bookkeeping: sign-in throttle, engine status, robot rate windows.
        "sign_in_failure",
        "engine_job",
        "engine_heartbeat",
        "rate_bucket",
    }
)
# The daily 岗位空缺 notice follows from the roster (a role nobody holds), not from what a drill
# recorded: it never holds the clock back.
_ROSTER_TOPICS = ("roles.vacant",)
# Columns that say when something happened (not when it is due, or a lease).
_STAMPS = frozenset(
    {"created_at", "at", "received_at", "occurred_at", "opened_at", "raised_at", "submitted_at"}
    | {"fired_at", "sent_at"}
)


def _stamp_columns() -> list[tuple[Table, str]]:
    found = []
    for table in SQLModel.metadata.sorted_tables:
        if table.name in _SET_UP:
            continue
        for column in table.columns:
            if column.name in _STAMPS and isinstance(column.type, UTCDateTime):
                found.append((table, column.name))
    return found


async def latest_record(session: AsyncSession) -> tuple[datetime | None, str | None]:
    """The newest school-time record (when, and which table.column), or (None, None)."""
    parts = []
    for table, name in _stamp_columns():
        part = select(
            type_coerce(func.max(table.c[name]), UTCDateTime).label("at"),
            literal(f"{table.name}.{name}").label("what"),
        )
        if table.name == "notification":
            part = part.where(table.c.topic.not_in(_ROSTER_TOPICS))
        parts.append(part)
    newest = union_all(*parts).subquery()
    stmt = (
        select(newest.c.at, newest.c.what)
        .where(newest.c.at.is_not(None))
        .order_by(newest.c.at.desc())
        .limit(1)
    )
    # A Core union of every table: run on the session's connection, outside the ORM.
    found = (await (await session.connection()).execute(stmt)).first()
    return (found[0], found[1]) if found else (None, None)


async def clock_row(session: AsyncSession) -> SimClockRow | None:
    return await session.get(SimClockRow, 1)


async def lease(
    session: AsyncSession, token: str, start: datetime, until: datetime, wall: datetime
) -> bool:
    """Take the right to move the clock from ``start``; False when another move holds it
    (or has just moved it)."""
    stmt = (
        update(SimClockRow)
        .where(
            col(SimClockRow.id) == 1,
            col(SimClockRow.now) == start,
            col(SimClockRow.moving_until).is_(None) | (col(SimClockRow.moving_until) < wall),
        )
        .values(moving_until=until, moving_token=token)
    )
    return bool((await session.exec(stmt)).rowcount)


async def release(session: AsyncSession, token: str) -> None:
    stmt = (
        update(SimClockRow)
        .where(col(SimClockRow.id) == 1, col(SimClockRow.moving_token) == token)
        .values(moving_until=None, moving_token=None)
    )
    await session.exec(stmt)


async def set_if_still(
    session: AsyncSession, start: datetime, target: datetime, wall: datetime
) -> bool:
    """Set the clock to ``target`` if it still stands at ``start`` and nobody is moving it."""
    stmt = (
        update(SimClockRow)
        .where(
            col(SimClockRow.id) == 1,
            col(SimClockRow.now) == start,
            col(SimClockRow.moving_until).is_(None) | (col(SimClockRow.moving_until) < wall),
        )
        .values(now=target, set_at=wall)
    )
    return bool((await session.exec(stmt)).rowcount)


async def step(
    session: AsyncSession, token: str, now: datetime, wall: datetime, until: datetime
) -> bool:
    """Move the clock to ``now`` if this move still holds the lease (renewing it)."""
    stmt = (
        update(SimClockRow)
        .where(col(SimClockRow.id) == 1, col(SimClockRow.moving_token) == token)
        .values(now=now, set_at=wall, moving_until=until)
    )
    return bool((await session.exec(stmt)).rowcount)


async def finish_move(
    session: AsyncSession, move_id: int, reached: datetime, summary: dict[str, Any]
) -> None:
    stmt = (
        update(SimClockMove)
        .where(col(SimClockMove.id) == move_id)
        .values(reached=reached, summary=summary)
    )
    await session.exec(stmt)


async def moves(session: AsyncSession, limit: int) -> tuple[list[SimClockMove], int]:
    total = (await session.exec(sm_select(func.count()).select_from(SimClockMove))).one()
    stmt = sm_select(SimClockMove).order_by(col(SimClockMove.id).desc()).limit(limit)
    return list(await session.exec(stmt)), int(total)


async def next_due(session: AsyncSession, after: datetime) -> datetime | None:
    """The earliest pending deadline, delivery attempt (retries, end of quiet hours, robot
    rate limits) or lease end, and open-task reminder after ``after``."""
    candidates: list[SelectOfScalar[Any]] = [
        sm_select(func.min(Deadline.due_at)).where(
            Deadline.state == "pending", col(Deadline.due_at) > after
        ),
        sm_select(func.min(Delivery.next_attempt_at)).where(
            Delivery.state == DeliveryState.pending.value, col(Delivery.next_attempt_at) > after
        ),
        sm_select(func.min(Delivery.lease_until)).where(
            Delivery.state == DeliveryState.sending.value, col(Delivery.lease_until) > after
        ),
        sm_select(func.min(CaseTask.due_at)).where(
            CaseTask.status == TaskStatus.open.value,
            col(CaseTask.reminded_at).is_(None),
            col(CaseTask.due_at) > after,
        ),
    ]
    both = union_all(*candidates).subquery()
    # One round trip: the earliest of the four.
    first = select(type_coerce(func.min(both.c[0]), UTCDateTime))
    found: datetime | None = (await (await session.connection()).execute(first)).scalar()
    return found


async def open_tasks_to_escalate(session: AsyncSession) -> list[tuple[datetime, dict[str, object]]]:
    """Open tasks not yet escalated, with their case's policy (the overdue hours live there)."""
    stmt = (
        sm_select(CaseTask.due_at, AbsenceCase.policy)
        .join(AbsenceCase, col(AbsenceCase.id) == col(CaseTask.case_id))
        .where(CaseTask.status == TaskStatus.open.value, col(CaseTask.escalated_at).is_(None))
    )
    return [(due, dict(policy)) for due, policy in await session.exec(stmt)]


async def notices_between(session: AsyncSession, start: datetime, end: datetime) -> dict[str, int]:
    """Notices written at simulated times in ``(start, end]`` (and at ``start`` by the first
    round), by topic."""
    stmt = (
        sm_select(Notification.topic, func.count())
        .where(col(Notification.created_at) >= start, col(Notification.created_at) <= end)
        .group_by(col(Notification.topic))
    )
    return {topic: int(n) for topic, n in await session.exec(stmt)}
