"""The delivery worker: turns outbox rows (notifications) into channel deliveries and sends
them — at least once, each (notification, channel) keyed so it is never made twice.

1. **Dispatch** (one transaction): every new notification gets a delivery on the first channel
   of its recipient's route (per school and role); blue/yellow/other notices falling in the
   school's quiet hours are held until they end — red always goes. Webhook subscriptions of the
   county or school get the event once (keyed by event id, whoever the recipients were).
2. **Send**: due deliveries are claimed (``SKIP LOCKED``) and leased in one short transaction;
   the network calls happen outside any transaction; a second transaction records every attempt
   (the receipts) and the outcome. A worker killed mid-send leaves leased rows that are claimed
   again when the lease runs out: at least once, and webhook receivers deduplicate on the event
   id they are given.
   - **one send per lease**: a claim stamps its rows with a fresh ``lease_id`` (the fencing
     token) and a wall-clock ``lease_until`` long enough for every send of the batch
     (``lease_for``: waves of ``concurrency`` sends, each bounded by ``send_budget``, plus a
     margin). A send never starts unless the lease will outlast it, and an outcome is written
     only for rows whose ``lease_id`` is still this claim's (``repo.still_leased``): a worker
     whose lease ran out records nothing, the worker that reclaimed the row does;
   - blue/yellow deliveries of a case that has since gone red are folded (not sent): the red
     notice says it all;
   - several deliveries to one robot in a batch go as one digest; each robot has a sliding window
     (20 in any minute) **in the database**, shared by every engine process: when it is full
     the rest wait for the next free moment;
   - timeouts, 5xx and 429 retry with exponential backoff and jitter (or the Retry-After asked
     for); other 4xx, a bad secret, or exhausted retries are dead-lettered with the reason, and
     the next channel of the route is tried; "no subscription left" moves to the next channel.
3. **Clocks**: the context's ``clock`` (the simulation clock in a drill) decides what is due;
   adapters sign and stamp with ``wall_clock``, and leases and robot buckets run on it too.

Dispatch is in ``app.delivery.dispatch``, the rendering of a claimed batch into messages in
``app.delivery.messages``; claiming, sending and recording outcomes here.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from app.context import AppContext
from app.core import metrics
from app.core.channel_settings import ChannelEndpoints
from app.db.models import Delivery
from app.delivery import repository as repo
from app.delivery.channels.base import Channel, Outcome, SendResult
from app.delivery.channels.config import (
    PARENTS_WECHAT,
    build_channels,
    message_links,
    parents_wechat,
)
from app.delivery.dispatch import (
    ROBOT_CHANNELS,
    dispatch_case_events,
    dispatch_notifications,
    fallback_row,
)
from app.delivery.messages import Job, build_jobs
from app.delivery.ratelimit import DEFAULT_CAPACITY, DEFAULT_PERIOD
from app.delivery.templates import Links
from app.domain.cases import Level
from app.domain.delivery import ROUTINE_LEVELS, DeliveryState

log = logging.getLogger("kcbx.delivery")

# Channel names in routes → adapter names.
_ADAPTER = {"wecom_robot": "wecom", "dingtalk_robot": "dingtalk", "wechat": "wechat", "sms": "sms"}
LEASE_MARGIN = timedelta(seconds=30)
# An adapter makes at most this many HTTP calls for one send (WeChat: token, send, a fresh
# token after 40001/42001, the send again); each is bounded by the client's timeout.
CALLS_PER_SEND = 4
MAX_ATTEMPTS = 8
BACKOFF_BASE = 5.0  # seconds
BACKOFF_CAP = 600.0


def backoff(attempts: int, rng: random.Random, retry_after: float | None) -> timedelta:
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    delay *= rng.uniform(0.8, 1.2)  # jitter: retries of one outage do not arrive together
    return timedelta(seconds=max(delay, retry_after or 0))


@dataclass
class DeliveryResult:
    dispatched: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    folded: int = 0
    postponed: int = 0
    lost: int = 0  # sends whose outcome was not recorded: the lease had gone to another worker


def default_process_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class DeliveryWorker:
    ctx: AppContext
    client: httpx.AsyncClient
    endpoints: ChannelEndpoints = field(default_factory=ChannelEndpoints)
    rng: random.Random = field(default_factory=random.Random)
    batch: int = 200
    concurrency: int = 20
    robot_capacity: int = DEFAULT_CAPACITY  # per robot and ``robot_period``, all processes
    robot_period: timedelta = DEFAULT_PERIOD
    process_id: str = field(default_factory=default_process_id)
    wall_clock: Callable[[], datetime] | None = None  # default: the context's
    channels: dict[str, Channel] = field(init=False)
    links: Links = field(init=False)
    started_at: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.channels = build_channels(
            self.endpoints,
            self.client,
            clock=self.wall,
            wall_clock=self.wall,
            policy=self.ctx.settings.outbound,
        )
        settings = self.ctx.settings
        parents = parents_wechat(
            self.endpoints,
            self.client,
            appid=settings.guardian_wechat_appid,
            secret=settings.guardian_wechat_secret.get_secret_value(),
            template=settings.guardian_wechat_template,
            clock=self.wall,
        )
        if parents is not None:
            self.channels[PARENTS_WECHAT] = parents
        self.links = message_links(self.endpoints)
        self.started_at = self.wall()

    def wall(self) -> datetime:
        return (self.wall_clock or self.ctx.wall_clock)()

    @property
    def send_budget(self) -> float:
        """Seconds one send may take at most (it is cancelled after): every HTTP call it may
        make, each at the full timeout."""
        return CALLS_PER_SEND * self.endpoints.timeout_seconds + 1.0

    def lease_for(self, jobs: int) -> timedelta:
        """Long enough for ``jobs`` sends run ``concurrency`` at a time, each taking its whole
        budget, and a margin for the transaction that records them."""
        waves = max(1, math.ceil(jobs / max(1, self.concurrency)))
        return timedelta(seconds=waves * self.send_budget) + LEASE_MARGIN

    async def beat(self, what: str, error: str | None = None) -> None:
        async with self.ctx.uow() as uow:
            await repo.beat(
                uow.session,
                self.process_id,
                hostname=socket.gethostname()[:100],
                pid=os.getpid(),
                started_at=self.started_at,
                at=self.wall(),
                what=what,
                error=error[:500] if error else None,
            )
            await uow.commit()

    async def tick(self) -> DeliveryResult:
        result = await self._tick()
        await self.beat("delivery")
        return result

    async def _tick(self) -> DeliveryResult:
        result = DeliveryResult()
        while True:
            n = await self.dispatch()
            result.dispatched += n
            if n < self.batch:
                break
        # Go on while there is work: a dead letter makes its fallback due at once. Bounded, so
        # a robot whose bucket refills exactly now cannot keep one tick busy.
        for i in range(20):
            if i:
                # Notices written while the last batch was out go out in the next one, not
                # after this tick's backlog: the receipt time of a steady stream stays short.
                result.dispatched += await self.dispatch()
            got = await self.send_due()
            for name in ("sent", "retried", "dead", "folded", "postponed", "lost"):
                setattr(result, name, getattr(result, name) + getattr(got, name))
            if got.sent + got.retried + got.dead + got.folded + got.postponed == 0:
                break
        return result

    # --- dispatch ---------------------------------------------------------------------------

    async def dispatch(self) -> int:
        return await dispatch_notifications(self.ctx, self.batch) + await dispatch_case_events(
            self.ctx, self.batch
        )

    # --- send -------------------------------------------------------------------------------

    async def send_due(self) -> DeliveryResult:
        """One round: claim and lease due deliveries, fold what a red case supersedes,
        dead-letter what no message can be made for, hold robots' deliveries past their
        minute's limit (one transaction), then send the rest outside it and record each."""
        result = DeliveryResult()
        now = self.ctx.clock()
        wall = self.wall()
        lease_id = uuid.uuid4().hex
        async with self.ctx.uow() as uow:
            s = uow.session
            claimed, lease_until = await self._claim(s, now, wall, lease_id)
            if claimed is None:
                return result
            if not claimed:
                await uow.commit()
                return result
            live = await self._fold_under_red(s, claimed, result)
            jobs = await build_jobs(self.ctx, self.links, s, live, now)
            await self._dead_letter_unrenderable(s, live, jobs, now, result)
            ready = await self._robot_slots(s, jobs, now, wall, result)
            await uow.commit()
        sem = asyncio.Semaphore(self.concurrency)
        outcomes = await asyncio.gather(*(self._send(j, lease_until, sem) for j in ready))
        await self._record(outcomes, lease_id, result)
        return result

    async def _claim(
        self, s: AsyncSession, now: datetime, wall: datetime, lease_id: str
    ) -> tuple[list[Delivery] | None, datetime]:
        """The due deliveries this worker holds (None: nothing was due). Leased at once, for as
        long as sending all of them could take; rows another worker claimed in the meantime
        are not ours and are dropped here."""
        candidates = await repo.claim_deliveries(s, now, wall, self.batch)
        if not candidates:
            return None, wall
        lease_until = wall + self.lease_for(len(candidates))
        held = await repo.lease(
            s,
            [d.id or 0 for d in candidates],
            now,
            wall,
            lease_id=lease_id,
            lease_until=lease_until,
        )
        return [d for d in candidates if (d.id or 0) in held], lease_until

    async def _fold_under_red(
        self, s: AsyncSession, claimed: list[Delivery], result: DeliveryResult
    ) -> list[Delivery]:
        """A blue or yellow notice of a case that is red by now is folded (the red one says
        it all), except to a county's webhook, which gets every event; returns the rest."""
        levels = await repo.case_levels(s, {d.case_id for d in claimed if d.case_id})
        folded = [
            d.id or 0
            for d in claimed
            if d.channel != "webhook"
            and d.level in ROUTINE_LEVELS
            and levels.get(d.case_id or 0) == Level.red.value
        ]
        await repo.set_state(
            s, folded, state=DeliveryState.folded.value, lease_until=None, lease_id=None
        )
        result.folded = len(folded)
        return [d for d in claimed if (d.id or 0) not in folded]

    async def _dead_letter_unrenderable(
        self,
        s: AsyncSession,
        live: list[Delivery],
        jobs: list[Job],
        now: datetime,
        result: DeliveryResult,
    ) -> None:
        """A delivery no message could be made for (its template failed) would be leased
        again forever: dead-lettered with the reason instead."""
        in_jobs = {d.id for job in jobs for d in job.deliveries}
        unrenderable = [d.id or 0 for d in live if d.id not in in_jobs]
        await repo.set_state(
            s,
            unrenderable,
            state=DeliveryState.dead.value,
            dead_at=now,
            lease_until=None,
            lease_id=None,
            last_error="无法生成消息 (no template for this notice)",
        )
        result.dead += len(unrenderable)

    async def _robot_slots(
        self,
        s: AsyncSession,
        jobs: list[Job],
        now: datetime,
        wall: datetime,
        result: DeliveryResult,
    ) -> list[Job]:
        """Robots: a slot in the window every process shares; a robot whose last minute is
        full gets its deliveries back as pending, due when a slot frees up. Returns the jobs
        to send now."""
        ready: list[Job] = []
        for job in jobs:
            if job.channel not in ROBOT_CHANNELS:
                ready.append(job)
                continue
            free_at = await repo.take_token(
                s,
                job.deliveries[0].target_key,
                wall,
                capacity=self.robot_capacity,
                period=self.robot_period,
            )
            if free_at is None:
                ready.append(job)
                continue
            ids = [d.id or 0 for d in job.deliveries]
            await repo.set_state(
                s,
                ids,
                state=DeliveryState.pending.value,
                next_attempt_at=now + (free_at - wall),
                lease_until=None,
                lease_id=None,
            )
            result.postponed += len(ids)
        return ready

    async def _send(
        self, job: Job, lease_until: datetime, sem: asyncio.Semaphore
    ) -> tuple[Job, SendResult | None, int]:
        """Send one job within the budget, at most ``concurrency`` at once; (job, outcome,
        milliseconds). Never starts a send the lease would not outlast: another worker may
        claim the row the moment the lease ends; handed back instead (None)."""
        budget = self.send_budget
        async with sem:
            if self.wall() + timedelta(seconds=budget) > lease_until:
                return job, None, 0
            t0 = time.perf_counter()
            adapter = self.channels.get(_ADAPTER.get(job.channel, job.channel))
            if adapter is None:
                got = SendResult.permanent(f"渠道未配置 (channel {job.channel} not set up)")
            else:
                try:
                    async with asyncio.timeout(budget):
                        got = await adapter.send(job.message, job.target)
                except TimeoutError:
                    got = SendResult.retry(f"send took longer than {budget:.0f} s", code="timeout")
            return job, got, int((time.perf_counter() - t0) * 1000)

    async def _record(
        self,
        outcomes: list[tuple[Job, SendResult | None, int]],
        lease_id: str,
        result: DeliveryResult,
    ) -> None:
        now = self.ctx.clock()
        async with self.ctx.uow() as uow:
            s = uow.session
            attempts: list[dict[str, Any]] = []
            fallbacks: list[dict[str, Any]] = []
            ids = [d.id or 0 for job, _, _ in outcomes for d in job.deliveries]
            held = await repo.still_leased(s, ids, lease_id)
            rows = await repo.deliveries_by_id(s, held)
            notes = await repo.notifications(
                s, {r.notification_id for r in rows.values() if r.notification_id}
            )
            for job, got, ms in outcomes:
                for d in job.deliveries:
                    row = rows.get(d.id or 0)
                    if row is None:
                        # The lease went to another worker, which owns the outcome now.
                        result.lost += 1
                        if got is not None:
                            log.warning("delivery %s: lease lost, outcome not recorded", d.id)
                            attempts.append(_attempt(d.id or 0, d.channel, now, got, ms, lost=True))
                        continue
                    row.lease_until, row.lease_id = None, None
                    if got is None:  # not sent: the lease would have run out first
                        row.state, row.next_attempt_at = DeliveryState.pending.value, now
                        result.postponed += 1
                        continue
                    row.attempts += 1
                    row.digest_id = d.digest_id
                    attempts.append(_attempt(row.id or 0, row.channel, now, got, ms))
                    if got.outcome is Outcome.ok:
                        row.state, row.sent_at = DeliveryState.sent.value, now
                        result.sent += 1
                    elif got.outcome is Outcome.retry and row.attempts < MAX_ATTEMPTS:
                        row.state = DeliveryState.pending.value
                        row.next_attempt_at = now + backoff(row.attempts, self.rng, got.retry_after)
                        row.last_error = (got.error or "")[:500]
                        result.retried += 1
                    else:
                        row.state, row.dead_at = DeliveryState.dead.value, now
                        row.last_error = (got.error or got.code or got.outcome.value)[:500]
                        result.dead += 1
                        nxt = fallback_row(row, notes.get(row.notification_id or 0), now)
                        if nxt is not None:
                            fallbacks.append(nxt)
            await repo.add_attempts(s, attempts)
            await repo.add_deliveries(s, fallbacks)
            await uow.commit()
        for a in attempts:
            metrics.DELIVERIES.labels(a["channel"], a["status"]).inc()


def _attempt(
    delivery_id: int, channel: str, now: datetime, got: SendResult, ms: int, *, lost: bool = False
) -> dict[str, Any]:
    error = got.error or got.code
    if lost:
        error = f"租约已失效,结果未记录 (lease lost): {error or got.outcome.value}"
    return {
        "delivery_id": delivery_id,
        "at": now,
        "channel": channel,
        "status": got.outcome.value,
        "http_status": got.status,
        "code": got.code,
        "error": error[:500] if error else None,
        "duration_ms": ms,
    }
