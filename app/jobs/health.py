"""The engine's health: overdue and failed deadlines, held digests, each periodic job's last
run, delivery per channel and the engine processes' heartbeats."""

from __future__ import annotations

from app.alerts import engine_repo as alerts_repo
from app.context import AppContext
from app.db.models import EngineJob
from app.db.uow import UnitOfWork
from app.delivery.health import delivery_health
from app.jobs import repository as engine_jobs
from app.jobs.periodic import LABELS
from app.jobs.schemas import EngineHealthOut, JobStatusOut


async def health(uow: UnitOfWork, ctx: AppContext) -> EngineHealthOut:
    now = ctx.clock()
    count, oldest = await engine_jobs.overdue_deadlines(uow.session, now)
    failed = await alerts_repo.failed_deadlines(uow.session)
    jobs = {j.name: j for j in await engine_jobs.all_jobs(uow.session)}
    names = [*LABELS, *sorted(jobs.keys() - LABELS.keys())]
    delivery, processes = await delivery_health(uow, ctx)
    return EngineHealthOut(
        now=now,
        pending_overdue=int(count),
        oldest_overdue_due_at=oldest,
        oldest_overdue_seconds=(now - oldest).total_seconds() if oldest else None,
        failed_deadlines=failed.total,
        failed_oldest_due_at=failed.oldest_due_at,
        failed_last_error=failed.last_error,
        digest_pending=await engine_jobs.digests_held(uow.session),
        jobs=[_job_out(name, jobs.get(name)) for name in names],
        delivery=delivery,
        processes=processes,
    )


def _job_out(name: str, row: EngineJob | None) -> JobStatusOut:
    """A job never run yet shows with empty times (a new engine, or one that never started)."""
    return JobStatusOut(
        name=name,
        label=LABELS.get(name, name),
        last_run_at=row.last_run_at if row else None,
        last_success_at=row.last_success_at if row else None,
        last_error_at=row.last_error_at if row else None,
        last_error=row.last_error if row else None,
        runs=row.runs if row else 0,
        failures=row.failures if row else 0,
        failing=row.failing if row else 0,
    )
