"""The school year, named by the year it starts in (2026 = 1 September 2026 to 31 August
2027), and a school's date now.

Every function takes the instant and the timezone it reads them in: the timezone of a
service when no school's own applies (county-wide ledgers, registers, file names) is the
configured ``KCBX_DEFAULT_TIMEZONE``, ``AppContext.default_zone()``. Nothing here reads the
settings or the context, so the helpers every feature uses sit below them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo


def school_year(day: date) -> int:
    return day.year - (day.month < 9)


def current_school_year(now: datetime, zone: ZoneInfo) -> int:
    """The school year ``now`` falls in, read in ``zone``."""
    return school_year(now.astimezone(zone).date())


class _HasTimezone(Protocol):
    @property
    def timezone(self) -> str: ...


def local_today(school: _HasTimezone, now: datetime) -> date:
    """The school's date now (a School row or a SchoolRef)."""
    return now.astimezone(ZoneInfo(school.timezone)).date()
