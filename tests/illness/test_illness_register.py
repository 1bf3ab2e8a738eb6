"""Issue 21: sick leave (however filed, pending included) is in the illness register and counts
towards clusters; the head teacher's 病因追查 is recorded against the absence."""

from __future__ import annotations

import httpx

from app.context import AppContext
from app.db.models import IllnessAlert, IllnessRecord
from tests.helpers import MONDAY, WEDNESDAY, move, rows
from tests.illness.common import REGISTER, at, sick_roll, students
from tests.world import World


async def test_a_pending_sick_leave_is_in_the_register_and_joins_a_cluster(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    a1 = await students(world, "A1", 3, 1000)
    move(ctx, at(MONDAY, "07:30"))
    leave = {
        "student_id": a1[0],
        "start_date": MONDAY.isoformat(),
        "end_date": MONDAY.isoformat(),
        "leave_type": "sick",
        "reason": "家长来电",
        "onset_at": at(MONDAY, "06:00").isoformat(),
        "symptoms": ["fever", "parotid_swelling"],
    }
    r = await client.post("/api/v1/leaves", json=leave, headers=world.auth("subject_teacher"))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "pending"
    q = {"school_id": world.ids["school_A"], "start": MONDAY.isoformat(), "end": MONDAY.isoformat()}
    [entry] = (await client.get(REGISTER, params=q, headers=world.auth("head_teacher"))).json()[
        "entries"
    ]
    assert entry["source"] == "leave" and entry["kind"] == "sick_leave"
    assert [s["label"] for s in entry["symptoms"]] == ["发热", "腮腺肿大"]
    await sick_roll(client, world, a1[1:], MONDAY)
    [alert] = await rows(ctx, IllnessAlert)
    assert {c["student_id"] for c in alert.cases} == set(a1)


async def test_the_head_teacher_follows_up_a_subject_teacher_may_not(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    await sick_roll(client, world, [world.ids["student_A1"]], MONDAY)
    [record] = await rows(ctx, IllnessRecord)
    url = f"/api/v1/illness/records/{record.id}/follow-up"
    body = {
        "called_family": True,
        "doctor_seen": True,
        "diagnosis": "influenza",
        "diagnosis_note": "县医院门诊",
        "note": "已电话联系母亲",
    }
    denied = await client.post(url, json=body, headers=world.auth("subject_teacher"))
    assert denied.status_code == 403
    bad = await client.post(
        url, json=body | {"diagnosis": "plague"}, headers=world.auth("head_teacher")
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"][-1] == "diagnosis"
    move(ctx, at(WEDNESDAY))
    r = await client.post(url, json=body, headers=world.auth("head_teacher"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["diagnosis_label"] == "流行性感冒" and out["called_family"] and out["doctor_seen"]
    assert out["followed_up_by"].startswith("staff:")
