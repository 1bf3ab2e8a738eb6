"""The providers' published rules as the adapters apply them, without a network: template
variables, values never empty and within the length limits, phone formats, and how each
documented error code is acted on."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.delivery.channels.base import Outcome
from app.delivery.channels.sms_aliyun import classify as aliyun_classify
from app.delivery.channels.sms_provider import for_aliyun, to_e164
from app.delivery.channels.sms_templates import EMPTY_VALUE, SmsTemplate
from app.delivery.channels.sms_tencent import classify as tencent_classify

NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
TENCENT = SmsTemplate(
    template_id="1",
    content="{1}的{2}同学{3},请于{4}前核查。",
    params={"1": "school", "2": "student", "3": "level", "4": "due"},
)
ALIYUN = SmsTemplate(
    template_id="SMS_1",
    content="${school}的${student}同学${level},验证码${code}",
    params={"school": "school", "student": "student", "level": "level", "code": "count"},
    kinds={"code": "numberCaptcha"},
)


def test_variables_come_in_the_providers_order() -> None:
    shuffled = TENCENT.model_copy(update={"content": "{3}…{1}的{2},{4}前"})
    assert shuffled.variables("tencent") == ["1", "2", "3", "4"]
    assert ALIYUN.variables("aliyun") == ["school", "student", "level", "code"]
    assert TENCENT.problems("tencent") == [] and ALIYUN.problems("aliyun") == []


@given(st.dictionaries(st.sampled_from(["school", "student", "level", "due", "count"]), st.text()))
def test_values_are_never_empty_and_within_the_limits(params: dict[str, str]) -> None:
    for name, value in TENCENT.values("tencent", params):
        assert value.strip() and len(value) <= 12, name
    for name, value in ALIYUN.values("aliyun", params):
        assert value.strip() and len(value) <= (6 if name == "code" else 35), name


def test_a_topic_without_a_level_still_sends_a_readable_value() -> None:
    values = dict(TENCENT.values("tencent", {"school": "城关中学", "student": "张*明"}))
    assert values["3"] == EMPTY_VALUE == "无"
    long = dict(TENCENT.values("tencent", {"school": "某某县第一实验小学附属幼儿园分园"}))
    assert long["1"] == "某某县第一实验小学附属…" and len(long["1"]) == 12
    wider = TENCENT.model_copy(update={"max_chars": 20})  # an enterprise account
    assert dict(wider.values("tencent", {"school": "某某县第一实验小学附属幼儿园分园"}))["1"] == (
        "某某县第一实验小学附属幼儿园分园"
    )


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13800000000", "+8613800000000"),
        ("138 0000 0000", "+8613800000000"),
        ("+86 138-0000-0000", "+8613800000000"),
        ("008613800000000", "+8613800000000"),
        ("+85291234567", "+85291234567"),
        ("12345", None),
        ("call me", None),
        ("1380000000", None),  # 10 digits
    ],
)
def test_phone_numbers(raw: str, e164: str | None) -> None:
    assert to_e164(raw) == e164


def test_alibaba_takes_mainland_numbers_bare() -> None:
    assert for_aliyun("+8613800000000") == "13800000000"
    assert for_aliyun("+85291234567") == "85291234567"


def _tc(body: object, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("POST", "https://x/"))


def _error(code: str) -> dict[str, object]:
    return {"Response": {"Error": {"Code": code, "Message": "m"}, "RequestId": "r"}}


def _status(code: str) -> dict[str, object]:
    return {"Response": {"SendStatusSet": [{"Code": code, "Message": "m"}], "RequestId": "r"}}


@pytest.mark.parametrize(
    ("body", "outcome", "after"),
    [
        (_status("Ok"), Outcome.ok, None),
        (_status("LimitExceeded.PhoneNumberThirtySecondLimit"), Outcome.retry, 30.0),
        (_status("LimitExceeded.PhoneNumberOneHourLimit"), Outcome.retry, 3600.0),
        (_status("LimitExceeded.PhoneNumberDailyLimit"), Outcome.permanent, None),
        (_error("RequestLimitExceeded"), Outcome.retry, None),
        (_error("InternalError.Timeout"), Outcome.retry, None),
        (_error("AuthFailure.SignatureFailure"), Outcome.permanent, None),
        (_error("FailedOperation.TemplateIncorrectOrUnapproved"), Outcome.permanent, None),
        (_error("InvalidParameterValue.IncorrectPhoneNumber"), Outcome.permanent, None),
        (_error("FailedOperation.InsufficientBalanceInSmsPackage"), Outcome.permanent, None),
        ({"Response": {"RequestId": "r"}}, Outcome.permanent, None),
        ({"not": "tencent"}, Outcome.permanent, None),
    ],
)
def test_tencent_answers(body: object, outcome: Outcome, after: float | None) -> None:
    got = tencent_classify(_tc(body), NOW)
    assert (got.outcome, got.retry_after) == (outcome, after)
    if outcome is Outcome.permanent and "Error" in str(body):
        assert got.code and got.error and got.error.startswith(got.code)


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (200, {"Code": "OK", "Message": "OK", "BizId": "1"}, Outcome.ok),
        (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"}, Outcome.retry),
        (200, {"Code": "isp.SYSTEM_ERROR", "Message": "系统错误"}, Outcome.retry),
        (400, {"Code": "Throttling.User", "Message": "Request was denied"}, Outcome.retry),
        (200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL"}, Outcome.permanent),
        (200, {"Code": "isv.AMOUNT_NOT_ENOUGH"}, Outcome.permanent),
        (400, {"Code": "SignatureDoesNotMatch", "Message": "签名不匹配"}, Outcome.permanent),
        (404, {"Code": "InvalidAccessKeyId.NotFound"}, Outcome.permanent),
        (503, {"Code": "ServiceUnavailable"}, Outcome.retry),
        (502, None, Outcome.retry),
        (200, {"Message": "no code"}, Outcome.permanent),
    ],
)
def test_alibaba_answers(status: int, body: object, outcome: Outcome) -> None:
    got = aliyun_classify(_tc(body, status), NOW)
    assert got.outcome is outcome
    if outcome is Outcome.retry and body and "LIMIT" in str(body):
        assert got.retry_after == 60.0
