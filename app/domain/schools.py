"""What a service needs of a school on every request, read once and cached
(``app.core.cache.ReferenceCache.schools``; assembled by ``app.calendar.repository.school_refs``).

Pure data: it lives in the domain, not in the calendar's queries, so that the cache in
``app.core`` and every feature can name it without importing a feature."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from app.domain import calendar as cal


@dataclass(frozen=True, slots=True)
class SchoolRef:
    """What the intake needs of a school on every request."""

    id: int
    county_id: int
    timezone: str
    active: bool
    checks: tuple[time, time, time]  # 晨检, 午检, 放学前
    calendar: cal.SchoolCalendar
