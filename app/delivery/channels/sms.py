"""SMS through a gateway of the deployment's own (``KCBX_CHANNELS__SMS_PROVIDER=gateway``);
Tencent Cloud and Alibaba Cloud are spoken to directly by ``sms_tencent`` and ``sms_aliyun``.

Mainland SMS may only be sent with a registered signature (签名) and an approved template whose
variables are filled in; free text is not allowed. The adapter speaks a generic JSON shape
that a thin provider gateway (or the provider's own JSON API) accepts::

    POST {endpoint}
    Authorization: Bearer <api key>          (when configured)
    Idempotency-Key: <event id>
    {"phone_numbers": ["13800000000"], "sign_name": "某县教育局", "template_id": "SMS_123",
     "params": {"school": "…", "student": "张*明", …}, "out_id": "<event id>"}

    → {"code": "OK", "message": "…", "request_id": "…"}

Template ids come per message kind (the topic, with ``default`` as fallback) from settings;
``template_params`` optionally restricts which params a template receives (providers refuse
unknown variables), and each value is cut to ``param_max`` characters (providers cap
variables, typically at 35).

Answers: HTTP first (2xx, then the body; 408/425/429/5xx retry; other 4xx permanent); then
``code`` in ``ok_codes`` (default ``OK``, ``0``) is ok; in ``retry_codes`` (throttling, busy:
configurable) retry; anything else — bad signature, bad template, bad number, blacklisted,
out of credit — permanent.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

import httpx

from app.core.channel_settings import DEFAULT_RETRY_CODES
from app.delivery.channels.base import (
    Clock,
    Message,
    SendResult,
    Target,
    classify_errcode,
    not_configured,
    read_json,
    request,
    utc_now,
)

DEFAULT_OK_CODES: tuple[str, ...] = ("OK", "0")
PARAM_MAX = 35
_PHONE = re.compile(r"^\+?\d{6,15}$")


def normalize_phone(raw: str) -> str | None:
    phone = re.sub(r"[\s-]", "", raw)
    return phone if _PHONE.match(phone) else None


class TemplateSms:
    name = "sms"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        endpoint: str,
        sign_name: str,
        templates: Mapping[str, str],
        template_params: Mapping[str, Sequence[str]] | None = None,
        api_key: str | None = None,
        ok_codes: Collection[str] = DEFAULT_OK_CODES,
        retry_codes: Collection[str] = DEFAULT_RETRY_CODES,
        param_max: int = PARAM_MAX,
        clock: Clock = utc_now,
    ) -> None:
        self._client = client
        self._endpoint = endpoint
        self._sign = sign_name
        self._templates = templates
        self._template_params = template_params or {}
        self._api_key = api_key
        self._ok = tuple(ok_codes)
        self._retry = frozenset(retry_codes)
        self._param_max = param_max
        self._clock = clock

    def template_for(self, kind: str) -> tuple[str, str] | None:
        """(the template's name in settings, its id) for a message kind."""
        for name in (kind, "default"):
            template_id = self._templates.get(name)
            if template_id:
                return name, template_id
        return None

    def build_payload(
        self, message: Message, phone: str, name: str, template_id: str
    ) -> dict[str, object]:
        wanted = self._template_params.get(name)
        keys = list(wanted) if wanted is not None else sorted(message.params)
        params = {k: _clip(message.params.get(k, ""), self._param_max) for k in keys}
        return {
            "phone_numbers": [phone],
            "sign_name": self._sign,
            "template_id": template_id,
            "params": params,
            "out_id": message.event_id,
        }

    async def send(self, message: Message, target: Target) -> SendResult:
        if not self._endpoint or not self._sign:
            return not_configured("SMS endpoint and signature")
        if not target.phone:
            return not_configured("phone number")
        phone = normalize_phone(target.phone)
        if phone is None:
            return SendResult.permanent(f"not a phone number: {target.phone!r}", code="bad_phone")
        found = self.template_for(message.event_type)
        if found is None:
            return not_configured(f"SMS template for {message.event_type!r}")
        payload = self.build_payload(message, phone, *found)
        headers = {"Idempotency-Key": message.event_id}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        answer = await request(
            self._client, "POST", self._endpoint, json_body=payload, headers=headers
        )
        if isinstance(answer, SendResult):
            return answer
        # Gateways pass providers' bodies through as ``code`` or ``Code``; one with neither is
        # not a success (an SMS that may not have been sent must not be marked sent).
        body = read_json(answer) or {}
        upper = "code" not in body and "Code" in body
        if 200 <= answer.status_code < 300 and "code" not in body and not upper:
            return SendResult.permanent(
                "answer without a code", status=answer.status_code, code="bad_response"
            )
        return classify_errcode(
            answer,
            self._clock(),
            code_field="Code" if upper else "code",
            message_field="Message" if upper else "message",
            ok_codes=self._ok,
            retry_codes=self._retry,
        )


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
