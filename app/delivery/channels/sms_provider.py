"""What the two SMS providers' adapters share: phone numbers, the school's templates, and how
a provider's error code is acted on.

Phone numbers: a mainland mobile (11 digits starting 1[3-9]) with or without ``+86``/``86``/
``0086``; anything else must be E.164 already (``+852…``). Tencent Cloud takes E.164
(``+8613800000000``); Alibaba Cloud takes a mainland number bare and others as country code
+ number without ``+``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from app.delivery.channels.base import Message, SendResult, Target, not_configured
from app.delivery.channels.sms_templates import Provider, SmsTemplate, template_for

_MAINLAND = re.compile(r"^(?:\+?86|0086)?(1[3-9]\d{9})$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
Nonce = Callable[[], str]


def to_e164(raw: str) -> str | None:
    phone = re.sub(r"[\s()-]", "", raw)
    mainland = _MAINLAND.match(phone)
    if mainland:
        return "+86" + mainland.group(1)
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    return phone if _E164.match(phone) else None


def for_aliyun(e164: str) -> str:
    return e164[3:] if e164.startswith("+86") else e164[1:]


def school_templates(target: Target) -> dict[str, SmsTemplate]:
    """The templates the worker found for the recipient's school (``Target.options``)."""
    raw: Mapping[str, Any] = target.options.get("templates") or {}
    found: dict[str, SmsTemplate] = {}
    for kind, value in raw.items():
        try:
            found[kind] = SmsTemplate.model_validate(value)
        except ValidationError:
            continue  # validated when stored; a row edited by hand is skipped, not fatal
    return found


def prepare(
    provider: Provider, message: Message, target: Target
) -> tuple[str, SmsTemplate] | SendResult:
    """(the E.164 number, the template), or why there is nothing to send."""
    if not target.phone:
        return not_configured("phone number")
    phone = to_e164(target.phone)
    if phone is None:
        return SendResult.permanent(f"not a phone number: {target.phone!r}", code="bad_phone")
    template = template_for(school_templates(target), message.event_type)
    if template is None:
        return not_configured(f"SMS template for {message.event_type!r}")
    if template.problems(provider):
        return not_configured(f"SMS template for {message.event_type!r} is not valid")
    return phone, template


def classify_code(
    code: str,
    message: str,
    *,
    status: int,
    retry: Mapping[str, float | None],
    retry_prefixes: tuple[str, ...] = (),
) -> SendResult:
    """A provider's error code: retry (throttled, busy) or permanent (configuration, input)."""
    error = f"{code}: {message}" if message else code
    if code in retry:
        return SendResult.retry(error, status=status, code=code, retry_after=retry[code])
    if code.startswith(retry_prefixes):
        return SendResult.retry(error, status=status, code=code)
    return SendResult.permanent(error, status=status, code=code)
