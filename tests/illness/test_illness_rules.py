"""Issue 21: cluster rules are data a county sets; a window or count of 0 is a 422, nothing
changed; a county's rule takes effect at the next roll, another county keeps the defaults."""

from __future__ import annotations

import httpx

from app.context import AppContext
from app.db.models import IllnessAlert, IllnessRule
from tests.helpers import MONDAY, count, rows
from tests.illness.common import sick_roll, students
from tests.world import World


def _url(world: World, code: str = "") -> str:
    base = f"/api/v1/illness/counties/{world.ids['county']}/rules"
    return f"{base}/{code}" if code else base


RULE = {
    "name": "发热 全校单日≥2",
    "scope": "school",
    "count": 2,
    "window_days": 1,
    "symptoms": ["fever"],
    "deadline_hours": 1,
}


async def test_a_county_rule_takes_effect_and_bad_rules_are_refused(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    r = await client.get(_url(world), headers=world.auth("county_admin"))
    assert r.status_code == 200 and all(x["default"] for x in r.json())
    assert {"resp_1d", "resp_3d", "measles"} <= {x["code"] for x in r.json()}
    for field, value in (("window_days", 0), ("count", 0), ("symptoms", ["sneezing"])):
        bad = await client.put(
            _url(world, "fever_school"),
            json=RULE | {field: value},
            headers=world.auth("county_admin"),
        )
        assert bad.status_code == 422, (field, bad.text)
        assert bad.json()["errors"][0]["loc"][1] == field
    both = RULE | {"disease": "measles"}
    bad = await client.put(_url(world, "x"), json=both, headers=world.auth("county_admin"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"][-1] == "disease"
    assert await count(ctx, IllnessRule) == 0
    denied = await client.put(_url(world, "x"), json=RULE, headers=world.auth("principal"))
    assert denied.status_code == 404

    ok = await client.put(
        _url(world, "fever_school"), json=RULE, headers=world.auth("county_admin")
    )
    assert ok.status_code == 200, ok.text
    # Two children of two classes with fever: the school-wide rule, due in 1 hour.
    await sick_roll(client, world, await students(world, "A1", 1, 800), MONDAY, symptoms=("fever",))
    await sick_roll(client, world, await students(world, "A2", 1, 810), MONDAY, symptoms=("fever",))
    [alert] = await rows(ctx, IllnessAlert)
    assert alert.rule_code == "fever_school" and alert.scope == "school"
    assert (alert.report_due - alert.created_at).total_seconds() == 3600


async def test_a_county_switches_a_default_off(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    off = {
        "name": "关闭",
        "scope": "class",
        "count": 3,
        "window_days": 1,
        "symptoms": ["fever", "cough", "sore_throat"],
        "active": False,
    }
    # A first sick child: the county's rules are read (and cached) with resp_1d on.
    await sick_roll(client, world, await students(world, "A1", 1, 890), MONDAY)
    r = await client.put(_url(world, "resp_1d"), json=off, headers=world.auth("county_admin"))
    assert r.status_code == 200 and not r.json()["active"]
    # Three more of the class the same day: four, but the switched-off rule is not applied.
    await sick_roll(client, world, await students(world, "A1", 3, 900), MONDAY)
    assert await count(ctx, IllnessAlert) == 0
