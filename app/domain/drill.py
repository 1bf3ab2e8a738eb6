"""Drills: which simulated moments matter when the clock is advanced, and who may move it.

The periodic jobs run every minute (roll, return-notice and task reminders) or every hour
(care reminders). Between two moments listed here none of them can come to a different
answer, so running them only at these moments gives what a minute-by-minute run gives:
- each school day's check time plus the grace period, per check (the roll reminder);
- each school's local midnight (return-notice periods, care periods and "today" roll over).
The due times kept in the database (deadlines, tasks, delivery retries and the end of quiet
hours) are added by the caller as it goes, since firing one can create the next.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.domain.access import Actor, ActorKind
from app.domain.calendar import SchoolCalendar
from app.domain.roles import Role

DRILL_SCOPE = "drill"


@dataclass(frozen=True, slots=True)
class SchoolClockFacts:
    timezone: str
    checks: tuple[time, ...]
    calendar: SchoolCalendar


def may_move_clock(actor: Actor, drill_county_id: int | None) -> bool:
    """The operator; a county admin of the drill's county (``KCBX_DRILL_COUNTY``); an API key
    of that county granted the drill scope. No drill county configured: the operator only."""
    if actor.superuser:
        return True
    if drill_county_id is None:
        return False
    if actor.kind is ActorKind.api_key and DRILL_SCOPE not in actor.scopes:
        return False  # a county key acts for the drill only when granted the drill scope
    return any(g.role is Role.county_admin and g.county_id == drill_county_id for g in actor.grants)


def _is_school_day(calendar: SchoolCalendar, day: date) -> bool:
    try:
        return calendar.is_school_day(day)
    except (ValueError, KeyError, NotImplementedError):
        # A year the national calendar does not know yet: weekdays of a term count.
        return False


def calendar_moments(
    schools: Iterable[SchoolClockFacts], start: datetime, end: datetime, grace: timedelta
) -> list[datetime]:
    """Moments in ``(start, end]``, sorted, in UTC, without repeats."""
    found: set[datetime] = set()
    for school in schools:
        zone = ZoneInfo(school.timezone)
        day = start.astimezone(zone).date()
        last = end.astimezone(zone).date()
        while day <= last:
            found.add(datetime.combine(day, time(0), zone))
            if _is_school_day(school.calendar, day):
                for check in school.checks:
                    found.add(datetime.combine(day, check, zone) + grace)
            day += timedelta(days=1)
    return sorted(m for m in (f.astimezone(start.tzinfo) for f in found) if start < m <= end)
