"""The alert engine over HTTP: alerts that explain themselves, cases with their casework,
scoped by role; bad input (closed case, second verification, wrong role) changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.context import AppContext
from app.db.models import AbsenceReport, ParentContact
from tests.helpers import (
    FRIDAY,
    MONDAY,
    TUESDAY,
    WEDNESDAY,
    absent,
    count,
    event,
    move,
    post,
    roll,
    ts,
)
from tests.world import World

NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 Beijing on Tuesday


async def get(client: httpx.AsyncClient, world: World, who: str, url: str, **params: Any) -> Any:
    r = await client.get(url, params=params, headers=world.auth(who))
    assert r.status_code == 200, r.text
    return r.json()


async def the_alerts(client: httpx.AsyncClient, world: World, who: str = "principal") -> list[Any]:
    items: list[Any] = (await get(client, world, who, "/api/v1/alerts"))["items"]
    return items


async def the_case(client: httpx.AsyncClient, world: World, who: str = "principal") -> Any:
    return await get(client, world, who, f"/api/v1/students/{world.ids['student_A1']}/case")


# --- alerts ---------------------------------------------------------------------------------


async def test_a_blue_alert_explains_itself_and_reaches_the_head_teacher(
    world: World, client: httpx.AsyncClient
) -> None:
    await absent(client, world, TUESDAY)
    alerts = await the_alerts(client, world, "head_teacher")
    assert len(alerts) == 1
    blue = alerts[0]
    assert (blue["level"], blue["level_label"], blue["status"]) == ("blue", "蓝色预警", "raised")
    assert blue["status_label"] == "待核查" and blue["student_name"] == "学生1"

    detail = await get(client, world, "head_teacher", f"/api/v1/alerts/{blue['id']}")
    why = detail["explanation"]
    assert "蓝色预警" in why["rule"] and "班主任" in why["rule"]
    assert why["days"] == ["2026-11-24"] and why["days_count"] == 1
    assert why["recipient_role"] == "head_teacher" and why["recipient_role_label"] == "班主任"
    raised = [g for g in why["recipients"] if g["topic"] == "alert.raised"]
    assert (raised[0]["role"], raised[0]["role_label"]) == ("head_teacher", "班主任")
    assert [s["name"] for s in raised[0]["staff"]] == ["head_teacher"]
    assert ts(why["verify_due"]) == NOW + timedelta(hours=48)
    kinds = {d["kind"]: d for d in why["deadlines"]}
    assert set(kinds) == {"verify", "contact", "report"}
    assert ts(kinds["verify"]["due_at"]) == NOW + timedelta(hours=48)
    assert ts(kinds["report"]["due_at"]) == NOW + timedelta(hours=24)
    # Found absent at the 08:05 morning check: the call is due within the hour.
    assert ts(kinds["contact"]["due_at"]) == datetime(2026, 11, 24, 1, 5, tzinfo=UTC)
    assert all(d["state"] == "pending" and d["owed"] for d in why["deadlines"])
    assert [e["kind"] for e in detail["history"]["timeline"]] == ["case.opened", "alert.raised"]
    assert [n["topic"] for n in detail["history"]["notifications"]] == ["alert.raised"]

    box = await get(client, world, "head_teacher", "/api/v1/inbox", unread="true")
    assert box["unread"] == 1 and box["total"] == 1
    assert box["items"][0]["alert_id"] == blue["id"]
    # Nobody else holds the blue alert's role for class A1.
    assert (await get(client, world, "vice_principal", "/api/v1/inbox"))["total"] == 0


async def test_two_days_raise_yellow_for_the_vice_principal_with_a_phone_check(
    world: World, client: httpx.AsyncClient
) -> None:
    await absent(client, world, MONDAY, TUESDAY)
    alerts = await the_alerts(client, world)
    assert sorted(a["level"] for a in alerts) == ["blue", "yellow"]
    yellow = next(a for a in alerts if a["level"] == "yellow")
    assert yellow["recipient_role"] == "vice_principal"
    assert yellow["days"] == ["2026-11-23", "2026-11-24"]

    box = await get(client, world, "vice_principal", "/api/v1/inbox")
    assert [(n["topic"], n["level"]) for n in box["items"]] == [("alert.raised", "yellow")]
    case = await the_case(client, world)
    tasks = await get(client, world, "vice_principal", f"/api/v1/cases/{case['id']}/tasks")
    assert [(t["kind"], t["kind_label"], t["role"]) for t in tasks] == [
        ("phone_verification", "电话核实", "vice_principal")
    ]
    assert case["level"] == "yellow" and case["level_label"] == "黄色预警"


async def test_three_days_raise_red_and_open_the_joint_persuasion(
    world: World, client: httpx.AsyncClient
) -> None:
    await absent(client, world, FRIDAY, MONDAY, TUESDAY)
    alerts = await the_alerts(client, world)
    assert sorted(a["level"] for a in alerts) == ["blue", "red", "yellow"]
    box = await get(client, world, "principal", "/api/v1/inbox")
    assert [n["level"] for n in box["items"]] == ["red"]
    assert box["items"][0]["level_label"] == "红色预警"

    case = await the_case(client, world, "head_teacher")
    assert case["run"] == ["2026-11-20", "2026-11-23", "2026-11-24"]
    group = {(m["name"], m["part"]) for m in case["work_group"]}
    assert ("vice_principal", "lead") in group and ("head_teacher", "member") in group
    assert ("subject_teacher", "member") in group
    lead = next(m for m in case["work_group"] if m["part"] == "lead")
    assert (lead["role_label"], lead["part_label"]) == ("分管副校长", "牵头")
    assert {t["kind"] for t in case["tasks"]} == {"phone_verification", "home_visit"}
    assert [a["level"] for a in case["alerts"]] == ["blue", "yellow", "red"]
    assert "persuasion.opened" in [e["kind"] for e in case["timeline"]]


async def test_alert_filters_and_school_local_dates(
    world: World, client: httpx.AsyncClient
) -> None:
    await absent(client, world, MONDAY, TUESDAY)
    await absent(client, world, TUESDAY, student="student_B1", who="principal_B")
    everything = await get(client, world, "county_admin", "/api/v1/alerts")
    assert everything["total"] == 3
    url = "/api/v1/alerts"
    assert (await get(client, world, "county_admin", url, level="yellow"))["total"] == 1
    school_a = world.ids["school_A"]
    assert (await get(client, world, "county_admin", url, school_id=school_a))["total"] == 2
    b1 = world.ids["student_B1"]
    assert (await get(client, world, "county_admin", url, student_id=b1))["total"] == 1
    # Raised at 09:00 Beijing on Tuesday: that is Tuesday at the school, whatever UTC says.
    on_tuesday = await get(client, world, "county_admin", url, **{"from": "2026-11-24"})
    assert on_tuesday["total"] == 3
    assert (await get(client, world, "county_admin", url, to="2026-11-23"))["total"] == 0
    r = await client.get(
        url, params={"from": "2026-11-24", "to": "2026-11-23"}, headers=world.auth("principal")
    )
    assert r.status_code == 422
    # Scope: school B's principal sees only school B; A1's subject teacher only A1.
    assert (await get(client, world, "principal_B", url))["total"] == 1
    assert (await get(client, world, "subject_teacher", url))["total"] == 2
    assert (await get(client, world, "principal", url, status="verified"))["total"] == 0


async def test_verify_by_role_and_only_once(world: World, client: httpx.AsyncClient) -> None:
    await absent(client, world, MONDAY, TUESDAY)
    alerts = {a["level"]: a for a in await the_alerts(client, world)}
    blue, yellow = alerts["blue"]["id"], alerts["yellow"]["id"]

    r = await post(client, world, "subject_teacher", f"/api/v1/alerts/{blue}/verify", {})
    assert r.status_code == 403
    r = await post(client, world, "academic_affairs", f"/api/v1/alerts/{blue}/verify", {})
    assert r.status_code == 403
    r = await post(client, world, "head_teacher", f"/api/v1/alerts/{yellow}/verify", {})
    assert r.status_code == 403  # yellow goes to the vice principal and above
    r = await post(client, world, "principal_B", f"/api/v1/alerts/{blue}/verify", {})
    assert r.status_code == 404
    r = await client.get(f"/api/v1/alerts/{blue}", headers=world.auth("principal_B"))
    assert r.status_code == 404

    note = {"note": "已电话核实:孩子发烧在家"}
    r = await post(client, world, "head_teacher", f"/api/v1/alerts/{blue}/verify", note)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["status"], out["status_label"]) == ("verified", "已核查")
    assert out["verify_note"] == note["note"]
    assert out["verified_by"].startswith("staff:") and out["verified_by"].endswith("head_teacher")
    again = await post(client, world, "principal", f"/api/v1/alerts/{blue}/verify", {})
    assert again.status_code == 409 and "already verified" in again.json()["detail"]
    detail = await get(client, world, "principal", f"/api/v1/alerts/{blue}")
    assert detail["verify_note"] == note["note"]
    assert "alert.verified" in [e["kind"] for e in detail["history"]["timeline"]]
    verify = next(d for d in detail["explanation"]["deadlines"] if d["kind"] == "verify")
    assert not verify["owed"]  # met in time: the sweep will cancel it

    # The county admin may verify the vice principal's yellow alert.
    r = await post(client, world, "county_admin", f"/api/v1/alerts/{yellow}/verify", {})
    assert r.status_code == 200


async def test_api_keys_read_alerts_but_do_not_act(world: World, client: httpx.AsyncClient) -> None:
    await absent(client, world, TUESDAY)
    body = {"name": "县平台", "school_id": world.ids["school_A"]}
    r = await post(client, world, "principal", "/api/v1/api-keys", body)
    assert r.status_code == 201, r.text
    key = {"X-API-Key": r.json()["key"]}
    listed = await client.get("/api/v1/alerts", headers=key)
    assert listed.status_code == 200 and listed.json()["total"] == 1
    alert_id = listed.json()["items"][0]["id"]
    case = (await client.get("/api/v1/cases", headers=key)).json()["items"][0]
    for url, body in (
        (f"/api/v1/alerts/{alert_id}/verify", {}),
        (f"/api/v1/alerts/{alert_id}/acknowledge", None),
        (f"/api/v1/cases/{case['id']}/contacts", {"reached": True}),
        (f"/api/v1/cases/{case['id']}/reports", {"content": "报告"}),
    ):
        r = await client.post(url, json=body, headers=key)
        assert r.status_code == 403, (url, r.text)
    assert (await client.get("/api/v1/inbox", headers=key)).status_code == 403


async def test_acknowledging_an_alert_is_recorded_once_and_is_not_verifying(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await absent(client, world, TUESDAY)
    blue = (await the_alerts(client, world))[0]["id"]
    r = await post(client, world, "subject_teacher", f"/api/v1/alerts/{blue}/acknowledge")
    assert r.status_code == 403
    first = await post(client, world, "head_teacher", f"/api/v1/alerts/{blue}/acknowledge")
    assert first.status_code == 200
    assert first.json()["status"] == "raised"
    assert ts(first.json()["acknowledged_at"]) == NOW
    move(ctx, NOW + timedelta(minutes=10))
    second = await post(client, world, "principal", f"/api/v1/alerts/{blue}/acknowledge")
    assert second.status_code == 200
    assert second.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    assert second.json()["acknowledged_by"] == first.json()["acknowledged_by"]
    # The head teacher's own notice of it is acknowledged with it.
    box = await get(client, world, "head_teacher", "/api/v1/inbox")
    assert box["unread"] == 0 and ts(box["items"][0]["acknowledged_at"]) == NOW


# --- cases ----------------------------------------------------------------------------------


async def test_a_student_without_an_open_case_has_none(
    world: World, client: httpx.AsyncClient
) -> None:
    url = f"/api/v1/students/{world.ids['student_A1']}/case"
    assert (await client.get(url, headers=world.auth("principal"))).status_code == 404
    await absent(client, world, TUESDAY)
    case = await the_case(client, world, "head_teacher")
    assert (case["status"], case["status_label"]) == ("open", "跟踪中")
    assert (case["report_status"], case["report_status_label"]) == ("due", "待提交")
    assert {d["kind"] for d in case["pending_deadlines"]} == {"contact", "report", "verify"}
    assert (await client.get(url, headers=world.auth("principal_B"))).status_code == 404
    assert (
        await client.get("/api/v1/cases/999999", headers=world.auth("principal"))
    ).status_code == 404
    listed = await get(client, world, "principal", "/api/v1/cases", status="open")
    assert [c["id"] for c in listed["items"]] == [case["id"]]
    assert (await get(client, world, "principal_B", "/api/v1/cases"))["total"] == 0
    assert (await get(client, world, "principal", "/api/v1/cases", level="red"))["total"] == 0


async def test_parent_contact_not_reached_then_reached(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await absent(client, world, TUESDAY)
    case_id = (await the_case(client, world))["id"]
    url = f"/api/v1/cases/{case_id}/contacts"

    r = await post(client, world, "subject_teacher", url, {"reached": True})
    assert r.status_code == 403
    r = await post(
        client, world, "head_teacher", url, {"reached": False, "reason_category": "work"}
    )
    assert r.status_code == 422
    future = {"reached": True, "at": "2026-11-24T10:00:00+08:00"}
    assert (await post(client, world, "head_teacher", url, future)).status_code == 422
    assert await count(ctx, ParentContact) == 0

    missed = {"reached": False, "at": "2026-11-24T08:20:00+08:00", "reason_note": "无人接听"}
    r = await post(client, world, "head_teacher", url, missed)
    assert r.status_code == 201, r.text
    assert r.json()["reached"] is False and ts(r.json()["at"]) == datetime(
        2026, 11, 24, 0, 20, tzinfo=UTC
    )
    case = await the_case(client, world)
    assert case["contact_done"] is False
    contact_due = [d for d in case["pending_deadlines"] if d["kind"] == "contact"]
    # The first call's deadline is replaced by the next attempt's, an hour after the miss.
    assert [ts(d["due_at"]) for d in contact_due] == [datetime(2026, 11, 24, 1, 20, tzinfo=UTC)]

    move(ctx, NOW + timedelta(minutes=15))
    reached = {
        "reached": True,
        "answered_by": "母亲",
        "reason_category": "economic_hardship",
        "reason_note": "家里农忙,让孩子帮忙",
        "verified": True,
    }
    r = await post(client, world, "head_teacher", url, reached)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["reason_category_label"] == "经济困难" and out["answered_by"] == "母亲"
    assert ts(out["at"]) == NOW + timedelta(minutes=15)  # at defaults to now
    case = await the_case(client, world)
    assert case["contact_done"] is True
    assert not [d for d in case["pending_deadlines"] if d["kind"] == "contact"]
    assert [c["reached"] for c in case["contacts"]] == [False, True]
    kinds = [e["kind"] for e in case["timeline"]]
    assert kinds[-2:] == ["contact.unreached", "contact.reached"]
    assert case["timeline"][-1]["actor"].endswith("head_teacher")


async def test_written_report_accepted_by_academic_affairs(
    world: World, client: httpx.AsyncClient
) -> None:
    await absent(client, world, TUESDAY)
    case_id = (await the_case(client, world))["id"]
    r = await post(
        client, world, "head_teacher", f"/api/v1/cases/{case_id}/reports", {"content": "缺勤说明"}
    )
    assert r.status_code == 201, r.text
    report = r.json()
    assert (report["round"], report["status"], report["status_label"]) == (
        1,
        "submitted",
        "待教务处审核",
    )
    box = await get(client, world, "academic_affairs", "/api/v1/inbox")
    assert [n["topic"] for n in box["items"]] == ["report.submitted"]
    # Once submitted, a second submission is refused until it comes back.
    again = await post(
        client, world, "head_teacher", f"/api/v1/cases/{case_id}/reports", {"content": "再交"}
    )
    assert again.status_code == 409

    accept = f"/api/v1/reports/{report['id']}/accept"
    assert (await post(client, world, "head_teacher", accept)).status_code == 403
    assert (await post(client, world, "principal_B", accept)).status_code == 404
    r = await post(client, world, "academic_affairs", accept)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted" and r.json()["decided_by"].endswith("academic_affairs")
    assert (await post(client, world, "academic_affairs", accept)).status_code == 409
    case = await the_case(client, world)
    assert case["report_status"] == "accepted"
    assert not [d for d in case["pending_deadlines"] if d["kind"] == "report"]


async def test_a_returned_report_is_submitted_again(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await absent(client, world, TUESDAY)
    case_id = (await the_case(client, world))["id"]
    reports = f"/api/v1/cases/{case_id}/reports"
    first = (await post(client, world, "head_teacher", reports, {"content": "初稿"})).json()
    back = f"/api/v1/reports/{first['id']}/return"
    assert (await post(client, world, "vice_principal", back, {})).status_code == 422
    move(ctx, NOW + timedelta(hours=2))
    r = await post(client, world, "vice_principal", back, {"note": "请补充家长说明"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["decision_note"]) == ("returned", "请补充家长说明")
    case = await the_case(client, world)
    assert (case["report_status"], case["report_round"]) == ("returned", 2)
    report_due = [d for d in case["pending_deadlines"] if d["kind"] == "report"]
    assert [ts(d["due_at"]) for d in report_due] == [NOW + timedelta(hours=26)]
    box = await get(client, world, "head_teacher", "/api/v1/inbox")
    assert "report.returned" in [n["topic"] for n in box["items"]]

    second = await post(client, world, "head_teacher", reports, {"content": "补充后"})
    assert second.status_code == 201 and second.json()["round"] == 2
    r = await post(client, world, "principal", f"/api/v1/reports/{second.json()['id']}/accept")
    assert r.status_code == 200
    case = await the_case(client, world)
    assert [(x["round"], x["status"]) for x in case["reports"]] == [
        (1, "returned"),
        (2, "accepted"),
    ]


async def test_casework_on_a_closed_case_is_refused_and_writes_nothing(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await absent(client, world, TUESDAY)
    case_id = (await the_case(client, world))["id"]
    move(ctx, datetime(2026, 11, 25, 1, 0, tzinfo=UTC))  # Wednesday 09:00 Beijing
    await roll(client, world, [event(world.ids["student_A1"], "present", day=WEDNESDAY)])
    case = await get(client, world, "principal", f"/api/v1/cases/{case_id}")
    assert (case["status"], case["close_reason"], case["close_reason_label"]) == (
        "closed",
        "returned",
        "学生返校",
    )
    assert case["pending_deadlines"] == []
    url = f"/api/v1/students/{world.ids['student_A1']}/case"
    assert (await client.get(url, headers=world.auth("principal"))).status_code == 404

    events_before = len(case["timeline"])
    r = await post(
        client, world, "head_teacher", f"/api/v1/cases/{case_id}/contacts", {"reached": True}
    )
    assert r.status_code == 409 and "closed" in r.json()["detail"]
    r = await post(
        client, world, "head_teacher", f"/api/v1/cases/{case_id}/reports", {"content": "迟交"}
    )
    assert r.status_code == 409
    assert await count(ctx, ParentContact) == 0
    assert await count(ctx, AbsenceReport) == 0
    after = await get(client, world, "principal", f"/api/v1/cases/{case_id}")
    assert len(after["timeline"]) == events_before and after["version"] == case["version"]


async def test_a_roll_correction_withdraws_the_alert_and_tells_the_head_teacher(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    sid = world.ids["student_A1"]
    await roll(client, world, [event(sid, "absent", at="08:05")])
    alert_id = (await the_alerts(client, world))[0]["id"]
    move(ctx, NOW + timedelta(minutes=30))
    await roll(client, world, [event(sid, "present", at="08:30", note="点错了")])
    alert = await get(client, world, "head_teacher", f"/api/v1/alerts/{alert_id}")
    assert (alert["status"], alert["status_label"]) == ("withdrawn", "已撤回")
    assert alert["withdrawn_reason"]
    box = await get(client, world, "head_teacher", "/api/v1/inbox")
    assert [n["topic"] for n in box["items"]] == ["alert.withdrawn", "alert.raised"]
    assert box["items"][0]["topic_label"] == "预警撤回"
    withdrawn = [g for g in alert["explanation"]["recipients"] if g["topic"] == "alert.withdrawn"]
    assert [s["name"] for s in withdrawn[0]["staff"]] == ["head_teacher"]
    case = await get(client, world, "principal", f"/api/v1/cases/{alert['case_id']}")
    assert (case["status"], case["close_reason"]) == ("closed", "withdrawn")
    r = await post(client, world, "head_teacher", f"/api/v1/alerts/{alert_id}/verify", {})
    assert r.status_code == 409


async def test_tasks_are_completed_by_their_role_and_reenrolment_closes_a_red_case(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await absent(client, world, FRIDAY, MONDAY, TUESDAY)
    case = await the_case(client, world)
    case_id = case["id"]
    phone = next(t for t in case["tasks"] if t["kind"] == "phone_verification")
    done = f"/api/v1/tasks/{phone['id']}/complete"
    assert (await post(client, world, "head_teacher", done, {})).status_code == 403
    assert (await post(client, world, "principal_B", done, {})).status_code == 404
    r = await post(client, world, "vice_principal", done, {"note": "已与家长通话"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["status_label"]) == ("done", "已完成")
    assert (await post(client, world, "vice_principal", done, {})).status_code == 409

    reenrol = f"/api/v1/cases/{case_id}/reenrollment"
    assert (await post(client, world, "head_teacher", reenrol)).status_code == 409  # still open

    move(ctx, datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
    await roll(client, world, [event(world.ids["student_A1"], "present", day=WEDNESDAY)])
    case = await the_case(client, world)
    assert (case["status"], case["status_label"]) == ("awaiting_reenrollment", "已返校,待确认复学")
    assert {d["kind"] for d in case["pending_deadlines"]} >= {"reenroll"}
    task = next(t for t in case["tasks"] if t["kind"] == "reenrollment")
    assert (task["role"], task["kind_label"]) == ("head_teacher", "复学确认")
    contact = await post(
        client, world, "head_teacher", f"/api/v1/cases/{case_id}/contacts", {"reached": True}
    )
    assert contact.status_code == 409  # not open: back at school

    assert (await post(client, world, "subject_teacher", reenrol)).status_code == 403
    r = await post(client, world, "head_teacher", reenrol)
    assert r.status_code == 200, r.text
    closed = r.json()
    assert (closed["status"], closed["close_reason"]) == ("closed", "reenrolled")
    task = next(t for t in closed["tasks"] if t["kind"] == "reenrollment")
    assert task["status"] == "done"
    assert (await post(client, world, "head_teacher", reenrol)).status_code == 409
