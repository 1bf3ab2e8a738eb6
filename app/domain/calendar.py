"""The school calendar (校历): which dates are school days (上学日).

A date is a school day when, in this order of precedence:

1. it is not a school-specific closure (学校停课: snow day, exam venue, …) — a closure
   always wins;
2. it is an extra school day set by the school (补课日) — a school day whatever the term
   or national calendar says;
3. it lies inside one of the school's terms (学期) and outside the term's own breaks;
   寒假 and 暑假 are the gaps between terms, they come from the school's 校历, never from
   the national calendar;
4. it is a working day by the national calendar: statutory holidays (法定节假日) are off
   and 调休 make-up working days on a weekend are on.

The national calendar comes from the ``chinesecalendar`` package, which knows only the
years the State Council has published (it raises ``NotImplementedError`` outside them). For
other years an admin may load the official list (`NationalCalendarYear`); without one the
answer falls back to Monday–Friday and is marked unverified (未核实), so the API can say
so. Asking about any date never raises.

Everything here is pure: the caller passes dates and times in, nothing reads the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar

# The pure default, and the default of ``KCBX_DEFAULT_TIMEZONE``: services pass a school's own
# timezone, or the configured default where no school's applies (``app.core.time``).
DEFAULT_TIMEZONE = "Asia/Shanghai"
# Long enough to cross a summer break (about two months) with plenty of margin, short enough
# that a calendar with no terms at all answers quickly.
SEARCH_LIMIT_DAYS = 400

_ONE_DAY = timedelta(days=1)

# The package names holidays in English; staff read Chinese.
_HOLIDAY_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


class InvalidCalendar(ValueError):
    """A 校历 or an official holiday list that cannot be right; the reason is in Chinese
    first, as staff read it, then in English."""


class DayKind(StrEnum):
    """Why a date is, or is not, a school day; the machine-readable twin of ``reason``."""

    school_day = "school_day"
    makeup_workday = "makeup_workday"  # 调休上班
    extra_school_day = "extra_school_day"  # 补课日, set by the school
    weekend = "weekend"
    national_holiday = "national_holiday"
    between_terms = "between_terms"  # 寒假 / 暑假 / no term loaded
    term_break = "term_break"  # a break inside a term
    school_closure = "school_closure"  # 学校停课


@dataclass(frozen=True, slots=True)
class NationalDay:
    """One date of the national calendar, before any school rule applies."""

    workday: bool
    verified: bool
    kind: DayKind
    reason: str


@dataclass(frozen=True, slots=True)
class DayInfo:
    day: date
    is_school_day: bool
    # False only when the answer rests on the Monday–Friday guess for a year neither the
    # package nor an admin has covered; school rules (terms, closures) are always verified.
    verified: bool
    kind: DayKind
    reason: str


def _days(start: date, end: date) -> Iterator[date]:
    d = start
    while d <= end:
        yield d
        if d == date.max:
            return
        d += _ONE_DAY


@dataclass(frozen=True, slots=True)
class NationalCalendarYear:
    """The official holiday list of one year (国务院办公厅关于节假日安排的通知), loaded by
    an admin for a year the ``chinesecalendar`` package does not know yet.

    ``holidays`` are the days off, weekend days inside a holiday included; ``makeup_workdays``
    are the 调休 weekend days worked instead.
    """

    year: int
    holidays: frozenset[date]
    makeup_workdays: frozenset[date]

    def __post_init__(self) -> None:
        outside = sorted(d for d in self.holidays | self.makeup_workdays if d.year != self.year)
        if outside:
            raise InvalidCalendar(
                f"日期 {outside[0].isoformat()} 不在 {self.year} 年内 "
                f"({outside[0].isoformat()} is not in {self.year})"
            )
        both = sorted(self.holidays & self.makeup_workdays)
        if both:
            raise InvalidCalendar(
                f"{both[0].isoformat()} 不能既是假日又是调休上班日 "
                f"({both[0].isoformat()} cannot be both a holiday and a make-up working day)"
            )
        # A make-up day is by definition a weekend worked; a weekday here is a typing slip.
        weekday = sorted(d for d in self.makeup_workdays if d.weekday() < 5)
        if weekday:
            raise InvalidCalendar(
                f"调休上班日 {weekday[0].isoformat()} 应为周六或周日 "
                f"(make-up working day {weekday[0].isoformat()} must be a Saturday or Sunday)"
            )

    @classmethod
    def of(
        cls, year: int, holidays: Iterable[date], makeup_workdays: Iterable[date] = ()
    ) -> NationalCalendarYear:
        return cls(year, frozenset(holidays), frozenset(makeup_workdays))

    def day(self, d: date) -> NationalDay:
        if d in self.holidays:
            return NationalDay(
                False, True, DayKind.national_holiday, "法定节假日 (national holiday)"
            )
        if d in self.makeup_workdays:
            return NationalDay(True, True, DayKind.makeup_workday, "调休上班 (make-up working day)")
        return _plain_day(d, verified=True)


def _plain_day(d: date, *, verified: bool) -> NationalDay:
    if d.weekday() >= 5:
        return NationalDay(False, verified, DayKind.weekend, "周末 (weekend)")
    return NationalDay(True, verified, DayKind.school_day, "上学日 (school day)")


@lru_cache(maxsize=8192)
def national_day(d: date) -> NationalDay:
    """The national calendar for ``d`` from the ``chinesecalendar`` package.

    For a year the package does not cover, Monday–Friday with ``verified=False``; never
    raises. Cached per date: the alert engine asks about the same few weeks over and over.
    """
    try:
        detail: tuple[bool, str | None] = chinese_calendar.get_holiday_detail(d)
    except NotImplementedError:
        return _plain_day(d, verified=False)
    is_holiday, name = detail
    if name is None:
        return _plain_day(d, verified=True)
    zh = _HOLIDAY_ZH.get(name, name)
    if is_holiday:
        return NationalDay(False, True, DayKind.national_holiday, f"{zh} ({name} holiday)")
    # The package names a working day only when it is worked in lieu of a holiday.
    return NationalDay(
        True, True, DayKind.makeup_workday, f"{zh}调休上班 (make-up working day for {name})"
    )


@dataclass(frozen=True, slots=True)
class TermBreak:
    """A break inside a term (e.g. 春假, 秋假, 期中放假); ``start``..``end`` inclusive."""

    start: date
    end: date
    name: str = "假期"


@dataclass(frozen=True, slots=True)
class Term:
    """A term of the school's 校历, ``start``..``end`` inclusive (e.g. 秋季学期
    2026-09-01..2027-01-20)."""

    name: str
    start: date
    end: date
    breaks: tuple[TermBreak, ...] = ()

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise InvalidCalendar(
                f"{self.name} 的开始日期晚于结束日期 ({self.name} starts after it ends)"
            )
        for b in self.breaks:
            if b.start > b.end or b.start < self.start or b.end > self.end:
                raise InvalidCalendar(
                    f"{b.name} 应在 {self.name} 之内且开始不晚于结束 "
                    f"({b.name} must lie inside {self.name} and start before it ends)"
                )

    def contains(self, d: date) -> bool:
        return self.start <= d <= self.end

    def break_on(self, d: date) -> TermBreak | None:
        return next((b for b in self.breaks if b.start <= d <= b.end), None)


def _between_terms_reason(d: date) -> str:
    # Only a label for staff: the dates themselves come from the terms.
    if d.month in (12, 1, 2):
        return "寒假 (winter break, between terms)"
    if d.month in (7, 8):
        return "暑假 (summer break, between terms)"
    return "学期外 (between terms)"


@dataclass(frozen=True, slots=True)
class SchoolCalendar:
    """One school's 校历: its terms, its own closures and extra school days, and the
    official national holiday lists an admin has loaded for years the package lacks.

    A loaded year replaces the package for that year: it is the admin's explicit statement
    of the official list, so it wins even over a package that knows the year.
    """

    terms: tuple[Term, ...] = ()
    closures: frozenset[date] = frozenset()
    extra_school_days: frozenset[date] = frozenset()
    official_years: tuple[NationalCalendarYear, ...] = ()
    _official: dict[int, NationalCalendarYear] = field(
        init=False, repr=False, compare=False, hash=False
    )
    # Answers already worked out: the engine walks back over the same weeks on every roll.
    _memo: dict[date, DayInfo] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        ordered = sorted(self.terms, key=lambda t: t.start)
        for earlier, later in pairwise(ordered):
            if later.start <= earlier.end:
                raise InvalidCalendar(
                    f"{earlier.name} 与 {later.name} 的日期重叠 "
                    f"({earlier.name} and {later.name} overlap)"
                )
        both = sorted(self.closures & self.extra_school_days)
        if both:
            raise InvalidCalendar(
                f"{both[0].isoformat()} 不能既停课又补课 "
                f"({both[0].isoformat()} cannot be both a closure and an extra school day)"
            )
        official: dict[int, NationalCalendarYear] = {}
        for y in self.official_years:
            if y.year in official:
                raise InvalidCalendar(
                    f"{y.year} 年的节假日安排重复导入 (holiday list for {y.year} loaded twice)"
                )
            official[y.year] = y
        object.__setattr__(self, "_official", official)
        object.__setattr__(self, "_memo", {})

    def national(self, d: date) -> NationalDay:
        loaded = self._official.get(d.year)
        return loaded.day(d) if loaded is not None else national_day(d)

    def term_of(self, d: date) -> Term | None:
        return next((t for t in self.terms if t.contains(d)), None)

    def day_info(self, d: date) -> DayInfo:
        known = self._memo.get(d)
        if known is None:
            known = self._memo[d] = self._day_info(d)
        return known

    def _day_info(self, d: date) -> DayInfo:
        if d in self.closures:
            return DayInfo(d, False, True, DayKind.school_closure, "学校停课 (school closure)")
        if d in self.extra_school_days:
            return DayInfo(d, True, True, DayKind.extra_school_day, "学校补课日 (extra school day)")
        if not self.terms:
            # A school that has not entered its 校历 yet still takes the roll: national
            # working days count, but the answer says it is unverified.
            n = self.national(d)
            reason = f"{n.reason};未设置校历 (no term dates loaded)"
            return DayInfo(d, n.workday, False, n.kind, reason)
        term = self.term_of(d)
        if term is None:
            reason = _between_terms_reason(d)
            return DayInfo(d, False, True, DayKind.between_terms, reason)
        pause = term.break_on(d)
        if pause is not None:
            return DayInfo(d, False, True, DayKind.term_break, f"{pause.name} (term break)")
        n = self.national(d)
        return DayInfo(d, n.workday, n.verified, n.kind, n.reason)

    def is_school_day(self, d: date) -> bool:
        return self.day_info(d).is_school_day

    def next_school_day(self, d: date, within: int = SEARCH_LIMIT_DAYS) -> date | None:
        """The first school day after ``d`` (not ``d`` itself), or None within ``within``
        days (e.g. no later term loaded yet)."""
        for _ in range(within):
            if d == date.max:
                return None
            d += _ONE_DAY
            if self.is_school_day(d):
                return d
        return None

    def previous_school_day(self, d: date, within: int = SEARCH_LIMIT_DAYS) -> date | None:
        """The last school day before ``d`` (not ``d`` itself), or None within ``within``
        days."""
        for _ in range(within):
            if d == date.min:
                return None
            d -= _ONE_DAY
            if self.is_school_day(d):
                return d
        return None

    def school_days_between(self, start: date, end: date) -> list[date]:
        """The school days from ``start`` to ``end``, both included, in order."""
        return [d for d in _days(start, end) if self.is_school_day(d)]


def school_date(occurred_at: datetime, tz: str = DEFAULT_TIMEZONE) -> date:
    """The school's local date of an instant: 17:30 UTC on the 24th is 01:30 on the 25th in
    Beijing, so it belongs to the 25th's roll.

    A naive datetime raises ValueError: without its offset the date is a guess, and
    offline mini-programs syncing later are exactly where that guess goes wrong.
    """
    if occurred_at.tzinfo is None or occurred_at.utcoffset() is None:
        raise ValueError("时间缺少时区偏移 (occurred_at has no UTC offset)")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"未知时区 {tz} (unknown timezone {tz})") from exc
    return occurred_at.astimezone(zone).date()
