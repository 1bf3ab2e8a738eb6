"""SMS end to end: templates configured through the API, the real delivery worker, a fake
Tencent Cloud / Alibaba Cloud endpoint on 127.0.0.1 that verifies signatures with the
providers' SDK code; what arrives is observed at the fake, what happened in the receipts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import select

from app.context import AppContext
from app.core.channel_settings import ChannelEndpoints
from app.db.models import Delivery, Staff
from app.delivery.channels import outbound
from app.delivery.worker import DeliveryWorker
from tests.fakes.server import serve
from tests.fakes.sms_providers import FakeAliyunSms, FakeTencentSms
from tests.helpers import absent_students, clock
from tests.world import World

SIGN = "示例县教育局"
TENCENT_TEMPLATES = {
    "alert.raised": {
        "template_id": "100001",
        "content": "{1}的{2}同学{3},请于{4}前核查。",
        "params": {"1": "school", "2": "student", "3": "level", "4": "due"},
    },
    "default": {"template_id": "100002", "content": "控辍保学通知:{1}。", "params": {"1": "topic"}},
}
ALIYUN_TEMPLATES = {
    "alert.raised": {
        "template_id": "SMS_100001",
        "content": "${school}的${student}同学${level},请于${due}前核查。",
        "params": {"school": "school", "student": "student", "level": "level", "due": "due"},
    },
}


@pytest.fixture
async def tencent(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[FakeTencentSms, ChannelEndpoints]]:
    fake = FakeTencentSms(
        secrets={"AKIDcounty": "county-secret-key"},
        app_id="1400000001",
        signs={SIGN},
        templates={"100001": "{1}的{2}同学{3},请于{4}前核查。", "100002": "控辍保学通知:{1}。"},
        rate_now=lambda: ctx.clock().timestamp(),
    )
    async with serve(fake.app()) as base:
        endpoints = ChannelEndpoints(
            sms_provider="tencent",
            sms_endpoint=base,
            sms_secret_id="AKIDcounty",
            sms_secret_key="county-secret-key",  # type: ignore[arg-type]
            sms_sdk_app_id="1400000001",
            sms_sign=SIGN,
        )
        monkeypatch.setattr(ctx.settings, "channels", endpoints)
        yield fake, endpoints


@pytest.fixture
async def aliyun(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[FakeAliyunSms, ChannelEndpoints]]:
    fake = FakeAliyunSms(
        secrets={"LTAIcounty": "county-access-secret"},
        signs={SIGN},
        templates={"SMS_100001": ALIYUN_TEMPLATES["alert.raised"]["content"]},  # type: ignore[dict-item]
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


def worker(ctx: AppContext, endpoints: ChannelEndpoints) -> DeliveryWorker:
    """The production worker with the production (guarded) client."""
    client = outbound.http_client(ctx.settings.outbound, httpx.Timeout(5))
    return DeliveryWorker(ctx, client, endpoints)


async def configure_sms(
    client: httpx.AsyncClient, world: World, templates: dict[str, Any]
) -> httpx.Response:
    school = world.ids["school_A"]
    r = await client.put(
        f"/api/v1/schools/{school}/sms-templates",
        json={"templates": templates},
        headers=world.auth("principal"),
    )
    if r.status_code == 200:
        routes = {"routes": {"head_teacher": ["sms"]}}
        done = await client.put(
            f"/api/v1/schools/{school}/delivery", json=routes, headers=world.auth("principal")
        )
        assert done.status_code == 200, done.text
    return r


async def head_teacher_mobile(ctx: AppContext, world: World) -> str:
    async with ctx.uow() as uow:
        person = await uow.session.get(Staff, world.ids["head_teacher"])
    assert person is not None and person.mobile
    return person.mobile


async def sms_rows(ctx: AppContext) -> list[Delivery]:
    async with ctx.uow() as uow:
        rows = await uow.session.exec(select(Delivery).where(Delivery.channel == "sms"))
        return sorted(rows, key=lambda d: d.id or 0)


async def receipts(client: httpx.AsyncClient, world: World, alert_id: int) -> list[Any]:
    r = await client.get(f"/api/v1/alerts/{alert_id}/deliveries", headers=world.auth("principal"))
    assert r.status_code == 200, r.text
    return [d for d in r.json() if d["channel"] == "sms"]


async def test_tencent_sms_arrives_with_the_mapped_parameters_in_order(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    tencent: tuple[FakeTencentSms, ChannelEndpoints],
) -> None:
    fake, endpoints = tencent
    r = await configure_sms(client, world, TENCENT_TEMPLATES)
    assert r.status_code == 200, r.text
    await absent_students(client, world, "student_A1")
    await worker(ctx, endpoints).tick()
    [sent] = fake.sent
    assert sent.phone == "+86" + await head_teacher_mobile(ctx, world)
    assert sent.template == "100001" and sent.sign == SIGN
    school, student, level, due = sent.params
    assert (school, student, level) == ("学校A", "学*1", "蓝色预警")
    assert due and len(due) <= 12
    [row] = await sms_rows(ctx)
    assert row.state == "sent"
    [shown] = await receipts(client, world, row.alert_id or 0)
    assert shown["state"] == "sent" and shown["receipts"][0]["code"] == "Ok"


async def test_tencent_rate_limit_retries_after_30_seconds(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    tencent: tuple[FakeTencentSms, ChannelEndpoints],
) -> None:
    fake, endpoints = tencent
    await world.add_student("second", "class_A1", 77)
    assert (await configure_sms(client, world, TENCENT_TEMPLATES)).status_code == 200
    await absent_students(client, world, "student_A1", "second")
    w = worker(ctx, endpoints)
    got = await w.tick()
    assert (got.sent, got.retried) == (1, 1)
    assert fake.errors == ["LimitExceeded.PhoneNumberThirtySecondLimit"]
    waiting = next(d for d in await sms_rows(ctx) if d.state == "pending")
    assert waiting.next_attempt_at >= clock(ctx).now + timedelta(seconds=30)
    [shown] = [d for d in await receipts(client, world, waiting.alert_id or 0)]
    assert shown["receipts"][0]["code"] == "LimitExceeded.PhoneNumberThirtySecondLimit"
    clock(ctx).now = waiting.next_attempt_at
    assert (await w.tick()).sent == 1
    assert len(fake.sent) == 2


async def test_a_wrong_tencent_secret_dead_letters_with_tencents_code_and_message(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    tencent: tuple[FakeTencentSms, ChannelEndpoints],
) -> None:
    fake, endpoints = tencent
    assert (await configure_sms(client, world, TENCENT_TEMPLATES)).status_code == 200
    await absent_students(client, world, "student_A1")
    wrong = endpoints.model_copy(update={"sms_secret_key": SecretStr("not-the-key")})
    got = await worker(ctx, wrong).tick()
    assert got.dead == 1 and fake.sent == []
    [row] = await sms_rows(ctx)
    assert row.state == "dead"
    assert row.last_error == "AuthFailure.SignatureFailure: 签名错误"
    [shown] = await receipts(client, world, row.alert_id or 0)
    assert shown["receipts"][0]["code"] == "AuthFailure.SignatureFailure"
    assert shown["last_error"] == "AuthFailure.SignatureFailure: 签名错误"


async def test_aliyun_sms_arrives_and_its_limit_control_retries(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    aliyun: tuple[FakeAliyunSms, ChannelEndpoints],
) -> None:
    fake, endpoints = aliyun
    await world.add_student("second", "class_A1", 77)
    r = await configure_sms(client, world, ALIYUN_TEMPLATES)
    assert r.status_code == 200, r.text
    await absent_students(client, world, "student_A1", "second")
    w = worker(ctx, endpoints)
    got = await w.tick()
    assert (got.sent, got.retried) == (1, 1)
    [sent] = fake.sent
    assert sent.phone == await head_teacher_mobile(ctx, world)  # mainland: no +86
    assert sent.params["school"] == "学校A" and sent.params["level"] == "蓝色预警"
    assert fake.errors == ["isv.BUSINESS_LIMIT_CONTROL"]
    waiting = next(d for d in await sms_rows(ctx) if d.state == "pending")
    assert waiting.next_attempt_at >= clock(ctx).now + timedelta(seconds=60)
    assert (waiting.last_error or "").startswith("isv.BUSINESS_LIMIT_CONTROL")
    clock(ctx).now = waiting.next_attempt_at
    assert (await w.tick()).sent == 1  # a fresh nonce and date: accepted
    assert len(fake.sent) == 2 and len(fake.nonces) == 3


async def test_an_unapproved_aliyun_template_dead_letters_with_alibabas_code(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    aliyun: tuple[FakeAliyunSms, ChannelEndpoints],
) -> None:
    fake, endpoints = aliyun
    templates = {"alert.raised": {**ALIYUN_TEMPLATES["alert.raised"], "template_id": "SMS_9"}}
    assert (await configure_sms(client, world, templates)).status_code == 200
    await absent_students(client, world, "student_A1")
    assert (await worker(ctx, endpoints).tick()).dead == 1
    [row] = await sms_rows(ctx)
    assert (row.last_error or "").startswith("isv.SMS_TEMPLATE_ILLEGAL: ")
    assert fake.sent == []


@pytest.mark.parametrize(
    ("template", "loc"),
    [
        # {4} is in the text but has no message param
        (
            {
                "template_id": "1",
                "content": "{1}的{2}同学{3},请于{4}前核查。",
                "params": {"1": "school", "2": "student", "3": "level"},
            },
            ["body", "templates", "alert.raised", "params"],
        ),
        # a param for no variable
        (
            {"template_id": "1", "content": "通知:{1}。", "params": {"1": "topic", "2": "due"}},
            ["body", "templates", "alert.raised", "params", "2"],
        ),
        # an unknown message param
        (
            {"template_id": "1", "content": "通知:{1}。", "params": {"1": "id_number"}},
            ["body", "templates", "alert.raised", "params", "1"],
        ),
        # adjacent variables, numbering with a gap
        (
            {"template_id": "1", "content": "通知:{1}{2}。", "params": {"1": "topic", "2": "due"}},
            ["body", "templates", "alert.raised", "content"],
        ),
        (
            {"template_id": "1", "content": "通知:{1},{3}。", "params": {"1": "topic", "3": "due"}},
            ["body", "templates", "alert.raised", "content"],
        ),
        # a template of variables only
        (
            {"template_id": "1", "content": "{1}", "params": {"1": "topic"}},
            ["body", "templates", "alert.raised", "content"],
        ),
    ],
)
async def test_bad_tencent_templates_are_422_naming_the_field_and_store_nothing(
    world: World,
    client: httpx.AsyncClient,
    tencent: tuple[FakeTencentSms, ChannelEndpoints],
    template: dict[str, Any],
    loc: list[str],
) -> None:
    r = await configure_sms(client, world, {"alert.raised": template})
    assert r.status_code == 422, r.text
    assert loc in [p["loc"] for p in r.json()["errors"]]
    school = world.ids["school_A"]
    stored = await client.get(
        f"/api/v1/schools/{school}/sms-templates", headers=world.auth("principal")
    )
    assert stored.json()["templates"] == {}


async def test_bad_aliyun_templates_and_unknown_kinds_are_422(
    world: World,
    client: httpx.AsyncClient,
    aliyun: tuple[FakeAliyunSms, ChannelEndpoints],
) -> None:
    missing = {**ALIYUN_TEMPLATES["alert.raised"], "params": {"school": "school"}}
    r = await configure_sms(client, world, {"alert.raised": missing})
    assert r.status_code == 422
    assert ["body", "templates", "alert.raised", "params"] in [p["loc"] for p in r.json()["errors"]]
    twice = {
        "template_id": "SMS_1",
        "content": "${student}同学,${student}同学",
        "params": {"student": "student"},
    }
    r = await configure_sms(client, world, {"alert.raised": twice})
    assert r.status_code == 422
    r = await configure_sms(client, world, {"alert.exploded": ALIYUN_TEMPLATES["alert.raised"]})
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "templates", "alert.exploded"]


async def test_sms_templates_need_a_provider(world: World, client: httpx.AsyncClient) -> None:
    r = await configure_sms(client, world, TENCENT_TEMPLATES)  # the test settings: no provider
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "templates"]


async def test_teachers_cannot_configure_sms(
    world: World, client: httpx.AsyncClient, tencent: tuple[FakeTencentSms, ChannelEndpoints]
) -> None:
    r = await client.put(
        f"/api/v1/schools/{world.ids['school_A']}/sms-templates",
        json={"templates": TENCENT_TEMPLATES},
        headers=world.auth("head_teacher"),
    )
    assert r.status_code == 403
