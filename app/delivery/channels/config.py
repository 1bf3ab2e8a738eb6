"""The adapters built from the channel settings (``app.core.channel_settings``): the
settings are plain data, and this is where they become clients of the vendors.

``build_channels`` leaves out a channel without credentials (WeChat, SMS); robots and
webhooks are always there, their URLs configured per school or county.
"""

from __future__ import annotations

from datetime import timedelta

import httpx

from app.core.channel_settings import ChannelEndpoints, OutboundPolicy, WechatTemplateConfig
from app.delivery.channels import dingtalk, sms_aliyun, sms_tencent, wechat, wecom
from app.delivery.channels.base import Channel, Clock, utc_now
from app.delivery.channels.outbound import RobotHostGuard
from app.delivery.channels.sms import TemplateSms
from app.delivery.channels.webhook import WebhookChannel
from app.delivery.templates import Links

# The delivery channel of the parents' mini-program (the school's guardian channel "wechat").
PARENTS_WECHAT = "parents_wechat"


def to_template(config: WechatTemplateConfig) -> wechat.WechatTemplate:
    return wechat.WechatTemplate(config.template_id, dict(config.fields))


def message_links(endpoints: ChannelEndpoints) -> Links:
    return Links(endpoints.case_url, endpoints.case_page, endpoints.inbox_url, endpoints.inbox_page)


def http_timeout(endpoints: ChannelEndpoints) -> httpx.Timeout:
    return httpx.Timeout(endpoints.timeout_seconds)


def build_channels(
    endpoints: ChannelEndpoints,
    client: httpx.AsyncClient,
    *,
    clock: Clock = utc_now,
    wall_clock: Clock = utc_now,
    policy: OutboundPolicy | None = None,
) -> dict[str, Channel]:
    """The adapters these endpoints allow, by channel name; WeChat and SMS only when
    their credentials are set. ``clock`` is what the worker runs on (maybe simulated);
    signatures and timestamps always use ``wall_clock``. With a ``policy``, robot URLs
    are checked against the platform hosts again at send time."""
    wecom_robot: Channel = wecom.WecomRobot(client, base_url=endpoints.wecom_base, clock=clock)
    dingtalk_robot: Channel = dingtalk.DingtalkRobot(
        client, base_url=endpoints.dingtalk_base, clock=clock
    )
    if policy is not None:
        wecom_robot = RobotHostGuard(wecom_robot, "wecom_robot", policy)
        dingtalk_robot = RobotHostGuard(dingtalk_robot, "dingtalk_robot", policy)
    channels: dict[str, Channel] = {
        "webhook": WebhookChannel(client, clock=clock, wall_clock=wall_clock),
        "wecom": wecom_robot,
        "dingtalk": dingtalk_robot,
    }
    if endpoints.wechat_configured:
        tokens = wechat.WechatTokenCache(
            client,
            appid=endpoints.wechat_appid,
            secret=endpoints.wechat_secret.get_secret_value(),
            base_url=endpoints.wechat_base,
            stable=endpoints.wechat_stable_token,
            refresh_margin=timedelta(seconds=endpoints.wechat_refresh_margin_seconds),
            clock=clock,
        )
        channels["wechat"] = wechat.WechatSubscribe(
            client,
            tokens,
            templates={k: to_template(v) for k, v in endpoints.wechat_templates.items()},
            base_url=endpoints.wechat_base,
            miniprogram_state=endpoints.wechat_miniprogram_state,
            lang=endpoints.wechat_lang,
            clock=clock,
        )
    if endpoints.sms_configured:
        channels["sms"] = _sms(endpoints, client, clock, wall_clock)
    return channels


def parents_wechat(
    endpoints: ChannelEndpoints,
    client: httpx.AsyncClient,
    *,
    appid: str,
    secret: str,
    template: WechatTemplateConfig | None,
    clock: Clock = utc_now,
) -> Channel | None:
    """The parents' mini-program's subscribe messages (guardian notices): its own appid,
    secret and access token, its one template (guardian notices are its only messages);
    None unless all three are set."""
    if not (appid and secret and template):
        return None
    tokens = wechat.WechatTokenCache(
        client,
        appid=appid,
        secret=secret,
        base_url=endpoints.wechat_base,
        stable=endpoints.wechat_stable_token,
        refresh_margin=timedelta(seconds=endpoints.wechat_refresh_margin_seconds),
        clock=clock,
    )
    return wechat.WechatSubscribe(
        client,
        tokens,
        templates={"default": to_template(template)},
        base_url=endpoints.wechat_base,
        miniprogram_state=endpoints.wechat_miniprogram_state,
        lang=endpoints.wechat_lang,
        clock=clock,
    )


def _sms(
    endpoints: ChannelEndpoints, client: httpx.AsyncClient, clock: Clock, wall_clock: Clock
) -> Channel:
    key = endpoints.sms_secret_key.get_secret_value()
    if endpoints.sms_provider == "tencent":
        return sms_tencent.TencentSms(
            client,
            secret_id=endpoints.sms_secret_id,
            secret_key=key,
            sdk_app_id=endpoints.sms_sdk_app_id,
            sign_name=endpoints.sms_sign,
            region=endpoints.sms_region,
            endpoint=endpoints.sms_endpoint or sms_tencent.DEFAULT_ENDPOINT,
            clock=clock,
            wall_clock=wall_clock,
        )
    if endpoints.sms_provider == "aliyun":
        return sms_aliyun.AliyunSms(
            client,
            access_key_id=endpoints.sms_secret_id,
            access_key_secret=key,
            sign_name=endpoints.sms_sign,
            endpoint=endpoints.sms_endpoint or sms_aliyun.DEFAULT_ENDPOINT,
            clock=clock,
            wall_clock=wall_clock,
        )
    return TemplateSms(
        client,
        endpoint=endpoints.sms_endpoint,
        sign_name=endpoints.sms_sign,
        templates=dict(endpoints.sms_templates),
        template_params={k: list(v) for k, v in endpoints.sms_template_params.items()},
        api_key=endpoints.sms_api_key.get_secret_value() or None,
        retry_codes=endpoints.sms_retry_codes,
        clock=clock,
    )
