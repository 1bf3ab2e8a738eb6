"""Fake Tencent Cloud and Alibaba Cloud SMS endpoints that behave as the providers document.

Each fake knows its accounts (key id → secret), its approved signatures and templates, and
checks what the real service checks, answering with the documented error codes:

Tencent Cloud ``SendSms`` 2021-01-11 (errors as ``{"Response": {"Error": {"Code", "Message"},
"RequestId"}}``; per-number results in ``SendStatusSet``):
* ``X-TC-Action``/``X-TC-Version`` → ``InvalidAction`` / ``NoSuchVersion``;
* ``Authorization`` recomputed with the official SDK's TC3 signer
  (``AbstractClient._get_tc3_signature``) → ``AuthFailure.SignatureFailure``; unknown SecretId
  → ``AuthFailure.SecretIdNotFound``; ``X-TC-Timestamp`` over 5 minutes off →
  ``AuthFailure.SignatureExpire``;
* ``SmsSdkAppId`` → ``FailedOperation.SmsSdkAppIdVerifyFail``; ``SignName`` →
  ``FailedOperation.SignatureIncorrectOrUnapproved``; ``TemplateId`` →
  ``FailedOperation.TemplateIncorrectOrUnapproved``; a number not in E.164 →
  ``InvalidParameterValue.IncorrectPhoneNumber``;
* ``TemplateParamSet``: one value per template variable, in order →
  ``FailedOperation.TemplateParamSetNotMatchApprovedTemplate``; an empty value →
  ``InvalidParameterValue.TemplateParameterFormatError``; over 12 characters (6 digits for a
  verification code) → ``InvalidParameterValue.TemplateParameterLengthLimit``;
* one message per number per 30 s → ``LimitExceeded.PhoneNumberThirtySecondLimit`` (in
  ``SendStatusSet``).

Alibaba Cloud ``SendSms`` 2017-05-25, ACS3-HMAC-SHA256 (errors as ``{"Code", "Message",
"RequestId"}``, only ``Code`` ``OK`` is success):
* ``Authorization`` recomputed with the official SDK's signer
  (``alibabacloud_tea_openapi.utils.Utils.get_authorization``) over the signed headers →
  ``SignatureDoesNotMatch`` (HTTP 400); ``host``/``x-acs-*`` not all signed →
  ``IncompleteSignature``; unknown AccessKeyId → ``InvalidAccessKeyId.NotFound``;
  ``x-acs-date`` over 15 minutes off → ``InvalidTimeStamp.Expired``; a nonce seen before →
  ``SignatureNonceUsed``; ``x-acs-content-sha256`` not the body's → ``ContentSHA256Mismatch``;
* ``SignName`` → ``isv.SMS_SIGNATURE_ILLEGAL``; ``TemplateCode`` →
  ``isv.SMS_TEMPLATE_ILLEGAL``; ``PhoneNumbers`` → ``isv.MOBILE_NUMBER_ILLEGAL``;
  ``TemplateParam`` missing a variable → ``isv.TEMPLATE_MISSING_PARAMETERS``, an empty value
  or one over 35 characters → ``isv.PARAM_LENGTH_LIMIT``;
* one message per number per minute → ``isv.BUSINESS_LIMIT_CONTROL`` (HTTP 200).
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from alibabacloud_tea_openapi.utils import Utils as AliyunUtils
from darabonba.request import DaraRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tencentcloud.common import credential
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.sms.v20210111 import sms_client

_TENCENT_VAR = re.compile(r"\{(\d+)\}")
_ALIYUN_VAR = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


@dataclass
class Sent:
    phone: str
    template: str
    params: Any
    sign: str
    headers: dict[str, str]


@dataclass
class FakeTencentSms:
    secrets: dict[str, str]
    app_id: str
    signs: set[str]
    templates: dict[str, str]  # TemplateId → approved content
    now: Any = time.time  # the provider's clock (seconds): signature freshness
    rate_now: Any = time.time  # the clock its frequency limits count on
    sent: list[Sent] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    last_by_phone: dict[str, float] = field(default_factory=dict)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/", self.handle, methods=["POST"])])

    @staticmethod
    def _error(code: str, message: str) -> JSONResponse:
        return JSONResponse(
            {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": _rid()}}
        )

    def _signature_ok(self, request: Request, body: bytes, secret_id: str) -> bool:
        """Recompute the signature with the SDK's own TC3 code, from what was received."""
        client = sms_client.SmsClient(
            credential.Credential(secret_id, self.secrets[secret_id]), "", ClientProfile()
        )
        host = request.headers.get("host", "")
        req = RequestInternal(host, "POST", "/")
        req.header = {
            "Content-Type": request.headers.get("content-type", ""),
            "Host": host,
            "X-TC-Timestamp": request.headers.get("x-tc-timestamp", ""),
        }
        req.data = body.decode("utf-8")
        stamp = int(req.header["X-TC-Timestamp"])
        date = time.strftime("%Y-%m-%d", time.gmtime(stamp))
        expected = client._get_tc3_signature({}, req, date, "sms", self.secrets[secret_id])
        auth = request.headers.get("authorization", "")
        wanted = (
            f"TC3-HMAC-SHA256 Credential={secret_id}/{date}/sms/tc3_request, "
            f"SignedHeaders=content-type;host, Signature={expected}"
        )
        return auth == wanted

    async def handle(self, request: Request) -> JSONResponse:
        body = await request.body()
        got = self._check(request, body)
        if isinstance(got, JSONResponse):
            return got
        phone, payload = got
        values = payload.get("TemplateParamSet") or []
        last = self.last_by_phone.get(phone)
        if last is not None and self.rate_now() - last < 30:
            return self._status(
                phone, "LimitExceeded.PhoneNumberThirtySecondLimit", "30秒内限发1条"
            )
        self.last_by_phone[phone] = self.rate_now()
        self.sent.append(
            Sent(phone, payload["TemplateId"], values, payload["SignName"], dict(request.headers))
        )
        return self._status(phone, "Ok", "send success")

    def _status(self, phone: str, code: str, message: str) -> JSONResponse:
        if code != "Ok":
            self.errors.append(code)
        status = {
            "SerialNo": uuid.uuid4().hex,
            "PhoneNumber": phone,
            "Fee": 1,
            "SessionContext": "",
            "Code": code,
            "Message": message,
            "IsoCode": "CN",
        }
        return JSONResponse({"Response": {"SendStatusSet": [status], "RequestId": _rid()}})

    def _check(self, request: Request, body: bytes) -> JSONResponse | tuple[str, dict[str, Any]]:
        h = request.headers
        if h.get("x-tc-action") != "SendSms":
            return self._fail("InvalidAction", "接口不存在")
        if h.get("x-tc-version") != "2021-01-11":
            return self._fail("NoSuchVersion", "接口版本不存在")
        match = re.match(r"TC3-HMAC-SHA256 Credential=([^/]+)/", h.get("authorization", ""))
        if match is None:
            return self._fail("AuthFailure.InvalidAuthorization", "Authorization 格式错误")
        secret_id = match.group(1)
        if secret_id not in self.secrets:
            return self._fail("AuthFailure.SecretIdNotFound", "密钥不存在")
        try:
            stamp = int(h.get("x-tc-timestamp", ""))
        except ValueError:
            return self._fail("InvalidParameter", "X-TC-Timestamp 无效")
        if abs(self.now() - stamp) > 300:
            return self._fail("AuthFailure.SignatureExpire", "签名过期")
        if not self._signature_ok(request, body, secret_id):
            return self._fail("AuthFailure.SignatureFailure", "签名错误")
        payload = json.loads(body)
        if payload.get("SmsSdkAppId") != self.app_id:
            return self._fail("FailedOperation.SmsSdkAppIdVerifyFail", "SdkAppId 校验失败")
        if payload.get("SignName") not in self.signs:
            return self._fail("FailedOperation.SignatureIncorrectOrUnapproved", "签名未审批")
        content = self.templates.get(str(payload.get("TemplateId")))
        if content is None:
            return self._fail("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批")
        phones = payload.get("PhoneNumberSet") or []
        if len(phones) != 1 or not re.fullmatch(r"\+86 ?1[3-9]\d{9}|\+[1-9]\d{6,14}", phones[0]):
            return self._fail("InvalidParameterValue.IncorrectPhoneNumber", "手机号格式错误")
        values = payload.get("TemplateParamSet") or []
        variables = sorted(set(_TENCENT_VAR.findall(content)), key=int)
        if len(values) != len(variables):
            return self._fail(
                "FailedOperation.TemplateParamSetNotMatchApprovedTemplate", "参数个数不匹配"
            )
        for value in values:
            if not isinstance(value, str) or not value.strip():
                return self._fail("InvalidParameterValue.TemplateParameterFormatError", "参数为空")
            if len(value) > 12:
                return self._fail(
                    "InvalidParameterValue.TemplateParameterLengthLimit", "单个变量超过12个字"
                )
        return phones[0], payload

    def _fail(self, code: str, message: str) -> JSONResponse:
        self.errors.append(code)
        return self._error(code, message)


