"""``KCBX_DEFAULT_TIMEZONE`` is read: a school created without a timezone gets it, and the
county-wide reports read their days (and so the current school year) in it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest

from app.context import AppContext
from app.core.clock import SimClock as Clock
from app.core.time import current_school_year, school_year
from tests.world import World

URUMQI = "Asia/Urumqi"
pytestmark = [pytest.mark.db, pytest.mark.world(settings={"default_timezone": URUMQI})]


async def test_a_school_sent_without_a_timezone_gets_the_configured_default(
    world: World, client: httpx.AsyncClient
) -> None:
    body = {"township_id": world.ids["township_county"], "name": "新校", "code": "NEW-TZ"}
    body["kind"] = "primary"
    r = await client.post("/api/v1/schools", json=body, headers=world.auth("county_admin"))
    assert r.status_code == 201, r.text
    assert r.json()["timezone"] == URUMQI
    body |= {"code": "NEW-TZ2", "name": "新校二", "timezone": "Asia/Shanghai"}
    r = await client.post("/api/v1/schools", json=body, headers=world.auth("county_admin"))
    assert r.json()["timezone"] == "Asia/Shanghai"  # a timezone sent is kept


async def test_services_read_days_in_the_configured_zone(world: World, ctx: AppContext) -> None:
    assert ctx.default_zone().key == URUMQI


def test_the_school_year_starts_on_the_first_of_september() -> None:
    assert [school_year(date(2026, m, d)) for m, d in ((8, 31), (9, 1), (12, 31))] == [
        2025,
        2026,
        2026,
    ]
    assert school_year(date(2027, 1, 1)) == 2026


async def test_the_current_school_year_turns_in_the_configured_zone(
    world: World, ctx: AppContext
) -> None:
    # 31 August 17:00 UTC is 1 September 01:00 in Shanghai but still 31 August in Urumqi (UTC+6).
    ctx.clock = Clock(datetime(2026, 8, 31, 17, 0, tzinfo=UTC))
    assert current_school_year(ctx.clock(), ctx.default_zone()) == 2025
