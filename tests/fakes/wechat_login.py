"""A fake WeChat ``auth.code2Session`` (developers.weixin.qq.com …/user-login/code2Session),
written from the published contract, not from what our adapter sends:

``GET /sns/jscode2session?appid=…&secret=…&js_code=…&grant_type=authorization_code`` →
``{"openid", "session_key", "unionid"}`` (HTTP 200), or ``{"errcode", "errmsg"}`` (HTTP 200):
* ``grant_type`` other than ``authorization_code`` → 40002; an unknown ``appid`` → 40013; a
  wrong ``secret`` for it → 40125;
* ``js_code`` unknown, already used (a code is single-use) or older than 5 minutes → 40029;
* more than ``limit`` calls a minute for one user → 45011 (frequency limit, 100 a minute);
* a user the platform judges high-risk → 40226;
* the platform busy → -1.

A code is what ``wx.login`` gives the mini-program: ``login(openid)`` makes one here.
"""

from __future__ import annotations

import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

CODE_SECONDS = 300


@dataclass
class Code2SessionFake:
    appid: str
    secret: str
    limit: int = 100
    high_risk: set[str] = field(default_factory=set)
    busy: bool = False
    codes: dict[str, tuple[str, float]] = field(default_factory=dict)  # code → (openid, made)
    calls: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    answered: list[dict[str, object]] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/sns/jscode2session", self.handle, methods=["GET"])])

    def login(self, openid: str) -> str:
        code = secrets.token_urlsafe(24)
        self.codes[code] = (openid, time.monotonic())
        return code

    def _answer(self, body: dict[str, object]) -> JSONResponse:
        self.answered.append(body)
        return JSONResponse(body)

    def _error(self, code: int, message: str) -> JSONResponse:
        return self._answer({"errcode": code, "errmsg": message})

    async def handle(self, request: Request) -> JSONResponse:
        q = request.query_params
        if q.get("grant_type") != "authorization_code":
            return self._error(40002, "invalid grant_type")
        if q.get("appid") != self.appid:
            return self._error(40013, "invalid appid")
        if q.get("secret") != self.secret:
            return self._error(40125, "invalid appsecret")
        if self.busy:
            return self._error(-1, "system error")
        found = self.codes.pop(q.get("js_code", ""), None)  # single use, whatever follows
        if found is None or time.monotonic() - found[1] > CODE_SECONDS:
            return self._error(40029, "invalid code")
        openid = found[0]
        now = time.monotonic()
        seen = self.calls[openid]
        while seen and now - seen[0] >= 60:
            seen.popleft()
        if len(seen) >= self.limit:
            return self._error(45011, "api minute-quota reach limit  mustslower  retry next minute")
        seen.append(now)
        if openid in self.high_risk:
            return self._error(40226, "invalid user: high risk")
        return self._answer(
            {"openid": openid, "session_key": secrets.token_urlsafe(16), "unionid": "u" + openid}
        )
