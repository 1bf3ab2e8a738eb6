"""Chronic and intermittent absence: counts over a student's school days, pure.

The US practice (Attendance Works and the states) the issue cites: *chronic* absence is missing
``chronic_percent`` (10%) or more of the school days enrolled, for any reason — unexplained
absence and leave alike —, judged once ``min_days`` (20) school days have been counted;
*bands* of the absence rate: 5–10% at risk, 10–20% moderate, ≥ 20% severe. *Intermittent*
absence is ``intermittent_absences`` (3) or more **unexplained** absent days within any
``intermittent_window`` (20) consecutive school days — the child absent every Monday, who
never makes a run of two.

``measure(days, rules)``: ``days`` are the student's school days in order, oldest first (the
term's up to the day measured, from the student's first recorded day), each a ``Day`` — its
status (``DayStatus``) and, on leave, the leave type. Days not recorded count as school days
enrolled but as neither missed nor attended. The rolling window is the last ``window_days``
of them; ``previous_rate`` is the rate without the last ``trend_days`` (a week): the trend.

Decisions: the rate counts ``absent`` and ``leave`` days (any reason); a late day is not
missed; the band is ``none`` until ``min_days`` school days have been counted (one absent
day of the first three is not 33% in any sense that matters), and so is chronic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from app.domain.attendance import DayStatus


class Band(StrEnum):
    none = "none"
    at_risk = "at_risk"
    moderate = "moderate"
    severe = "severe"


BAND_LABELS = {
    Band.none: "正常",
    Band.at_risk: "风险(5%–10%)",
    Band.moderate: "中度(10%–20%)",
    Band.severe: "严重(≥20%)",
}
BAND_ORDER = (Band.none, Band.at_risk, Band.moderate, Band.severe)
INTERMITTENT_LABEL = "间歇性缺勤"
CHRONIC_LABEL = "长期缺勤"


@dataclass(frozen=True, slots=True)
class MeasureRules:
    intermittent_absences: int = 3
    intermittent_window: int = 20  # school days
    chronic_percent: float = 10.0
    min_days: int = 20
    at_risk_percent: float = 5.0
    moderate_percent: float = 10.0
    severe_percent: float = 20.0
    window_days: int = 20  # the rolling window, school days
    trend_days: int = 5

    def band(self, rate: float, days: int, min_days: int | None = None) -> Band:
        percent = rate * 100
        if days < (self.min_days if min_days is None else min_days):
            return Band.none
        if percent < self.at_risk_percent:
            return Band.none
        if percent < self.moderate_percent:
            return Band.at_risk
        if percent < self.severe_percent:
            return Band.moderate
        return Band.severe


@dataclass(frozen=True, slots=True)
class Day:
    status: DayStatus
    leave_type: str | None = None


@dataclass(frozen=True, slots=True)
class Counts:
    school_days: int = 0
    absent_days: int = 0
    leave_days: dict[str, int] = field(default_factory=dict)
    late_days: int = 0

    @property
    def missed(self) -> int:
        return self.absent_days + sum(self.leave_days.values())

    @property
    def rate(self) -> float:
        return self.missed / self.school_days if self.school_days else 0.0


@dataclass(frozen=True, slots=True)
class Measure:
    term: Counts
    window: Counts
    band: Band
    window_band: Band
    chronic: bool
    intermittent: bool
    previous_rate: float | None

    @property
    def listed(self) -> bool:
        """On the early-warning list (预警名单): in a band, or intermittent."""
        return self.band is not Band.none or self.intermittent


def count(days: Sequence[Day]) -> Counts:
    # A term of days per student, a county of students: the statuses counted by list.count
    # (C speed), the leave days by type walked only when there are some.
    statuses = [d.status for d in days]
    leave: dict[str, int] = {}
    if DayStatus.leave in statuses:
        for d in days:
            if d.status is DayStatus.leave:
                kind = d.leave_type or "other"
                leave[kind] = leave.get(kind, 0) + 1
    return Counts(
        len(days),
        statuses.count(DayStatus.absent),
        dict(sorted(leave.items())),
        statuses.count(DayStatus.late),
    )


def intermittent(days: Sequence[Day], rules: MeasureRules) -> bool:
    """At least ``intermittent_absences`` unexplained absent days within some
    ``intermittent_window`` consecutive school days (a sliding window over the positions)."""
    absent = [i for i, d in enumerate(days) if d.status is DayStatus.absent]
    k = rules.intermittent_absences
    return any(
        absent[j + k - 1] - absent[j] < rules.intermittent_window
        for j in range(len(absent) - k + 1)
    )


def measure(days: Sequence[Day], rules: MeasureRules) -> Measure:
    term = count(days)
    window = count(days[-rules.window_days :])
    earlier = days[: -rules.trend_days] if len(days) > rules.trend_days else ()
    chronic = term.school_days >= rules.min_days and term.rate * 100 >= rules.chronic_percent
    return Measure(
        term=term,
        window=window,
        band=rules.band(term.rate, term.school_days),
        # The window is judged once full (or once as long as the term's threshold).
        window_band=rules.band(
            window.rate, window.school_days, min(rules.min_days, rules.window_days)
        ),
        chronic=chronic,
        intermittent=intermittent(days, rules),
        previous_rate=count(earlier).rate if earlier else None,
    )
