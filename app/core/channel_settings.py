"""The delivery settings as plain data: the channel endpoints and credentials
(``KCBX_CHANNELS__*``), the outbound address rules (``KCBX_OUTBOUND__*``), a WeChat template.

Settings hold data only, so that reading them loads no feature: ``app.settings`` builds on
this module, and ``app.delivery`` builds the adapters, the HTTP client and the address checks
from these models (``app/delivery/channels/config.py``: ``build_channels``;
``app/delivery/channels/outbound.py``: ``address_allowed``, ``robot_url_problem``). What a
model still checks itself is what must be refused when the setting is read (a base that is
not a URL, a WeChat keyword or message param that does not exist), so the vocabulary those
checks use lives here too, and delivery imports it from here: one list, not two.

The defaults are the vendors' documented public endpoints; every one can be overridden, which
is how tests point the adapters at local receivers. Credentials default to empty: a channel
without them reports ``not_configured`` (permanent) instead of calling anyone, and
``build_channels`` leaves it out.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, SecretStr, field_validator

WECOM_BASE = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
DINGTALK_BASE = "https://oapi.dingtalk.com/robot/send"
WECHAT_BASE = "https://api.weixin.qq.com"

# Longest value per data key type (the key is the type followed by a number: thing1, time3).
VALUE_LIMITS = {
    "thing": 20,
    "name": 10,
    "phrase": 5,
    "character_string": 32,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "phone_number": 17,
    "car_number": 8,
}
# Every keyword type of subscribe messages (订阅消息参数值内容限制说明).
KEYWORD_TYPES = frozenset(VALUE_LIMITS) | {"time", "date", "amount"}

# What every rendered message carries (app.delivery.templates), and a digest's extras.
MESSAGE_PARAMS = frozenset(
    {
        "topic",
        "title",
        "school",
        "class_name",
        "student",
        "level",
        "reason",
        "due",
        "due_full",
        "at_full",
        "action",
        "count",
        "red",
        "yellow",
        "blue",
        # Guardian notices (app.guardians): the children (masked), the check, the answer link.
        "students",
        "check",
        "link",
        "code",
    }
)

# The SMS gateway's answers that mean "try again later" (app/delivery/channels/sms.py).
DEFAULT_RETRY_CODES: tuple[str, ...] = (
    "THROTTLED",
    "SYSTEM_BUSY",
    "isv.BUSINESS_LIMIT_CONTROL",
    "isp.SYSTEM_ERROR",
    "LimitExceeded",
    "InternalError",
)

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
            if found is None or found.group(1) not in KEYWORD_TYPES:
                kinds = ", ".join(sorted(KEYWORD_TYPES))
                raise ValueError(f"{key!r} is not a subscribe-message keyword ({kinds} + number)")
            if param not in MESSAGE_PARAMS:
                known = ", ".join(sorted(MESSAGE_PARAMS))
                raise ValueError(f"{key!r}: unknown message param {param!r} (one of {known})")
        return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {value!r}")
    return value


class ChannelEndpoints(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    wecom_base: str = WECOM_BASE
    dingtalk_base: str = DINGTALK_BASE
    wechat_base: str = WECHAT_BASE

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


class OutboundPolicy(BaseModel):
    """``KCBX_OUTBOUND__ALLOW_NETWORKS='["127.0.0.1/32"]'``,
    ``KCBX_OUTBOUND__EXTRA_ROBOT_HOSTS='["robot-relay.county.example"]'``. The rules that read
    it: ``app/delivery/channels/outbound.py``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    allow_networks: list[IPvAnyNetwork] = Field(default_factory=list)
    extra_robot_hosts: list[str] = Field(default_factory=list)
