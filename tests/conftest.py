"""Test database: SQLite in a temp folder by default, PostgreSQL when TEST_DATABASE_URL is set.

The schema is built by the real Alembic migrations; every test starts from empty tables.
A PostgreSQL run that cannot reach its database fails (it never skips), and the session
writes ``build/test-db.json`` so .ci/run can check which database the suite really ran on.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from app.context import AppContext, wall_clock
from app.core.channel_settings import OutboundPolicy
from app.core.clock import SimClock as Clock
from app.db import migrations
from app.main import create_app
from app.settings import Settings
from tests.world import WORLDS, World, build_world

# The service defaults to production; the suite is the explicit "test" setting.
os.environ.setdefault("KCBX_ENVIRONMENT", "test")
ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("TEST_DATABASE_URL")
_DB_FIXTURES = {"ctx", "client", "world"}
_db_outcomes = {"passed": 0, "failed": 0, "skipped": 0}


async def _reset_postgres(url: str) -> None:
    import asyncpg

    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if PG_URL:
        try:
            asyncio.run(_reset_postgres(PG_URL))
        except (OSError, Exception) as exc:
            pytest.exit(f"TEST_DATABASE_URL is set but unusable: {exc!r}", returncode=3)
        url = PG_URL
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    migrations.upgrade(url)
    return url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "db" not in report.keywords:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _db_outcomes[report.outcome] += 1


def pytest_sessionfinish(session: pytest.Session) -> None:
    out = ROOT / "build" / "test-db.json"
    out.parent.mkdir(exist_ok=True)
    dialect = "postgresql" if PG_URL else "sqlite"
    out.write_text(json.dumps({"dialect": dialect, **_db_outcomes}))


@pytest.fixture(scope="session")
async def _engine_ctx(database_url: str) -> AsyncIterator[AppContext]:
    # Local receivers listen on 127.0.0.1; robots in tests live there or on *.test hosts.
    outbound = OutboundPolicy(
        allow_networks=["127.0.0.1/32"],  # type: ignore[list-item]
        extra_robot_hosts=["127.0.0.1", "wecom.test", "dingtalk.test"],
    )
    settings = Settings(environment="test", database_url=database_url, outbound=outbound)
    ctx = AppContext.from_settings(settings)
    yield ctx
    await ctx.close()


@pytest.fixture
async def ctx(_engine_ctx: AppContext) -> AsyncIterator[AppContext]:
    _engine_ctx.clock = Clock(datetime(2026, 11, 24, 1, 0, tzinfo=UTC))
    _engine_ctx.wall_clock = wall_clock
    _engine_ctx.cache.clear()
    yield _engine_ctx
    await _truncate(_engine_ctx)
    # Ids are reused after truncation: cached actors or students must not outlive their test.
    _engine_ctx.cache.clear()


async def _truncate(ctx: AppContext) -> None:
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    async with ctx.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                await conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
async def client(ctx: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ctx)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
async def world(
    ctx: AppContext, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> World:
    """The county of tests/world.py, with the named extras of the closest
    ``pytest.mark.world(name, ..., settings={...})`` (``tests.world.WORLDS``)."""
    marker = request.node.get_closest_marker("world")
    if marker is not None and marker.kwargs.get("settings"):
        monkeypatch.setattr(
            ctx, "settings", ctx.settings.model_copy(update=marker.kwargs["settings"])
        )
    w = await build_world(ctx)
    for name in marker.args if marker is not None else ():
        if name not in WORLDS:
            raise pytest.UsageError(f"unknown world {name!r} (known: {', '.join(WORLDS)})")
        await WORLDS[name](w)
    return w


@pytest.fixture
def anyio_backend() -> Iterator[str]:
    yield "asyncio"
