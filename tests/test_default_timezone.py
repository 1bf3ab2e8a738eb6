"""``KCBX_DEFAULT_TIMEZONE`` is read: a school created without a timezone gets it, and the
county-wide reports read their days in it."""

from __future__ import annotations

import httpx
import pytest

from app.context import AppContext
from app.core.time import default_zone
from tests.world import World, build_world

pytestmark = pytest.mark.db

URUMQI = "Asia/Urumqi"


@pytest.fixture
async def world(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setattr(
        ctx, "settings", ctx.settings.model_copy(update={"default_timezone": URUMQI})
    )
    return await build_world(ctx)


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
    assert default_zone(ctx).key == URUMQI
