"""The timezone a service reads days and stamps in when no school's own timezone applies
(county-wide ledgers, registers, file names): the configured ``KCBX_DEFAULT_TIMEZONE``; and
the school year, named by the year it starts in (2026 = 1 September 2026 to 31 August 2027);
a school's date now."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from app.context import AppContext


def default_zone(ctx: AppContext) -> ZoneInfo:
    return ZoneInfo(ctx.settings.default_timezone)


def school_year(day: date) -> int:
    return day.year - (day.month < 9)


def current_school_year(ctx: AppContext) -> int:
    return school_year(ctx.clock().astimezone(default_zone(ctx)).date())


class _HasTimezone(Protocol):
    @property
    def timezone(self) -> str: ...


def local_today(school: _HasTimezone, now: datetime) -> date:
    """The school's date now (a School row or a SchoolRef)."""
    return now.astimezone(ZoneInfo(school.timezone)).date()
