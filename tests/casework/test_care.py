"""Special-group care over HTTP: a 成长导师 for a left-behind student, care contacts, and the
school's 特殊群体学生关爱台账 as JSON and XLSX; the wrong mentor, the wrong student and the
wrong people change nothing."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlmodel import col, select

from app.casework.care_reminders import remind_mentors
from app.context import AppContext
from app.db.models import CareContact, MentorAssignment, Notification
from tests.conftest import Clock
from tests.helpers import count, post
from tests.world import World

LEDGER = "/api/v1/ledgers/special-groups"


pytestmark = pytest.mark.world("care")


async def get(
    client: httpx.AsyncClient, world: World, who: str, url: str, **params: Any
) -> httpx.Response:
    return await client.get(url, params=params, headers=world.auth(who))


def contact(day: str, kind: str = "phone", note: str = "电话联系在外务工的父亲") -> dict[str, str]:
    return {"contacted_on": day, "kind": kind, "note": note}


async def test_mentor_contacts_and_the_ledger(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    sid = world.ids["student_A1"]
    mentor_url = f"/api/v1/students/{sid}/mentor"
    contacts_url = f"/api/v1/students/{sid}/care-contacts"

    # Not yet the mentor: teacher_A2 cannot see a student of class A1.
    r = await post(client, world, "teacher_A2", contacts_url, contact("2026-11-20"))
    assert r.status_code == 404

    r = await post(client, world, "principal", mentor_url, {"staff_id": world.ids["head_teacher"]})
    assert r.status_code == 200, r.text
    first = r.json()
    assert (first["staff_name"], first["since"], first["until"]) == (
        "head_teacher",
        "2026-11-24",
        None,
    )
    r = await post(client, world, "principal", mentor_url, {"staff_id": world.ids["teacher_A2"]})
    assert r.status_code == 200, r.text
    assert r.json()["staff_name"] == "teacher_A2"
    # The same mentor again changes nothing.
    r = await post(client, world, "principal", mentor_url, {"staff_id": world.ids["teacher_A2"]})
    assert r.status_code == 200
    async with ctx.uow() as uow:
        rows = list(
            await uow.session.exec(select(MentorAssignment).order_by(col(MentorAssignment.id)))
        )
    assert [(m.staff_id, m.until) for m in rows] == [
        (world.ids["head_teacher"], date(2026, 11, 24)),
        (world.ids["teacher_A2"], None),
    ]

    # The mentor, the head teacher and a manager record contacts.
    r = await post(client, world, "teacher_A2", contacts_url, contact("2026-11-20"))
    assert r.status_code == 201, r.text
    assert (r.json()["kind_label"], r.json()["staff_name"]) == ("电话", "teacher_A2")
    r = await post(
        client, world, "head_teacher", contacts_url, contact("2026-11-23", "home_visit", "家访")
    )
    assert r.status_code == 201, r.text
    r = await post(client, world, "principal", contacts_url, contact("2026-06-01", "talk", "谈心"))
    assert r.status_code == 201, r.text
    # A future date, a teacher who is not the mentor, another school: nothing recorded.
    r = await post(client, world, "teacher_A2", contacts_url, contact("2026-11-25"))
    assert r.status_code == 422
    r = await post(client, world, "subject_teacher", contacts_url, contact("2026-11-20"))
    assert r.status_code == 403
    r = await post(client, world, "principal_B", contacts_url, contact("2026-11-20"))
    assert r.status_code == 404
    assert await count(ctx, CareContact) == 3

    r = await get(client, world, "academic_affairs", contacts_url)
    assert r.status_code == 200, r.text
    assert [c["contacted_on"] for c in r.json()] == ["2026-11-23", "2026-11-20", "2026-06-01"]
    assert (await get(client, world, "subject_teacher", contacts_url)).status_code == 403
    assert (await get(client, world, "principal_B", contacts_url)).status_code == 404

    # The ledger: the plain student of A1 is not in it; 2026-06-01 is outside the 90 days.
    r = await get(client, world, "principal", LEDGER, school_id=world.ids["school_A"])
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["as_of"], out["window_start"]) == ("2026-11-24", "2026-08-27")
    rows_out = [
        (
            x["student_name"],
            x["class_name"],
            x["categories"],
            x["mentor_name"],
            x["last_contact_on"],
            x["contacts"],
        )
        for x in out["rows"]
    ]
    assert rows_out == [
        ("学生1", "三年级A1", "留守儿童", "teacher_A2", "2026-11-23", 2),
        ("学生2", "三年级A2", "留守儿童、残疾儿童、家庭经济困难", None, None, 0),
    ]

    r = await get(
        client, world, "county_admin", LEDGER, school_id=world.ids["school_A"], format="xlsx"
    )
    assert r.status_code == 200, r.text
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws is not None
    assert ws["A1"].value == "学校A特殊群体学生关爱台账(截至 2026-11-24)"
    assert [c.value for c in ws[2]] == [
        "学生",
        "班级",
        "类别",
        "成长导师",
        "最近关爱记录日期",
        "近90天关爱次数",
    ]
    assert [c.value for c in ws[3]] == [
        "学生1",
        "三年级A1",
        "留守儿童",
        "teacher_A2",
        datetime(2026, 11, 23),
        2,
    ]
    assert [c.value for c in ws[4]] == [
        "学生2",
        "三年级A2",
        "留守儿童、残疾儿童、家庭经济困难",
        None,
        None,
        0,
    ]
    assert ws.max_row == 4


async def test_a_wrong_mentor_or_student_is_refused(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    url = f"/api/v1/students/{world.ids['student_A1']}/mentor"
    for staff_key in ("principal_B", "county_admin"):
        r = await post(client, world, "principal", url, {"staff_id": world.ids[staff_key]})
        assert r.status_code == 422, (staff_key, r.text)
    plain = f"/api/v1/students/{world.ids['plain_A1']}/mentor"
    r = await post(client, world, "principal", plain, {"staff_id": world.ids["head_teacher"]})
    assert r.status_code == 422
    # 教务处 may not, since the answer would tell whether the student is in a special group.
    r = await post(client, world, "academic_affairs", url, {"staff_id": world.ids["head_teacher"]})
    assert r.status_code == 403
    r = await post(client, world, "principal_B", url, {"staff_id": world.ids["head_teacher"]})
    assert r.status_code == 404
    assert await count(ctx, MentorAssignment) == 0


async def test_only_roles_that_see_labels_read_the_ledger(
    world: World, client: httpx.AsyncClient
) -> None:
    school = world.ids["school_A"]
    expected = {
        "principal": 200,
        "vice_principal": 200,
        "county_admin": 200,
        "academic_affairs": 403,
        "head_teacher": 403,
        "subject_teacher": 403,
        "principal_B": 404,
    }
    got = {
        who: (await get(client, world, who, LEDGER, school_id=school)).status_code
        for who in expected
    }
    assert got == expected


async def care_notices(ctx: AppContext, staff_id: int) -> list[str]:
    async with ctx.uow() as uow:
        rows = await uow.session.exec(
            select(Notification)
            .where(Notification.staff_id == staff_id, Notification.topic == "care.due")
            .order_by(col(Notification.id))
        )
        return [n.title for n in rows]


async def test_a_mentor_silent_too_long_is_reminded_once_per_period(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    """The county asks for a contact every 14 days. Assigned on 24 November (the tests'
    today), the mentor hears on 9 December, once; a contact on the 10th starts a new period."""
    r = await client.put(
        f"/api/v1/alert-policies/county/{world.ids['county']}",
        json={"care_contact_days": 14},
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 200, r.text
    sid, mentor = world.ids["student_A1"], world.ids["teacher_A2"]
    r = await post(
        client, world, "principal", f"/api/v1/students/{sid}/mentor", {"staff_id": mentor}
    )
    assert r.status_code == 200, r.text
    assert isinstance(ctx.clock, Clock)

    ctx.clock.now = datetime.fromisoformat("2026-12-08T01:00:00+00:00")  # day 14: not yet
    assert await remind_mentors(ctx) == 0
    ctx.clock.now = datetime.fromisoformat("2026-12-09T01:00:00+00:00")
    assert await remind_mentors(ctx) == 1
    await remind_mentors(ctx)  # the same period: nothing new
    assert await care_notices(ctx, mentor) == ["学生1 已超过 14 天未记录关爱联系"]

    url = f"/api/v1/students/{sid}/care-contacts"
    r = await post(client, world, "teacher_A2", url, contact("2026-12-09", "home_visit"))
    assert r.status_code == 201, r.text
    ctx.clock.now = datetime.fromisoformat("2026-12-20T01:00:00+00:00")
    assert await remind_mentors(ctx) == 0
    ctx.clock.now = datetime.fromisoformat("2026-12-24T01:00:00+00:00")
    assert await remind_mentors(ctx) == 1
    assert len(await care_notices(ctx, mentor)) == 2
