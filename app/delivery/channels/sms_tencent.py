"""Tencent Cloud SMS: ``SendSms`` of API version 2021-01-11, signed TC3-HMAC-SHA256.

``POST https://sms.tencentcloudapi.com/`` with a JSON body::

    {"PhoneNumberSet": ["+8613800000000"], "SmsSdkAppId": "1400…", "TemplateId": "1234567",
     "SignName": "某县教育局", "TemplateParamSet": ["张*明", "蓝色预警"],
     "SessionContext": "<event id>"}

and the headers ``Host``, ``Content-Type: application/json``, ``X-TC-Action: SendSms``,
``X-TC-Version: 2021-01-11``, ``X-TC-Timestamp`` (Unix seconds, the real clock: Tencent
refuses a request more than 5 minutes off with ``AuthFailure.SignatureExpire``),
``X-TC-Region`` and ``Authorization: TC3-HMAC-SHA256 Credential=<SecretId>/<UTC date>/sms/
tc3_request, SignedHeaders=content-type;host, Signature=<hex>`` — byte for byte what the
official SDK (tencentcloud-sdk-python-common) computes for the same inputs (tests compare).

Answers are HTTP 200. ``Response.Error`` (``{"Code": …, "Message": …}``) is an error for the
whole request; otherwise ``Response.SendStatusSet[0].Code`` is the number's outcome, ``Ok``
being the only success. Retried: ``RequestLimitExceeded*``, ``InternalError*`` and the
per-number frequency limits (``LimitExceeded.PhoneNumberThirtySecondLimit`` after 30 s,
``…OneHourLimit`` after an hour). Everything else — bad signature or secret, template or
signature not approved, bad number, parameter format or length, daily limit, no balance —
is permanent, dead-lettered with Tencent's code and message.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from app.delivery.channels.base import (
    Clock,
    Message,
    SendResult,
    Target,
    classify_response,
    not_configured,
    platform_text,
    read_json,
    request,
    utc_now,
)
from app.delivery.channels.sms_provider import classify_code, prepare

DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com/"
SERVICE = "sms"
ACTION = "SendSms"
VERSION = "2021-01-11"
CONTENT_TYPE = "application/json"
RETRY_CODES: dict[str, float | None] = {
    "LimitExceeded.PhoneNumberThirtySecondLimit": 30.0,
    "LimitExceeded.PhoneNumberOneHourLimit": 3600.0,
    "RequestLimitExceeded": None,
    "InternalError.Timeout": None,
    "InternalError.RequestTimeException": None,
}
RETRY_PREFIXES = ("RequestLimitExceeded", "InternalError")


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def tc3_authorization(
    *,
    secret_id: str,
    secret_key: str,
    host: str,
    payload: bytes,
    timestamp: int,
    content_type: str = CONTENT_TYPE,
    service: str = SERVICE,
) -> str:
    """The ``Authorization`` header of a TC3-HMAC-SHA256 signed ``POST /``."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{content_type}\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            scope,
            hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        ]
    )
    key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode("utf-8"), date), service), "tc3_request")
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders=content-type;host, Signature={signature}"
    )


def host_of(url: str) -> str:
    """The ``Host`` header httpx sends for ``url`` (the port only when not the default)."""
    return httpx.URL(url).netloc.decode("ascii")


class TencentSms:
    name = "sms"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        region: str = "ap-guangzhou",
        endpoint: str = DEFAULT_ENDPOINT,
        clock: Clock = utc_now,
        wall_clock: Clock = utc_now,
    ) -> None:
        self._client = client
        self._id = secret_id
        self._key = secret_key
        self._app = sdk_app_id
        self._sign = sign_name
        self._region = region
        self._url = endpoint if urlsplit(endpoint).path else endpoint + "/"
        self._clock = clock
        self._wall = wall_clock

    def body(self, phone: str, template_id: str, values: list[str], session: str) -> bytes:
        """The JSON body, keys in the SDK's order and serialised as it does (``json.dumps``)."""
        params = {
            "PhoneNumberSet": [phone],
            "SmsSdkAppId": self._app,
            "TemplateId": template_id,
            "SignName": self._sign,
            "TemplateParamSet": values,
            "SessionContext": session,
        }
        return json.dumps(params).encode("utf-8")

    def headers(self, payload: bytes, timestamp: int) -> dict[str, str]:
        host = host_of(self._url)
        return {
            "Host": host,
            "Content-Type": CONTENT_TYPE,
            "X-TC-Action": ACTION,
            "X-TC-Version": VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self._region,
            "Authorization": tc3_authorization(
                secret_id=self._id,
                secret_key=self._key,
                host=host,
                payload=payload,
                timestamp=timestamp,
            ),
        }

    async def send(self, message: Message, target: Target) -> SendResult:
        if not (self._id and self._key and self._app and self._sign):
            return not_configured("Tencent Cloud SMS SecretId/SecretKey/SmsSdkAppId/SignName")
        ready = prepare("tencent", message, target)
        if isinstance(ready, SendResult):
            return ready
        phone, template = ready
        values = [v for _, v in template.values("tencent", message.params)]
        payload = self.body(phone, template.template_id, values, message.event_id[:512])
        timestamp = int(self._wall().timestamp())
        answer = await request(
            self._client,
            "POST",
            self._url,
            content=payload,
            headers=self.headers(payload, timestamp),
        )
        if isinstance(answer, SendResult):
            return answer
        return classify(answer, self._clock())


def classify(response: httpx.Response, now: datetime) -> SendResult:
    result = classify_response(response, now)
    if not result.ok:
        return result
    status = response.status_code
    body = (read_json(response) or {}).get("Response")
    if not isinstance(body, dict):
        return SendResult.permanent(
            "unexpected answer (no Response)", status=status, code="bad_response"
        )
    error = body.get("Error")
    if isinstance(error, dict):
        return _code(error.get("Code"), error.get("Message"), status)
    statuses = body.get("SendStatusSet")
    if not isinstance(statuses, list) or not statuses or not isinstance(statuses[0], dict):
        return SendResult.permanent(
            "unexpected answer (no SendStatusSet)", status=status, code="bad_response"
        )
    first = statuses[0]
    if first.get("Code") == "Ok":
        return SendResult.success(status, "Ok")
    return _code(first.get("Code"), first.get("Message"), status)


def _code(code: object, message: object, status: int) -> SendResult:
    return classify_code(
        platform_text(str(code or "unknown"), 64),
        platform_text(str(message or "")),
        status=status,
        retry=RETRY_CODES,
        retry_prefixes=RETRY_PREFIXES,
    )
