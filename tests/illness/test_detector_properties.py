"""The cluster detector against a brute-force count over random rolls (issue 21)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.illness import DEFAULT_RULES, Case, Disease, Rule, Scope, detect, window

DAYS = [date(2026, 11, 2) + timedelta(days=i) for i in range(21)]
# A calendar with days off: weekends and one closure are no school days.
SCHOOL_DAYS = [d for d in DAYS if d.weekday() < 5 and d != date(2026, 11, 11)]
SYMPTOMS = [
    "fever",
    "cough",
    "sore_throat",
    "rash",
    "diarrhoea",
    "vomiting",
    "headache",
    "high_fever",
    "breathing_difficulty",
]

cases = st.builds(
    Case,
    student_id=st.integers(1, 25),
    school_id=st.just(1),
    grade_id=st.integers(1, 2),
    class_id=st.integers(1, 4),
    day=st.sampled_from(SCHOOL_DAYS),
    symptoms=st.frozensets(st.sampled_from(SYMPTOMS), min_size=1, max_size=3),
    disease=st.none() | st.sampled_from(list(Disease)),
)
rules = st.builds(
    Rule,
    code=st.text("abc", min_size=1, max_size=3),
    name=st.just("r"),
    scope=st.sampled_from(list(Scope)),
    count=st.integers(1, 6),
    window_days=st.integers(1, 7),
    symptoms=st.frozensets(st.sampled_from(SYMPTOMS), max_size=3),
    disease=st.none() | st.sampled_from(list(Disease)),
    symptoms_all=st.frozensets(st.sampled_from(SYMPTOMS), max_size=2),
    unexplained_only=st.booleans(),
)


def brute(rule: Rule, all_cases: list[Case], day: date) -> dict[int, set[int]]:
    """Per scope id, the students meeting ``rule`` on ``day``: walk back over the calendar
    day by day, counting school days, and test every case against every scope id."""
    inside: list[date] = []
    d = day
    while len(inside) < rule.window_days and d >= DAYS[0]:
        if d in SCHOOL_DAYS:
            inside.append(d)
        d -= timedelta(days=1)
    met: dict[int, set[int]] = {}
    for scope_id in range(1, 5):
        students = set()
        for c in all_cases:
            own = {Scope.class_: c.class_id, Scope.grade: c.grade_id, Scope.school: c.school_id}
            if own[rule.scope] != scope_id or c.day not in inside:
                continue
            # Spelled out apart from Rule.matches: a high fever is a fever for "all of".
            has = set(c.symptoms) | ({"fever"} if "high_fever" in c.symptoms else set())
            if rule.unexplained_only and c.disease is not None:
                ok = False
            elif rule.disease is not None:
                ok = c.disease == rule.disease
            else:
                ok = all(s in has for s in rule.symptoms_all) and (
                    not rule.symptoms or any(s in c.symptoms for s in rule.symptoms)
                )
            if ok:
                students.add(c.student_id)
        if len(students) >= rule.count:
            met[scope_id] = students
    return met


@settings(max_examples=300, deadline=None)
@given(
    st.lists(cases, max_size=40),
    st.lists(rules, min_size=1, max_size=4) | st.just(list(DEFAULT_RULES)),
    st.sampled_from(SCHOOL_DAYS),
)
def test_detect_matches_a_brute_force_count(
    all_cases: list[Case], all_rules: list[Rule], day: date
) -> None:
    hits = detect(all_rules, all_cases, SCHOOL_DAYS, day)
    got = {(id(h.rule), h.scope_id): set(h.students) for h in hits}
    want = {
        (id(rule), scope_id): students
        for rule in all_rules
        for scope_id, students in brute(rule, all_cases, day).items()
    }
    assert got == want
    for h in hits:
        assert h.window_start == window(SCHOOL_DAYS, day, h.rule.window_days)[0]
        assert h.day == day


def test_a_day_off_breaks_no_window() -> None:
    """Friday and Monday are consecutive school days: the 3-day window spans the weekend."""
    friday, monday, tuesday = date(2026, 11, 6), date(2026, 11, 9), date(2026, 11, 10)
    rule = Rule("r", "r", Scope.class_, 3, 3, frozenset({"fever"}))
    few = [
        Case(i, 1, 1, 1, d, frozenset({"fever"})) for i, d in enumerate((friday, monday, tuesday))
    ]
    assert [h.students for h in detect([rule], few, SCHOOL_DAYS, tuesday)] == [(0, 1, 2)]
    assert detect([rule], few, SCHOOL_DAYS, date(2026, 11, 12)) == []  # Thursday: Friday left
