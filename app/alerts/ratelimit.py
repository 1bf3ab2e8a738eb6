"""Token buckets, one per delivery target (a robot, a webhook URL), pure: time is passed in.

A group robot takes about 20 messages a minute (钉钉 then blocks it for 10 minutes), so the
worker takes a token before each send; when ``try_take`` refuses, it holds the pending notices
for that target and sends one digest at ``next_free`` instead of a flood.

A bucket starts full with ``capacity`` tokens and refills continuously at ``capacity`` per
``period``. A clock that steps backwards refills nothing (never a negative refill).

Robots are held with ``SlidingWindow`` instead: a platform that takes "20 a minute" refuses
the 21st message in *any* minute, and a token bucket of 20 refilling at 20 a minute lets
20 + 1 through in the minute after a burst. The window's state (the send times of the last
minute) lives in the database (``rate_bucket``, one row per robot, see
``app.repositories.delivery.take_token``) so that every engine process counts the same sends;
the arithmetic is here. Robot windows run on the wall clock: a platform counts real minutes.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_CAPACITY = 20
DEFAULT_PERIOD = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class SlidingWindow:
    """At most ``limit`` sends in any ``period``."""

    limit: int = DEFAULT_CAPACITY
    period: timedelta = DEFAULT_PERIOD

    def take(
        self, stamps: Sequence[datetime], now: datetime
    ) -> tuple[bool, list[datetime], datetime]:
        """(allowed, the stamps to keep, when the next send is allowed). Stamps ahead of
        ``now`` (a clock stepped back) still count: never more than ``limit``."""
        recent = sorted(s for s in stamps if s > now - self.period)
        if len(recent) < self.limit:
            recent.append(now)
            return True, sorted(recent), now
        return False, recent, recent[-self.limit] + self.period


class TokenBucket:
    def __init__(
        self,
        capacity: int = DEFAULT_CAPACITY,
        period: timedelta = DEFAULT_PERIOD,
        *,
        now: datetime | None = None,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        if period <= timedelta(0):
            raise ValueError("period must be positive")
        self.capacity = capacity
        self.period = period
        self._tokens = float(capacity)
        self._updated: datetime | None = now

    @property
    def rate(self) -> float:
        """Tokens per second."""
        return self.capacity / self.period.total_seconds()

    def _refill(self, now: datetime) -> None:
        if self._updated is None:
            self._updated = now
            return
        if now <= self._updated:
            return
        elapsed = (now - self._updated).total_seconds()
        self._tokens = min(float(self.capacity), self._tokens + elapsed * self.rate)
        self._updated = now

    def available(self, now: datetime) -> float:
        self._refill(now)
        return self._tokens

    def try_take(self, now: datetime, n: int = 1) -> bool:
        """Take ``n`` tokens if there are; False (and nothing taken) otherwise."""
        if n > self.capacity:
            raise ValueError(f"cannot take {n} tokens from a bucket of {self.capacity}")
        self._refill(now)
        if self._tokens + 1e-9 >= n:
            self._tokens = max(0.0, self._tokens - n)
            return True
        return False

    def next_free(self, now: datetime, n: int = 1) -> datetime:
        """The earliest time ``try_take(…, n)`` will succeed (``now`` when it would now)."""
        if n > self.capacity:
            raise ValueError(f"cannot take {n} tokens from a bucket of {self.capacity}")
        self._refill(now)
        missing = n - self._tokens
        if missing <= 1e-9:
            return now
        base = self._updated if self._updated is not None and self._updated > now else now
        return base + timedelta(seconds=missing / self.rate)

    def full(self, now: datetime) -> bool:
        return self.available(now) >= self.capacity


class RateLimiter:
    """Buckets by target key, created on first use; idle full buckets can be pruned."""

    def __init__(
        self, capacity: int = DEFAULT_CAPACITY, period: timedelta = DEFAULT_PERIOD
    ) -> None:
        self.capacity = capacity
        self.period = period
        self._buckets: dict[Hashable, TokenBucket] = {}

    def bucket(self, key: Hashable) -> TokenBucket:
        found = self._buckets.get(key)
        if found is None:
            found = self._buckets[key] = TokenBucket(self.capacity, self.period)
        return found

    def try_take(self, key: Hashable, now: datetime, n: int = 1) -> bool:
        return self.bucket(key).try_take(now, n)

    def next_free(self, key: Hashable, now: datetime, n: int = 1) -> datetime:
        return self.bucket(key).next_free(now, n)

    def prune(self, now: datetime) -> int:
        """Drop buckets that have refilled completely (they would start full anyway)."""
        idle = [k for k, b in self._buckets.items() if b.full(now)]
        for key in idle:
            del self._buckets[key]
        return len(idle)

    def __len__(self) -> int:
        return len(self._buckets)
