"""转学 and 休学 over HTTP: the four-step transfer ends with 学籍 status 10 and the student
inactive; wrong schools, wrong people and wrong dates change nothing; suspended days count as
leave, so an absence on them opens no case; follow-ups after a return."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.context import AppContext
from app.db.models import Student, Suspension, Transfer
from tests.conftest import Clock
from tests.helpers import MONDAY, TUESDAY, WEDNESDAY, count, event, post, red_case
from tests.world import World


async def student(ctx: AppContext, student_id: int) -> Student:
    async with ctx.uow() as uow:
        found = await uow.session.get(Student, student_id)
        assert found is not None
        return found


def application(world: World, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "student_id": world.ids["student_A1"],
        "to_school_id": world.ids["school_B"],
        "applied_on": "2026-11-20",
        "leave_on": "2026-11-24",  # today: the move is at approval
        "reason": "随父母务工迁居",
    }
    body.update(changes)
    return body


async def test_a_transfer_takes_four_steps_and_the_student_leaves(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    sid = world.ids["student_A1"]
    r = await post(client, world, "head_teacher", "/api/v1/transfers", application(world))
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["status"], out["status_label"]) == ("applied", "已申请")
    assert out["number"] == "SA-ZX-2026-001"
    assert out["to_school_name"] == "学校B"
    base = f"/api/v1/transfers/{out['id']}"

    # A second one while this one is in progress.
    r = await post(client, world, "principal", "/api/v1/transfers", application(world))
    assert r.status_code == 409

    # Steps out of order, and the wrong people.
    assert (await post(client, world, "principal", f"{base}/approve")).status_code == 409
    assert (await post(client, world, "principal", f"{base}/head-teacher-sign")).status_code == 403
    r = await post(client, world, "head_teacher", f"{base}/head-teacher-sign")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "head_teacher_signed" and r.json()["head_teacher_signed_at"]
    assert (await post(client, world, "principal", f"{base}/receiving-sign")).status_code == 403
    # The receiving school chooses one of its own classes.
    for body in (None, {"class_id": world.ids["class_A2"]}, {"class_id": 999_999}):
        r = await post(client, world, "principal_B", f"{base}/receiving-sign", body)
        assert r.status_code == 422 and "class_id" in r.text, r.text
    body = {"class_id": world.ids["class_B1"]}
    r = await post(client, world, "principal_B", f"{base}/receiving-sign", body)
    assert r.status_code == 200, r.text
    assert r.json()["receiving_signed_by"].endswith("principal_B")
    assert r.json()["to_class_id"] == world.ids["class_B1"]

    # Approval: the sending school's vice principal or principal only.
    assert (await post(client, world, "head_teacher", f"{base}/approve")).status_code == 403
    assert (await post(client, world, "academic_affairs", f"{base}/approve")).status_code == 403
    assert (await post(client, world, "principal_B", f"{base}/approve")).status_code == 403
    assert (await student(ctx, sid)).status == "01"
    r = await post(client, world, "vice_principal", f"{base}/approve")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["status_label"]) == ("approved", "已批准")
    assert r.json()["decided_by"].endswith("vice_principal")
    # One child, one 学籍: the student is now on the receiving class's roll.
    after = await student(ctx, sid)
    assert (after.status, after.active) == ("01", True)
    assert (after.school_id, after.class_id) == (world.ids["school_B"], world.ids["class_B1"])
    url = f"/api/v1/students/{sid}"
    assert (await client.get(url, headers=world.auth("head_teacher"))).status_code == 404
    assert (await client.get(url, headers=world.auth("principal_B"))).status_code == 200
    r = await client.get(f"{url}/enrollment-changes", headers=world.auth("principal_B"))
    assert [(c["kind"], c["school_id"], c["reference"]) for c in r.json()] == [
        ("transfer_out", world.ids["school_A"], out["number"]),
        ("transfer_in", world.ids["school_B"], out["number"]),
    ]
    assert (
        await post(client, world, "principal", f"{base}/reject", {"reason": "x"})
    ).status_code == 409

    r = await client.get(base, headers=world.auth("principal_B"))  # the receiving school sees it
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = await client.get("/api/v1/transfers", headers=world.auth("principal"))
    assert [t["id"] for t in r.json()] == [out["id"]]
    r = await client.get("/api/v1/transfers", headers=world.auth("principal_B"))
    assert [t["id"] for t in r.json()] == [out["id"]]


async def test_bad_transfers_change_nothing(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    url = "/api/v1/transfers"
    same = application(world, to_school_id=world.ids["school_A"])
    r = await post(client, world, "principal", url, same)
    assert r.status_code == 422 and "本校" in r.text
    r = await post(client, world, "principal", url, application(world, leave_on="2026-11-19"))
    assert r.status_code == 422
    nowhere = application(world, to_school_id=None)
    assert (await post(client, world, "principal", url, nowhere)).status_code == 422
    # Another county's school is answered as an unknown one: its name is never echoed.
    for elsewhere in (world.ids["school_Z"], 2**31 - 1):
        r = await post(client, world, "principal", url, application(world, to_school_id=elsewhere))
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["loc"] == ["body", "to_school_id"]
        assert "学校Z" not in r.text
    assert (
        await post(client, world, "subject_teacher", url, application(world))
    ).status_code == 403
    assert (await post(client, world, "principal_B", url, application(world))).status_code == 404
    assert await count(ctx, Transfer) == 0

    # A school outside the system: the sending school records its signature.
    outside = application(world, to_school_id=None, to_school_name="外省某小学")
    r = await post(client, world, "principal", url, outside)
    assert r.status_code == 201, r.text
    base = f"{url}/{r.json()['id']}"
    assert (await post(client, world, "principal_B", f"{base}/approve")).status_code == 404
    assert (await client.get(base, headers=world.auth("principal_B"))).status_code == 404
    assert (
        await post(client, world, "head_teacher", f"{base}/head-teacher-sign")
    ).status_code == 200
    assert (await post(client, world, "principal", f"{base}/receiving-sign")).status_code == 200
    assert (
        await post(client, world, "principal", f"{base}/reject", {"reason": " "})
    ).status_code == 422
    r = await post(client, world, "principal", f"{base}/reject", {"reason": "手续不全"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert (await student(ctx, world.ids["student_A1"])).status == "01"


async def test_leaving_without_a_transfer_is_a_suspected_dropout(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    sid = world.ids["student_A1"]
    url = f"/api/v1/students/{sid}/left-without-transfer"
    assert (await post(client, world, "head_teacher", url)).status_code == 403
    assert (await post(client, world, "principal_B", url)).status_code == 404
    r = await post(client, world, "academic_affairs", url)
    assert r.status_code == 200, r.text
    assert r.json() == {"student_id": sid, "status": "15", "active": True}

    # The 学籍异动记录 dates it; the county's 疑似辍学学生台账 and rates count the student.
    changes = f"/api/v1/students/{sid}/enrollment-changes"
    got = (await client.get(changes, headers=world.auth("head_teacher"))).json()
    assert [(c["kind_label"], c["from_status"], c["to_status"], c["changed_on"]) for c in got] == [
        ("未办理转学手续离校", "01", "15", "2026-11-24")
    ]
    assert (await client.get(changes, headers=world.auth("principal_B"))).status_code == 404
    county = world.ids["county"]
    ledger = "/api/v1/ledgers/county"
    params = {"county_id": county, "kind": "suspected_dropout"}
    r = await client.get(ledger, params=params, headers=world.auth("county_admin"))
    rows = [(x["student_id"], x["date"], x["notice_id"], x["basis"]) for x in r.json()["rows"]]
    assert rows == [(sid, "2026-11-24", None, "未办理转学手续离校")]
    r = await client.get(
        "/api/v1/reports/rates", params={"county_id": county}, headers=world.auth("county_admin")
    )
    assert r.json()["total"]["suspected_dropouts"] == 1

    # Absent, red, back, 复学 confirmed: 学籍 status 05 again, and off the ledger.
    await red_case(client, world)
    assert isinstance(ctx.clock, Clock)
    ctx.clock.now = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    events = [event(sid, "present", day=WEDNESDAY)]
    r = await client.post("/api/v1/attendance-events", json=events, headers=world.auth("principal"))
    case = (
        await client.get(f"/api/v1/students/{sid}/case", headers=world.auth("principal"))
    ).json()
    r = await post(client, world, "head_teacher", f"/api/v1/cases/{case['id']}/reenrollment")
    assert r.status_code == 200, r.text
    assert (await student(ctx, sid)).status == "05"
    got = (await client.get(changes, headers=world.auth("head_teacher"))).json()
    assert [(c["kind_label"], c["to_status"]) for c in got][-1] == ("复学", "05")
    r = await client.get(ledger, params=params, headers=world.auth("county_admin"))
    assert r.json()["rows"] == []


async def test_a_suspended_day_is_leave_and_opens_no_case(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    sid = world.ids["student_A1"]
    url = f"/api/v1/students/{sid}/suspensions"
    body = {"start_date": str(MONDAY), "end_date": "2027-01-15", "reason": "因病休学"}
    assert (await post(client, world, "head_teacher", url, body)).status_code == 403
    assert (await post(client, world, "principal_B", url, body)).status_code == 404
    backwards = {**body, "end_date": "2026-11-01"}
    assert (await post(client, world, "principal", url, backwards)).status_code == 422
    r = await post(client, world, "principal", url, body)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "active" and r.json()["approved_by"].endswith("principal")
    assert (await student(ctx, sid)).status == "02"
    overlapping = {**body, "start_date": "2027-01-10", "end_date": "2027-02-01"}
    assert (await post(client, world, "vice_principal", url, overlapping)).status_code == 409
    assert await count(ctx, Suspension) == 1

    events = [event(sid, "absent", day=TUESDAY)]
    r = await client.post("/api/v1/attendance-events", json=events, headers=world.auth("principal"))
    assert r.status_code == 200 and r.json()["rejected"] == 0, r.text
    r = await client.get(f"/api/v1/students/{sid}/case", headers=world.auth("principal"))
    assert r.status_code == 404

    r = await client.get(
        f"/api/v1/attendance/lists?class_id={world.ids['class_A1']}&start={TUESDAY}&end={TUESDAY}",
        headers=world.auth("academic_affairs"),
    )
    assert r.status_code == 200, r.text
    (day,) = r.json()["days"]
    assert sid in {e["student_id"] for e in day["leave"]}
    assert sid not in {e["student_id"] for e in day["absent"]}
    r = await client.get(
        f"/api/v1/students/{sid}/attendance?start={TUESDAY}&end={TUESDAY}",
        headers=world.auth("head_teacher"),
    )
    assert [d["day_status"] for d in r.json()["days"]] == ["leave"]

    r = await client.get(url, headers=world.auth("head_teacher"))
    assert r.status_code == 200 and len(r.json()) == 1
    suspension_id = r.json()[0]["id"]

    # Ended on Wednesday: the student is back (05), and Wednesday counts again.
    assert isinstance(ctx.clock, Clock)
    ctx.clock.now = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    end = f"/api/v1/suspensions/{suspension_id}/end"
    assert (await post(client, world, "head_teacher", end)).status_code == 403
    r = await post(client, world, "principal", end)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["ended_on"]) == ("ended", str(WEDNESDAY))
    assert (await student(ctx, sid)).status == "05"
    assert (await post(client, world, "principal", end)).status_code == 409
    events = [event(sid, "absent", day=WEDNESDAY)]
    r = await client.post("/api/v1/attendance-events", json=events, headers=world.auth("principal"))
    assert r.status_code == 200, r.text
    r = await client.get(f"/api/v1/students/{sid}/case", headers=world.auth("principal"))
    assert r.status_code == 200 and r.json()["level"] == "blue"


async def test_follow_ups_after_a_red_case_is_reenrolled(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    sid = world.ids["student_A1"]
    case = await red_case(client, world)
    url = f"/api/v1/cases/{case['id']}/follow-ups"
    assert (await client.get(url, headers=world.auth("head_teacher"))).status_code == 409

    assert isinstance(ctx.clock, Clock)
    ctx.clock.now = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    events = [event(sid, "present", day=WEDNESDAY)]
    r = await client.post("/api/v1/attendance-events", json=events, headers=world.auth("principal"))
    assert r.status_code == 200, r.text
    r = await post(client, world, "head_teacher", f"/api/v1/cases/{case['id']}/reenrollment")
    assert r.status_code == 200, r.text
    closed_at = datetime.fromisoformat(r.json()["closed_at"])

    r = await client.get(url, headers=world.auth("head_teacher"))
    assert r.status_code == 200, r.text
    got = [(f["week"], datetime.fromisoformat(f["due_at"])) for f in r.json()]
    assert got == [(w, closed_at + timedelta(weeks=w)) for w in (1, 4, 8)]
    assert (await client.get(url, headers=world.auth("principal_B"))).status_code == 404


async def approved_transfer(
    client: httpx.AsyncClient, world: World, **changes: Any
) -> dict[str, Any]:
    r = await post(client, world, "principal", "/api/v1/transfers", application(world, **changes))
    assert r.status_code == 201, r.text
    base = f"/api/v1/transfers/{r.json()['id']}"
    assert (await post(client, world, "head_teacher", f"{base}/head-teacher-sign")).is_success
    signer = "principal_B" if changes.get("to_school_id", 1) is not None else "principal"
    body = {"class_id": world.ids["class_B1"]} if signer == "principal_B" else None
    assert (await post(client, world, signer, f"{base}/receiving-sign", body)).is_success
    r = await post(client, world, "vice_principal", f"{base}/approve")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_an_approved_transfer_ends_the_case_and_strikes_off_the_notice(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    """A red case with a 返校通知书: the family moved away. The case closes as transferred,
    its open tasks are cancelled, the notice is struck off, and nothing of it fires later."""
    sid = world.ids["student_A1"]
    case = await red_case(client, world)
    url = f"/api/v1/cases/{case['id']}/return-notice"
    r = await post(client, world, "principal", url, {"guardian_name": "王某"})
    assert r.status_code in (200, 201), r.text

    await approved_transfer(client, world, to_school_id=None, to_school_name="外省某小学")

    got = (await client.get(f"/api/v1/cases/{case['id']}", headers=world.auth("principal"))).json()
    assert (got["status"], got["close_reason"], got["close_reason_label"]) == (
        "closed",
        "transferred",
        "已转学",
    )
    assert {t["status"] for t in got["tasks"]} == {"cancelled"}
    assert any("外省某小学" in e["text"] for e in got["timeline"])
    notice = (await client.get(url, headers=world.auth("principal"))).json()
    assert notice["status"] == "struck_off" and "转学" in notice["strike_off_reason"]
    after = await student(ctx, sid)
    assert (after.status, after.active) == ("10", False)

    # A month on, nothing of the closed case fires and the notice is not escalated.
    assert isinstance(ctx.clock, Clock)
    ctx.clock.now += timedelta(days=40)
    r = await post(client, world, "principal", "/api/v1/return-notices/check")
    assert r.json() == {"complied": 0, "escalated": 0, "dropout": 0, "raised_to_county": 0}
