"""Rule symptom sets as data: "all of" besides "any of" (流感样病例 is 发热 *and* 咳嗽 or 咽痛),
and the single-case rule counting only an *unexplained* severe sign (no diagnosis yet)."""

from __future__ import annotations

from datetime import date

import httpx

from app.context import AppContext
from app.db.models import IllnessAlert
from app.domain.illness import DEFAULT_RULES, Case, Disease, detect
from tests.helpers import MONDAY, rows
from tests.illness.common import reporter, sick_roll, students
from tests.world import World

RULES = {r.code: r for r in DEFAULT_RULES}
DAY = date(2026, 11, 23)


def case(student: int, *symptoms: str, disease: Disease | None = None) -> Case:
    # One class each: no class rule is near its count, only the school's.
    return Case(student, 1, 1, student, DAY, frozenset(symptoms), disease)


def test_ili_needs_fever_and_cough_or_sore_throat() -> None:
    ili = RULES["ili_school"]
    assert ili.matches(case(1, "fever", "cough"))
    assert ili.matches(case(1, "fever", "sore_throat", "headache"))
    assert ili.matches(case(1, "high_fever", "cough"))  # a high fever is a fever
    assert not ili.matches(case(1, "fever"))  # fever alone is no ILI
    assert not ili.matches(case(1, "cough", "sore_throat"))  # nor a cough without fever
    ten = [case(i, "fever", "cough") for i in range(1, 11)]
    coughs = [case(i, "cough", "sore_throat") for i in range(1, 11)]
    assert [h.rule.code for h in detect([ili], ten, [DAY], DAY)] == ["ili_school"]
    assert detect([ili], coughs, [DAY], DAY) == []
    assert detect([ili], ten[:9], [DAY], DAY) == []


def test_the_severe_single_case_rule_counts_only_an_unexplained_sign() -> None:
    severe = RULES["severe_1"]
    assert severe.matches(case(1, "high_fever"))
    assert not severe.matches(case(1, "high_fever", disease=Disease.other))  # explained
    # A notifiable diagnosis is not counted here: its own rule reports it at once.
    assert not severe.matches(case(1, "high_fever", disease=Disease.influenza))
    assert RULES["influenza_case"].matches(case(1, "high_fever", disease=Disease.influenza))


async def test_a_diagnosed_high_fever_raises_no_single_case_alert(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    await reporter(world)
    a1 = await students(world, "A1", 2, 700)
    await sick_roll(client, world, a1[:1], MONDAY, symptoms=("high_fever",), diagnosis="other")
    assert await rows(ctx, IllnessAlert) == []
    await sick_roll(client, world, a1[1:], MONDAY, symptoms=("high_fever",))
    [alert] = await rows(ctx, IllnessAlert)
    assert alert.rule_code == "severe_1" and [c["student_id"] for c in alert.cases] == a1[1:]


async def test_a_county_sets_the_modes_as_data(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    url = f"/api/v1/illness/counties/{world.ids['county']}/rules/ili_class"
    rule = {
        "name": "流感样病例 班级单日≥2",
        "scope": "class",
        "count": 2,
        "window_days": 1,
        "symptoms": ["cough", "sore_throat"],
        "symptoms_all": ["fever"],
        "unexplained_only": True,
    }
    r = await client.put(url, json=rule, headers=world.auth("county_admin"))
    assert r.status_code == 200, r.text
    assert r.json()["symptoms_all"] == ["fever"] and r.json()["unexplained_only"] is True
    listed = await client.get(url.rsplit("/", 1)[0], headers=world.auth("county_admin"))
    assert {x["code"]: x for x in listed.json()}["ili_class"]["symptoms_all"] == ["fever"]
    bad = await client.put(
        url, json=rule | {"symptoms_all": ["sneezing"]}, headers=world.auth("county_admin")
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"][1] == "symptoms_all"
    # Two of a class with a cough only: not the county's ILI rule.
    a1 = await students(world, "A1", 2, 720)
    await sick_roll(client, world, a1, MONDAY, symptoms=("cough",))
    assert await rows(ctx, IllnessAlert) == []
    a2 = await students(world, "A2", 2, 730)
    await sick_roll(client, world, a2, MONDAY, symptoms=("fever", "sore_throat"))
    [alert] = await rows(ctx, IllnessAlert)
    assert alert.rule_code == "ili_class" and alert.scope_id == world.ids["class_A2"]
