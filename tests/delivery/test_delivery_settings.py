"""Delivery settings from the environment (KCBX_ prefix): the SMS provider, the outbound
address policy, and WeChat templates whose keywords cannot be sent are refused at start."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from app.core.channel_settings import ChannelEndpoints, OutboundPolicy
from app.delivery.channels import outbound
from app.delivery.channels.config import build_channels
from app.delivery.channels.sms_aliyun import AliyunSms
from app.delivery.channels.sms_tencent import TencentSms
from app.settings import Settings


def test_the_sms_provider_and_outbound_policy_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KCBX_CHANNELS__SMS_PROVIDER", "tencent")
    monkeypatch.setenv("KCBX_CHANNELS__SMS_SECRET_ID", "AKIDx")
    monkeypatch.setenv("KCBX_CHANNELS__SMS_SECRET_KEY", "tc3-secret-value")
    monkeypatch.setenv("KCBX_CHANNELS__SMS_SDK_APP_ID", "1400000001")
    monkeypatch.setenv("KCBX_CHANNELS__SMS_SIGN", "示例县教育局")
    monkeypatch.setenv("KCBX_OUTBOUND__ALLOW_NETWORKS", '["10.8.0.0/16"]')
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    channels = build_channels(settings.channels, httpx.AsyncClient())
    assert isinstance(channels["sms"], TencentSms)
    assert [str(n) for n in settings.outbound.allow_networks] == ["10.8.0.0/16"]
    assert "tc3-secret-value" not in repr(settings.channels)
    monkeypatch.setenv("KCBX_CHANNELS__SMS_PROVIDER", "aliyun")
    again = Settings(_env_file=None)  # type: ignore[call-arg]
    assert isinstance(build_channels(again.channels, httpx.AsyncClient())["sms"], AliyunSms)


def test_no_sms_channel_without_credentials() -> None:
    for provider in ("tencent", "aliyun"):
        endpoints = ChannelEndpoints(sms_provider=provider, sms_sign="县")  # type: ignore[arg-type]
        assert "sms" not in build_channels(endpoints, httpx.AsyncClient())


def test_the_default_policy_allows_only_public_addresses() -> None:
    policy = OutboundPolicy()
    assert policy.allow_networks == [] and policy.extra_robot_hosts == []
    assert (
        outbound.robot_url_problem(
            policy, "wecom_robot", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"
        )
        is None
    )
    assert outbound.robot_url_problem(
        policy, "dingtalk_robot", "https://qyapi.weixin.qq.com/robot/send"
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"thing": "student"},  # no number
        {"keyword1": "student"},  # old template-message keywords are not subscribe keywords
        {"thing1": "id_number"},  # not a message param
        {"Thing1": "student"},
    ],
)
def test_wechat_templates_with_unsendable_keywords_are_refused(fields: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        ChannelEndpoints(wechat_templates={"default": {"template_id": "t", "fields": fields}})  # type: ignore[dict-item]
    ok = {"thing1": "student", "phrase2": "level", "time3": "due_full"}
    ChannelEndpoints(wechat_templates={"default": {"template_id": "t", "fields": ok}})  # type: ignore[dict-item]
