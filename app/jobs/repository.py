"""The periodic jobs' status rows (``engine_job``) and the counts the engine's health shows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import Deadline, EngineJob, Notification


async def record(session: AsyncSession, name: str, at: datetime, error: str | None) -> None:
    """One run of job ``name`` started ``at``: a success, or a failure with ``error``. One
    upsert, so engines recording the same job at once each count."""
    table = EngineJob.__table__  # type: ignore[attr-defined]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    ok = error is None
    stmt = insert(table).values(
        name=name,
        last_run_at=at,
        last_success_at=at if ok else None,
        last_error_at=None if ok else at,
        last_error=error,
        runs=1,
        failures=0 if ok else 1,
        failing=0 if ok else 1,
    )
    row = table.c
    if ok:
        changes = {
            "last_run_at": at,
            "last_success_at": at,
            "runs": row.runs + 1,
            "failing": 0,
        }
    else:
        changes = {
            "last_run_at": at,
            "last_error_at": at,
            "last_error": error,
            "runs": row.runs + 1,
            "failures": row.failures + 1,
            "failing": row.failing + 1,
        }
    await session.exec(stmt.on_conflict_do_update(index_elements=["name"], set_=changes))


async def all_jobs(session: AsyncSession) -> list[EngineJob]:
    return list(await session.exec(select(EngineJob).order_by(col(EngineJob.name))))


async def overdue_deadlines(session: AsyncSession, now: datetime) -> tuple[int, datetime | None]:
    """How many pending deadlines are past due, and the oldest one's due time."""
    stmt = select(func.count(), func.min(Deadline.due_at)).where(
        Deadline.state == "pending", col(Deadline.due_at) <= now
    )
    count, oldest = (await session.exec(stmt)).one()
    return int(count), oldest


async def digests_held(session: AsyncSession) -> int:
    """Notices held back for a backlog digest, not yet folded into one."""
    stmt = select(func.count()).where(col(Notification.digest_pending))
    return int((await session.exec(stmt)).one())
