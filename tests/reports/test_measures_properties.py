"""The absence measures equal a count made independently from the marks (hypothesis).

One student over a run of school days: each day some of the three checks marked (present,
late, absent or leave of a type), maybe approved leave of a type. The brute force reads the
marks with the README's words — seen at some check or not, explained or not — and counts
every window of consecutive school days one by one; the code under test goes through
``day_status`` and the sliding window."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.absence_measures import Band, MeasureRules, measure
from app.domain.attendance import Check, Mark
from app.reports.measures import student_days

CHECKS = list(Check)
MARKS = st.one_of(
    st.none(),
    st.sampled_from([(Mark.present, None), (Mark.late, None), (Mark.absent, None)]),
    st.tuples(st.just(Mark.leave), st.sampled_from(["sick", "personal", "other"])),
)
# Most days as a roll has them — one morning mark, absences common enough to make windows
# count — and now and then any combination of the three checks and approved leave.
PLAIN = st.tuples(
    st.tuples(
        st.sampled_from([(Mark.present, None), (Mark.absent, None), (Mark.leave, "sick")]),
        st.none(),
        st.none(),
    ),
    st.none(),
)
MIXED = st.tuples(
    st.tuples(MARKS, MARKS, MARKS), st.one_of(st.none(), st.sampled_from(["sick", "personal"]))
)
DAY = st.one_of(PLAIN, PLAIN, MIXED)
RULES = st.builds(
    MeasureRules,
    intermittent_absences=st.integers(2, 5),
    intermittent_window=st.integers(3, 25),
    min_days=st.integers(1, 25),
    window_days=st.integers(3, 25),
)


Marked = tuple[Mark, str | None] | None


def brute(
    days: list[tuple[tuple[Marked, Marked, Marked], str | None]], rules: MeasureRules
) -> dict[str, object]:
    kinds: list[str] = []
    leave_types: list[str | None] = []
    for (morning, noon, dismissal), approved in days:
        marked = [m for m in (morning, noon, dismissal) if m is not None]
        seen_later = any(
            m is not None and m[0] in (Mark.present, Mark.late) for m in (noon, dismissal)
        )
        if morning is not None and morning[0] in (Mark.present, Mark.late):
            kinds.append(morning[0].value)
        elif seen_later:
            kinds.append("late" if morning is not None else "present")
        elif approved or any(m[0] is Mark.leave for m in marked):
            kinds.append("leave")
            leave_types.append(next((m[1] for m in marked if m[0] is Mark.leave), approved))
        elif any(m[0] is Mark.absent for m in marked):
            kinds.append("absent")
        else:
            kinds.append("none")
    n = len(kinds)
    missed = sum(k in ("absent", "leave") for k in kinds)
    rate = missed / n if n else 0.0
    hits = [sum(k == "absent" for k in kinds[i : i + rules.intermittent_window]) for i in range(n)]
    leave: dict[str, int] = {}
    for t in leave_types:
        leave[t or "other"] = leave.get(t or "other", 0) + 1
    return {
        "school_days": n,
        "absent": kinds.count("absent"),
        "late": kinds.count("late"),
        "leave": leave,
        "rate": rate,
        "chronic": n >= rules.min_days and rate * 100 >= rules.chronic_percent,
        "intermittent": any(h >= rules.intermittent_absences for h in hits),
        "window_absent": kinds[-rules.window_days :].count("absent"),
    }


@settings(max_examples=300, deadline=None)
@given(st.lists(DAY, min_size=10, max_size=60), RULES)
def test_measures_equal_an_independent_count_from_the_marks(
    raw: list[tuple[tuple[Marked, Marked, Marked], str | None]], rules: MeasureRules
) -> None:
    start = date(2026, 9, 1)
    school_days = [start + timedelta(days=i) for i in range(len(raw) + 1)]
    today = school_days[-1]  # not marked: left out of the count
    marks = {
        school_days[i]: {c: m[0] for c, m in zip(CHECKS, checks, strict=True) if m is not None}
        for i, (checks, _) in enumerate(raw)
        if any(m is not None for m in checks)
    }
    typed: dict[date, str] = {}
    for i, (checks, _) in enumerate(raw):
        for m in checks:  # the earliest check's leave type stands
            if m is not None and m[0] is Mark.leave and m[1]:
                typed.setdefault(school_days[i], m[1])
    leave = {school_days[i]: t for i, (_, t) in enumerate(raw) if t}
    got = measure(student_days(school_days, today, marks, leave, False, typed), rules)
    # The student's days begin at the first recorded one.
    first = next(
        (i for i, (checks, t) in enumerate(raw) if t or any(m is not None for m in checks)),
        len(raw),
    )
    want = brute(raw[first:], rules)
    assert got.term.school_days == want["school_days"]
    assert got.term.absent_days == want["absent"]
    assert got.term.late_days == want["late"]
    assert got.term.leave_days == want["leave"]
    assert abs(got.term.rate - want["rate"]) < 1e-12  # type: ignore[operator]
    assert got.chronic == want["chronic"]
    assert got.intermittent == want["intermittent"]
    assert got.window.absent_days == want["window_absent"]


def test_three_days_of_sick_leave_and_two_unexplained_in_forty_are_chronic_and_moderate() -> None:
    from app.domain.absence_measures import Day
    from app.domain.attendance import DayStatus

    days = [Day(DayStatus.present)] * 35 + [Day(DayStatus.leave, "sick")] * 3
    days += [Day(DayStatus.absent)] * 2
    m = measure(days, MeasureRules())
    assert (m.term.rate, m.band, m.chronic, m.intermittent) == (0.125, Band.moderate, True, False)
    # The same five days all unexplained and close together: intermittent too.
    closer = [Day(DayStatus.present)] * 35 + [Day(DayStatus.absent)] * 5
    assert measure(closer, MeasureRules()).intermittent
