"""控制台 (the web console): server-rendered Chinese pages at ``/console/``.

Each page: resolve the person from the session cookie (app/console/session.py), call one
function of app/console/pages.py (which calls the existing services), render a template.
A stale session goes back to sign-in; what the services refuse is shown as a page with the
same status and the same Chinese message (403, 404, 422), never a stack trace."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from app.api.deps import Ctx
from app.console import pages
from app.console.docs import own_assets_only
from app.console.session import (
    csrf_ok,
    csrf_token,
    end_session,
    remember_csrf,
    session_token,
    start_session,
)
from app.core.types import BigId, Id, SafeLine
from app.db.uow import UnitOfWork
from app.domain.access import Actor
from app.errors import AppError, Forbidden, RateLimited, Unauthorized
from app.org import auth

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def _local(at: datetime | None, tz: str) -> str:
    """People read the school's local time only (the API answers UTC)."""
    return at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") if at else "—"


templates.env.filters["local"] = _local
LEVEL_LABELS = {"blue": "蓝色", "yellow": "黄色", "red": "红色"}
_BAD_CSRF = "表单已过期,请刷新页面后重试 (CSRF token missing or wrong)"

Build = Callable[[UnitOfWork, Actor], Awaitable[dict[str, Any]]]


def _render(request: Request, name: str, code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("actor", None)
    context.update(csrf=csrf_token(request), levels=LEVEL_LABELS)
    response = templates.TemplateResponse(request, name, context, status_code=code)
    remember_csrf(request, response)
    return own_assets_only(response)


def _to_sign_in(request: Request) -> RedirectResponse:
    target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    response = RedirectResponse(f"/console/login?next={target}", status_code=303)
    end_session(response)
    return response


async def _page(request: Request, ctx: Ctx, name: str, build: Build) -> Response:
    token = session_token(request)
    if not token:
        return _to_sign_in(request)
    async with ctx.uow() as uow:
        try:
            actor = await auth.actor_from_token(uow, ctx, token)
        except Unauthorized:
            return _to_sign_in(request)
        request.state.actor = actor  # the access log names the reader, as for the API
        try:
            context = await build(uow, actor)
        except AppError as e:
            return _render(
                request, "error.html", e.status, actor=actor, status=e.status, message=e.message
            )
    if "redirect" in context:
        return RedirectResponse(context["redirect"], status_code=303)
    return _render(request, name, actor=actor, **context)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, ctx: Ctx) -> Response:
    async def build(uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
        return {"redirect": pages.home_path(actor)}

    return await _page(request, ctx, "error.html", build)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/console/") -> Response:
    return _render(request, "login.html", next=_safe_next(next), message=None)


def _safe_next(target: str) -> str:
    """Only a console path: never an open redirect to another site."""
    return target if target.startswith("/console/") and not target.startswith("//") else "/console/"


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    ctx: Ctx,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf: Annotated[str, Form(max_length=128), SafeLine] = "",
    next: Annotated[str, Form(max_length=512), SafeLine] = "/console/",
) -> Response:
    if not csrf_ok(request, csrf):
        return _render(request, "login.html", 403, next=_safe_next(next), message=_BAD_CSRF)
    client = request.client.host if request.client else "unknown"
    try:
        async with ctx.uow() as uow:
            out = await auth.login(uow, ctx, username, password, client)
    except (Unauthorized, RateLimited) as e:
        return _render(request, "login.html", e.status, next=_safe_next(next), message=e.message)
    response = RedirectResponse(_safe_next(next), status_code=303)
    start_session(request, response, out.access_token, out.expires_in)
    return response


@router.post("/logout")
async def logout(
    request: Request, csrf: Annotated[str, Form(max_length=128), SafeLine] = ""
) -> Response:
    if not csrf_ok(request, csrf):
        return _render(request, "error.html", 403, status=403, message=_BAD_CSRF)
    response = RedirectResponse("/console/login", status_code=303)
    end_session(response)
    return response


@router.get("/forbidden", response_class=HTMLResponse)
async def forbidden(request: Request, ctx: Ctx) -> Response:
    async def build(uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
        raise Forbidden("您的账号没有可用的控制台页面 (no console page for your roles)")

    return await _page(request, ctx, "error.html", build)


@router.get("/county", response_class=HTMLResponse)
async def county(request: Request, ctx: Ctx, county_id: Id | None = None) -> Response:
    async def build(uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
        return {"page": await pages.county_page(uow, ctx, actor, county_id)}

    return await _page(request, ctx, "county.html", build)


@router.get("/schools/{school_id}", response_class=HTMLResponse)
async def school(request: Request, ctx: Ctx, school_id: Id) -> Response:
    async def build(uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
        return {"page": await pages.school_page(uow, ctx, actor, school_id)}

    return await _page(request, ctx, "school.html", build)


@router.get("/classes/{class_id}", response_class=HTMLResponse)
async def klass(request: Request, ctx: Ctx, class_id: Id) -> Response:
    async def build(uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
        return {"page": await pages.class_page(uow, ctx, actor, class_id, with_inbox=False)}

    return await _page(request, ctx, "class.html", build)


@router.get("/teacher", response_class=HTMLResponse)
async def teacher(request: Request, ctx: Ctx) -> Response:
    async def build(uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
        return {"page": await pages.teacher_page(uow, ctx, actor)}

    return await _page(request, ctx, "class.html", build)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case(request: Request, ctx: Ctx, case_id: Id) -> Response:
    async def build(uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
        case, school = await pages.case_page(uow, ctx, actor, case_id)
        return {"case": case, "tz": school.timezone}

    return await _page(request, ctx, "case.html", build)


@router.post("/inbox/{notification_id}/read", response_class=HTMLResponse)
async def inbox_read(
    request: Request,
    ctx: Ctx,
    notification_id: BigId,
    csrf: Annotated[str, Form(max_length=128), SafeLine] = "",
) -> Response:
    """htmx swaps the answered row in place; without script the form posts and comes back."""
    if not csrf_ok(request, csrf):
        return _render(request, "error.html", 403, status=403, message=_BAD_CSRF)
    htmx = request.headers.get("HX-Request") == "true"

    async def build(uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
        notice = await pages.mark_read(uow, ctx, actor, notification_id)
        if not htmx:
            return {"redirect": "/console/teacher"}
        school = notice.school_id
        tz = (await pages.school_timezone(uow, actor, school)) if school else "Asia/Shanghai"
        return {"n": notice, "tz": tz}

    return await _page(request, ctx, "inbox_row.html", build)
