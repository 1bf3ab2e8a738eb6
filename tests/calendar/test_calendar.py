"""The school calendar: terms, the national calendar with 调休, fallback years, overrides."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.calendar import (
    DayKind,
    InvalidCalendar,
    NationalCalendarYear,
    SchoolCalendar,
    Term,
    TermBreak,
    national_day,
    school_date,
)

D = date.fromisoformat

TERMS = (
    Term("2025-2026学年第一学期", D("2025-09-01"), D("2026-01-23")),
    Term("2025-2026学年第二学期", D("2026-02-26"), D("2026-07-03")),
    Term(
        "2026-2027学年第一学期",
        D("2026-09-01"),
        D("2027-01-20"),
        breaks=(TermBreak(D("2026-11-09"), D("2026-11-10"), "秋假"),),
    ),
    Term("2026-2027学年第二学期", D("2027-02-22"), D("2027-07-02")),
)
SCHOOL = SchoolCalendar(terms=TERMS)

# Illustrative only: the real 2027 list had not been published when this was written.
OFFICIAL_2027 = NationalCalendarYear.of(
    2027,
    holidays=[D("2027-01-01"), D("2027-01-02"), D("2027-01-03")],
    makeup_workdays=[D("2027-01-09")],
)


# -- the national calendar inside a term --------------------------------------------------


@pytest.mark.parametrize(
    "makeup", ["2026-01-04", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
)
def test_makeup_weekend_in_term_is_a_school_day(makeup: str) -> None:
    d = D(makeup)
    assert d.weekday() >= 5
    info = SCHOOL.day_info(d)
    assert info.is_school_day
    assert info.verified
    assert info.kind is DayKind.makeup_workday
    assert "调休上班" in info.reason


def test_makeup_weekend_between_terms_is_not_a_school_day() -> None:
    # 2026-02-14 is worked nationally for the Spring Festival, but schools are on 寒假.
    d = D("2026-02-14")
    assert national_day(d).workday
    info = SCHOOL.day_info(d)
    assert not info.is_school_day
    assert info.kind is DayKind.between_terms
    assert info.reason.startswith("寒假")


@pytest.mark.parametrize("offset", range(7))
def test_national_day_week_is_not_school_days(offset: int) -> None:
    d = D("2026-10-01") + timedelta(days=offset)
    info = SCHOOL.day_info(d)
    assert not info.is_school_day
    assert info.verified
    assert info.kind is DayKind.national_holiday
    assert info.reason == "国庆节 (National Day holiday)"


def test_ordinary_weekday_and_weekend() -> None:
    assert SCHOOL.day_info(D("2026-10-08")).kind is DayKind.school_day
    sunday = SCHOOL.day_info(D("2026-11-22"))
    assert (sunday.is_school_day, sunday.kind, sunday.reason) == (
        False,
        DayKind.weekend,
        "周末 (weekend)",
    )


FRI, MON, TUE = D("2026-11-20"), D("2026-11-23"), D("2026-11-24")


# -- years the package does not cover ------------------------------------------------------


def test_2027_falls_back_to_monday_to_friday_unverified() -> None:
    monday = SCHOOL.day_info(D("2027-01-04"))
    assert (monday.is_school_day, monday.verified, monday.kind) == (
        True,
        False,
        DayKind.school_day,
    )
    # The guess cannot know 元旦 2027: a school day, but flagged so the API says 未核实.
    new_year = SCHOOL.day_info(D("2027-01-01"))
    assert new_year.is_school_day and not new_year.verified
    saturday = SCHOOL.day_info(D("2027-01-09"))
    assert not saturday.is_school_day and not saturday.verified


@pytest.mark.parametrize(
    "d", ["2003-12-31", "2027-06-15", "2099-03-02", "0001-01-01", "9999-12-31"]
)
def test_any_year_never_raises(d: str) -> None:
    info = national_day(D(d))
    assert not info.verified
    assert info.workday == (D(d).weekday() < 5)
    assert SchoolCalendar(terms=(Term("全年", D(d), D(d)),)).day_info(D(d)).verified is False


def test_loaded_official_year_is_verified_and_honoured() -> None:
    cal = SchoolCalendar(terms=TERMS, official_years=(OFFICIAL_2027,))
    new_year = cal.day_info(D("2027-01-01"))
    assert (new_year.is_school_day, new_year.verified, new_year.kind) == (
        False,
        True,
        DayKind.national_holiday,
    )
    makeup = cal.day_info(D("2027-01-09"))
    assert (makeup.is_school_day, makeup.verified, makeup.kind) == (
        True,
        True,
        DayKind.makeup_workday,
    )
    assert cal.day_info(D("2027-01-04")).verified
    weekend = cal.day_info(D("2027-01-16"))
    assert (weekend.is_school_day, weekend.verified) == (False, True)
    # Other years keep their own source: the package, or the guess.
    assert cal.national(D("2026-10-01")).reason == "国庆节 (National Day holiday)"
    assert not cal.national(D("2028-03-01")).verified


def test_loaded_year_replaces_the_package_for_that_year() -> None:
    snow_week = NationalCalendarYear.of(2026, holidays=[FRI])
    cal = SchoolCalendar(terms=TERMS, official_years=(snow_week,))
    assert not cal.is_school_day(FRI)
    assert cal.national(FRI).reason == "法定节假日 (national holiday)"


# -- the school's own calendar -------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "label"),
    [("2026-02-10", "寒假"), ("2026-08-01", "暑假"), ("2025-06-01", "学期外")],
)
def test_dates_outside_every_term_are_between_terms(d: str, label: str) -> None:
    info = SCHOOL.day_info(D(d))
    assert not info.is_school_day
    assert info.verified
    assert info.kind is DayKind.between_terms
    assert info.reason.startswith(label)
    assert "between terms" in info.reason


def test_no_terms_loaded_falls_back_to_national_working_days_unverified() -> None:
    empty = SchoolCalendar()
    info = empty.day_info(MON)
    assert info.is_school_day and not info.verified
    assert "未设置校历" in info.reason
    assert not empty.is_school_day(D("2026-10-01"))


def test_break_inside_a_term() -> None:
    info = SCHOOL.day_info(D("2026-11-09"))
    assert (info.is_school_day, info.kind, info.reason) == (
        False,
        DayKind.term_break,
        "秋假 (term break)",
    )
    assert SCHOOL.term_of(D("2026-11-09")) is TERMS[2]
    assert SCHOOL.term_of(D("2026-08-01")) is None


def test_closures_and_extra_school_days_override_both_ways() -> None:
    snow_day, makeup_class, summer_class = D("2026-12-15"), D("2026-12-20"), D("2026-08-25")
    cal = SchoolCalendar(
        terms=TERMS,
        closures=frozenset({snow_day, D("2026-10-10")}),
        extra_school_days=frozenset({makeup_class, summer_class, D("2026-10-02")}),
    )
    assert SCHOOL.is_school_day(snow_day)
    closed = cal.day_info(snow_day)
    assert (closed.is_school_day, closed.kind, closed.reason) == (
        False,
        DayKind.school_closure,
        "学校停课 (school closure)",
    )
    assert not cal.is_school_day(D("2026-10-10"))  # closure beats a 调休 Saturday
    for d in (makeup_class, summer_class, D("2026-10-02")):
        info = cal.day_info(d)
        assert info.is_school_day and info.kind is DayKind.extra_school_day
    # A closure in an unverified year is still a firm answer.
    cal_2027 = SchoolCalendar(terms=TERMS, closures=frozenset({D("2027-01-04")}))
    assert cal_2027.day_info(D("2027-01-04")).verified


def test_previous_next_and_between() -> None:
    assert SCHOOL.next_school_day(D("2026-09-30")) == D("2026-10-08")
    assert SCHOOL.previous_school_day(D("2026-10-08")) == D("2026-09-30")
    assert SCHOOL.next_school_day(D("2026-07-03")) == D("2026-09-01")
    assert SCHOOL.next_school_day(D("2026-07-03"), within=30) is None
    assert SCHOOL.school_days_between(D("2026-09-27"), D("2026-10-11")) == [
        D("2026-09-28"),
        D("2026-09-29"),
        D("2026-09-30"),
        D("2026-10-08"),
        D("2026-10-09"),
        D("2026-10-10"),
    ]
    assert SCHOOL.school_days_between(MON, FRI) == []
    assert SCHOOL.next_school_day(date.max) is None
    assert SCHOOL.previous_school_day(date.min) is None


def test_invalid_calendars_are_refused() -> None:
    with pytest.raises(InvalidCalendar, match="overlap"):
        SchoolCalendar(terms=(Term("甲", MON, TUE), Term("乙", TUE, TUE)))
    with pytest.raises(InvalidCalendar, match="both a closure"):
        SchoolCalendar(closures=frozenset({MON}), extra_school_days=frozenset({MON}))
    with pytest.raises(InvalidCalendar, match="loaded twice"):
        SchoolCalendar(official_years=(OFFICIAL_2027, OFFICIAL_2027))
    with pytest.raises(InvalidCalendar, match="starts after it ends"):
        Term("甲", TUE, MON)
    with pytest.raises(InvalidCalendar, match="inside"):
        Term("甲", MON, TUE, breaks=(TermBreak(FRI, TUE),))
    with pytest.raises(InvalidCalendar, match="is not in 2027"):
        NationalCalendarYear.of(2027, holidays=[MON])
    with pytest.raises(InvalidCalendar, match="Saturday or Sunday"):
        NationalCalendarYear.of(2027, holidays=[], makeup_workdays=[D("2027-01-04")])
    with pytest.raises(InvalidCalendar, match="both a holiday"):
        NationalCalendarYear.of(2027, [D("2027-01-09")], [D("2027-01-09")])


# -- the school date of an event -----------------------------------------------------------


def test_school_date_uses_the_school_timezone() -> None:
    late = datetime.fromisoformat("2026-11-24T17:30:00+00:00")
    assert school_date(late) == D("2026-11-25")
    assert school_date(late, "Asia/Shanghai") == D("2026-11-25")
    # Schools on 乌鲁木齐时间 (UTC+6) are still on the 24th.
    assert school_date(late, "Asia/Urumqi") == D("2026-11-24")
    assert school_date(datetime.fromisoformat("2026-11-25T07:40:00+08:00")) == D("2026-11-25")


def test_school_date_refuses_naive_times_and_unknown_zones() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        school_date(datetime(2026, 11, 24, 17, 30))
    with pytest.raises(ValueError, match="unknown timezone"):
        school_date(datetime.fromisoformat("2026-11-24T17:30:00+00:00"), "Mars/Olympus")


# -- properties ----------------------------------------------------------------------------

# Spans package years and the unverified 2027 fallback, terms and breaks.
term_dates = st.dates(min_value=D("2025-06-01"), max_value=D("2027-12-31"))


@given(term_dates)
def test_next_school_day_is_the_first_school_day_after(d: date) -> None:
    nxt = SCHOOL.next_school_day(d)
    if nxt is None:
        assert SCHOOL.school_days_between(d + timedelta(days=1), d + timedelta(days=400)) == []
        return
    assert nxt > d and SCHOOL.is_school_day(nxt)
    assert SCHOOL.school_days_between(d + timedelta(days=1), nxt) == [nxt]


@given(term_dates)
def test_previous_school_day_is_the_last_school_day_before(d: date) -> None:
    prev = SCHOOL.previous_school_day(d)
    if prev is None:
        assert SCHOOL.school_days_between(d - timedelta(days=400), d - timedelta(days=1)) == []
        return
    assert prev < d and SCHOOL.is_school_day(prev)
    assert SCHOOL.school_days_between(prev, d - timedelta(days=1)) == [prev]


@given(st.dates())
def test_day_info_never_raises_and_only_guesses_plain_weekdays(d: date) -> None:
    info = SCHOOL.day_info(d)
    assert info.day == d
    if not info.verified:
        assert info.kind in (DayKind.school_day, DayKind.weekend)
        assert info.is_school_day == (d.weekday() < 5)
