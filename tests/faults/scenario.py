"""What every fault case does around its fault: talk to the API as staff do, make the school
days it needs school days, and post rolls from several clients at once.

Time: the processes run on the real clock (the simulation clock lives in one process's memory
and these cases run several). Deadlines are made due by the marks themselves: a roll for a past
school day, or a mark whose ``occurred_at`` is just under an hour old, makes the parent-call
deadline (1 hour after the absence was found) due at once or a few seconds later."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.faults.ledger import Ledger, event
from tests.world import World

CHECK_TIMES = {"morning": time(8, 5), "noon": time(12, 5), "dismissal": time(16, 30)}


class Staff:
    """An API client per role of the world, against a server that may change (a restart)."""

    def __init__(self, world: World, base_url: str) -> None:
        self.world = world
        self.client = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(60, connect=5))

    def auth(self, who: str) -> dict[str, str]:
        return self.world.auth(who)

    async def close(self) -> None:
        await self.client.aclose()

    async def school_tz(self, school: str = "school_A") -> ZoneInfo:
        r = await self.client.get(
            f"/api/v1/schools/{self.world.ids[school]}", headers=self.auth("principal")
        )
        assert r.status_code == 200, r.text
        return ZoneInfo(r.json()["timezone"])

    async def today(self, school: str = "school_A") -> date:
        return datetime.now(await self.school_tz(school)).date()

    async def ensure_school_day(self, day: date, school: str = "school_A") -> None:
        """The scenario's dates must be school days whatever weekday CI runs on: one that is
        not becomes a 补课日 (extra school day) through the calendar API."""
        sid = self.world.ids[school]
        headers = self.auth("principal")
        r = await self.client.get(
            f"/api/v1/schools/{sid}/calendar",
            params={"start": day.isoformat(), "end": day.isoformat()},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        if r.json()["days"][0]["is_school_day"]:
            return
        r = await self.client.post(
            f"/api/v1/schools/{sid}/calendar-overrides",
            json={"date": day.isoformat(), "kind": "extra_school_day", "reason": "故障演练补课日"},
            headers=headers,
        )
        assert r.status_code == 201, r.text


def at(day: date, check: str, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, CHECK_TIMES[check], tz)


def day_rolls(
    students: list[int], day: date, tz: ZoneInfo, absent: Callable[[int], bool], batch: int = 50
) -> list[list[dict[str, Any]]]:
    """The three checks of ``day`` for ``students``, as class-sized batches (one check each):
    those ``absent(i)`` are absent at every check, the others present."""
    out: list[list[dict[str, Any]]] = []
    for check in CHECK_TIMES:
        events = [
            event(sid, day, check, "absent" if absent(i) else "present", at(day, check, tz))
            for i, sid in enumerate(students)
        ]
        out += [events[i : i + batch] for i in range(0, len(events), batch)]
    return out


async def post_all(
    staff: Staff,
    ledger: Ledger,
    batches: list[list[dict[str, Any]]],
    *,
    who: str = "head_teacher",
    clients: int = 4,
    within: float = 240,
    on_answer: Callable[[int], Any] | None = None,
    in_flight: list[int] | None = None,
) -> None:
    """``clients`` concurrent senders share the batches; each resends its batch until it is
    answered. ``on_answer(n)`` is told how many batches have been answered so far;
    ``in_flight[0]`` counts batches being sent right now."""
    queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
    for b in batches:
        queue.put_nowait(b)
    answered = 0
    flying = in_flight if in_flight is not None else [0]

    async def sender() -> None:
        nonlocal answered
        while not queue.empty():
            b = queue.get_nowait()
            flying[0] += 1
            try:
                await ledger.post_until_answered(staff.client, staff.auth(who), b, within=within)
            finally:
                flying[0] -= 1
            answered += 1
            if on_answer is not None:
                got = on_answer(answered)
                if asyncio.iscoroutine(got):
                    await got

    await asyncio.gather(*(sender() for _ in range(clients)))


def utc_now() -> datetime:
    return datetime.now(UTC)


def minus(minutes: float) -> datetime:
    return utc_now() - timedelta(minutes=minutes)
