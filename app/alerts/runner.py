"""Runs the engine on a timer. APScheduler (3.x, asyncio) only wakes the sweep; what is due is
decided by the database (``due_at <= now``), so a missed wake-up loses nothing and a backlog
after downtime fires on the first tick, in due order."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app.alerts import engine
from app.alerts.care_reminders import remind_mentors
from app.alerts.delivery import DeliveryWorker
from app.alerts.reminders import remind_missing_rolls
from app.alerts.tasks import remind_tasks
from app.context import AppContext
from app.repositories.org import active_school_ids
from app.services import access_logs, sim_clock
from app.services.legal import check_overdue_notices

log = logging.getLogger("kcbx.engine")


class EngineRunner:
    """Two jobs: the deadline sweep and the delivery worker (outbox → channels)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.ticks = 0
        endpoints = ctx.settings.channels
        self.client = httpx.AsyncClient(timeout=endpoints.timeout())
        self.delivery = DeliveryWorker(ctx, self.client, endpoints)

    async def deliver(self) -> None:
        try:
            got = await self.delivery.tick()
        except Exception:  # retried on the next tick; claimed rows come back when leases end
            log.exception("delivery failed")
            return
        if got.sent or got.dead or got.retried:
            log.info("delivered %d, retrying %d, dead-lettered %d", got.sent, got.retried, got.dead)

    async def tick(self) -> None:
        try:
            result = await engine.sweep(self.ctx)
        except Exception:  # a failed sweep is retried on the next tick; its rows stay pending
            log.exception("engine sweep failed")
            return
        self.ticks += 1
        if result.fired or result.cancelled:
            worst = max(result.lateness_ms, default=0)
            log.info(
                "fired %d, cancelled %d (stale), worst lateness %d ms",
                result.fired,
                result.cancelled,
                worst,
            )

    async def remind(self) -> None:
        try:
            async with self.ctx.uow() as uow:
                schools = await active_school_ids(uow.session)
            await remind_missing_rolls(self.ctx, schools)
            # Return notices past their deadline go to the township (疑似辍学), then 辍学.
            await check_overdue_notices(self.ctx)
            await remind_tasks(self.ctx)
        except Exception:  # tried again next minute; each is idempotent
            log.exception("roll, return-notice or task reminders failed")

    async def remind_care(self) -> None:
        try:
            await remind_mentors(self.ctx)
            # Hourly too: access-log rows past their retention go (idempotent).
            await access_logs.purge(self.ctx)
        except Exception:  # tried again next hour; idempotent
            log.exception("care-contact reminders or access-log purge failed")

    def _job(self, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        # Drills: each tick reads the deployment's clock and sits out a move in progress.
        return sim_clock.following(self.ctx, job) if self.ctx.settings.simulation_clock else job

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
        self.scheduler.add_job(
            self._job(self.remind),
            "interval",
            seconds=60,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            id="roll-reminders",
        )
        self.scheduler.add_job(
            self._job(self.remind_care),
            "interval",
            seconds=3600,
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            id="care-reminders",
        )
        self.scheduler.start()

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.client.aclose()
