"""The roll's one-answer-type operations (issue 23): ``POST /attendance-events/batch`` answers
only a ``BatchResult``, ``POST /attendance-events/single`` only an ``EventResult`` or a problem,
each refuses the other's body with nothing written, and the contract declares exactly that."""

from __future__ import annotations

from typing import Any

import httpx

from app.main import create_app
from tests.helpers import TUESDAY, event
from tests.world import World

BATCH = "/api/v1/attendance-events/batch"
SINGLE = "/api/v1/attendance-events/single"


async def day_status(client: httpx.AsyncClient, world: World, student: int) -> str | None:
    r = await client.get(
        f"/api/v1/classes/{world.ids['class_A1']}/roll?date={TUESDAY}",
        headers=world.auth("head_teacher"),
    )
    assert r.status_code == 200, r.text
    return next(s["day_status"] for s in r.json()["students"] if s["student_id"] == student)


async def test_a_batch_always_answers_a_batch_result(
    world: World, client: httpx.AsyncClient
) -> None:
    sid = world.ids["student_A1"]
    body = {"events": [event(sid, "absent")]}
    first = await client.post(BATCH, json=body, headers=world.auth("head_teacher"))
    again = await client.post(BATCH, json=body, headers=world.auth("head_teacher"))
    assert first.status_code == again.status_code == 200
    assert (first.json()["accepted"], again.json()["duplicate"]) == (1, 1)
    assert again.json()["results"][0]["result"] == "duplicate"
    assert await day_status(client, world, sid) == "absent"


async def test_one_event_answers_an_event_result(world: World, client: httpx.AsyncClient) -> None:
    sid = world.ids["student_A1"]
    e = event(sid, "absent")
    first = await client.post(SINGLE, json=e, headers=world.auth("head_teacher"))
    again = await client.post(SINGLE, json=e, headers=world.auth("head_teacher"))
    assert (first.status_code, first.json()["result"]) == (201, "accepted")
    assert (again.status_code, again.json()["result"]) == (200, "duplicate")
    other = await client.post(
        SINGLE, json={**e, "status": "present"}, headers=world.auth("head_teacher")
    )
    assert other.status_code == 409 and other.json()["result"]["code"] == "conflict"


async def test_each_refuses_the_others_body_and_writes_nothing(
    world: World, client: httpx.AsyncClient
) -> None:
    sid = world.ids["student_A1"]
    one = event(sid, "absent")
    r = await client.post(BATCH, json=one, headers=world.auth("head_teacher"))
    assert r.status_code == 422 and "/attendance-events/single" in r.json()["detail"]
    r = await client.post(SINGLE, json={"events": [one]}, headers=world.auth("head_teacher"))
    assert r.status_code == 422 and "/attendance-events/batch" in r.json()["detail"]
    assert r.json()["errors"][0]["loc"] == ["body"]
    assert await day_status(client, world, sid) != "absent"


def _success_schemas(doc: dict[str, Any], path: str) -> set[str]:
    answers = doc["paths"][path]["post"]["responses"]
    return {
        str(media["schema"])
        for status, answer in answers.items()
        if status.startswith("2")
        for media in answer["content"].values()
    }


def test_the_contract_gives_each_one_answer_type() -> None:
    doc = create_app().openapi()
    ref = "{'$ref': '#/components/schemas/%s'}"
    assert _success_schemas(doc, BATCH) == {ref % "BatchResult"}
    assert _success_schemas(doc, SINGLE) == {ref % "EventResult"}
    body = doc["paths"][BATCH]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/AttendanceBatchIn"}
    ids = {doc["paths"][p]["post"]["operationId"] for p in (BATCH, SINGLE)}
    assert ids == {"attendance_events_batch_create", "attendance_events_single_create"}
    # today's path keeps its either-or answer
    assert len(_success_schemas(doc, "/api/v1/attendance-events")) == 2
