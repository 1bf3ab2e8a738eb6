"""依法控辍 over HTTP: the 辍学生返校通知书 of a red case as a DOCX, the report to the township
after its deadline (疑似辍学, then 辍学), 销号; wrong cases and wrong people change nothing."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

import docx
import httpx

from app.context import AppContext
from app.db.models import CaseEvent, ReturnNotice
from tests.conftest import Clock
from tests.helpers import FRIDAY, MONDAY, TUESDAY, WEDNESDAY, absent_case, count, event, post
from tests.world import World


def at(ctx: AppContext, day: date) -> None:
    """09:00 Beijing time on ``day``."""
    assert isinstance(ctx.clock, Clock)
    ctx.clock.now = datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)


async def timeline(client: httpx.AsyncClient, world: World, case_id: int) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/cases/{case_id}", headers=world.auth("principal"))
    assert r.status_code == 200, r.text
    events: list[dict[str, Any]] = r.json()["timeline"]
    return events


async def test_a_red_case_gets_a_notice_as_a_printable_document(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    case_id = await absent_case(client, world, FRIDAY, MONDAY, TUESDAY)
    r = await post(client, world, "principal", f"/api/v1/cases/{case_id}/return-notice", {})
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["number"] == "SA-2026-001"
    assert (out["issued_on"], out["deadline"]) == ("2026-11-24", "2026-12-01")
    # Created is not delivered: 已发出 until the school records the delivery.
    assert (out["status"], out["status_label"], out["delivered_on"]) == ("issued", "已发出", None)
    assert out["guardian_name"] == "家长"
    assert out["created_by"].endswith("principal")

    # One active notice per case.
    r = await post(client, world, "vice_principal", f"/api/v1/cases/{case_id}/return-notice")
    assert r.status_code == 409
    assert await count(ctx, ReturnNotice) == 1

    r = await client.get(
        f"/api/v1/cases/{case_id}/return-notice", headers=world.auth("head_teacher")
    )
    assert r.status_code == 200 and r.json()["id"] == out["id"]
    assert (await timeline(client, world, case_id))[-1]["kind"] == "return_notice.issued"

    r = await client.get(
        f"/api/v1/return-notices/{out['id']}/document", headers=world.auth("head_teacher")
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(r.content)).paragraphs)
    assert text.startswith("辍学生返校通知书")
    student = await client.get(
        f"/api/v1/students/{world.ids['student_A1']}", headers=world.auth("principal")
    )
    assert student.json()["name"] in text
    assert "2026年12月1日" in text
    assert "SA-2026-001" in text
    assert "家长" in text
    assert "第五十八条" in text and "责令限期改正" in text
    assert "(盖章)" in text or "（盖章）" in text


async def test_no_notice_for_a_student_at_school_or_below_red(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    case_id = await absent_case(client, world, MONDAY, TUESDAY)  # yellow
    r = await post(client, world, "principal", f"/api/v1/cases/{case_id}/return-notice")
    assert r.status_code == 409
    # Red, then back at school on Wednesday.
    case_id = await absent_case(client, world, FRIDAY)
    at(ctx, WEDNESDAY)
    events = [event(world.ids["student_A1"], "present", day=WEDNESDAY)]
    r = await client.post("/api/v1/attendance-events", json=events, headers=world.auth("principal"))
    assert r.status_code == 200, r.text
    case = (await client.get(f"/api/v1/cases/{case_id}", headers=world.auth("principal"))).json()
    assert (case["level"], case["status"]) == ("red", "awaiting_reenrollment")
    events_before = await count(ctx, CaseEvent)
    r = await post(client, world, "principal", f"/api/v1/cases/{case_id}/return-notice")
    assert r.status_code == 409 and "学生已在校" in r.json()["detail"]
    assert await count(ctx, ReturnNotice) == 0
    assert await count(ctx, CaseEvent) == events_before


async def test_escalation_after_the_deadline_and_strike_off(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    case_id = await absent_case(client, world, FRIDAY, MONDAY, TUESDAY)
    r = await post(client, world, "principal", f"/api/v1/cases/{case_id}/return-notice")
    notice_id = r.json()["id"]
    base = f"/api/v1/return-notices/{notice_id}"

    at(ctx, date(2026, 12, 1))  # the deadline itself: not passed yet
    r = await post(client, world, "principal", f"{base}/escalate")
    assert r.status_code == 409
    at(ctx, date(2026, 12, 2))
    r = await post(client, world, "head_teacher", f"{base}/escalate")
    assert r.status_code == 403
    r = await post(client, world, "academic_affairs", f"{base}/escalate")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "escalated"
    assert out["reported_to_township_on"] == out["suspected_dropout_on"] == "2026-12-02"
    assert out["dropout_on"] is None
    r = await post(client, world, "principal", f"{base}/escalate")
    assert r.status_code == 409
    # The report to the township makes the student 疑似辍学 from that day (the status history).
    kinds = [e["kind"] for e in await timeline(client, world, case_id)]
    assert kinds[-2:] == ["return_notice.escalated", "student.suspected_dropout"]

    for body in ({}, {"reason": "   "}):
        r = await post(client, world, "principal", f"{base}/strike-off", body)
        assert r.status_code == 422
    r = await post(client, world, "head_teacher", f"{base}/strike-off", {"reason": "已转学"})
    assert r.status_code == 403
    r = await post(client, world, "county_admin", f"{base}/strike-off", {"reason": "已返校复学"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["status"], out["strike_off_reason"]) == ("struck_off", "已返校复学")
    assert out["struck_off_on"] == "2026-12-02"
    r = await post(client, world, "principal", f"{base}/strike-off", {"reason": "再次"})
    assert r.status_code == 409
    # 销号: the notice no longer stands, so neither does the 疑似辍学 it made.
    kinds = [e["kind"] for e in await timeline(client, world, case_id)]
    assert kinds[-2:] == ["return_notice.struck_off", "student.in_school"]


async def test_the_check_escalates_overdue_notices_then_marks_dropout(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    case_id = await absent_case(client, world, FRIDAY, MONDAY, TUESDAY)
    r = await post(client, world, "principal", f"/api/v1/cases/{case_id}/return-notice")
    notice_id = r.json()["id"]
    url = f"/api/v1/cases/{case_id}/return-notice"

    r = await post(client, world, "principal", "/api/v1/return-notices/check")
    assert r.status_code == 200 and r.json() == {
        "complied": 0,
        "escalated": 0,
        "dropout": 0,
        "raised_to_county": 0,
    }
    r = await post(client, world, "head_teacher", "/api/v1/return-notices/check")
    assert r.status_code == 403

    at(ctx, date(2026, 12, 2))
    r = await post(client, world, "principal_B", "/api/v1/return-notices/check")
    assert r.status_code == 200 and r.json()["escalated"] == 0  # not their school
    r = await post(client, world, "principal", "/api/v1/return-notices/check")
    assert r.json() == {"complied": 0, "escalated": 1, "dropout": 0, "raised_to_county": 0}
    out = (await client.get(url, headers=world.auth("principal"))).json()
    assert (out["id"], out["status"], out["suspected_dropout_on"]) == (
        notice_id,
        "escalated",
        "2026-12-02",
    )
    # Nothing more until 30 days after 疑似辍学.
    at(ctx, date(2026, 12, 31))
    r = await post(client, world, "county_admin", "/api/v1/return-notices/check")
    assert r.json() == {
        "complied": 0,
        "escalated": 0,
        "dropout": 0,
        "raised_to_county": 1,
    }  # no township signed for it
    at(ctx, date(2027, 1, 1))
    r = await post(client, world, "county_admin", "/api/v1/return-notices/check")
    assert r.json() == {"complied": 0, "escalated": 0, "dropout": 1, "raised_to_county": 0}
    out = (await client.get(url, headers=world.auth("principal"))).json()
    assert out["dropout_on"] == "2027-01-01" and out["status"] == "escalated"
    kinds = [e["kind"] for e in await timeline(client, world, case_id)]
    assert kinds[-5:] == [
        "return_notice.escalated",
        "student.suspected_dropout",
        "township_report.raised_to_county",  # the township never signed for it
        "return_notice.dropout",
        "student.dropout",
    ]


async def test_a_student_back_before_the_deadline_complies(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    case_id = await absent_case(client, world, FRIDAY, MONDAY, TUESDAY)
    r = await post(client, world, "principal", f"/api/v1/cases/{case_id}/return-notice")
    assert r.status_code == 201, r.text
    at(ctx, WEDNESDAY)
    events = [event(world.ids["student_A1"], "present", day=WEDNESDAY)]
    r = await client.post("/api/v1/attendance-events", json=events, headers=world.auth("principal"))
    assert r.status_code == 200, r.text
    r = await post(client, world, "principal", "/api/v1/return-notices/check")
    assert r.json() == {"complied": 1, "escalated": 0, "dropout": 0, "raised_to_county": 0}
    out = (
        await client.get(f"/api/v1/cases/{case_id}/return-notice", headers=world.auth("principal"))
    ).json()
    assert (out["status"], out["status_label"], out["complied_on"]) == (
        "complied",
        "已返校",
        "2026-11-25",
    )


async def test_who_may_issue_and_read(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    case_id = await absent_case(client, world, FRIDAY, MONDAY, TUESDAY)
    url = f"/api/v1/cases/{case_id}/return-notice"
    r = await post(client, world, "head_teacher", url)
    assert r.status_code == 403
    r = await post(client, world, "principal_B", url)
    assert r.status_code == 404
    assert await count(ctx, ReturnNotice) == 0
    r = await client.get(url, headers=world.auth("principal"))
    assert r.status_code == 404  # none yet

    r = await post(client, world, "principal", url, {"guardian_name": "王某"})
    assert r.status_code == 201 and r.json()["guardian_name"] == "王某"
    notice_id = r.json()["id"]
    for path in (url, f"/api/v1/return-notices/{notice_id}/document"):
        assert (await client.get(path, headers=world.auth("principal_B"))).status_code == 404
    for path in ("escalate", "strike-off"):
        r = await post(
            client,
            world,
            "principal_B",
            f"/api/v1/return-notices/{notice_id}/{path}",
            {"reason": "x"} if path == "strike-off" else None,
        )
        assert r.status_code == 404
    r = await client.get("/api/v1/return-notices/999999/document", headers=world.auth("principal"))
    assert r.status_code == 404


async def test_the_county_sets_the_periods_of_legal_escalation(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    """A county that gives 3 days, reports 2 days after the deadline and counts 辍学 after
    10 more: the notice and the check follow it; a bad value is refused and changes nothing."""
    url = f"/api/v1/alert-policies/county/{world.ids['county']}"
    bad = await client.put(url, json={"notice_days": 0}, headers=world.auth("county_admin"))
    assert bad.status_code == 422 and "notice_days" in bad.text
    body = {"notice_days": 3, "suspected_after_days": 2, "dropout_after_days": 10}
    r = await client.put(url, json=body, headers=world.auth("county_admin"))
    assert r.status_code == 200, r.text
    assert r.json()["effective"]["notice_days"] == 3
    assert r.json()["effective"]["dropout_target_primary"] == 0.02  # untouched default

    case_id = await absent_case(client, world, FRIDAY, MONDAY, TUESDAY)
    r = await post(client, world, "principal", f"/api/v1/cases/{case_id}/return-notice")
    assert r.status_code == 201, r.text
    assert (r.json()["issued_on"], r.json()["deadline"]) == ("2026-11-24", "2026-11-27")

    check = "/api/v1/return-notices/check"
    at(ctx, date(2026, 11, 29))  # two days past the deadline: not yet
    assert (await post(client, world, "principal", check)).json()["escalated"] == 0
    at(ctx, date(2026, 11, 30))
    assert (await post(client, world, "principal", check)).json()["escalated"] == 1
    at(ctx, date(2026, 12, 9))
    assert (await post(client, world, "principal", check)).json()["dropout"] == 0
    at(ctx, date(2026, 12, 10))
    assert (await post(client, world, "principal", check)).json()["dropout"] == 1


async def test_delivery_is_recorded_once_and_then_the_notice_reads_delivered(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    case_id = await absent_case(client, world, FRIDAY, MONDAY, TUESDAY)
    r = await post(client, world, "principal", f"/api/v1/cases/{case_id}/return-notice", {})
    notice = r.json()
    url = f"/api/v1/return-notices/{notice['id']}/delivery"
    at(ctx, WEDNESDAY)
    # Before the issue date, in the future: 422 naming the field, nothing recorded.
    for bad in ("2026-11-23", "2026-11-26"):
        r = await post(client, world, "principal", url, {"delivered_on": bad})
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["loc"] == ["body", "delivered_on"]
    r = await post(client, world, "head_teacher", url, {})
    assert r.status_code == 403
    r = await client.get(f"/api/v1/cases/{case_id}/return-notice", headers=world.auth("principal"))
    assert r.json()["status_label"] == "已发出"

    r = await post(client, world, "principal", url, {"note": "直接送达监护人"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["status"], out["status_label"]) == ("issued", "已送达")
    assert (out["delivered_on"], out["delivery_note"]) == ("2026-11-25", "直接送达监护人")
    last = (await timeline(client, world, case_id))[-1]
    assert last["kind"] == "return_notice.delivered" and "直接送达监护人" in last["text"]
    r = await post(client, world, "principal", url, {})
    assert r.status_code == 409
