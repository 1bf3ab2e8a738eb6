"""The client side of every fault case: what was sent, what each send was answered, and what
the service must therefore hold — worked out from the marks alone, never from the engine's
tables, with the README's rules (一日三查 day status, the latest observation standing)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import httpx

NO_ANSWER = "no-answer"  # the connection failed, timed out, or the server answered 5xx
CONTACT_MINUTES = 60  # the default policy: a parent phoned within 1 hour


def event(student_id: int, day: date, check: str, status: str, at: datetime) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "student_id": student_id,
        "school_date": day.isoformat(),
        "check": check,
        "status": status,
        "occurred_at": at.isoformat(),
    }


@dataclass
class Ledger:
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, list[str]] = field(default_factory=dict)
    http: Counter[str] = field(default_factory=Counter)  # status codes / transport errors seen
    batches: int = 0
    resends: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)
    answered_at: list[float] = field(default_factory=list)  # time.monotonic() of each 200

    async def post(
        self, client: httpx.AsyncClient, headers: dict[str, str], events: list[dict[str, Any]]
    ) -> bool:
        """One send of a batch; True if it was answered (every event then has an outcome)."""
        for e in events:
            self.sent.setdefault(e["event_id"], e)
        self.batches += 1
        try:
            r = await client.post("/api/v1/attendance-events", json=events, headers=headers)
        except httpx.TransportError as exc:
            self.http[type(exc).__name__] += 1
            self._no_answer(events)
            return False
        self.http[str(r.status_code)] += 1
        if r.status_code >= 500:
            self._no_answer(events)
            return False
        if r.status_code != 200:  # refused whole: what the README says a batch never is
            self.refused.append((r.status_code, r.text[:300]))
            for e in events:
                self.answers.setdefault(e["event_id"], []).append(f"http:{r.status_code}")
            return True
        self.answered_at.append(time.monotonic())
        for res in r.json()["results"]:
            outcome = res["result"]
            if outcome == "rejected":
                outcome = f"rejected:{res['code']}:{res['reason']}"
            self.answers.setdefault(res["event_id"], []).append(outcome)
        return True

    def _no_answer(self, events: list[dict[str, Any]]) -> None:
        for e in events:
            self.answers.setdefault(e["event_id"], []).append(NO_ANSWER)

    async def post_until_answered(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        events: list[dict[str, Any]],
        *,
        within: float = 180,
    ) -> float:
        """Send, and resend the same events while unanswered (as a teacher's app syncing
        offline marks does), backing off to 2 s; the seconds until the answer."""
        t0 = time.monotonic()
        pause = 0.1
        while not await self.post(client, headers, events):
            self.resends += 1
            if time.monotonic() - t0 > within:
                raise AssertionError(f"a batch went unanswered for {within} s: {self.http}")
            await asyncio.sleep(pause)
            pause = min(2.0, pause * 2)
        return time.monotonic() - t0

    # --- what the marks say -----------------------------------------------------------------

    def stored(self) -> dict[str, dict[str, Any]]:
        """Events the service said it holds (accepted now or before: duplicate)."""
        return {
            eid: self.sent[eid]
            for eid, got in self.answers.items()
            if "accepted" in got or "duplicate" in got
        }

    def rejected(self) -> dict[str, list[str]]:
        return {
            eid: got
            for eid, got in self.answers.items()
            if any(a.startswith("rejected") for a in got)
        }

    def standing(self) -> dict[tuple[int, str, str], dict[str, Any]]:
        """Per (student, date, check) the observation that stands: the latest ``occurred_at``,
        ties to the larger ``event_id`` (README: Attendance)."""
        out: dict[tuple[int, str, str], dict[str, Any]] = {}
        for e in self.stored().values():
            key = (e["student_id"], e["school_date"], e["check"])
            cur = out.get(key)
            rank = (datetime.fromisoformat(e["occurred_at"]), e["event_id"])
            if cur is None or rank > (datetime.fromisoformat(cur["occurred_at"]), cur["event_id"]):
                out[key] = e
        return out

    def absent_days(self) -> dict[int, dict[str, datetime]]:
        """Per student, the school days that are unexplained absences (some check absent, no
        present/late/leave mark that day) and when the absence was first found: the earliest
        standing absent mark. (No leave or 送教上门 in these scenarios.)"""
        by_day: dict[tuple[int, str], list[dict[str, Any]]] = {}
        for (sid, day, _), e in self.standing().items():
            by_day.setdefault((sid, day), []).append(e)
        out: dict[int, dict[str, datetime]] = {}
        for (sid, day), marks in by_day.items():
            if all(m["status"] == "absent" for m in marks):
                found = min(datetime.fromisoformat(m["occurred_at"]) for m in marks)
                out.setdefault(sid, {})[day] = found
        return out

    def recorded_students(self) -> set[int]:
        return {e["student_id"] for e in self.stored().values()}

    def contact_due(self) -> dict[int, datetime]:
        """Each case's first parent call falls due an hour after the absence of its latest
        absent day was found (every scenario here has single-day runs)."""
        out: dict[int, datetime] = {}
        for sid, days in self.absent_days().items():
            latest = max(days)
            out[sid] = days[latest] + timedelta(minutes=CONTACT_MINUTES)
        return out
