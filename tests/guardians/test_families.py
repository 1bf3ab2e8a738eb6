"""One digest per guardian: the grouping of absent children by guardian mobile, against a
brute-force count (hypothesis); and the run of consecutive days a guardian's reports ahead
make, against the days counted one by one; SMS reply codes."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.domain.attendance import Symptom
from app.guardians.ahead import consecutive_run
from app.guardians.notices import group_families
from app.guardians.replies import parse_reply
from app.guardians.schemas import Answer

MOBILES = st.sampled_from(["13700000001", "137 0000 0001", "13800000002", "12345", "15900000003"])
ROSTER = st.dictionaries(st.integers(1, 30), st.lists(MOBILES, max_size=3), max_size=12)


def _digits(raw: str) -> str:
    return raw.replace(" ", "")


@given(ROSTER)
def test_each_valid_mobile_gets_exactly_its_children_once(roster: dict[int, list[str]]) -> None:
    got = group_families(roster)
    valid = {_digits(m) for ms in roster.values() for m in ms if len(_digits(m)) == 11}
    assert set(got) == valid
    for mobile in valid:
        expected = sorted(sid for sid, ms in roster.items() if mobile in map(_digits, ms))
        assert got[mobile] == expected
    # Messages sent = distinct guardians, never more than children × guardians.
    assert len(got) <= sum(len(ms) for ms in roster.values())


DAY0 = date(2026, 11, 23)
RANGE = st.tuples(st.integers(0, 40), st.integers(0, 5)).map(
    lambda t: (DAY0 + timedelta(days=t[0]), DAY0 + timedelta(days=t[0] + t[1]))
)


@given(RANGE, st.lists(RANGE, max_size=6))
def test_the_consecutive_run_is_the_unbroken_block_of_reported_days(
    new: tuple[date, date], others: list[tuple[date, date]]
) -> None:
    days = {a + timedelta(days=i) for a, b in [new, *others] for i in range((b - a).days + 1)}
    lo, hi = new
    while lo - timedelta(days=1) in days:
        lo -= timedelta(days=1)
    while hi + timedelta(days=1) in days:
        hi += timedelta(days=1)
    assert consecutive_run(*new, others) == (hi - lo).days + 1


def test_sms_reply_codes_read_as_a_guardian_types_them() -> None:
    assert parse_reply("1") == (Answer.ill, [Symptom.other])
    assert parse_reply(" １ 咳嗽,还发烧") == (Answer.ill, [Symptom.fever, Symptom.cough])
    assert parse_reply("2家里有事") == (Answer.family, [])
    assert parse_reply("3") == (Answer.on_the_way, [])
    assert parse_reply("4") == (Answer.dont_know, [])
    for text in ("", "5", "12", "好的", "收到1"):
        assert parse_reply(text) is None, text
