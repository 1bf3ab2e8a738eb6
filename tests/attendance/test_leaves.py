"""请假 (leave): who may request, approve, reject and cancel; bad input changes nothing; and
the approved-leave days the day-status queries rely on."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from app.attendance.leaves_repo import approved_leave_days
from app.context import AppContext
from app.domain.roles import Role
from tests.world import World

URL = "/api/v1/leaves"
ONSET = "2026-11-23T07:30:00+08:00"


def body(world: World, student: str = "student_A1", **over: object) -> dict[str, object]:
    data: dict[str, object] = {
        "student_id": world.ids[student],
        "start_date": "2026-11-24",
        "end_date": "2026-11-25",
        "leave_type": "personal",
        "reason": "家中有事",
    }
    data.update(over)
    return data


def sick(world: World, **over: object) -> dict[str, object]:
    data: dict[str, object] = {
        "leave_type": "sick",
        "reason": "发烧",
        "onset_at": ONSET,
        "symptoms": ["fever", "cough"],
    }
    data.update(over)
    return body(world, **data)


async def create(
    client: httpx.AsyncClient, world: World, who: str, data: dict[str, object]
) -> dict[str, Any]:
    r = await client.post(URL, json=data, headers=world.auth(who))
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def all_leaves(client: httpx.AsyncClient, world: World, **params: Any) -> list[Any]:
    r = await client.get(URL, params=params, headers=world.auth("county_admin"))
    assert r.status_code == 200, r.text
    items: list[Any] = r.json()["items"]
    return items


async def status_of(client: httpx.AsyncClient, world: World, leave_id: int) -> str:
    r = await client.get(f"{URL}/{leave_id}", headers=world.auth("county_admin"))
    assert r.status_code == 200, r.text
    return str(r.json()["status"])


async def test_head_teacher_requests_sick_leave_and_approves_it(
    world: World, client: httpx.AsyncClient
) -> None:
    leave = await create(client, world, "head_teacher", sick(world))
    assert leave["status"] == "pending" and leave["status_label"] == "待审批"
    assert leave["leave_type_label"] == "病假"
    assert leave["symptoms"] == [
        {"code": "fever", "label": "发热"},
        {"code": "cough", "label": "咳嗽"},
    ]
    assert leave["onset_at"].startswith("2026-11-22T23:30:00")  # stored in UTC
    assert leave["student_name"] and leave["school_id"] == world.ids["school_A"]
    assert leave["requested_by"] == f"staff:{world.ids['head_teacher']}:head_teacher"
    assert leave["decided_by"] is None

    r = await client.post(f"{URL}/{leave['id']}/approve", headers=world.auth("head_teacher"))
    assert r.status_code == 200, r.text
    approved = r.json()
    assert approved["status"] == "approved" and approved["status_label"] == "已批准"
    assert approved["decided_by"] == leave["requested_by"]
    assert approved["decided_at"].startswith("2026-11-24T01:00:00")
    assert await status_of(client, world, leave["id"]) == "approved"


async def test_approve_true_creates_an_approved_leave_at_once(
    world: World, client: httpx.AsyncClient
) -> None:
    leave = await create(client, world, "head_teacher", body(world, approve=True))
    assert leave["status"] == "approved"
    assert leave["decided_by"] == leave["requested_by"]
    assert leave["leave_type_label"] == "事假"


async def test_subject_teacher_requests_but_cannot_approve(
    world: World, client: httpx.AsyncClient
) -> None:
    leave = await create(client, world, "subject_teacher", body(world))
    assert leave["requested_by"] == f"staff:{world.ids['subject_teacher']}:subject_teacher"

    r = await client.post(f"{URL}/{leave['id']}/approve", headers=world.auth("subject_teacher"))
    assert r.status_code == 403
    r = await client.post(
        f"{URL}/{leave['id']}/reject",
        json={"reason": "不行"},
        headers=world.auth("subject_teacher"),
    )
    assert r.status_code == 403
    assert await status_of(client, world, leave["id"]) == "pending"

    r = await client.post(
        URL,
        json=body(world, start_date="2026-12-01", end_date="2026-12-01", approve=True),
        headers=world.auth("subject_teacher"),
    )
    assert r.status_code == 403
    assert len(await all_leaves(client, world)) == 1


async def test_the_requester_may_cancel_but_another_subject_teacher_may_not(
    world: World, client: httpx.AsyncClient
) -> None:
    await world.add_staff("subject_teacher_2", Role.subject_teacher, "class_A1")
    leave = await create(client, world, "subject_teacher", body(world))
    r = await client.post(f"{URL}/{leave['id']}/cancel", headers=world.auth("subject_teacher_2"))
    assert r.status_code == 403
    assert await status_of(client, world, leave["id"]) == "pending"
    r = await client.post(f"{URL}/{leave['id']}/cancel", headers=world.auth("subject_teacher"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled" and r.json()["status_label"] == "已撤销"


async def test_principal_of_another_school_gets_404(
    world: World, client: httpx.AsyncClient
) -> None:
    r = await client.post(URL, json=body(world), headers=world.auth("principal_B"))
    assert r.status_code == 404
    leave = await create(client, world, "head_teacher", body(world))
    for path in ("", "/approve", "/cancel"):
        method = client.get if path == "" else client.post
        r = await method(f"{URL}/{leave['id']}{path}", headers=world.auth("principal_B"))
        assert r.status_code == 404, path
    r = await client.post(
        f"{URL}/{leave['id']}/reject", json={"reason": "x"}, headers=world.auth("principal_B")
    )
    assert r.status_code == 404
    r = await client.get(URL, headers=world.auth("principal_B"))
    assert r.json()["total"] == 0
    assert await status_of(client, world, leave["id"]) == "pending"


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"symptoms": []}, "symptoms"),
        ({"onset_at": None}, "onset_at"),
        ({"onset_at": "2026-11-24T10:00:00+08:00"}, "onset_at"),  # 02:00Z, after the clock
        ({"onset_at": "2026-11-23T07:30:00"}, "onset_at"),  # no UTC offset
        ({"symptoms": ["sneezing"]}, "symptoms"),
    ],
)
async def test_bad_sick_leave_is_422_naming_the_field_and_writes_nothing(
    world: World, client: httpx.AsyncClient, over: dict[str, object], field: str
) -> None:
    r = await client.post(URL, json=sick(world, **over), headers=world.auth("head_teacher"))
    assert r.status_code == 422, r.text
    locs = [tuple(p["loc"][:2]) for p in r.json()["errors"]]
    assert ("body", field) in locs
    assert await all_leaves(client, world) == []


async def test_symptoms_belong_to_sick_leave_only(world: World, client: httpx.AsyncClient) -> None:
    r = await client.post(
        URL, json=body(world, symptoms=["fever"]), headers=world.auth("head_teacher")
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "symptoms"]
    assert await all_leaves(client, world) == []


async def test_end_before_start_and_over_60_days_are_422_on_end_date(
    world: World, client: httpx.AsyncClient
) -> None:
    r = await client.post(
        URL,
        json=body(world, start_date="2026-11-25", end_date="2026-11-24"),
        headers=world.auth("head_teacher"),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "end_date"]

    start = date(2026, 12, 1)
    too_long = body(world, start_date=str(start), end_date=str(start + timedelta(days=60)))
    r = await client.post(URL, json=too_long, headers=world.auth("head_teacher"))
    assert r.status_code == 422
    problem = r.json()["errors"][0]
    assert problem["loc"] == ["body", "end_date"] and "休学" in problem["msg"]
    assert await all_leaves(client, world) == []

    sixty = body(world, start_date=str(start), end_date=str(start + timedelta(days=59)))
    await create(client, world, "head_teacher", sixty)


async def test_overlapping_a_pending_or_approved_leave_is_409(
    world: World, client: httpx.AsyncClient
) -> None:
    first = await create(client, world, "head_teacher", body(world))  # 24–25 Nov, pending
    overlap = body(world, start_date="2026-11-25", end_date="2026-11-27")
    r = await client.post(URL, json=overlap, headers=world.auth("principal"))
    assert r.status_code == 409
    assert f"#{first['id']}" in r.json()["detail"]

    await client.post(f"{URL}/{first['id']}/approve", headers=world.auth("principal"))
    r = await client.post(URL, json=overlap, headers=world.auth("principal"))
    assert r.status_code == 409
    assert len(await all_leaves(client, world)) == 1

    # the next day is fine, and another student's leave never clashes
    await create(
        client, world, "principal", body(world, start_date="2026-11-26", end_date="2026-11-26")
    )
    await create(client, world, "principal", body(world, student="student_A2"))

    # a cancelled leave frees its dates
    await client.post(f"{URL}/{first['id']}/cancel", headers=world.auth("principal"))
    await create(client, world, "principal", body(world, end_date="2026-11-24"))


async def test_cancel_after_approval_then_approving_it_again_is_409(
    world: World, client: httpx.AsyncClient
) -> None:
    leave = await create(client, world, "head_teacher", body(world, approve=True))
    r = await client.post(f"{URL}/{leave['id']}/cancel", headers=world.auth("vice_principal"))
    assert r.status_code == 200, r.text
    cancelled = r.json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["decided_by"] == f"staff:{world.ids['vice_principal']}:vice_principal"

    for action in ("approve", "cancel"):
        r = await client.post(f"{URL}/{leave['id']}/{action}", headers=world.auth("principal"))
        assert r.status_code == 409, action
        assert "已撤销" in r.json()["detail"] and "cancelled" in r.json()["detail"]
    r = await client.post(
        f"{URL}/{leave['id']}/reject", json={"reason": "x"}, headers=world.auth("principal")
    )
    assert r.status_code == 409
    after = (await client.get(f"{URL}/{leave['id']}", headers=world.auth("principal"))).json()
    assert after == cancelled


async def test_reject_keeps_the_reason_and_is_final(
    world: World, client: httpx.AsyncClient
) -> None:
    leave = await create(client, world, "subject_teacher", body(world))
    r = await client.post(
        f"{URL}/{leave['id']}/reject",
        json={"reason": "请补交家长签字"},
        headers=world.auth("academic_affairs"),
    )
    assert r.status_code == 200, r.text
    rejected = r.json()
    assert rejected["status"] == "rejected" and rejected["status_label"] == "已驳回"
    assert rejected["rejection_reason"] == "请补交家长签字"
    assert rejected["reason"] == "家中有事"

    r = await client.post(f"{URL}/{leave['id']}/approve", headers=world.auth("principal"))
    assert r.status_code == 409
    r = await client.post(f"{URL}/{leave['id']}/cancel", headers=world.auth("subject_teacher"))
    assert r.status_code == 409
    assert await status_of(client, world, leave["id"]) == "rejected"

    r = await client.post(
        f"{URL}/{leave['id']}/reject", json={"reason": ""}, headers=world.auth("principal")
    )
    assert r.status_code == 422


async def test_filters_by_covering_date_status_and_scope(
    world: World, client: httpx.AsyncClient
) -> None:
    a = await create(client, world, "head_teacher", body(world, approve=True))  # 24–25
    b = await create(
        client, world, "head_teacher", body(world, start_date="2026-11-30", end_date="2026-12-02")
    )
    c = await create(client, world, "principal", body(world, student="student_A2"))  # 24–25
    d = await create(client, world, "principal_B", body(world, student="student_B1"))

    def ids(items: list[Any]) -> set[int]:
        return {i["id"] for i in items}

    assert ids(await all_leaves(client, world, covering="2026-11-25")) == {
        a["id"],
        c["id"],
        d["id"],
    }
    assert ids(await all_leaves(client, world, covering="2026-12-02")) == {b["id"]}
    assert await all_leaves(client, world, covering="2026-11-27") == []
    assert ids(await all_leaves(client, world, status="approved")) == {a["id"]}
    assert ids(await all_leaves(client, world, status="pending", covering="2026-11-24")) == {
        c["id"],
        d["id"],
    }
    assert ids(await all_leaves(client, world, class_id=world.ids["class_A1"])) == {
        a["id"],
        b["id"],
    }
    assert ids(await all_leaves(client, world, school_id=world.ids["school_B"])) == {d["id"]}
    assert ids(await all_leaves(client, world, student_id=world.ids["student_A2"])) == {c["id"]}

    r = await client.get(URL, params={"limit": 2}, headers=world.auth("county_admin"))
    page = r.json()
    assert page["total"] == 4 and len(page["items"]) == 2 and page["limit"] == 2
    r = await client.get(URL, params={"status": "lost"}, headers=world.auth("county_admin"))
    assert r.status_code == 422

    # a head teacher sees their class only; another school's principal sees theirs only
    r = await client.get(URL, headers=world.auth("head_teacher"))
    assert ids(r.json()["items"]) == {a["id"], b["id"]}
    r = await client.get(URL, headers=world.auth("principal_B"))
    assert ids(r.json()["items"]) == {d["id"]}


async def test_approved_leave_days_cover_exactly_the_approved_ranges(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    a1, a2, b1 = (world.ids[k] for k in ("student_A1", "student_A2", "student_B1"))
    await create(
        client, world, "head_teacher", body(world, start_date="2026-11-20", end_date="2026-11-24")
    )  # pending
    approved = await create(
        client, world, "head_teacher", body(world, start_date="2026-11-26", end_date="2026-11-27")
    )
    await client.post(f"{URL}/{approved['id']}/approve", headers=world.auth("head_teacher"))
    await create(
        client,
        world,
        "head_teacher",
        body(world, start_date="2026-12-10", end_date="2026-12-11", approve=True),
    )
    cancelled = await create(
        client,
        world,
        "principal",
        body(world, student="student_A2", start_date="2026-11-25", end_date="2026-11-25"),
    )
    await client.post(f"{URL}/{cancelled['id']}/cancel", headers=world.auth("principal"))
    await create(
        client,
        world,
        "principal_B",
        body(world, student="student_B1", start_date="2026-11-29", end_date="2026-12-03"),
    )
    await client.post(
        URL,
        json=body(world, student="student_B1", start_date="2026-11-29", approve=True),
        headers=world.auth("principal_B"),
    )  # 409: overlaps the pending one, so nothing

    async with ctx.uow() as uow:
        days = await approved_leave_days(
            uow.session, [a1, a2, b1], date(2026, 11, 20), date(2026, 12, 10)
        )
        assert days == {a1: {date(2026, 11, 26), date(2026, 11, 27), date(2026, 12, 10)}}
        clipped = await approved_leave_days(
            uow.session, [a1], date(2026, 11, 27), date(2026, 11, 30)
        )
        assert clipped == {a1: {date(2026, 11, 27)}}
        assert (
            await approved_leave_days(uow.session, [a2, b1], date(2026, 11, 1), date(2027, 1, 1))
            == {}
        )
        assert await approved_leave_days(uow.session, [], date(2026, 11, 1), date(2027, 1, 1)) == {}

    # approving B1's pending leave makes its days count
    leave_b = (await all_leaves(client, world, student_id=b1))[0]
    await client.post(f"{URL}/{leave_b['id']}/approve", headers=world.auth("principal_B"))
    async with ctx.uow() as uow:
        days = await approved_leave_days(uow.session, [b1], date(2026, 12, 1), date(2026, 12, 31))
    assert days == {b1: {date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)}}


async def test_concurrent_requests_for_the_same_dates_create_one_leave(
    world: World, client: httpx.AsyncClient
) -> None:
    answers = await asyncio.gather(
        *(client.post(URL, json=body(world), headers=world.auth("head_teacher")) for _ in range(5))
    )
    assert sorted(r.status_code for r in answers) == [201, 409, 409, 409, 409]
    assert len(await all_leaves(client, world)) == 1


async def test_concurrent_decisions_on_one_leave_apply_once(
    world: World, client: httpx.AsyncClient
) -> None:
    leave = await create(client, world, "head_teacher", body(world))
    path = f"{URL}/{leave['id']}"
    answers = await asyncio.gather(
        client.post(f"{path}/approve", headers=world.auth("principal")),
        client.post(f"{path}/reject", json={"reason": "不批"}, headers=world.auth("principal")),
        client.post(f"{path}/approve", headers=world.auth("head_teacher")),
    )
    assert sorted(r.status_code for r in answers) == [200, 409, 409]
    winner = next(r.json() for r in answers if r.status_code == 200)
    assert await status_of(client, world, leave["id"]) == winner["status"]
