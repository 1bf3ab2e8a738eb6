"""SMS request signatures against the providers' official Python SDKs (dev dependencies):
the same inputs, with the timestamp and nonce fixed, give byte-identical bodies and
``Authorization`` headers; and the SDKs' own clients are accepted by the fake providers, so
the fakes check what the providers check."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from unittest import mock

import httpx
import pytest
from alibabacloud_dysmsapi20170525 import models as ali_models
from alibabacloud_dysmsapi20170525.client import Client as AliClient
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.utils import Utils as AliUtils
from darabonba.request import DaraRequest
from darabonba.runtime import RuntimeOptions
from hypothesis import given, settings
from hypothesis import strategies as st
from tencentcloud.common import credential
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models as tc_models
from tencentcloud.sms.v20210111 import sms_client

from app.delivery.channels.sms_aliyun import EMPTY_SHA256, AliyunSms
from app.delivery.channels.sms_tencent import TencentSms
from tests.fakes.server import serve
from tests.fakes.sms_providers import FakeAliyunSms, FakeTencentSms

text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12
)
ascii_id = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl0123456789", min_size=4, max_size=40
)
stamp = st.integers(min_value=946_684_800, max_value=4_102_444_800)  # 2000 … 2100
phones = st.from_regex(r"\+861[3-9]\d{9}", fullmatch=True)


def _tencent_sdk_request(
    secret_id: str, secret_key: str, host: str, fields: dict[str, object], timestamp: int
) -> RequestInternal:
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=host))
    client = sms_client.SmsClient(credential.Credential(secret_id, secret_key), "", profile)
    req = tc_models.SendSmsRequest()
    for key, value in fields.items():
        setattr(req, key, value)
    built = RequestInternal(host, "POST", "/", header={})
    with mock.patch("tencentcloud.common.abstract_client.time.time", return_value=timestamp):
        client._build_req_inter("SendSms", req._serialize(), built)
    return built


@settings(max_examples=60, deadline=None)
@given(
    secret_id=ascii_id,
    secret_key=ascii_id,
    timestamp=stamp,
    phone=phones,
    values=st.lists(text, min_size=0, max_size=5),
    sign=text,
    template_id=st.from_regex(r"[1-9]\d{5,7}", fullmatch=True),
)
def test_tencent_tc3_matches_the_sdk_byte_for_byte(
    secret_id: str,
    secret_key: str,
    timestamp: int,
    phone: str,
    values: list[str],
    sign: str,
    template_id: str,
) -> None:
    host = "sms.tencentcloudapi.com"
    ours = TencentSms(
        httpx.AsyncClient(),
        secret_id=secret_id,
        secret_key=secret_key,
        sdk_app_id="1400000001",
        sign_name=sign,
        endpoint=f"https://{host}",
    )
    body = ours.body(phone, template_id, values, "n1:sms")
    headers = ours.headers(body, timestamp)
    sdk = _tencent_sdk_request(
        secret_id,
        secret_key,
        host,
        {
            "PhoneNumberSet": [phone],
            "SmsSdkAppId": "1400000001",
            "TemplateId": template_id,
            "SignName": sign,
            "TemplateParamSet": values,
            "SessionContext": "n1:sms",
        },
        timestamp,
    )
    assert body == sdk.data.encode("utf-8")
    assert headers["Authorization"] == sdk.header["Authorization"]
    for name in ("Host", "Content-Type", "X-TC-Action", "X-TC-Version", "X-TC-Timestamp"):
        assert headers[name] == sdk.header[name], name


@settings(max_examples=60, deadline=None)
@given(
    key_id=ascii_id,
    key_secret=ascii_id,
    when=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
    ),
    nonce=ascii_id,
    phone=phones,
    values=st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), text, max_size=4),
    sign=text,
)
def test_aliyun_acs3_matches_the_sdk_byte_for_byte(
    key_id: str,
    key_secret: str,
    when: datetime,
    nonce: str,
    phone: str,
    values: dict[str, str],
    sign: str,
) -> None:
    ours = AliyunSms(
        httpx.AsyncClient(),
        access_key_id=key_id,
        access_key_secret=key_secret,
        sign_name=sign,
    )
    query = ours.query(phone, "SMS_123", list(values.items()), "n1:sms")
    headers = ours.headers(query, when, nonce)
    sdk = DaraRequest()
    sdk.method, sdk.pathname, sdk.query = "POST", "/", dict(query)
    sdk.headers = {k: v for k, v in headers.items() if k != "Authorization"}
    with mock.patch(
        "alibabacloud_tea_openapi.utils.datetime",
        mock.Mock(utcnow=mock.Mock(return_value=when.replace(tzinfo=None))),
    ):
        assert sdk.headers["x-acs-date"] == AliUtils.get_timestamp()
    expected = AliUtils.get_authorization(sdk, "ACS3-HMAC-SHA256", EMPTY_SHA256, key_id, key_secret)
    assert headers["Authorization"] == expected
    assert json.loads(query["TemplateParam"]) == values


# --- the SDKs' own clients against the fakes -------------------------------------------------


@pytest.fixture
async def tencent_fake() -> AsyncIterator[tuple[str, FakeTencentSms]]:
    fake = FakeTencentSms(
        secrets={"AKIDsdk": "sdk-secret-key"},
        app_id="1400000001",
        signs={"示例县教育局"},
        templates={"100001": "{1}同学今日未到校,请于{2}前核查。"},
    )
    async with serve(fake.app()) as base:
        yield base, fake


@pytest.fixture
async def aliyun_fake() -> AsyncIterator[tuple[str, FakeAliyunSms]]:
    fake = FakeAliyunSms(
        secrets={"LTAIsdk": "sdk-access-secret"},
        signs={"示例县教育局"},
        templates={"SMS_100001": "${student}同学今日未到校,请于${due}前核查。"},
    )
    async with serve(fake.app()) as base:
        yield base, fake


async def test_the_tencent_sdk_is_accepted_by_the_fake(
    tencent_fake: tuple[str, FakeTencentSms],
) -> None:
    base, fake = tencent_fake
    http = HttpProfile(endpoint=base.removeprefix("http://"))
    http.scheme = "http"
    profile = ClientProfile(httpProfile=http)
    profile.disable_region_breaker = True

    def call(key: str) -> str:
        client = sms_client.SmsClient(
            credential.Credential("AKIDsdk", key), "ap-guangzhou", profile
        )
        req = tc_models.SendSmsRequest()
        req.PhoneNumberSet = ["+8613900000001"]
        req.SmsSdkAppId, req.SignName, req.TemplateId = "1400000001", "示例县教育局", "100001"
        req.TemplateParamSet = ["张*明", "10:00"]
        try:
            return str(client.SendSms(req).SendStatusSet[0].Code)
        except Exception as exc:  # the SDK raises the provider's error code
            return str(getattr(exc, "code", exc))

    assert await asyncio.to_thread(call, "sdk-secret-key") == "Ok"
    assert await asyncio.to_thread(call, "wrong-key") == "AuthFailure.SignatureFailure"
    assert [s.params for s in fake.sent] == [["张*明", "10:00"]]


async def test_the_aliyun_sdk_is_accepted_by_the_fake(
    aliyun_fake: tuple[str, FakeAliyunSms],
) -> None:
    base, fake = aliyun_fake

    def call(secret: str, phone: str) -> str:
        config = open_api_models.Config(
            access_key_id="LTAIsdk",
            access_key_secret=secret,
            endpoint=base.removeprefix("http://"),
            protocol="HTTP",
        )
        client = AliClient(config)
        req = ali_models.SendSmsRequest(
            phone_numbers=phone,
            sign_name="示例县教育局",
            template_code="SMS_100001",
            template_param=json.dumps({"student": "张*明", "due": "10:00"}, ensure_ascii=False),
        )
        runtime = RuntimeOptions(autoretry=False, max_attempts=1)
        try:
            return str(client.send_sms_with_options(req, runtime).body.code)
        except Exception as exc:
            return str(getattr(exc, "code", None) or getattr(exc, "inner_exception", exc))

    assert await asyncio.to_thread(call, "sdk-access-secret", "13900000001") == "OK"
    assert "SignatureDoesNotMatch" in await asyncio.to_thread(call, "wrong", "13900000002")
    assert [s.params for s in fake.sent] == [{"student": "张*明", "due": "10:00"}]
