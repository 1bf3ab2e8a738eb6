"""Alibaba Cloud SMS: ``SendSms`` of dysmsapi 2017-05-25, signed ACS3-HMAC-SHA256 (the "V3"
signature, the official SDKs' default; the older RPC HMAC-SHA1 scheme is not used).

``POST https://dysmsapi.aliyuncs.com/?PhoneNumbers=…&SignName=…&TemplateCode=…&
TemplateParam={"student":"张*明",…}&OutId=<event id>`` with an empty body and the headers
``host``, ``x-acs-action: SendSms``, ``x-acs-version: 2017-05-25``, ``x-acs-date``
(``YYYY-MM-DDThh:mm:ssZ``, the real clock), ``x-acs-signature-nonce`` (fresh per attempt:
Alibaba refuses a reused one, ``SignatureNonceUsed``), ``x-acs-content-sha256`` (hex SHA-256
of the body) and ``Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,
SignedHeaders=<sorted lower-case names>,Signature=<hex HMAC-SHA256 of the string to sign>`` —
what the official SDK's signer (alibabacloud-tea-openapi ``Utils.get_authorization``)
computes for the same request (tests compare byte for byte).

Answers: ``{"Code": "OK", "Message": "OK", "BizId": …, "RequestId": …}`` — only ``Code``
``OK`` is success. Retried: ``isv.BUSINESS_LIMIT_CONTROL`` (the per-number frequency limits,
after 60 s), ``Throttling*``, ``isp.SYSTEM_ERROR``, ``isp.GATEWAY_ERROR``,
``ServiceUnavailable``, and HTTP 5xx. Everything else — ``SignatureDoesNotMatch``,
``InvalidAccessKeyId.NotFound``, ``isv.SMS_SIGNATURE_ILLEGAL``, ``isv.SMS_TEMPLATE_ILLEGAL``,
``isv.TEMPLATE_MISSING_PARAMETERS``, ``isv.MOBILE_NUMBER_ILLEGAL``, ``isv.AMOUNT_NOT_ENOUGH``,
``isv.PARAM_LENGTH_LIMIT`` … — is permanent, dead-lettered with Alibaba's code and message.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote

import httpx

from app.delivery.channels.base import (
    Clock,
    Message,
    SendResult,
    Target,
    not_configured,
    parse_retry_after,
    platform_text,
    read_json,
    request,
    utc_now,
)
from app.delivery.channels.sms_provider import Nonce, classify_code, for_aliyun, prepare

DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
ACTION = "SendSms"
VERSION = "2017-05-25"
ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
RETRY_CODES: dict[str, float | None] = {
    "isv.BUSINESS_LIMIT_CONTROL": 60.0,
    "isp.SYSTEM_ERROR": None,
    "isp.GATEWAY_ERROR": None,
    "ServiceUnavailable": None,
}
RETRY_PREFIXES = ("Throttling",)


def encode(value: str) -> str:
    return quote(value, safe="~", encoding="utf-8")


def canonical_query(query: Mapping[str, str]) -> str:
    return "&".join(f"{k}={encode(query[k])}" for k in sorted(query))


def acs3_authorization(
    *,
    access_key_id: str,
    access_key_secret: str,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    payload_sha256: str,
) -> str:
    """The ``Authorization`` header: every header given is signed (lower-cased, sorted)."""
    lower = {k.lower(): v.strip() for k, v in headers.items()}
    names = sorted(lower)
    canonical_headers = "".join(f"{k}:{lower[k]}\n" for k in names)
    signed = ";".join(names)
    canonical = "\n".join(
        [method, path, canonical_query(query), canonical_headers, signed, payload_sha256]
    )
    to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
    signature = hmac.new(
        access_key_secret.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256
    ).hexdigest()
    return f"{ALGORITHM} Credential={access_key_id},SignedHeaders={signed},Signature={signature}"


def acs_date(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_nonce() -> str:
    return uuid.uuid4().hex


class AliyunSms:
    name = "sms"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        endpoint: str = DEFAULT_ENDPOINT,
        clock: Clock = utc_now,
        wall_clock: Clock = utc_now,
        nonce: Nonce = new_nonce,
    ) -> None:
        self._client = client
        self._id = access_key_id
        self._secret = access_key_secret
        self._sign = sign_name
        url = httpx.URL(endpoint)
        self._base = str(url.copy_with(path="/", query=None))
        self._host = url.netloc.decode("ascii")
        self._clock = clock
        self._wall = wall_clock
        self._nonce = nonce

    def query(
        self, phone: str, template_code: str, values: list[tuple[str, str]], out_id: str
    ) -> dict[str, str]:
        return {
            "PhoneNumbers": for_aliyun(phone),
            "SignName": self._sign,
            "TemplateCode": template_code,
            "TemplateParam": json.dumps(dict(values), ensure_ascii=False, separators=(",", ":")),
            "OutId": out_id,
        }

    def headers(self, query: Mapping[str, str], when: datetime, nonce: str) -> dict[str, str]:
        headers = {
            "host": self._host,
            "x-acs-action": ACTION,
            "x-acs-version": VERSION,
            "x-acs-date": acs_date(when),
            "x-acs-signature-nonce": nonce,
            "x-acs-content-sha256": EMPTY_SHA256,
        }
        headers["Authorization"] = acs3_authorization(
            access_key_id=self._id,
            access_key_secret=self._secret,
            method="POST",
            path="/",
            query=query,
            headers=headers,
            payload_sha256=EMPTY_SHA256,
        )
        return headers

    async def send(self, message: Message, target: Target) -> SendResult:
        if not (self._id and self._secret and self._sign):
            return not_configured("Alibaba Cloud SMS AccessKey and SignName")
        ready = prepare("aliyun", message, target)
        if isinstance(ready, SendResult):
            return ready
        phone, template = ready
        values = template.values("aliyun", message.params)
        query = self.query(phone, template.template_id, values, message.event_id[:64])
        headers = self.headers(query, self._wall(), self._nonce())
        url = f"{self._base}?{canonical_query(query)}"
        answer = await request(self._client, "POST", url, content=b"", headers=headers)
        if isinstance(answer, SendResult):
            return answer
        return classify(answer, self._clock())


def classify(response: httpx.Response, now: datetime) -> SendResult:
    """Alibaba answers errors as JSON with ``Code``/``Message`` on 200 and on 4xx/5xx alike."""
    status = response.status_code
    body = read_json(response) or {}
    code = platform_text(str(body.get("Code") or body.get("code") or ""), 64)
    message = platform_text(str(body.get("Message") or body.get("message") or ""))
    if status == 200 and code == "OK":
        return SendResult.success(status, code)
    if not code:
        if status >= 500 or status in (408, 425, 429):
            after = parse_retry_after(response.headers.get("retry-after"), now)
            return SendResult.retry(f"HTTP {status}", status=status, retry_after=after)
        return SendResult.permanent(
            f"HTTP {status}: unexpected answer (no Code)", status=status, code="bad_response"
        )
    if status >= 500 and code not in RETRY_CODES:
        return SendResult.retry(f"{code}: {message}", status=status, code=code)
    return classify_code(
        code, message, status=status, retry=RETRY_CODES, retry_prefixes=RETRY_PREFIXES
    )
