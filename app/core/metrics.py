"""The service's Prometheus figures that are counted as things happen, in the process where
they happen (``prometheus_client``'s default registry).

What a scrape of ``GET /metrics`` adds, read from the database at scrape time (the deadlines
due and failed, the outbox backlog, each job's last success), is the whole deployment's
whatever process did the work: see ``app/jobs/metrics.py`` and README, "Operations".
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

INTAKE_EVENTS = Counter(
    "kcbx_attendance_events",
    "Attendance events posted, by outcome (accepted, duplicate, rejected)",
    ["outcome"],
)
INTAKE_SECONDS = Histogram(
    "kcbx_attendance_batch_seconds",
    "Time to record one posted roll (a batch or a single event)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DEADLINES = Counter(
    "kcbx_deadlines",
    "Deadlines the engine's sweep took up, by outcome (fired, cancelled as stale, failed)",
    ["outcome"],
)
LATENESS_SECONDS = Histogram(
    "kcbx_deadline_lateness_seconds",
    "How late each deadline fired (fired minus due)",
    buckets=(0.5, 1, 5, 15, 60, 300, 900, 3600, 6 * 3600, 86400),
)
DELIVERIES = Counter(
    "kcbx_delivery_attempts",
    "Sends to a channel, by channel and outcome (sent, retry, permanent, …)",
    ["channel", "outcome"],
)


def intake(accepted: int, duplicate: int, rejected: int) -> None:
    for outcome, count in (
        ("accepted", accepted),
        ("duplicate", duplicate),
        ("rejected", rejected),
    ):
        if count:
            INTAKE_EVENTS.labels(outcome).inc(count)


def swept(fired: int, cancelled: int, failed: int, lateness_ms: list[int]) -> None:
    for outcome, count in (("fired", fired), ("cancelled", cancelled), ("failed", failed)):
        if count:
            DEADLINES.labels(outcome).inc(count)
    for ms in lateness_ms:
        LATENESS_SECONDS.observe(ms / 1000)
