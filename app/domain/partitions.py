"""Monthly partitions of the attendance tables (issue 24, item 4): which months a date range
needs and what each partition is called. Pure: dates are passed in.

A partition ``attendance_event_2026_09`` holds school dates from 2026-09-01 (inclusive) to
2026-10-01 (exclusive), PostgreSQL's ``FOR VALUES FROM .. TO ..`` bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# The marks are derived from the events, no longer stored (migration 0035).
PARTITIONED_TABLES = ("attendance_event",)


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def plus(self, months: int) -> Month:
        index = self.year * 12 + (self.month - 1) + months
        return Month(index // 12, index % 12 + 1)


@dataclass(frozen=True)
class Partition:
    table: str
    month: Month

    @property
    def name(self) -> str:
        return f"{self.table}_{self.month.year:04d}_{self.month.month:02d}"

    @property
    def lower(self) -> date:
        return self.month.first_day()

    @property
    def upper(self) -> date:
        """Exclusive."""
        return self.month.next().first_day()


def months_between(first: date, last: date) -> list[Month]:
    """Every month from the one holding ``first`` to the one holding ``last``, inclusive."""
    if last < first:
        return []
    months = [Month.of(first)]
    end = Month.of(last)
    while months[-1] < end:
        months.append(months[-1].next())
    return months


def wanted(table: str, first: date, today: date, ahead: int) -> list[Partition]:
    """The partitions ``table`` should have: from the month of ``first`` (its oldest data, or
    today) to ``ahead`` months past today's month."""
    start = min(first, today)
    end = Month.of(today).plus(ahead).first_day()
    return [Partition(table, m) for m in months_between(start, end)]


def parse_name(table: str, name: str) -> Month | None:
    """The month of a partition's name, or None for anything else (the DEFAULT partition)."""
    prefix = f"{table}_"
    if not name.startswith(prefix):
        return None
    rest = name[len(prefix) :].split("_")
    if len(rest) != 2 or not all(p.isdigit() for p in rest):
        return None
    year, month = int(rest[0]), int(rest[1])
    if not 1 <= month <= 12:
        return None
    return Month(year, month)


def is_partition(name: str) -> bool:
    """A monthly or DEFAULT partition of one of the attendance tables (autogenerate and the
    schema checks know the parent tables only)."""
    return any(
        parse_name(t, name) is not None or name == f"{t}_default" for t in PARTITIONED_TABLES
    )


class PartitionRefused(ValueError):
    """An operator asked for something the partitions must not do (detach this month, a
    future month or the DEFAULT partition; drop a partition still attached)."""


def parse_month(value: str) -> Month:
    """``YYYY-MM`` as typed on the command line; ``default`` is refused by name, since the
    DEFAULT partition catches rows for months nobody created and must stay."""
    if value.strip().lower() == "default":
        raise PartitionRefused(
            "默认分区 (DEFAULT) 不能分离或删除 (the DEFAULT partition takes rows for months"
            " nobody created; it cannot be detached or dropped)"
        )
    parts = value.strip().split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
        raise PartitionRefused(f"月份应为 YYYY-MM (month must be YYYY-MM): {value!r}")
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12:
        raise PartitionRefused(f"月份应为 01..12 (month must be 01..12): {value!r}")
    return Month(year, month)


def check_retirable(month: Month, today: date, backfill_days: int) -> None:
    """Only a month wholly in the past, and past the intake's backfill window, may be
    detached: the current month takes today's roll, a future one planned events, and a month
    within ``backfill_days`` still takes late events (once detached they would land in the
    DEFAULT partition, and a replay of a detached event would not be found and be stored
    again)."""
    if month >= Month.of(today):
        raise PartitionRefused(
            f"{month.year:04d}-{month.month:02d} 不是过去的月份 (only a past month can be"
            f" detached; today is {today.isoformat()})"
        )
    if (today - month.next().first_day()).days < backfill_days:
        raise PartitionRefused(
            f"{month.year:04d}-{month.month:02d} 仍在补录期内 (still within the intake's"
            f" backfill window of {backfill_days} days: KCBX_ATTENDANCE_BACKFILL_DAYS)"
        )
