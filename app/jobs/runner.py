"""Runs the engine on a timer. APScheduler (3.x, asyncio) only wakes the sweep; what is due is
decided by the database (``due_at <= now``), so a missed wake-up loses nothing and a backlog
after downtime fires on the first tick, in due order."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app.alerts import sweep
from app.context import AppContext
from app.core import metrics
from app.delivery.channels import outbound
from app.delivery.channels.config import http_timeout
from app.delivery.worker import DeliveryWorker
from app.jobs import repository as engine_jobs
from app.jobs import sim_clock
from app.jobs.periodic import JOBS, SWEEP_JOB, Job, run_job

log = logging.getLogger("kcbx.engine")


class EngineRunner:
    """The deadline sweep, the delivery worker (outbox → channels) and the periodic jobs of
    ``app.jobs.periodic``, each scheduled on its own."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.ticks = 0
        self._sweep_recorded: float | None = None
        endpoints = ctx.settings.channels
        # Guarded: only allowed addresses, checked on the address connected to; no redirects.
        self.client = outbound.http_client(ctx.settings.outbound, http_timeout(endpoints))
        self.delivery = DeliveryWorker(ctx, self.client, endpoints)
        # The job runs in flight, so ``stop`` can let them finish: a job cut off at exit would
        # leave its database connection (an aiosqlite thread) open and the process alive.
        self._running: set[asyncio.Task[None]] = set()

    async def _beat(self, what: str, error: str | None = None) -> None:
        try:
            await self.delivery.beat(what, error)
        except Exception:  # the database is away: health shows the silence
            log.exception("heartbeat failed")

    async def deliver(self) -> None:
        try:
            got = await self.delivery.tick()
        except Exception as exc:  # retried next tick; claimed rows come back when leases end
            log.exception("delivery failed")
            await self._beat("delivery", f"{type(exc).__name__}: {exc}")
            return
        if got.sent or got.dead or got.retried:
            log.info("delivered %d, retrying %d, dead-lettered %d", got.sent, got.retried, got.dead)

    async def tick(self) -> None:
        started = self.ctx.clock()
        try:
            result = await sweep.sweep(self.ctx)
        except Exception as exc:  # retried on the next tick; its rows stay pending
            log.exception("engine sweep failed")
            await self._record_sweep(started, sweep.describe(exc))
            await self._beat("sweep", sweep.describe(exc))
            return
        await self._beat("sweep")
        self.ticks += 1
        # The sweep's status row: each failure, and a success at most every 30 s.
        if self._sweep_recorded is None or time.monotonic() - self._sweep_recorded > 30:
            await self._record_sweep(started, None)
            self._sweep_recorded = time.monotonic()
        metrics.swept(result.fired, result.cancelled, result.failed, result.lateness_ms)
        if result.fired or result.cancelled or result.failed:
            worst = max(result.lateness_ms, default=0)
            log.info(
                "fired %d, cancelled %d (stale), set aside %d, worst lateness %d ms, "
                "%d late notices in %d digests",
                result.fired,
                result.cancelled,
                result.failed,
                worst,
                result.folded,
                result.digests,
            )

    async def _record_sweep(self, at: datetime, error: str | None) -> None:
        try:
            async with self.ctx.uow() as uow:
                await engine_jobs.record(uow.session, SWEEP_JOB, at, error)
                await uow.commit()
        except Exception:  # the database is down: the log says so
            log.exception("could not record the sweep's status")

    async def run(self, job: Job) -> None:
        """One periodic job (see ``app.jobs.periodic``): its own transaction and ``try``."""
        await run_job(self.ctx, job)

    def _job(self, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        # Drills: each tick reads the deployment's clock and sits out a move in progress.
        body = sim_clock.following(self.ctx, job) if self.ctx.settings.simulation_clock else job

        async def tracked() -> None:
            task = asyncio.current_task()
            if task is not None:
                self._running.add(task)
            try:
                await body()
            finally:
                if task is not None:
                    self._running.discard(task)

        return tracked

    def start(self) -> None:
        self.scheduler.add_job(
            self._job(self.tick),
            "interval",
            seconds=self.ctx.settings.engine_poll_seconds,
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            id="engine-sweep",
        )
        self.scheduler.add_job(
            self._job(self.deliver),
            "interval",
            seconds=self.ctx.settings.delivery_poll_seconds,
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            id="delivery",
        )
        # The jobs that run less often than every minute catch up soon after a (re)start,
        # not an hour later; but not at the sweep's first tick either: after downtime the
        # backlog of deadlines fires first, and the measures job (a county's term of marks)
        # would compete with it for the process and the database.
        catch_up = datetime.now(UTC) + timedelta(seconds=self.ctx.settings.engine_catch_up_seconds)
        for job in JOBS:
            self.scheduler.add_job(
                self._job(partial(self.run, job)),
                "interval",
                seconds=job.interval(self.ctx.settings),
                next_run_time=catch_up if job.interval(self.ctx.settings) > 60 else None,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
                id=job.name,
            )
        self.scheduler.start()

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop waking jobs, give the ones running ``grace_seconds`` to finish (each is one
        transaction: finishing is cheaper than a rollback and a retry), then cancel the rest
        and wait for their cleanup, so no connection outlives the process's shutdown."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        running = set(self._running)
        if running:
            _done, late = await asyncio.wait(running, timeout=grace_seconds)
            for task in late:
                log.warning("cancelling %s at shutdown", task.get_name())
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self.client.aclose()
