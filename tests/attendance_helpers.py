"""Building attendance events for tests."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

BEIJING = timezone(timedelta(hours=8))
TUESDAY = date(2026, 11, 24)  # the tests' clock stands at 09:00 Beijing time on this day


def event(
    student_id: int,
    status: str = "present",
    *,
    check: str = "morning",
    day: date = TUESDAY,
    at: str = "08:05",
    event_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    hour, minute = (int(x) for x in at.split(":"))
    occurred = datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING)
    body: dict[str, Any] = {
        "event_id": event_id or str(uuid.uuid4()),
        "student_id": student_id,
        "school_date": day.isoformat(),
        "check": check,
        "status": status,
        "occurred_at": occurred.isoformat(),
    }
    body.update(extra)
    return body
