"""Security headers and the CORS policy as a browser meets them (app/api/headers.py):
``nosniff`` on every answer, ``no-store`` on everything but the documentation, HSTS only
over TLS (uvicorn's proxy headers honoured for a trusted proxy), CORS off unless origins
are configured."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import ValidationError
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.context import AppContext
from app.main import create_app
from app.settings import Settings
from tests.world import World

CONSOLE = "https://console.county.example"


def no_store(r: httpx.Response) -> bool:
    return r.headers.get("cache-control") == "no-store"


async def test_answers_with_personal_data_and_exports_are_not_stored(
    world: World, client: httpx.AsyncClient
) -> None:
    auth = world.auth("principal")
    school = world.ids["school_A"]
    answers = [
        await client.get("/api/v1/students", headers=auth),
        await client.get(f"/api/v1/students/{world.ids['student_A1']}", headers=auth),
        await client.get(
            "/api/v1/ledgers/absence-tracking.xlsx",
            params={"school_id": school, "start": "2026-11-16", "end": "2026-11-24"},
            headers=auth,
        ),
        await client.get("/api/v1/students"),  # 401
        await client.get("/api/v1/students/2147483647", headers=auth),  # 404
        await client.get("/api/v1/students?offset=-1", headers=auth),  # 422
        await client.post("/api/v1/auth/token", content=b"x" * (2 << 20)),  # the guards' 413
        await client.get("/healthz"),
    ]
    assert [r.status_code for r in answers] == [200, 200, 200, 401, 404, 422, 413, 200]
    assert (
        answers[2]
        .headers["content-type"]
        .startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    )
    for r in answers:
        assert no_store(r), (r.request.url, r.headers)
        assert r.headers["x-content-type-options"] == "nosniff", r.request.url
        assert "strict-transport-security" not in r.headers  # plain http
        assert "access-control-allow-origin" not in r.headers


async def test_the_documentation_may_be_cached_but_is_never_sniffed(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/docs", "/redoc", "/openapi.json"):
        r = await client.get(path)
        assert r.status_code == 200, path
        assert not no_store(r), path
        assert r.headers["x-content-type-options"] == "nosniff", path


@pytest.fixture
async def proxied(ctx: AppContext) -> AsyncIterator[httpx.ASGITransport]:
    """The app as ``uvicorn --proxy-headers --forwarded-allow-ips 10.0.0.2`` serves it."""
    app = ProxyHeadersMiddleware(create_app(ctx), trusted_hosts="10.0.0.2")
    yield httpx.ASGITransport(app=app, client=("10.0.0.2", 41000))


async def test_hsts_only_over_tls_as_the_trusted_proxy_says(
    ctx: AppContext, proxied: httpx.ASGITransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with httpx.AsyncClient(transport=proxied, base_url="http://kcbx") as c:
        behind_tls = await c.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        plain = await c.get("/healthz", headers={"X-Forwarded-Proto": "http"})
        direct = await c.get("/healthz")
    assert behind_tls.headers["strict-transport-security"] == "max-age=31536000"
    assert "strict-transport-security" not in plain.headers
    assert "strict-transport-security" not in direct.headers
    untrusted = httpx.ASGITransport(
        app=ProxyHeadersMiddleware(create_app(ctx), trusted_hosts="10.0.0.2"),
        client=("203.0.113.9", 41000),
    )
    async with httpx.AsyncClient(transport=untrusted, base_url="http://kcbx") as c:
        forged = await c.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in forged.headers
    async with httpx.AsyncClient(transport=proxied, base_url="https://kcbx") as c:
        assert "strict-transport-security" in (await c.get("/healthz")).headers
        monkeypatch.setattr(ctx.settings, "hsts_seconds", 0)
        assert "strict-transport-security" not in (await c.get("/healthz")).headers


async def test_no_cross_origin_reads_by_default(world: World, client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/api/v1/students",
        headers={"Origin": CONSOLE, "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    r = await client.get("/api/v1/students", headers={"Origin": CONSOLE, **world.auth("principal")})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


async def test_configured_origins_and_only_they_may_read(
    ctx: AppContext, world: World, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ctx.settings, "cors_origins", [CONSOLE])
    ask = {
        "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    preflight = await client.options("/api/v1/students/1", headers={"Origin": CONSOLE, **ask})
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == CONSOLE
    assert "PATCH" in preflight.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in preflight.headers
    assert preflight.headers["x-content-type-options"] == "nosniff"
    elsewhere = await client.options(
        "/api/v1/students/1", headers={"Origin": "https://evil.example", **ask}
    )
    assert elsewhere.status_code == 400
    assert "access-control-allow-origin" not in elsewhere.headers
    auth = world.auth("principal")
    r = await client.get("/api/v1/students", headers={"Origin": CONSOLE, **auth})
    assert r.headers["access-control-allow-origin"] == CONSOLE
    assert "content-disposition" in r.headers["access-control-expose-headers"].lower()
    assert no_store(r)
    r = await client.get("/api/v1/students", headers={"Origin": "https://evil.example", **auth})
    assert "access-control-allow-origin" not in r.headers


@pytest.mark.parametrize(
    "origin", ["*", "https://*.county.example", "https://console.county.example/app", "console"]
)
def test_origins_must_be_exact(origin: str) -> None:
    with pytest.raises(ValidationError, match="not an origin"):
        Settings(environment="test", cors_origins=[origin])


def test_an_origin_with_a_trailing_slash_is_the_origin() -> None:
    settings = Settings(environment="test", cors_origins=[CONSOLE + "/"])
    assert settings.cors_origins == [CONSOLE]
