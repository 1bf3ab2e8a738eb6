"""The moments a drill stops at: in order, once each, inside the move, and none missing — every
school day's checks plus grace and every local midnight, across timezones and odd ranges."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.access import Actor, ActorKind, Grant
from app.domain.calendar import SchoolCalendar
from app.domain.drill import DRILL_SCOPE, SchoolClockFacts, calendar_moments, may_move_clock
from app.domain.roles import Role

CAL = SchoolCalendar()  # no 校历 loaded: national working days count
starts = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 1), timezones=st.just(UTC)
)
zones = st.sampled_from(["Asia/Shanghai", "Asia/Urumqi", "UTC", "America/New_York"])
checks = st.lists(
    st.times(min_value=time(6), max_value=time(20)).map(
        lambda t: t.replace(second=0, microsecond=0)
    ),
    min_size=1,
    max_size=3,
    unique=True,
)


@settings(max_examples=60, deadline=None)
@given(
    start=starts,
    hours=st.integers(min_value=0, max_value=24 * 20),
    zone=zones,
    times=checks,
    grace=st.integers(min_value=0, max_value=120),
)
def test_moments_are_ordered_unique_inside_and_complete(
    start: datetime, hours: int, zone: str, times: list[time], grace: int
) -> None:
    end = start + timedelta(hours=hours, minutes=7)
    school = SchoolClockFacts(zone, tuple(times), CAL)
    got = calendar_moments([school], start, end, timedelta(minutes=grace))
    assert got == sorted(set(got))
    assert all(start < m <= end for m in got)
    tz = ZoneInfo(zone)
    expected = set()
    day = start.astimezone(tz).date() - timedelta(days=1)
    while day <= end.astimezone(tz).date() + timedelta(days=1):
        expected.add(datetime.combine(day, time(0), tz))
        if CAL.is_school_day(day):
            expected |= {datetime.combine(day, t, tz) + timedelta(minutes=grace) for t in times}
        day += timedelta(days=1)
    assert set(got) == {m for m in expected if start < m <= end}


def test_two_schools_share_their_common_moments() -> None:
    start = datetime(2026, 9, 1, 0, 0, tzinfo=UTC)
    same = SchoolClockFacts("Asia/Shanghai", (time(8), time(13, 30), time(16, 30)), CAL)
    got = calendar_moments([same, same], start, start + timedelta(days=1), timedelta(minutes=30))
    assert len(got) == len(set(got)) == 4  # three checks and one midnight, not eight


def test_who_may_move_the_clock() -> None:
    """The operator; the drill county's admins and drill-scoped county keys; nobody else."""
    county, other = Grant(Role.county_admin, 1), Grant(Role.county_admin, 2)
    principal = Grant(Role.principal, 1, 10)
    staff, key = ActorKind.staff, ActorKind.api_key
    drill = frozenset({DRILL_SCOPE})
    operator = Actor(staff, 1, "运维", superuser=True)
    for drill_county in (1, None):
        assert may_move_clock(operator, drill_county)
    assert may_move_clock(Actor(staff, 2, "县管理员", grants=(county,)), 1)
    assert not may_move_clock(Actor(staff, 2, "县管理员", grants=(county,)), None)
    assert not may_move_clock(Actor(staff, 6, "邻县管理员", grants=(other,)), 1)
    assert not may_move_clock(Actor(staff, 3, "校长", grants=(principal,)), 1)
    assert not may_move_clock(Actor(key, 4, "县系统", grants=(county,)), 1)
    assert may_move_clock(Actor(key, 5, "县演练系统", grants=(county,), scopes=drill), 1)
    assert not may_move_clock(Actor(key, 7, "邻县演练系统", grants=(other,), scopes=drill), 1)
    assert not may_move_clock(Actor(key, 8, "校系统", grants=(principal,), scopes=drill), 1)
