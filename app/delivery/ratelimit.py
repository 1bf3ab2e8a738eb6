"""The send limit per group robot, pure: time is passed in.

A group robot takes about 20 messages a minute (钉钉 then blocks it for 10 minutes), so the
worker takes a slot before each send; when the window refuses, it holds the pending notices
for that target and sends one digest when the window next allows instead of a flood.

A sliding window rather than a token bucket: a platform that takes "20 a minute" refuses
the 21st message in *any* minute, and a token bucket of 20 refilling at 20 a minute lets
20 + 1 through in the minute after a burst. The window's state (the send times of the last
minute) lives in the database (``rate_bucket``, one row per robot, see
``app.delivery.repository.take_token``) so that every engine process counts the same sends;
the arithmetic is here. Robot windows run on the wall clock: a platform counts real minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
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
