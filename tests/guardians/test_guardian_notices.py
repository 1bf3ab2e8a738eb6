"""Guardian notices and answers (issue 22 items 1 and 2), through the configured path: the
school's SMS template and guardian settings over the API, the roll, the engine's periodic job,
the real delivery worker, a fake Alibaba Cloud SMS endpoint on 127.0.0.1 (the provider's
published rules and signature), and the guardian's answer through the link the SMS carried."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from app.alerts import sweep
from app.context import AppContext
from app.core.channel_settings import ChannelEndpoints
from app.db.models import (
    Delivery,
    DeliveryAttempt,
    GuardianNotice,
    LeaveRequest,
    Notification,
    ParentContact,
)
from app.guardians.notices import send_guardian_notices
from app.roster import students
from app.roster.schemas import GuardianIn, StudentIn
from tests.delivery.test_sms_delivery import worker
from tests.fakes.server import serve
from tests.fakes.sms_providers import FakeAliyunSms
from tests.helpers import BEIJING, TUESDAY, WEDNESDAY, event, move, roll, rows
from tests.world import OPS, World, id_number

SIGN = "示例县教育局"
CONTENT = (
    "${school}:您的孩子${students}今日${check}未到校且未请假,"
    "请点 https://k.example.cn/g/${code} 告知原因。"
)
TEMPLATE = {
    "template_id": "SMS_200001",
    "content": CONTENT,
    "params": {"school": "school", "students": "students", "check": "check", "code": "code"},
}
FAMILY = "13700000001"


def at(day: date, hhmm: str) -> datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


@pytest.fixture
async def aliyun(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[FakeAliyunSms, ChannelEndpoints]]:
    fake = FakeAliyunSms(
        secrets={"LTAIcounty": "county-access-secret"},
        signs={SIGN},
        templates={"SMS_200001": CONTENT},
        rate_now=lambda: ctx.clock().timestamp(),
    )
    async with serve(fake.app()) as base:
        endpoints = ChannelEndpoints(
            sms_provider="aliyun",
            sms_endpoint=base,
            sms_secret_id="LTAIcounty",
            sms_secret_key="county-access-secret",  # type: ignore[arg-type]
            sms_sign=SIGN,
        )
        monkeypatch.setattr(ctx.settings, "channels", endpoints)
        yield fake, endpoints


async def add_child(world: World, key: str, seq: int, mobile: str, klass: str = "A1") -> int:
    number = id_number(seq)
    data = StudentIn(
        class_id=world.ids[f"class_{klass}"],
        name=f"学生{seq}",
        student_no=f"G{number}",
        id_number=number,
        guardians=[GuardianIn(name="家长", relation="父亲", mobile=mobile)],
    )
    async with world.ctx.uow() as uow:
        out = await students.create_student(uow, world.ctx, OPS, data)
    world.ids[key] = out.id
    return out.id


async def configure(client: httpx.AsyncClient, world: World, **settings: object) -> None:
    school = world.ids["school_A"]
    who = world.auth("principal")
    r = await client.put(
        f"/api/v1/schools/{school}/sms-templates",
        json={"templates": {"guardian.absence": TEMPLATE}},
        headers=who,
    )
    assert r.status_code == 200, r.text
    body = {"enabled": True, **settings}
    r = await client.put(f"/api/v1/schools/{school}/guardian-notices", json=body, headers=who)
    assert r.status_code == 200, r.text


async def morning(client: httpx.AsyncClient, world: World, *keys: str, day: date = TUESDAY) -> None:
    """The roll taken at 08:05: the students named absent."""
    move(world.ctx, at(day, "08:06"))
    await roll(client, world, [event(world.ids[k], "absent", day=day) for k in keys], "principal")


async def sms_code(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    aliyun: tuple[FakeAliyunSms, ChannelEndpoints],
    *absent: str,
) -> str:
    """The school configured, the students absent at 08:05, the notices at 08:15 sent: the
    answer code the guardian's SMS carried (read at the fake provider)."""
    fake, endpoints = aliyun
    await configure(client, world)
    await morning(client, world, *absent)
    move(ctx, at(TUESDAY, "08:15"))
    await send_guardian_notices(ctx)
    await worker(ctx, endpoints).tick()
    code: str = fake.sent[0].params["code"]
    return code


@pytest.fixture
async def family(world: World, client: httpx.AsyncClient) -> World:
    """Two siblings in class A1 with one guardian; a third child on approved leave."""
    await add_child(world, "elder", 31, FAMILY)
    await add_child(world, "younger", 32, FAMILY)
    await add_child(world, "on_leave", 33, "13700000002")
    r = await client.post(
        "/api/v1/leaves",
        json={
            "student_id": world.ids["on_leave"],
            "start_date": TUESDAY.isoformat(),
            "end_date": TUESDAY.isoformat(),
            "leave_type": "personal",
            "reason": "家中有事",
            "approve": True,
        },
        headers=world.auth("head_teacher"),
    )
    assert r.status_code == 201, r.text
    return world


