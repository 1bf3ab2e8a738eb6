"""One digest per guardian: the grouping of absent children by guardian mobile, against a
brute-force count (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.guardians.notices import group_families

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
