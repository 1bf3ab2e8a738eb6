"""A student's 控辍 status (在校 / 疑似辍学 / 辍学), counted from the child's days, pure.

The national definitions counties use (教基厅函〔2024〕15号): **疑似辍学** = absent without a
valid reason for more than one week; **辍学** = 疑似辍学 for more than one month without
returning. Here, with every figure a county threshold (``Thresholds``):

* the *run* is the engine's own: consecutive unexplained absent school days (day status
  ``absent``); a present, late or leave day (approved leave, sick leave) breaks it, a day not
  recorded neither counts nor breaks it, non-school days never count, and a 送教上门 student
  is present every day (the caller's day statuses already say so);
* 疑似辍学 begins on the absent school day on which the run *exceeds* ``suspected_after``:
  more than N school days (default 5, one school week: absent Monday to Friday, 疑似辍学 on
  the Monday after) or, with ``unit = calendar_days``, the run spans more than N calendar
  days from its first day to that day;
* it begins earlier when another path says so first (the earliest wins, a path never makes
  it later): a return notice (返校通知书) reported to the township that day, or leaving
  without a transfer (学籍 status 15), which is 疑似辍学 at once;
* 辍学 begins ``dropout_after_days`` (30) calendar days after 疑似辍学 began, when the status
  has not ended by then;
* the status ends (在校 again) on 复学 (re-enrolment confirmed, or 学籍 status 05 after 15),
  on the first day the child is at school again (present or late; not for a child who left
  without a transfer, whose 学籍 status says 15 until 复学), or when the child transfers out.

``history`` replays the facts day by day up to ``today`` and answers every period with the
day it began, the day it ended (exclusive) and why; ``current`` is its state on ``today``.
Nothing here reads the clock or storage.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from app.domain.attendance import DayStatus
from app.domain.calendar import SchoolCalendar
from app.domain.cases import Case, DeadlineKind, Effect, OpenDeadline


class DropoutStatus(StrEnum):
    in_school = "in_school"
    suspected_dropout = "suspected_dropout"
    dropout = "dropout"


DROPOUT_STATUS_LABELS: dict[DropoutStatus, str] = {
    DropoutStatus.in_school: "在校",
    DropoutStatus.suspected_dropout: "疑似辍学",
    DropoutStatus.dropout: "辍学",
}


class ThresholdUnit(StrEnum):
    school_days = "school_days"
    calendar_days = "calendar_days"


class Basis(StrEnum):
    """Why a status began or ended."""

    absence_run = "absence_run"  # 连续无故缺勤超过阈值
    return_notice = "return_notice"  # 返校通知书逾期,已报告乡镇
    left_without_transfer = "left_without_transfer"  # 未办理转学手续离校 (15)
    no_return = "no_return"  # 疑似辍学满期未返校 → 辍学
    returned = "returned"  # 返校
    resumed = "resumed"  # 复学
    transferred = "transferred"  # 转学


# Bounds of a county's first threshold: at least a few days, never longer than a term.
MIN_SCHOOL_DAYS, MAX_SCHOOL_DAYS = 2, 100
MIN_CALENDAR_DAYS, MAX_CALENDAR_DAYS = 3, 140
MAX_DROPOUT_AFTER_DAYS = 365


@dataclass(frozen=True, slots=True)
class Thresholds:
    suspected_after: int = 5
    unit: ThresholdUnit = ThresholdUnit.school_days
    dropout_after_days: int = 30

    def __post_init__(self) -> None:
        lo, hi = (
            (MIN_SCHOOL_DAYS, MAX_SCHOOL_DAYS)
            if self.unit is ThresholdUnit.school_days
            else (MIN_CALENDAR_DAYS, MAX_CALENDAR_DAYS)
        )
        if not lo <= self.suspected_after <= hi:
            raise ValueError(
                f"疑似辍学阈值须在 {lo} 至 {hi} 之间(不得为 0,不得长于一个学期)"
                f" (suspected_after must be {lo}..{hi} {self.unit.value})"
            )
        if not 1 <= self.dropout_after_days <= MAX_DROPOUT_AFTER_DAYS:
            raise ValueError(
                f"辍学阈值须在 1 至 {MAX_DROPOUT_AFTER_DAYS} 天之间"
                f" (dropout_after_days must be 1..{MAX_DROPOUT_AFTER_DAYS})"
            )

    def exceeded(self, run: list[date], day: date) -> bool:
        """Whether the run (oldest first, ``day`` its last) is beyond the first threshold."""
        if not run:
            return False
        if self.unit is ThresholdUnit.school_days:
            return len(run) > self.suspected_after
        return (day - run[0]).days + 1 > self.suspected_after


@dataclass(frozen=True, slots=True)
class StatusFacts:
    """What is known of one student up to ``today`` (the school's local date).

    ``statuses``: the recorded day statuses (the engine's: present, late, leave, absent;
    days left out are not recorded); ``calendar``: which of them are school days;
    ``left_without_transfer``, ``resumed``, ``transferred``: the 学籍异动 dates (15, 复学,
    转出); ``notices_reported``: the days return notices were reported to the township."""

    statuses: Mapping[date, DayStatus]
    calendar: SchoolCalendar
    today: date
    left_without_transfer: Collection[date] = ()
    resumed: Collection[date] = ()
    transferred: Collection[date] = ()
    notices_reported: Collection[date] = ()


@dataclass(frozen=True, slots=True)
class Period:
    """One status from ``since`` to ``until`` (exclusive; None: still so on ``today``)."""

    status: DropoutStatus
    since: date
    basis: Basis
    basis_text: str
    until: date | None = None
    end_basis: Basis | None = None


BASIS_TEXT: dict[Basis, str] = {
    Basis.return_notice: "返校通知书逾期未返校,已报告乡镇人民政府",
    Basis.left_without_transfer: "未办理转学手续离校(学籍状态 15 下落不明)",
    Basis.returned: "学生返校",
    Basis.resumed: "确认复学",
    Basis.transferred: "已办理转学手续转出",
}


@dataclass
class _Replay:
    th: Thresholds
    periods: list[Period] = field(default_factory=list)
    run: list[date] = field(default_factory=list)
    left: bool = False

    @property
    def status(self) -> DropoutStatus:
        last = self.periods[-1] if self.periods else None
        return last.status if last is not None and last.until is None else DropoutStatus.in_school

    def begin(self, status: DropoutStatus, day: date, basis: Basis, text: str) -> None:
        if self.periods and self.periods[-1].until is None:
            last = self.periods[-1]
            self.periods[-1] = Period(
                last.status, last.since, last.basis, last.basis_text, day, basis
            )
        self.periods.append(Period(status, day, basis, text))

    def end(self, day: date, basis: Basis) -> None:
        if self.status is DropoutStatus.in_school:
            return
        last = self.periods[-1]
        self.periods[-1] = Period(last.status, last.since, last.basis, last.basis_text, day, basis)


def history(facts: StatusFacts, th: Thresholds) -> list[Period]:
    """Every 疑似辍学 / 辍学 period up to ``facts.today``, oldest first (在校 in between)."""
    dated = [
        *facts.statuses,
        *facts.left_without_transfer,
        *facts.resumed,
        *facts.transferred,
        *facts.notices_reported,
    ]
    if not dated:
        return []
    r = _Replay(th)
    left, resumed = set(facts.left_without_transfer), set(facts.resumed)
    transferred, reported = set(facts.transferred), set(facts.notices_reported)
    day, last = min(dated), facts.today
    while day <= last:
        if day in resumed or day in transferred:
            r.end(day, Basis.transferred if day in transferred else Basis.resumed)
            r.run, r.left = [], False
        if day in left and day not in transferred:
            r.left = True
            if r.status is DropoutStatus.in_school:
                text = BASIS_TEXT[Basis.left_without_transfer]
                r.begin(DropoutStatus.suspected_dropout, day, Basis.left_without_transfer, text)
        if day in reported and r.status is DropoutStatus.in_school:
            text = BASIS_TEXT[Basis.return_notice]
            r.begin(DropoutStatus.suspected_dropout, day, Basis.return_notice, text)
        status = facts.statuses.get(day, DayStatus.not_recorded)
        if status is not DayStatus.not_recorded and facts.calendar.is_school_day(day):
            if status is DayStatus.absent:
                r.run.append(day)
                if r.status is DropoutStatus.in_school and th.exceeded(r.run, day):
                    unit = "个上学日" if th.unit is ThresholdUnit.school_days else "天(自然日)"
                    text = (
                        f"自 {r.run[0].isoformat()} 起连续无故缺勤超过 {th.suspected_after} {unit}"
                    )
                    r.begin(DropoutStatus.suspected_dropout, day, Basis.absence_run, text)
            else:
                r.run = []
                if status in (DayStatus.present, DayStatus.late) and not r.left:
                    r.end(day, Basis.returned)
        if r.status is DropoutStatus.suspected_dropout:
            since = r.periods[-1].since
            if day >= since + timedelta(days=th.dropout_after_days):
                text = f"{since.isoformat()} 起疑似辍学满 {th.dropout_after_days} 天仍未返校"
                r.begin(DropoutStatus.dropout, day, Basis.no_return, text)
        if day == date.max:
            break
        day += timedelta(days=1)
    return r.periods


def current(facts: StatusFacts, th: Thresholds) -> Period | None:
    """The status on ``facts.today``: its open period, or None (在校)."""
    periods = history(facts, th)
    return periods[-1] if periods and periods[-1].until is None else None


# --- obligations that fit the status -----------------------------------------------------------

PERSUASION_NOTE = "疑似辍学/辍学期间定期劝返(家访或电话),每 {days} 天一次"


def quiet_obligations(case: Case, effects: list[Effect]) -> tuple[Case, list[Effect]]:
    """A student who is 疑似辍学 or 辍学 (or left without a transfer) is not owed the daily
    1-hour call any more: the transition's new contact deadlines are dropped and no call is
    left owed; everything else (alerts, timeline, the episode's written report) stands. The
    periodic persuasion duties take their place (``persuasion_due``)."""
    kept = [
        e for e in effects if not (isinstance(e, OpenDeadline) and e.kind is DeadlineKind.contact)
    ]
    if len(kept) == len(effects) and case.contact_done:
        return case, effects
    return replace(case, contact_done=True), kept


def persuasion_due(last_created: datetime | None, now: datetime, every_days: int) -> bool:
    """Whether a periodic persuasion task is due to be created: none yet, or the last one made
    ``every_days`` ago (while one is open none is made: the caller asks only then)."""
    return last_created is None or now >= last_created + timedelta(days=every_days)
