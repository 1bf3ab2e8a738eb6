"""Driving the engine through a clock advance: the simulated time is stepped through every
moment at which something can change (``app/domain/drill.py`` lists the calendar ones; the
due times in the database are read as it goes), and at each the jobs the engine runner runs
on its timers run once, in the runner's order. A drilled week therefore writes what a real
week writes, each at the moment it would have been written.

The jobs are the runner's (``app/jobs/runner.py``): the deadline sweep, the roll, return-
notice and task reminders, the mentors' care reminders, the access-log purge and the delivery
worker (outbox → channels, with its retries and quiet hours). Each is its own try: a job that
fails at one moment is counted and tried again at the next, as the runner does every minute.
The access-log purge, hourly in real time, runs at these moments only: it writes no notices.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from app.access_logs import service as access_logs
from app.alerts import policy as policies
from app.alerts import sweep
from app.alerts.task_reminders import remind_tasks
from app.alerts.vacancies import remind_vacant_roles
from app.attendance.reminders import remind_missing_rolls
from app.calendar.repository import school_refs
from app.casework.care_reminders import remind_mentors
from app.casework.return_notices import check_overdue_notices
from app.context import AppContext
from app.delivery.channels.config import http_timeout
from app.delivery.worker import DeliveryWorker
from app.domain.drill import SchoolClockFacts, calendar_moments
from app.jobs import sim_clock_repo as repo
from app.org.repository import active_school_ids

log = logging.getLogger("kcbx.drill")

# Firing can make something due at the same moment (a dead letter's fallback): bounded.
_ROUNDS_PER_MOMENT = 5


@dataclass
class DrillResult:
    """What fired on the way (counts), and how far the clock got."""

    moments: int = 0
    fired: int = 0
    cancelled: int = 0
    task_reminders: int = 0
    task_escalations: int = 0
    notices_escalated: int = 0
    notices_complied: int = 0
    dropouts: int = 0
    dispatched: int = 0
    sent: int = 0
    retried: int = 0
    dead_lettered: int = 0
    job_errors: int = 0
    seconds: float = 0.0
    # Notices written on the way, by topic (roll.missing, alert.raised, task.due, care.due…).
    notices: dict[str, int] = field(default_factory=dict)
    job_seconds: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        out = asdict(self)
        out["errors"] = self.errors[:10]
        out["job_seconds"] = {k: round(v, 3) for k, v in self.job_seconds.items()}
        return out


class _Jobs:
    def __init__(self, ctx: AppContext, worker: DeliveryWorker, result: DrillResult) -> None:
        self.ctx, self.worker, self.result = ctx, worker, result

    async def _try(self, name: str, job: Callable[[], Awaitable[None]]) -> None:
        t0 = time.perf_counter()
        try:
            await job()
        except Exception as exc:  # tried again at the next moment, as the runner would
            log.exception("drill job %s failed at %s", name, self.ctx.clock())
            self.result.job_errors += 1
            self.result.errors.append(f"{self.ctx.clock().isoformat()} {name}: {exc!r}"[:300])
        spent = self.result.job_seconds
        spent[name] = spent.get(name, 0.0) + time.perf_counter() - t0

    async def sweep(self) -> None:
        got = await sweep.sweep(self.ctx, self.ctx.clock())
        self.result.fired += got.fired
        self.result.cancelled += got.cancelled

    async def rolls(self) -> None:
        async with self.ctx.uow() as uow:
            schools = await active_school_ids(uow.session)
        await remind_missing_rolls(self.ctx, schools)

    async def notices(self) -> None:
        got = await check_overdue_notices(self.ctx)
        self.result.notices_escalated += got.escalated
        self.result.notices_complied += got.complied
        self.result.dropouts += got.dropout

    async def tasks(self) -> None:
        got = await remind_tasks(self.ctx)
        self.result.task_reminders += got.reminded
        self.result.task_escalations += got.escalated

    async def vacancies(self) -> None:
        async with self.ctx.uow() as uow:
            schools = await active_school_ids(uow.session)
        await remind_vacant_roles(self.ctx, schools)

    async def care(self) -> None:
        await remind_mentors(self.ctx)

    async def purge(self) -> None:
        await access_logs.purge(self.ctx)

    async def deliver(self) -> None:
        got = await self.worker.tick()
        self.result.dispatched += got.dispatched
        self.result.sent += got.sent
        self.result.retried += got.retried
        self.result.dead_lettered += got.dead

    async def run_all(self, *, every: bool = True) -> None:
        """One round of the jobs at the clock's time, in the runner's order.

        ``every=False`` at a moment that is only a due time from the database: the roll and
        care reminders and the purge cannot answer differently there (nothing records rolls,
        contacts or reads during a move, and their dates did not change), so they are left
        out; return notices are checked when a deadline fired (a case may have changed)."""
        fired = self.result.fired
        for _ in range(_ROUNDS_PER_MOMENT):
            before = self.result.fired
            await self._try("sweep", self.sweep)
            if self.result.fired == before:
                break
        changed = self.result.fired != fired
        for name, job, needed in (
            ("roll-reminders", self.rolls, every),
            ("return-notices", self.notices, every or changed),
            ("task-reminders", self.tasks, True),
            ("vacant-roles", self.vacancies, every),
            ("care-reminders", self.care, every),
            ("access-log-purge", self.purge, every),
            # Last: it sends what the jobs above wrote at this moment.
            ("delivery", self.deliver, True),
        ):
            if needed:
                await self._try(name, job)


async def _calendar(ctx: AppContext, start: datetime, end: datetime) -> list[datetime]:
    async with ctx.uow() as uow:
        refs = await school_refs(uow.session, await active_school_ids(uow.session))
    facts = [SchoolClockFacts(r.timezone, r.checks, r.calendar) for r in refs.values()]
    grace = timedelta(minutes=ctx.settings.roll_grace_minutes)
    return calendar_moments(facts, start, end, grace)


async def _next_from_db(ctx: AppContext, after: datetime) -> datetime | None:
    async with ctx.uow() as uow:
        due = await repo.next_due(uow.session, after)
        for task_due, policy in await repo.open_tasks_to_escalate(uow.session):
            hours = policies.from_dict(dict(policy)).task_overdue_hours
            at = task_due + timedelta(hours=hours)
            if at > after and (due is None or at < due):
                due = at
    return due


async def advance(
    ctx: AppContext,
    target: datetime,
    step_to: Callable[[datetime], Awaitable[bool]],
) -> tuple[DrillResult, datetime]:
    """Step the clock from its time to ``target``, running the jobs at each moment.

    ``step_to(moment)`` moves the clock (database and this process) and answers False when
    the move has lost its lease; the drill then stops where it stands. Returns what fired and
    the time reached."""
    result = DrillResult()
    t0 = time.perf_counter()
    now = start = ctx.clock()
    # Calendar moments are read once: a term's worth is a few hundred instants.
    ahead = iter(await _calendar(ctx, now, target))
    upcoming = next(ahead, None)
    endpoints = ctx.settings.channels
    async with httpx.AsyncClient(timeout=http_timeout(endpoints)) as client:
        jobs = _Jobs(ctx, DeliveryWorker(ctx, client, endpoints), result)
        # What was already due at the start (e.g. rolls recorded since the last move).
        await jobs.run_all()
        while now < target:
            while upcoming is not None and upcoming <= now:
                upcoming = next(ahead, None)
            candidates = [target]
            if upcoming is not None:
                candidates.append(upcoming)
            due = await _next_from_db(ctx, now)
            if due is not None:
                candidates.append(due)
            moment = min(candidates)
            if not await step_to(moment):
                break
            now = moment
            result.moments += 1
            await jobs.run_all(every=moment in (target, upcoming))
    async with ctx.uow() as uow:
        result.notices = await repo.notices_between(uow.session, start, now)
    result.seconds = round(time.perf_counter() - t0, 3)
    return result, now
