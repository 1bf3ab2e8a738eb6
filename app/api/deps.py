"""Request dependencies: the app context, a unit of work, and the authenticated actor."""

from __future__ import annotations

import hmac
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, ParamSpec

from fastapi import Depends, Query, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from app.context import AppContext
from app.core.local_times import set_zone
from app.core.types import OFFSET_MAX
from app.db.uow import UnitOfWork
from app.domain.access import Actor
from app.errors import NotFound, Unauthorized
from app.org import auth

P = ParamSpec("P")
oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
# The web console keeps the same access token in this HttpOnly, SameSite=Strict cookie
# (app/console/session.py). The API accepts it for reads only (GET/HEAD: the console's XLSX
# links); a write still needs the bearer token or the console's CSRF-checked forms.
CONSOLE_COOKIE = "kcbx_console"
SAFE_METHODS = frozenset({"GET", "HEAD"})
api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="县级系统的 API 密钥 (county systems)"
)


async def get_ctx(request: Request) -> AppContext:
    # async on purpose: FastAPI runs a plain def dependency in a thread pool on every request
    ctx: AppContext = request.app.state.ctx
    set_zone(ctx.settings.default_timezone)  # the ``*_local`` twins of answers' instants
    return ctx


async def get_uow(ctx: Annotated[AppContext, Depends(get_ctx)]) -> AsyncIterator[UnitOfWork]:
    async with ctx.uow() as uow:
        yield uow


async def get_actor(
    request: Request,
    ctx: Annotated[AppContext, Depends(get_ctx)],
    uow: Annotated[UnitOfWork, Depends(get_uow)],
    token: Annotated[str | None, Depends(oauth2)],
    api_key: Annotated[str | None, Depends(api_key_header)],
) -> Actor:
    if api_key:
        actor = await auth.actor_from_api_key(uow, ctx, api_key)
    elif token:
        actor = await auth.actor_from_token(uow, ctx, token)
    elif request.method in SAFE_METHODS and (cookie := request.cookies.get(CONSOLE_COOKIE)):
        actor = await auth.actor_from_token(uow, ctx, cookie)
    else:
        raise Unauthorized("请先登录 (sign in, or send an X-API-Key)")
    request.state.actor = actor  # for the access log (app/access_logs/middleware.py)
    return actor


def _is_scraper(ctx: AppContext, token: str | None) -> bool:
    """The bearer is the scrape token (``KCBX_METRICS_TOKEN``), compared in constant time."""
    expected = ctx.settings.metrics_token
    return (
        expected is not None
        and token is not None
        and hmac.compare_digest(token.encode(), expected.get_secret_value().encode())
    )


async def require_scraper(
    ctx: Annotated[AppContext, Depends(get_ctx)],
    token: Annotated[str | None, Depends(oauth2)],
) -> None:
    """``/metrics``: 404 while no scrape token is configured, 401 without the right one."""
    if ctx.settings.metrics_token is None:
        raise NotFound("指标端点未启用 (metrics are off: KCBX_METRICS_TOKEN)")
    if not _is_scraper(ctx, token):
        raise Unauthorized("需要抓取令牌 (the scrape token, as a bearer token)")


def _or_scraper(
    dependency: Callable[P, Awaitable[Actor]],
) -> Callable[P, Awaitable[Actor | None]]:
    """``dependency`` (``get_actor``), letting the scrape token through as ``None`` first.
    The wrapper declares exactly the wrapped function's parameters (its ``__signature__``), so
    FastAPI resolves the same dependencies and a change to ``get_actor`` is not copied by hand."""
    signature = inspect.signature(dependency)

    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> Actor | None:
        given = signature.bind(*args, **kwargs).arguments
        if not given.get("api_key") and _is_scraper(given["ctx"], given.get("token")):
            return None
        return await dependency(*args, **kwargs)

    wrapper.__signature__ = signature.replace(return_annotation=Actor | None)  # type: ignore[attr-defined]
    wrapper.__name__ = "get_actor_or_scraper"
    wrapper.__doc__ = (
        "Someone signed in, or the monitoring system with the scrape token (``None``)."
    )
    return wrapper


get_actor_or_scraper = _or_scraper(get_actor)


Ctx = Annotated[AppContext, Depends(get_ctx)]
Uow = Annotated[UnitOfWork, Depends(get_uow)]
CurrentActor = Annotated[Actor, Depends(get_actor)]
ActorOrScraper = Annotated[Actor | None, Depends(get_actor_or_scraper)]
Limit = Annotated[int, Query(ge=1, le=500, description="每页条数 (page size)")]
Offset = Annotated[
    int, Query(ge=0, le=OFFSET_MAX, description="跳过条数 (rows to skip, at most 2³¹−1)")
]
IncludeInactive = Annotated[bool, Query(description="包括已停用的 (include deactivated)")]
