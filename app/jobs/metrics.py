"""``GET /metrics``: the Prometheus text of this process's counters (``app/core/metrics.py``)
followed by the deployment's state read from the database at scrape time.

Decision: the engine may run in its own process (``python -m app.jobs``) or several, and the
API in several workers, so what must be true of the whole deployment is read from the
database when scraped — deadlines due, their oldest lateness, those set aside (failed),
digests held, the outbox backlog and dead letters per channel, each periodic job's last
success, live engine processes — the same figures as ``GET /engine/health``. Counters of what
happened (rolls posted and their latency, deadlines fired and their lateness, delivery
attempts per channel and outcome) are counted in the process that did it: scrape each API
worker, and a separate engine on ``KCBX_ENGINE_METRICS_PORT``.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.context import AppContext
from app.db.uow import UnitOfWork
from app.jobs.health import health
from app.jobs.schemas import EngineHealthOut

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _gauge(name: str, doc: str, value: float, labels: list[str] | None = None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels)
    if labels is None:
        family.add_metric([], value)
    return family


class _Snapshot(Collector):
    def __init__(self, state: EngineHealthOut) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        h = self.state
        yield _gauge("kcbx_deadlines_due", "Deadlines due and not yet fired", h.pending_overdue)
        yield _gauge(
            "kcbx_deadline_oldest_overdue_seconds",
            "How long the oldest due deadline has waited (0: none)",
            h.oldest_overdue_seconds or 0.0,
        )
        yield _gauge(
            "kcbx_deadlines_failed", "Deadlines set aside after failing to fire", h.failed_deadlines
        )
        yield _gauge("kcbx_digests_held", "Late notices waiting for their digest", h.digest_pending)
        success = GaugeMetricFamily(
            "kcbx_job_last_success_timestamp_seconds",
            "When each periodic job last succeeded (Unix time; absent: never)",
            labels=["job"],
        )
        failing = GaugeMetricFamily(
            "kcbx_job_failing_runs", "Failed runs since the job's last success", labels=["job"]
        )
        for job in h.jobs:
            if job.last_success_at is not None:
                success.add_metric([job.name], job.last_success_at.timestamp())
            failing.add_metric([job.name], job.failing)
        yield success
        yield failing
        if h.delivery is not None:
            yield _gauge(
                "kcbx_outbox_undispatched",
                "Notifications written and not yet given a delivery",
                h.delivery.undispatched,
            )
            backlog = GaugeMetricFamily(
                "kcbx_outbox_backlog", "Deliveries not yet sent, per channel", labels=["channel"]
            )
            oldest = GaugeMetricFamily(
                "kcbx_outbox_oldest_undelivered_seconds",
                "Age of the oldest undelivered delivery, per channel (0: none)",
                labels=["channel"],
            )
            dead = GaugeMetricFamily(
                "kcbx_deliveries_dead_24h",
                "Deliveries dead-lettered in the last 24 hours, per channel",
                labels=["channel"],
            )
            for c in h.delivery.channels:
                backlog.add_metric([c.channel], c.backlog)
                oldest.add_metric([c.channel], c.oldest_undelivered_seconds or 0.0)
                dead.add_metric([c.channel], c.dead_24h)
            yield backlog
            yield oldest
            yield dead
        yield _gauge(
            "kcbx_engine_processes_alive",
            "Engine processes whose heartbeat is recent",
            sum(1 for p in h.processes if p.alive),
        )


async def exposition(uow: UnitOfWork, ctx: AppContext) -> bytes:
    snapshot = CollectorRegistry(auto_describe=False)
    snapshot.register(_Snapshot(await health(uow, ctx)))
    return generate_latest(REGISTRY) + generate_latest(snapshot)
