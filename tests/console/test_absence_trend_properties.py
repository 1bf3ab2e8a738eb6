"""The daily absence rate (``GET /reports/absence-trend``) against a brute-force count made
from each class's roll (``GET /classes/{id}/roll``, another path through the day statuses)."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from app.context import AppContext
from tests.helpers import MONDAY, TUESDAY, event
from tests.world import World, build_world

pytestmark = pytest.mark.db
DAYS = (MONDAY, TUESDAY)
CHECKS = ("morning", "noon", "dismissal")
STATUSES = ("present", "late", "absent")

mark = st.tuples(
    st.integers(0, 4),  # which student
    st.sampled_from(DAYS),
    st.sampled_from(CHECKS),
    st.sampled_from(STATUSES),
)
_world: dict[str, object] = {}


async def _clear(ctx: AppContext) -> None:
    async with ctx.engine.begin() as conn:
        await conn.execute(text("DELETE FROM attendance_event"))


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(mark, max_size=14, unique_by=lambda m: (m[0], m[1], m[2])))
async def test_the_rate_is_the_rolls_absent_over_the_recorded(
    ctx: AppContext, client: httpx.AsyncClient, marks: list[tuple[int, object, str, str]]
) -> None:
    if _world.get("clock") is not ctx.clock:
        built = await build_world(ctx)
        for n in (2, 3, 4):
            await built.add_student(f"s{n}", "class_A1" if n < 4 else "class_A2", 300 + n)
        _world.update(clock=ctx.clock, world=built)
    world = _world["world"]
    assert isinstance(world, World)
    ids = world.ids
    students = [ids["student_A1"], ids["s2"], ids["s3"], ids["student_A2"], ids["s4"]]
    await _clear(ctx)
    events = [
        event(students[who], status, check=check, day=day, at="08:05")  # type: ignore[arg-type]
        for who, day, check, status in marks
    ]
    if events:
        r = await client.post(
            "/api/v1/attendance-events", json=events, headers=world.auth("principal")
        )
        assert r.status_code == 200, r.text

    got = await client.get(
        "/api/v1/reports/absence-trend",
        params={"school_id": ids["school_A"], "start": str(MONDAY), "end": str(TUESDAY)},
        headers=world.auth("principal"),
    )
    assert got.status_code == 200, got.text
    points = {p["date"]: p for p in got.json()["schools"][0]["points"]}
    for day in DAYS:
        statuses = []
        for klass in ("class_A1", "class_A2"):
            roll = await client.get(
                f"/api/v1/classes/{ids[klass]}/roll",
                params={"date": str(day)},
                headers=world.auth("principal"),
            )
            statuses += [s["day_status"] for s in roll.json()["students"]]
        absent = statuses.count("absent")
        recorded = sum(1 for s in statuses if s != "not_recorded")
        point = points[str(day)]
        assert point["on_roll"] == len(statuses)
        assert point["absent"] == absent
        assert point["not_recorded"] == len(statuses) - recorded
        assert point["absence_rate"] == (round(absent / recorded, 4) if recorded else None)
