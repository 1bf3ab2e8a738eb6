"""The simulation clock: when ``KCBX_SIMULATION_CLOCK`` is on (never in production) the service
reads time from here, and an API sets or advances it; the tests use the same clock."""

from __future__ import annotations

from datetime import UTC, datetime


class SimClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.now = (now or datetime.now(UTC)).astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("naive datetime")
        self.now = when.astimezone(UTC)
