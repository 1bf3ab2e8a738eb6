"""疑似辍学 / 辍学 from the child's days (app/domain/dropout_status.py), checked against an
independent brute-force count: for every day, look back from it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.attendance import DayStatus
from app.domain.calendar import SchoolCalendar, Term
from app.domain.dropout_status import (
    Basis,
    DropoutStatus,
    StatusFacts,
    Thresholds,
    ThresholdUnit,
    current,
    history,
)

START = date(2026, 9, 7)  # a Monday
SPAN = 90
CALENDAR = SchoolCalendar(
    terms=(Term("秋季学期", date(2026, 9, 1), date(2027, 1, 20)),),
    closures=frozenset({date(2026, 9, 23), date(2026, 11, 11)}),
)
DAYS = [START + timedelta(days=i) for i in range(SPAN)]
SCHOOL_DAYS = [d for d in DAYS if CALENDAR.is_school_day(d)]
MONDAY = START


def brute(statuses: dict[date, DayStatus], th: Thresholds, on: date) -> DropoutStatus:
    """The status on ``on``, looked for backwards: after the last day at school, the first
    absent school day whose run (counted back from it) exceeds the threshold."""
    school = [d for d in SCHOOL_DAYS if d <= on and statuses.get(d) is not None]
    attended = [d for d in school if statuses[d] in (DayStatus.present, DayStatus.late)]
    after = [d for d in school if not attended or d > attended[-1]]
    for s in after:
        if statuses[s] is not DayStatus.absent:
            continue
        back = []
        for d in reversed([x for x in school if x <= s]):
            if statuses[d] is not DayStatus.absent:
                break
            back.append(d)
        exceeded = (
            len(back) > th.suspected_after
            if th.unit is ThresholdUnit.school_days
            else (s - back[-1]).days + 1 > th.suspected_after
        )
        if exceeded:
            if on >= s + timedelta(days=th.dropout_after_days):
                return DropoutStatus.dropout
            return DropoutStatus.suspected_dropout
    return DropoutStatus.in_school


day_statuses = st.dictionaries(
    st.sampled_from(SCHOOL_DAYS),
    st.sampled_from([DayStatus.absent] * 6 + [DayStatus.present, DayStatus.late, DayStatus.leave]),
    max_size=len(SCHOOL_DAYS),
)
thresholds = st.one_of(
    st.builds(
        Thresholds,
        suspected_after=st.integers(2, 10),
        unit=st.just(ThresholdUnit.school_days),
        dropout_after_days=st.integers(1, 40),
    ),
    st.builds(
        Thresholds,
        suspected_after=st.integers(3, 20),
        unit=st.just(ThresholdUnit.calendar_days),
        dropout_after_days=st.integers(1, 40),
    ),
)


@settings(max_examples=150, deadline=None)
@given(day_statuses, thresholds, st.sampled_from(DAYS))
def test_status_on_any_day_matches_the_brute_force_count(
    statuses: dict[date, DayStatus], th: Thresholds, on: date
) -> None:
    facts = StatusFacts(statuses=statuses, calendar=CALENDAR, today=on)
    got = current(facts, th)
    assert (got.status if got else DropoutStatus.in_school) is brute(statuses, th, on)


@settings(max_examples=100, deadline=None)
@given(day_statuses, thresholds, st.sampled_from(DAYS), st.sampled_from(DAYS))
def test_another_path_only_makes_the_status_earlier(
    statuses: dict[date, DayStatus], th: Thresholds, reported: date, on: date
) -> None:
    plain = history(StatusFacts(statuses=statuses, calendar=CALENDAR, today=on), th)
    with_notice = history(
        StatusFacts(statuses=statuses, calendar=CALENDAR, today=on, notices_reported=[reported]),
        th,
    )
    firsts = [p.since for p in plain if p.status is DropoutStatus.suspected_dropout]
    noticed = [p.since for p in with_notice if p.status is DropoutStatus.suspected_dropout]
    if firsts:
        assert noticed and noticed[0] <= firsts[0]


def test_absent_every_school_day_from_a_monday() -> None:
    statuses = {d: DayStatus.absent for d in SCHOOL_DAYS}
    facts = StatusFacts(statuses=statuses, calendar=CALENDAR, today=date(2026, 11, 30))
    periods = history(facts, Thresholds())
    assert [(p.status, p.since, p.basis) for p in periods] == [
        (DropoutStatus.suspected_dropout, date(2026, 9, 14), Basis.absence_run),
        (DropoutStatus.dropout, date(2026, 10, 14), Basis.no_return),
    ]
    assert periods[0].until == date(2026, 10, 14)
    # Configured in calendar days: more than 7 calendar days is Monday the 14th too.
    th = Thresholds(suspected_after=7, unit=ThresholdUnit.calendar_days)
    assert history(facts, th)[0].since == date(2026, 9, 14)


def test_left_without_transfer_then_resumed() -> None:
    left, back = date(2026, 9, 10), date(2026, 10, 20)
    facts = StatusFacts(
        statuses={date(2026, 9, 14): DayStatus.present},  # a mark by mistake: still 15
        calendar=CALENDAR,
        today=date(2026, 11, 2),
        left_without_transfer=[left],
        resumed=[back],
    )
    periods = history(facts, Thresholds())
    assert [(p.status, p.since, p.until, p.end_basis) for p in periods] == [
        (DropoutStatus.suspected_dropout, left, date(2026, 10, 10), Basis.no_return),
        (DropoutStatus.dropout, date(2026, 10, 10), back, Basis.resumed),
    ]
    assert current(facts, Thresholds()) is None


def test_a_return_ends_the_status_and_a_run_after_it_counts_afresh() -> None:
    statuses = {d: DayStatus.absent for d in SCHOOL_DAYS[:8]}
    statuses[SCHOOL_DAYS[8]] = DayStatus.present
    statuses.update({d: DayStatus.absent for d in SCHOOL_DAYS[9:12]})
    facts = StatusFacts(statuses=statuses, calendar=CALENDAR, today=SCHOOL_DAYS[12])
    periods = history(facts, Thresholds())
    assert len(periods) == 1
    assert (periods[0].since, periods[0].until, periods[0].end_basis) == (
        SCHOOL_DAYS[5],
        SCHOOL_DAYS[8],
        Basis.returned,
    )


@pytest.mark.parametrize(
    ("after", "unit"),
    [
        (0, ThresholdUnit.school_days),
        (101, ThresholdUnit.school_days),
        (2, ThresholdUnit.calendar_days),
    ],
)
def test_a_threshold_of_zero_or_longer_than_a_term_is_refused(
    after: int, unit: ThresholdUnit
) -> None:
    with pytest.raises(ValueError, match="疑似辍学阈值"):
        Thresholds(suspected_after=after, unit=unit)