async def test_the_family_gets_one_sms_at_0815_and_the_child_on_leave_none(
    ctx: AppContext,
    family: World,
    client: httpx.AsyncClient,
    aliyun: tuple[FakeAliyunSms, ChannelEndpoints],
) -> None:
    fake, endpoints = aliyun
    await configure(client, family)
    await morning(client, family, "elder", "younger", "on_leave")
    move(ctx, at(TUESDAY, "08:14"))
    assert await send_guardian_notices(ctx) == 0  # the grace period is not over
    move(ctx, at(TUESDAY, "08:15"))
    assert await send_guardian_notices(ctx) == 1
    assert await send_guardian_notices(ctx) == 0  # once per guardian and day
    await worker(ctx, endpoints).tick()
    [sms] = fake.sent  # siblings: one message; the child on leave: none
    assert sms.phone == FAMILY and sms.template == "SMS_200001" and sms.sign == SIGN
    assert sms.params["school"] == "学校A"
    assert sms.params["students"] == "学**1、学**2"  # masked, never a reason
    assert sms.params["check"] == "晨检 08:00"
    [row] = await rows(ctx, Delivery, Delivery.channel == "sms")
    assert row.state == "sent" and row.staff_id is None
    [receipt] = await rows(ctx, DeliveryAttempt, DeliveryAttempt.delivery_id == row.id)
    assert receipt.status == "ok"


