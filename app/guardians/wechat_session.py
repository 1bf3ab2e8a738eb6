"""``wx.login`` codes exchanged through ``jscode2session`` (the platform's published contract):
``GET {base}/sns/jscode2session?appid=…&secret=…&js_code=…&grant_type=authorization_code`` →
``{"openid", "session_key", "unionid"?}``, or ``{"errcode", "errmsg"}``: 40029 invalid code
(unknown, expired or used: a code is single-use), 45011 rate limit, 40226 high-risk user,
-1 busy. Any error, or no answer, is a ``PlatformError``: the API answers 502 with the
platform's code (``wechat_40029``). The ``session_key`` is dropped here: never stored, never
returned.

A deployment without the mini-program's appid/secret has no WeChat sign-in at all: 404
``wechat.not_configured`` (the sign-in does not exist here), never a 5xx — no platform was asked,
so there is no platform error to pass on."""

from __future__ import annotations

import httpx

from app.core.channel_settings import OutboundPolicy
from app.delivery.channels.base import AddressRefused
from app.delivery.channels.outbound import http_client
from app.errors import AppError

DEFAULT_BASE = "https://api.weixin.qq.com"
_OPENID_MAX = 64


class PlatformError(AppError):
    status = 502
    code = "platform_error"


class NotConfigured(AppError):
    status = 404
    code = "wechat.not_configured"


async def openid_for(
    code: str, *, base: str, appid: str, secret: str, policy: OutboundPolicy, seconds: float = 5
) -> str:
    if not appid or not secret:
        raise NotConfigured("本服务未开通小程序登录 (mini-program appid/secret not configured)")
    params = {
        "appid": appid,
        "secret": secret,
        "js_code": code,
        "grant_type": "authorization_code",
    }
    try:
        async with http_client(policy, httpx.Timeout(seconds)) as client:
            answer = await client.get(f"{base.rstrip('/')}/sns/jscode2session", params=params)
        body = answer.json()
    except (httpx.HTTPError, ValueError, AddressRefused) as exc:
        raise PlatformError(
            "微信登录服务无应答 (WeChat did not answer)", "wechat_unreachable"
        ) from exc
    if not isinstance(body, dict):
        raise PlatformError("微信登录服务应答异常 (bad answer)", "wechat_bad_answer")
    errcode = body.get("errcode", 0)
    openid = body.get("openid")
    if errcode not in (0, None) or not isinstance(openid, str) or not openid:
        message = str(body.get("errmsg", ""))[:200]
        raise PlatformError(
            f"微信登录失败 (jscode2session {errcode}: {message})", f"wechat_{errcode}"
        )
    if len(openid) > _OPENID_MAX:
        raise PlatformError("微信登录服务应答异常 (openid too long)", "wechat_bad_answer")
    return openid
