"""Channel endpoints and defaults, as one validated model the delivery worker loads from
settings or the database (nothing here reads the environment).

The defaults are the vendors' documented public endpoints; every one can be overridden, which
is how tests point the adapters at local receivers. Credentials default to empty: a channel
without them reports ``not_configured`` (permanent) instead of calling anyone, and
``build_channels`` leaves it out.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from app.delivery.channels import dingtalk, sms_aliyun, sms_tencent, wechat, wecom
from app.delivery.channels.base import Channel, Clock, utc_now
from app.delivery.channels.outbound import OutboundPolicy, RobotHostGuard
from app.delivery.channels.sms import DEFAULT_RETRY_CODES, TemplateSms
from app.delivery.channels.sms_templates import MESSAGE_PARAMS
from app.delivery.channels.webhook import WebhookChannel
from app.delivery.templates import Links

# The delivery channel of the parents' mini-program (the school's guardian channel "wechat").
PARENTS_WECHAT = "parents_wechat"
_KEYWORD = re.compile(r"^([a-z_]+?)(\d+)$")


class WechatTemplateConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    template_id: str = Field(min_length=1)
    # WeChat data key → message param, e.g. {"thing1": "student", "time4": "due_full"}
    fields: dict[str, str] = Field(default_factory=dict)

    @field_validator("fields")
    @classmethod
    def _keywords_and_params_exist(cls, value: dict[str, str]) -> dict[str, str]:
        """A keyword is a WeChat type and a number (``thing1``, ``time4``); the param it takes
        must be one a message carries. Anything else would be refused by WeChat (47003) on
        every send, so it is refused here, when the setting is read."""
        for key, param in value.items():
            found = _KEYWORD.match(key)
            if found is None or found.group(1) not in wechat.KEYWORD_TYPES:
                kinds = ", ".join(sorted(wechat.KEYWORD_TYPES))
                raise ValueError(f"{key!r} is not a subscribe-message keyword ({kinds} + number)")
            if param not in MESSAGE_PARAMS:
                known = ", ".join(sorted(MESSAGE_PARAMS))
                raise ValueError(f"{key!r}: unknown message param {param!r} (one of {known})")
        return value

    def to_template(self) -> wechat.WechatTemplate:
        return wechat.WechatTemplate(self.template_id, dict(self.fields))


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {value!r}")
    return value


class ChannelEndpoints(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    wecom_base: str = wecom.DEFAULT_BASE
    dingtalk_base: str = dingtalk.DEFAULT_BASE
    wechat_base: str = wechat.DEFAULT_BASE

    # WeChat mini-program: placeholders until the school's app is registered.
    wechat_appid: str = ""
    wechat_secret: SecretStr = SecretStr("")
    wechat_stable_token: bool = True
    wechat_refresh_margin_seconds: int = Field(default=300, ge=0, le=3600)
    wechat_miniprogram_state: Literal["formal", "trial", "developer"] = "formal"
    wechat_lang: Literal["zh_CN", "en_US", "zh_HK", "zh_TW"] = "zh_CN"
    # topic (or "default") → template
    wechat_templates: dict[str, WechatTemplateConfig] = Field(default_factory=dict)

    # SMS: Tencent Cloud (``tencent``), Alibaba Cloud (``aliyun``), or a JSON ``gateway`` of
    # the deployment's own (the older generic shape, see ``sms.TemplateSms``).
    # Tencent: KCBX_CHANNELS__SMS_PROVIDER=tencent, __SMS_SECRET_ID (SecretId),
    # __SMS_SECRET_KEY (SecretKey), __SMS_SDK_APP_ID (SmsSdkAppId), __SMS_SIGN (SignName),
    # __SMS_REGION. Alibaba: __SMS_PROVIDER=aliyun, __SMS_SECRET_ID (AccessKeyId),
    # __SMS_SECRET_KEY (AccessKeySecret), __SMS_SIGN. Templates: per school, through the API
    # (PUT /api/v1/schools/{id}/sms-templates). ``sms_endpoint`` overrides the provider's
    # public endpoint (tests, a private access point).
    sms_provider: Literal["gateway", "tencent", "aliyun"] = "gateway"
    sms_endpoint: str = ""
    sms_sign: str = ""
    sms_secret_id: str = ""
    sms_secret_key: SecretStr = SecretStr("")
    sms_sdk_app_id: str = ""
    sms_region: str = "ap-guangzhou"
    # gateway only: bearer key, message kind → template id, template → params, retry codes
    sms_api_key: SecretStr = SecretStr("")
    sms_templates: dict[str, str] = Field(default_factory=dict)
    sms_template_params: dict[str, list[str]] = Field(default_factory=dict)
    sms_retry_codes: list[str] = Field(default_factory=lambda: list(DEFAULT_RETRY_CODES))

    # Links in messages: the web case page and the mini-program path, ``{case_id}`` filled in.
    case_url: str | None = None
    case_page: str | None = "pages/case/index?id={case_id}"
    inbox_url: str | None = None
    inbox_page: str | None = "pages/inbox/index"

    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @field_validator("wecom_base", "dingtalk_base", "wechat_base")
    @classmethod
    def _base_is_url(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("sms_endpoint", "case_url", "inbox_url")
    @classmethod
    def _optional_url(cls, value: str | None) -> str | None:
        return _http_url(value) if value else value

    @field_validator("case_url", "case_page")
    @classmethod
    def _has_case_id(cls, value: str | None) -> str | None:
        if value is not None and "{case_id}" not in value:
            raise ValueError("must contain {case_id}")
        return value

    @property
    def wechat_configured(self) -> bool:
        return bool(self.wechat_appid and self.wechat_secret.get_secret_value())

    @property
    def sms_configured(self) -> bool:
        key = self.sms_secret_key.get_secret_value()
        if self.sms_provider == "tencent":
            return bool(self.sms_secret_id and key and self.sms_sdk_app_id and self.sms_sign)
        if self.sms_provider == "aliyun":
            return bool(self.sms_secret_id and key and self.sms_sign)
        return bool(self.sms_endpoint and self.sms_sign)

    def links(self) -> Links:
        return Links(self.case_url, self.case_page, self.inbox_url, self.inbox_page)

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeout_seconds)

    def build_channels(
        self,
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
        wecom_robot: Channel = wecom.WecomRobot(client, base_url=self.wecom_base, clock=clock)
        dingtalk_robot: Channel = dingtalk.DingtalkRobot(
            client, base_url=self.dingtalk_base, clock=clock
        )
        if policy is not None:
            wecom_robot = RobotHostGuard(wecom_robot, "wecom_robot", policy)
            dingtalk_robot = RobotHostGuard(dingtalk_robot, "dingtalk_robot", policy)
        channels: dict[str, Channel] = {
            "webhook": WebhookChannel(client, clock=clock, wall_clock=wall_clock),
            "wecom": wecom_robot,
            "dingtalk": dingtalk_robot,
        }
        if self.wechat_configured:
            tokens = wechat.WechatTokenCache(
                client,
                appid=self.wechat_appid,
                secret=self.wechat_secret.get_secret_value(),
                base_url=self.wechat_base,
                stable=self.wechat_stable_token,
                refresh_margin=timedelta(seconds=self.wechat_refresh_margin_seconds),
                clock=clock,
            )
            channels["wechat"] = wechat.WechatSubscribe(
                client,
                tokens,
                templates={k: v.to_template() for k, v in self.wechat_templates.items()},
                base_url=self.wechat_base,
                miniprogram_state=self.wechat_miniprogram_state,
                lang=self.wechat_lang,
                clock=clock,
            )
        if self.sms_configured:
            channels["sms"] = self._sms(client, clock, wall_clock)
        return channels

    def parents_wechat(
        self,
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
            base_url=self.wechat_base,
            stable=self.wechat_stable_token,
            refresh_margin=timedelta(seconds=self.wechat_refresh_margin_seconds),
            clock=clock,
        )
        return wechat.WechatSubscribe(
            client,
            tokens,
            templates={"default": template.to_template()},
            base_url=self.wechat_base,
            miniprogram_state=self.wechat_miniprogram_state,
            lang=self.wechat_lang,
            clock=clock,
        )

    def _sms(self, client: httpx.AsyncClient, clock: Clock, wall_clock: Clock) -> Channel:
        key = self.sms_secret_key.get_secret_value()
        if self.sms_provider == "tencent":
            return sms_tencent.TencentSms(
                client,
                secret_id=self.sms_secret_id,
                secret_key=key,
                sdk_app_id=self.sms_sdk_app_id,
                sign_name=self.sms_sign,
                region=self.sms_region,
                endpoint=self.sms_endpoint or sms_tencent.DEFAULT_ENDPOINT,
                clock=clock,
                wall_clock=wall_clock,
            )
        if self.sms_provider == "aliyun":
            return sms_aliyun.AliyunSms(
                client,
                access_key_id=self.sms_secret_id,
                access_key_secret=key,
                sign_name=self.sms_sign,
                endpoint=self.sms_endpoint or sms_aliyun.DEFAULT_ENDPOINT,
                clock=clock,
                wall_clock=wall_clock,
            )
        return TemplateSms(
            client,
            endpoint=self.sms_endpoint,
            sign_name=self.sms_sign,
            templates=dict(self.sms_templates),
            template_params={k: list(v) for k, v in self.sms_template_params.items()},
            api_key=self.sms_api_key.get_secret_value() or None,
            retry_codes=self.sms_retry_codes,
            clock=clock,
        )
