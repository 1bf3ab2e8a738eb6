"""Schemathesis hooks for .ci/fuzz.py (loaded through SCHEMATHESIS_HOOKS).

The fuzzer must not saw off the branch it sits on: a change to the signed-in staff member's
own record (deactivation, a new password, a removed role) ends its session, and every later
request would answer 401 and test nothing. Those cases are dropped; the same operations on
every other id are still generated.

Timestamps (``format: date-time``) are drawn with extreme offsets too: any date from year 1
to 9999 with offsets up to ±23:59 (``0001-01-01T00:00:00+14:00`` has a UTC instant before year
1), the edges of the API's range (2000-01-01T00:00Z .. 2101-01-01T00:00Z, app/core/types.py)
from either side, and ordinary moments near now so that valid requests are still made.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import schemathesis
from hypothesis import strategies as st

_OWN = os.environ.get("FUZZ_OWN_STAFF_ID", "")


def _offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


_MOST = 23 * 60 + 59
_offsets = st.one_of(
    st.sampled_from([-_MOST, -14 * 60, -12 * 60, 0, 8 * 60, 14 * 60, _MOST]),
    st.integers(-_MOST, _MOST),
).map(_offset)
_clock = st.times().map(lambda t: t.replace(microsecond=0).isoformat())
_anywhere = st.builds("{}T{}{}".format, st.dates().map(str), _clock, _offsets | st.just("Z"))


def _near(edge: datetime) -> st.SearchStrategy[str]:
    """A moment within a day of ``edge``, written with some offset."""

    def render(seconds: int, minutes: int) -> str:
        offset = timedelta(minutes=minutes)
        local = (edge + timedelta(seconds=seconds)).astimezone(UTC) + offset
        return local.replace(tzinfo=None).isoformat() + _offset(minutes)

    return st.builds(render, st.integers(-86_400, 86_400), st.integers(-_MOST, _MOST))


_EDGES = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2101, 1, 1, tzinfo=UTC))
_NOW = datetime(2026, 11, 24, 0, 5, tzinfo=UTC)  # the demo's school week
_fixed = st.sampled_from(
    [
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00+23:59",
        "9999-12-31T23:59:59-23:59",
        "9999-12-31T23:59:59.999999-14:00",
        "1970-01-01T00:00:00Z",
    ]
)
schemathesis.openapi.format(
    "date-time",
    st.one_of(_fixed, _anywhere, *(_near(e) for e in _EDGES), _near(_NOW)),
)


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    if case.method.upper() in ("GET", "HEAD"):
        return True
    staff_id = (case.path_parameters or {}).get("staff_id")
    return str(staff_id) != _OWN
