"""The reminder rounds of a late 月报 against a brute-force walk over the days: one notice on
the first late day and one every N days after, never one on or before the due day."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.domain.reminders import reminder_round


@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(min_value=0, max_value=120),
    st.integers(min_value=1, max_value=30),
)
def test_one_reminder_per_round(due: date, span: int, every: int) -> None:
    # The job runs every day from a week before the due day to ``span`` days after it; a
    # notice is written when its round's key is new. Brute force: the days a person would
    # expect one — the first late day, then each ``every`` days on.
    start = due - timedelta(days=7)
    sent: list[date] = []
    seen: set[int] = set()
    for i in range(7 + span + 1):
        day = start + timedelta(days=i)
        r = reminder_round(due, day, every)
        if r is not None and r not in seen:
            seen.add(r)
            sent.append(day)
    expected = [due + timedelta(days=d) for d in range(1, span + 1) if (d - 1) % every == 0]
    assert sent == expected
