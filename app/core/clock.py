"""The simulation clock: when ``KCBX_SIMULATION_CLOCK`` is on (never in production) school time
is read from here; the tests use the same clock.

``SimClock`` is an in-memory clock (tests set it directly). ``SharedClock`` is the one a
deployment runs with: a per-process copy of the ``sim_clock`` row that every API worker and
engine shares (``app/jobs/sim_clock.py`` reads and moves it). Only school time follows
it: sign-in, tokens and signatures use ``AppContext.wall_clock``."""

from __future__ import annotations

import time
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


class SharedClock(SimClock):
    """The process's copy of the deployment clock. ``read_at`` (monotonic seconds) says when
    it was last read from the database; ``moving`` whether a move is stepping it now."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded = False
        self.moving = False
        self.read_at = float("-inf")

    def __call__(self) -> datetime:
        if not self.loaded:
            raise RuntimeError("the simulation clock is read before it was loaded")
        return self.now

    def loaded_from(self, when: datetime, *, moving: bool) -> None:
        self.set(when)
        self.loaded = True
        self.moving = moving
        self.read_at = time.monotonic()
