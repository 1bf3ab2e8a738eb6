"""联合劝返 (joint persuasion) over HTTP: home visits, persuasion talks and the 一人一策 plan of
a red case, in the case's timeline; closed cases, wrong people and bad dates change nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from app.context import AppContext
from app.db.models import CaseEvent, HomeVisit, PersuasionTalk, ReturnPlan
from tests.conftest import Clock
from tests.helpers import FRIDAY, MONDAY, TUESDAY, WEDNESDAY, absent_case, count, event
from tests.world import World


async def send(
    client: httpx.AsyncClient, world: World, who: str, method: str, url: str, body: Any
) -> httpx.Response:
    return await client.request(method, url, json=body, headers=world.auth(who))


async def get(client: httpx.AsyncClient, world: World, who: str, url: str) -> Any:
    r = await client.get(url, headers=world.auth(who))
    assert r.status_code == 200, r.text
    return r.json()


def visit(world: World, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "visited_on": TUESDAY.isoformat(),
        "place": "某村 3 组学生家中",
        "participants": [
            {"name": "vice_principal", "kind": "staff", "staff_id": world.ids["vice_principal"]},
            {"name": "村委会主任 王某", "kind": "village_committee"},
        ],
        "met": "学生本人及其祖母",
        "summary": "讲解义务教育法,祖母同意送孩子返校",
        "outcome": "agreed_to_return",
    }
    body.update(extra)
    return body


def talk(**extra: Any) -> dict[str, Any]:
    body = {
        "talked_on": TUESDAY.isoformat(),
        "with_whom": "学生及其父亲",
        "by_whom": "任课教师 subject_teacher",
        "content": "了解学习困难,约定每周两次辅导",
    }
    body.update(extra)
    return body


def plan(world: World, *measures: dict[str, Any]) -> dict[str, Any]:
    return {"cause": "learning_difficulty", "cause_note": "数学跟不上", "measures": list(measures)}


def measure(owner: int, kind: str = "tutoring", *days: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "description": "每周二、四放学后辅导数学",
        "owner_staff_id": owner,
        "review_dates": list(days or ("2026-12-01", "2026-12-15")),
    }


async def test_a_red_case_records_visits_talks_and_a_plan_in_its_timeline(
    world: World, client: httpx.AsyncClient
) -> None:
    case_id = await absent_case(client, world, FRIDAY, MONDAY, TUESDAY)
    base = f"/api/v1/cases/{case_id}"

    r = await send(client, world, "vice_principal", "POST", f"{base}/home-visits", visit(world))
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["outcome"], out["outcome_label"]) == ("agreed_to_return", "同意返校")
    assert [(p["kind"], p["kind_label"]) for p in out["participants"]] == [
        ("staff", "学校教职工"),
        ("village_committee", "村委会"),
    ]
    assert out["recorded_by"].endswith("vice_principal")

    # Subject teachers of the class are in the work group at red: they record too.
    r = await send(client, world, "subject_teacher", "POST", f"{base}/talks", talk())
    assert r.status_code == 201, r.text

    body = plan(
        world,
        measure(world.ids["head_teacher"], "subsidy"),
        measure(world.ids["subject_teacher"], "tutoring", "2026-12-01", "2026-12-08", "2027-01-05"),
    )
    r = await send(client, world, "head_teacher", "PUT", f"{base}/plan", body)
    assert r.status_code == 200, r.text
    assert r.json()["cause_label"] == "学习困难"

    visits = await get(client, world, "principal", f"{base}/home-visits")
    assert [v["place"] for v in visits] == ["某村 3 组学生家中"]
    assert visits[0]["participants"][1]["name"] == "村委会主任 王某"
    talks = await get(client, world, "head_teacher", f"{base}/talks")
    assert [t["with_whom"] for t in talks] == ["学生及其父亲"]
    got = await get(client, world, "subject_teacher", f"{base}/plan")
    assert [(m["kind"], m["kind_label"], m["owner_name"]) for m in got["measures"]] == [
        ("subsidy", "两免一补", "head_teacher"),
        ("tutoring", "学业辅导", "subject_teacher"),
    ]
    assert got["measures"][1]["review_dates"] == ["2026-12-01", "2026-12-08", "2027-01-05"]

    case = await get(client, world, "principal", base)
    kinds = [e["kind"] for e in case["timeline"]]
    assert kinds[-3:] == ["home_visit.recorded", "talk.recorded", "plan.updated"]
    visit_event = next(e for e in case["timeline"] if e["kind"] == "home_visit.recorded")
    assert "同意返校" in visit_event["text"] and visit_event["actor"].endswith("vice_principal")

    # One plan per case: PUT replaces it.
    r = await send(
        client,
        world,
        "principal",
        "PUT",
        f"{base}/plan",
        plan(world, measure(world.ids["principal"])),
    )
    assert r.status_code == 200, r.text
    assert len((await get(client, world, "principal", f"{base}/plan"))["measures"]) == 1
    case = await get(client, world, "principal", base)
    assert [e["kind"] for e in case["timeline"]].count("plan.updated") == 2


async def test_bad_dates_and_foreign_owners_are_422_and_write_nothing(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    case_id = await absent_case(client, world, FRIDAY, MONDAY, TUESDAY)
    base = f"/api/v1/cases/{case_id}"
    events = await count(ctx, CaseEvent)

    r = await send(
        client,
        world,
        "head_teacher",
        "POST",
        f"{base}/home-visits",
        visit(world, visited_on="2026-11-25"),
    )
    assert r.status_code == 422
    assert [d["loc"] for d in r.json()["errors"]] == [["body", "visited_on"]]
    r = await send(
        client, world, "head_teacher", "POST", f"{base}/talks", talk(talked_on="2026-12-01")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "talked_on"]

    owner = world.ids["head_teacher"]
    out_of_order = measure(owner, "mentor", "2026-12-15", "2026-12-01")
    foreign = measure(world.ids["principal_B"], "subsidy")
    r = await send(
        client, world, "head_teacher", "PUT", f"{base}/plan", plan(world, out_of_order, foreign)
    )
    assert r.status_code == 422
    assert [d["loc"] for d in r.json()["errors"]] == [
        ["body", "measures", 0, "review_dates"],
        ["body", "measures", 1, "owner_staff_id"],
    ]
    stranger = visit(world)
    stranger["participants"][0]["staff_id"] = world.ids["vice_principal_B"]
    r = await send(client, world, "head_teacher", "POST", f"{base}/home-visits", stranger)
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "participants", 0, "staff_id"]

    assert (await count(ctx, HomeVisit), await count(ctx, PersuasionTalk)) == (0, 0)
    assert await count(ctx, ReturnPlan) == 0
    assert await count(ctx, CaseEvent) == events
    r = await client.get(f"{base}/plan", headers=world.auth("principal"))
    assert r.status_code == 404


async def test_who_may_record(world: World, client: httpx.AsyncClient, ctx: AppContext) -> None:
    # Blue only: no work group yet, so the subject teacher sees the case but may not record.
    case_id = await absent_case(client, world, TUESDAY)
    base = f"/api/v1/cases/{case_id}"
    r = await send(client, world, "subject_teacher", "POST", f"{base}/talks", talk())
    assert r.status_code == 403
    assert await get(client, world, "subject_teacher", f"{base}/talks") == []
    # Another school's principal does not see the case at all.
    r = await send(client, world, "principal_B", "POST", f"{base}/home-visits", visit(world))
    assert r.status_code == 404
    assert (await client.get(f"{base}/talks", headers=world.auth("principal_B"))).status_code == 404
    # API keys read, never act.
    r = await send(
        client,
        world,
        "principal",
        "POST",
        "/api/v1/api-keys",
        {"name": "县平台", "school_id": world.ids["school_A"]},
    )
    key = {"X-API-Key": r.json()["key"]}
    assert (await client.get(f"{base}/home-visits", headers=key)).status_code == 200
    r = await client.post(f"{base}/talks", json=talk(), headers=key)
    assert r.status_code == 403
    # The head teacher may, on any open case of the class.
    r = await send(client, world, "head_teacher", "POST", f"{base}/talks", talk())
    assert r.status_code == 201, r.text
    assert await count(ctx, PersuasionTalk) == 1


async def test_a_closed_case_takes_no_records(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    case_id = await absent_case(client, world, TUESDAY)
    assert isinstance(ctx.clock, Clock)
    ctx.clock.now = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # Wednesday 09:00 Beijing
    events = [event(world.ids["student_A1"], "present", day=WEDNESDAY)]
    r = await client.post("/api/v1/attendance-events", json=events, headers=world.auth("principal"))
    assert r.status_code == 200, r.text
    base = f"/api/v1/cases/{case_id}"
    case = await get(client, world, "principal", base)
    assert case["status"] == "closed"

    r = await send(client, world, "principal", "POST", f"{base}/home-visits", visit(world))
    assert r.status_code == 409 and "结案" in r.json()["detail"]
    r = await send(client, world, "principal", "POST", f"{base}/talks", talk())
    assert r.status_code == 409
    r = await send(
        client,
        world,
        "principal",
        "PUT",
        f"{base}/plan",
        plan(world, measure(world.ids["principal"])),
    )
    assert r.status_code == 409
    assert (await count(ctx, HomeVisit), await count(ctx, PersuasionTalk)) == (0, 0)
    assert await count(ctx, ReturnPlan) == 0
    after = await get(client, world, "principal", base)
    assert len(after["timeline"]) == len(case["timeline"])
