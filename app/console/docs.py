"""API docs that load without internet: Swagger UI and ReDoc from files in the package
(``static/vendor``), never a CDN or Google Fonts; ``/`` is a small Chinese index page."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/static"
VENDOR = f"{STATIC_PREFIX}/vendor"

router = APIRouter(include_in_schema=False)

# Every page of ours loads only from this server. ReDoc's bundle hard-codes one image on
# cdn.redoc.ly (its "API docs by Redocly" footer logo); the policy keeps the browser from
# fetching it, so nothing leaves the machine even on a network that could reach it.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; font-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def own_assets_only(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = CSP
    return response


def install(app: FastAPI) -> None:
    """The app must be built with ``docs_url=None, redoc_url=None``: these routes replace
    FastAPI's, at the same paths, with local assets."""
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(router)


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    app = request.app
    return own_assets_only(
        get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title=f"{app.title} — Swagger UI",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{VENDOR}/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui.css",
            swagger_favicon_url=f"{VENDOR}/favicon-32x32.png",
            # no badge from validator.swagger.io (Swagger UI asks it for any non-local host)
            swagger_ui_parameters={"validatorUrl": None},
        )
    )


@router.get("/docs/oauth2-redirect", response_class=HTMLResponse)
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    app = request.app
    return own_assets_only(
        get_redoc_html(
            openapi_url=app.openapi_url,
            title=f"{app.title} — ReDoc",
            redoc_js_url=f"{VENDOR}/redoc.standalone.js",
            redoc_favicon_url=f"{VENDOR}/favicon-32x32.png",
            with_google_fonts=False,
        )
    )


INDEX = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>控辍保学 KCBX</title><link rel="stylesheet" href="/static/console.css"></head>
<body><main class="narrow"><h1>控辍保学 KCBX</h1>
<p>一日三查考勤、红黄蓝预警、劝返复学的后台服务。</p>
<ul class="links">
<li><a href="/console/">控制台</a>(县教育局、学校、班主任)</li>
<li><a href="/docs">接口文档 (Swagger UI)</a></li>
<li><a href="/redoc">接口文档 (ReDoc)</a></li>
<li><a href="/openapi.json">OpenAPI 描述 (openapi.json)</a></li>
</ul></main></body></html>
"""


@router.get("/", response_class=HTMLResponse)
async def index() -> HTMLResponse:
    return own_assets_only(HTMLResponse(INDEX))