async def test_ill_fever_at_0820_counts_as_the_contact_and_opens_a_pending_sick_leave(
    ctx: AppContext,
    family: World,
    client: httpx.AsyncClient,
    aliyun: tuple[FakeAliyunSms, ChannelEndpoints],
) -> None:
    code = await sms_code(ctx, family, client, aliyun, "elder", "younger")
    page = await client.get(f"/api/v1/guardian-answers/{code}")
    assert page.status_code == 200, page.text
    assert [c["name"] for c in page.json()["children"]] == ["学**1", "学**2"]
    move(ctx, at(TUESDAY, "08:20"))
    elder = family.ids["elder"]
    r = await client.post(
        f"/api/v1/guardian-answers/{code}",
        json={"student_id": elder, "answer": "ill", "symptoms": ["fever"], "note": "昨晚发烧"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["counted_as_contact"] is True
    [leave] = await rows(ctx, LeaveRequest, LeaveRequest.student_id == elder)
    assert (leave.status, leave.leave_type, leave.symptoms) == ("pending", "sick", ["fever"])
    assert leave.onset_at == at(TUESDAY, "08:20")
    assert leave.requested_by.startswith("guardian:137****")
    [contact] = await rows(ctx, ParentContact)
    assert contact.reached and contact.reason_category == "illness"
    # The illness register (what the school's epidemic reporter reads) has it, with the fever.
    register = await client.get(
        "/api/v1/illness/register",
        params={"school_id": family.ids["school_A"], "start": "2026-11-24", "end": "2026-11-24"},
        headers=family.auth("principal"),
    )
    assert register.status_code == 200, register.text
    [entry] = register.json()["entries"]
    assert entry["student_id"] == elder and entry["kind"] == "sick_leave"
    assert [s["code"] for s in entry["symptoms"]] == ["fever"]
    # 09:10: the younger child's 1-hour contact (due 09:06) is overdue and the vice principal
    # is told; the elder's was made by the answer, so nobody is told about the elder.
    move(ctx, at(TUESDAY, "09:10"))
    await sweep.sweep(ctx)
    overdue = await rows(ctx, Notification, Notification.topic == "contact.overdue")
    assert {(n.student_id, n.staff_id) for n in overdue} == {
        (family.ids["younger"], family.ids["vice_principal"])
    }
    again = await client.post(
        f"/api/v1/guardian-answers/{code}",
        json={"student_id": elder, "answer": "on_the_way"},
    )
    assert again.status_code == 409  # single use for each child


async def test_forged_expired_and_other_childrens_answers_are_refused_and_change_nothing(
    ctx: AppContext,
    family: World,
    client: httpx.AsyncClient,
    aliyun: tuple[FakeAliyunSms, ChannelEndpoints],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code = await sms_code(ctx, family, client, aliyun, "elder")
    elder = {"student_id": family.ids["elder"], "answer": "family"}
    forged = code[:-1] + ("A" if code[-1] != "A" else "B")
    for bad in (forged, "1.AAAAAAAAAAAAAAAA", "not-a-token", "99." + code.split(".")[1]):
        r = await client.post(f"/api/v1/guardian-answers/{bad}", json=elder)
        assert r.status_code == 401, (bad, r.text)
    other = {"student_id": family.ids["student_A2"], "answer": "family"}
    r = await client.post(f"/api/v1/guardian-answers/{code}", json=other)
    assert r.status_code == 404
    r = await client.post(
        f"/api/v1/guardian-answers/{code}",
        json={"student_id": family.ids["elder"], "answer": "ill"},
    )
    assert r.status_code == 422 and "symptoms" in r.text
    later = datetime.now(UTC) + timedelta(hours=ctx.settings.guardian_link_hours + 1)
    monkeypatch.setattr(ctx, "wall_clock", lambda: later)  # links expire on the real clock
    r = await client.post(f"/api/v1/guardian-answers/{code}", json=elder)
    assert r.status_code == 401
    assert await rows(ctx, LeaveRequest, LeaveRequest.student_id == family.ids["elder"]) == []
    assert await rows(ctx, ParentContact) == []


async def test_dont_know_tells_the_head_teacher_and_the_vice_principal_at_once(
    ctx: AppContext,
    family: World,
    client: httpx.AsyncClient,
    aliyun: tuple[FakeAliyunSms, ChannelEndpoints],
) -> None:
    code = await sms_code(ctx, family, client, aliyun, "elder")
    r = await client.post(
        f"/api/v1/guardian-answers/{code}",
        json={"student_id": family.ids["elder"], "answer": "dont_know"},
    )
    assert r.status_code == 200 and r.json()["escalated"] is True
    told = await rows(ctx, Notification, Notification.topic == "guardian.unknown")
    assert {n.staff_id for n in told} == {family.ids["head_teacher"], family.ids["vice_principal"]}
    assert await rows(ctx, LeaveRequest, LeaveRequest.student_id == family.ids["elder"]) == []


async def test_quiet_hours_hold_and_an_opt_out_is_kept(
    ctx: AppContext,
    family: World,
    client: httpx.AsyncClient,
    aliyun: tuple[FakeAliyunSms, ChannelEndpoints],
) -> None:
    fake, endpoints = aliyun
    await configure(client, family, quiet_start="08:00:00", quiet_end="08:30:00")
    await morning(client, family, "elder")
    move(ctx, at(TUESDAY, "08:20"))
    assert await send_guardian_notices(ctx) == 0  # quiet until 08:30
    move(ctx, at(TUESDAY, "08:30"))
    assert await send_guardian_notices(ctx) == 1
    await worker(ctx, endpoints).tick()
    code = fake.sent[0].params["code"]
    r = await client.post(f"/api/v1/guardian-answers/{code}/opt-out", json={"channel": "sms"})
    assert r.status_code == 204
    await morning(client, family, "elder", day=WEDNESDAY)
    move(ctx, at(WEDNESDAY, "08:40"))
    assert await send_guardian_notices(ctx) == 1  # noted, but no channel left
    [notice] = await rows(ctx, GuardianNotice, GuardianNotice.school_date == WEDNESDAY)
    assert notice.channels == []
    await worker(ctx, endpoints).tick()
    assert len(fake.sent) == 1


async def test_a_school_that_has_not_opted_in_sends_guardians_nothing(
    ctx: AppContext, family: World, client: httpx.AsyncClient
) -> None:
    await morning(client, family, "elder")
    move(ctx, at(TUESDAY, "08:30"))
    assert await send_guardian_notices(ctx) == 0
    r = await client.get(
        f"/api/v1/schools/{family.ids['school_A']}/guardian-notices",
        headers=family.auth("head_teacher"),
    )
    assert r.status_code == 200 and r.json()["enabled"] is False
    r = await client.put(
        f"/api/v1/schools/{family.ids['school_A']}/guardian-notices",
        json={"enabled": True},
        headers=family.auth("head_teacher"),
    )
    assert r.status_code == 403


async def test_answers_are_rate_limited_per_guardian_and_every_read_is_logged(
    ctx: AppContext,
    family: World,
    client: httpx.AsyncClient,
    aliyun: tuple[FakeAliyunSms, ChannelEndpoints],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    code = await sms_code(ctx, family, client, aliyun, "elder", "younger")
    with caplog.at_level(logging.INFO, logger="kcbx.guardians.access"):
        assert (await client.get(f"/api/v1/guardian-answers/{code}")).status_code == 200
    [read] = [r.getMessage() for r in caplog.records if r.name == "kcbx.guardians.access"]
    assert "guardian:137****0001" in read and str(family.ids["elder"]) in read
    monkeypatch.setattr(ctx.settings, "guardian_answers_per_hour", 1)
    first = {"student_id": family.ids["elder"], "answer": "on_the_way"}
    assert (await client.post(f"/api/v1/guardian-answers/{code}", json=first)).status_code == 200
    second = {"student_id": family.ids["younger"], "answer": "family"}
    r = await client.post(f"/api/v1/guardian-answers/{code}", json=second)
    assert r.status_code == 429 and r.headers.get("retry-after")
    assert await rows(ctx, LeaveRequest, LeaveRequest.student_id == family.ids["younger"]) == []
    move(ctx, at(TUESDAY, "09:16"))  # an hour later (the limit counts on the school's clock)
    r = await client.post(f"/api/v1/guardian-answers/{code}", json=second)
    assert r.status_code == 200, r.text


async def test_an_sms_provider_that_is_down_never_blocks_the_roll_or_the_staff_escalation(
    ctx: AppContext,
    family: World,
    client: httpx.AsyncClient,
    aliyun: tuple[FakeAliyunSms, ChannelEndpoints],
) -> None:
    down = aliyun[1].model_copy(update={"sms_endpoint": "http://127.0.0.1:9"})  # nobody there
    await configure(client, family)
    await morning(client, family, "elder")  # the roll is answered 2xx (asserted by roll())
    move(ctx, at(TUESDAY, "08:15"))
    assert await send_guardian_notices(ctx) == 1
    await worker(ctx, down).tick()
    [row] = await rows(ctx, Delivery, Delivery.channel == "sms")
    assert row.state == "pending" and row.attempts == 1  # retried later, with backoff
    move(ctx, at(TUESDAY, "09:10"))
    await sweep.sweep(ctx)
    overdue = await rows(ctx, Notification, Notification.topic == "contact.overdue")
    assert {(n.student_id, n.staff_id) for n in overdue} == {
        (family.ids["elder"], family.ids["vice_principal"])
    }


def tencent_reply(mobile: str, text: str) -> dict[str, object]:
    """What Tencent Cloud SMS posts to the reply callback (短信回复, its published shape)."""
    return {"extend": "", "mobile": mobile, "nationcode": "86", "sign": SIGN, "text": text,
            "time": 1764000000}  # fmt: skip


async def test_a_guardian_answers_by_sms_reply_for_every_child_the_notice_named(
    ctx: AppContext,
    family: World,
    client: httpx.AsyncClient,
    aliyun: tuple[FakeAliyunSms, ChannelEndpoints],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await sms_code(ctx, family, client, aliyun, "elder", "younger")
    url = "/api/v1/sms/replies/tencent/reply-secret-0123456789"
    r = await client.post(url, json=tencent_reply(FAMILY, "1"))
    assert r.status_code == 404  # no reply token configured: the callback does not exist
    monkeypatch.setattr(
        ctx.settings, "guardian_sms_reply_token", SecretStr("reply-secret-0123456789")
    )
    r = await client.post(url[:-1] + "X", json=tencent_reply(FAMILY, "1"))
    assert r.status_code == 404  # a wrong secret: nobody may answer for a guardian
    for text in ("好的", "9", "12"):
        r = await client.post(url, json=tencent_reply(FAMILY, text))
        assert r.status_code == 200 and r.json()["result"] == 1, text  # not a reply code
    r = await client.post(url, json=tencent_reply("13700000002", "1"))
    assert r.json()["result"] == 1  # no notice to that number
    assert await rows(ctx, ParentContact) == []
    move(ctx, at(TUESDAY, "08:20"))
    r = await client.post(url, json=tencent_reply(FAMILY, "1 昨晚发烧"))
    assert r.status_code == 200 and r.json() == {"result": 0, "errmsg": "OK"}
    leaves = await rows(ctx, LeaveRequest, LeaveRequest.leave_type == "sick")
    assert {(lv.student_id, lv.status, tuple(lv.symptoms)) for lv in leaves} == {
        (family.ids["elder"], "pending", ("fever",)),
        (family.ids["younger"], "pending", ("fever",)),
    }
    assert len(await rows(ctx, ParentContact)) == 2
    r = await client.post(url, json=tencent_reply(FAMILY, "2"))
    assert r.json()["result"] == 1  # both children answered already: nothing changes
    assert len(await rows(ctx, LeaveRequest, LeaveRequest.student_id == family.ids["elder"])) == 1
    move(ctx, at(TUESDAY, "09:10"))
    await sweep.sweep(ctx)
    assert await rows(ctx, Notification, Notification.topic == "contact.overdue") == []


@pytest.mark.parametrize("mask", ["middle", "given", "surname_only"])
async def test_every_name_mask_is_stored_and_read_back(
    world: World, client: httpx.AsyncClient, mask: str
) -> None:
    # surname_only did not fit the column (VARCHAR(10)) on PostgreSQL: a 500 until 0030
    url = f"/api/v1/schools/{world.ids['school_A']}/guardian-notices"
    who = world.auth("principal")
    r = await client.put(url, json={"enabled": False, "name_mask": mask}, headers=who)
    assert r.status_code == 200, r.text
    r = await client.get(url, headers=who)
    assert r.status_code == 200, r.text
    assert r.json()["name_mask"] == mask