@dataclass
class FakeAliyunSms:
    secrets: dict[str, str]
    signs: set[str]
    templates: dict[str, str]  # TemplateCode → approved content
    now: Any = time.time
    rate_now: Any = time.time
    sent: list[Sent] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    nonces: set[str] = field(default_factory=set)
    last_by_phone: dict[str, float] = field(default_factory=dict)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/", self.handle, methods=["POST"])])

    def _fail(self, code: str, message: str, status: int = 200) -> JSONResponse:
        self.errors.append(code)
        return JSONResponse(
            {"Code": code, "Message": message, "RequestId": _rid()}, status_code=status
        )

    async def handle(self, request: Request) -> JSONResponse:
        body = await request.body()
        query = dict(parse_qsl(request.url.query, keep_blank_values=True))
        problem = self._authenticate(request, query, body)
        if problem is not None:
            return problem
        if request.headers.get("x-acs-action") != "SendSms":
            return self._fail("InvalidAction.NotFound", "接口不存在", 404)
        if query.get("SignName") not in self.signs:
            return self._fail("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        content = self.templates.get(query.get("TemplateCode", ""))
        if content is None:
            return self._fail("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        phone = query.get("PhoneNumbers", "")
        if not re.fullmatch(r"1[3-9]\d{9}", phone):
            return self._fail("isv.MOBILE_NUMBER_ILLEGAL", "手机号码格式错误")
        try:
            params = json.loads(query.get("TemplateParam", "{}"))
        except json.JSONDecodeError:
            return self._fail("isv.INVALID_JSON_PARAM", "JSON参数不合法")
        for name in _ALIYUN_VAR.findall(content):
            if name not in params:
                return self._fail(
                    "isv.TEMPLATE_MISSING_PARAMETERS", f"模板变量缺少对应参数值 {name}"
                )
            value = params[name]
            if not isinstance(value, str) or not value or len(value) > 35:
                return self._fail("isv.PARAM_LENGTH_LIMIT", "参数超出长度限制")
        last = self.last_by_phone.get(phone)
        if last is not None and self.rate_now() - last < 60:
            return self._fail("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")
        self.last_by_phone[phone] = self.rate_now()
        self.sent.append(
            Sent(phone, query["TemplateCode"], params, query["SignName"], dict(request.headers))
        )
        return JSONResponse(
            {"Code": "OK", "Message": "OK", "BizId": uuid.uuid4().hex, "RequestId": _rid()}
        )

    def _authenticate(
        self, request: Request, query: dict[str, str], body: bytes
    ) -> JSONResponse | None:
        auth = request.headers.get("authorization", "")
        match = re.fullmatch(
            r"ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)",
            auth,
        )
        if match is None:
            return self._fail("IncompleteSignature", "Authorization 格式错误", 400)
        key_id, signed, _ = match.groups()
        names = signed.split(";")
        required = {"host", "x-acs-action", "x-acs-version", "x-acs-date"}
        required |= {"x-acs-signature-nonce", "x-acs-content-sha256"}
        if not required <= set(names):
            return self._fail("IncompleteSignature", "签名头不完整", 400)
        if key_id not in self.secrets:
            return self._fail("InvalidAccessKeyId.NotFound", "AccessKeyId 不存在", 404)
        date = request.headers.get("x-acs-date", "")
        try:
            when = calendar.timegm(time.strptime(date, "%Y-%m-%dT%H:%M:%SZ"))
        except ValueError:
            return self._fail("InvalidTimeStamp.Format", "x-acs-date 格式错误", 400)
        if abs(self.now() - when) > 900:
            return self._fail("InvalidTimeStamp.Expired", "时间戳过期", 400)
        digest = hashlib.sha256(body).hexdigest()
        if request.headers.get("x-acs-content-sha256") != digest:
            return self._fail("ContentSHA256Mismatch", "x-acs-content-sha256 与请求体不符", 400)
        sdk_request = DaraRequest()
        sdk_request.method = request.method
        sdk_request.pathname = request.url.path
        sdk_request.query = query
        sdk_request.headers = {n: request.headers.get(n, "") for n in names}
        expected = AliyunUtils.get_authorization(
            sdk_request, "ACS3-HMAC-SHA256", digest, key_id, self.secrets[key_id]
        )
        if expected != auth:
            return self._fail("SignatureDoesNotMatch", "签名不匹配", 400)
        nonce = request.headers.get("x-acs-signature-nonce", "")
        if nonce in self.nonces:
            return self._fail("SignatureNonceUsed", "签名随机数已被使用", 400)
        self.nonces.add(nonce)
        return None


def _rid() -> str:
    return str(uuid.uuid4()).upper()
