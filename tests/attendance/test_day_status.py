"""Day status from the three checks, and order-independence of corrections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.attendance import Check, DayStatus, Mark, day_status, supersedes

C, M = Check, Mark


@pytest.mark.parametrize(
    ("marks", "leave", "expected"),
    [
        ({C.morning: M.present}, False, DayStatus.present),
        ({C.morning: M.late}, False, DayStatus.late),
        ({C.morning: M.absent, C.noon: M.present}, False, DayStatus.late),
        ({C.noon: M.present}, False, DayStatus.present),
        ({C.morning: M.absent}, False, DayStatus.absent),
        ({C.morning: M.absent, C.noon: M.absent}, True, DayStatus.leave),
        ({C.morning: M.leave}, False, DayStatus.leave),
        ({C.morning: M.absent, C.dismissal: M.leave}, False, DayStatus.leave),
        ({}, False, DayStatus.not_recorded),
        ({}, True, DayStatus.leave),
        ({C.morning: M.present, C.dismissal: M.absent}, False, DayStatus.present),
    ],
)
def test_rules(marks: dict[Check, Mark], leave: bool, expected: DayStatus) -> None:
    assert day_status(marks, on_approved_leave=leave, home_schooled=False) is expected


def test_home_schooled_students_are_never_absent() -> None:
    marks = {C.morning: M.absent, C.noon: M.absent, C.dismissal: M.absent}
    assert day_status(marks, on_approved_leave=False, home_schooled=True) is DayStatus.present


T0 = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
observations = st.lists(
    st.tuples(st.integers(0, 600), st.uuids().map(str), st.sampled_from(list(Mark))),
    min_size=1,
    max_size=8,
)


@given(observations, st.randoms())
def test_the_winner_does_not_depend_on_arrival_order(obs, rnd) -> None:  # type: ignore[no-untyped-def]
    def final(order):  # type: ignore[no-untyped-def]
        current = None
        for minutes, event_id, mark in order:
            key = (T0 + timedelta(minutes=minutes), event_id)
            if current is None or supersedes(key, current[0]):
                current = (key, mark)
        return current

    shuffled = list(obs)
    rnd.shuffle(shuffled)
    assert final(obs) == final(shuffled)
