"""Health endpoints, and the migrations as the one source of the schema."""

from __future__ import annotations

import asyncio

import httpx
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from app.context import AppContext
from app.db import migrations
from app.domain.partitions import is_partition


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    r = await client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["checks"]["migrations"]["current"] == migrations.head_revision()


async def test_readyz_says_not_ready_when_migrations_lag(
    ctx: AppContext, client: httpx.AsyncClient
) -> None:
    async with ctx.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = 'behind'"))
    try:
        r = await client.get("/readyz")
        assert r.status_code == 503
        assert r.json()["status"] == "not ready"
    finally:
        async with ctx.engine.begin() as conn:
            await conn.execute(
                text("UPDATE alembic_version SET version_num = :v"),
                {"v": migrations.head_revision()},
            )


async def test_models_match_the_migrations(ctx: AppContext) -> None:
    def diff(conn):  # type: ignore[no-untyped-def]
        # A partition of the attendance tables (PostgreSQL) is no table of the models.
        opts = {
            "include_name": lambda name, kind, parent: (
                not (kind == "table" and name is not None and is_partition(name))
            )
        }
        context = MigrationContext.configure(conn, opts=opts)
        return compare_metadata(context, SQLModel.metadata)

    async with ctx.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []


async def test_downgrade_to_base_and_back(ctx: AppContext) -> None:
    url = ctx.settings.database_url
    await ctx.engine.dispose()
    await asyncio.to_thread(migrations.downgrade, url, "base")
    async with ctx.engine.connect() as conn:
        rows = await conn.execute(text("SELECT count(*) FROM alembic_version"))
        assert rows.scalar() == 0
    await ctx.engine.dispose()
    await asyncio.to_thread(migrations.upgrade, url)
    async with ctx.engine.connect() as conn:
        version = await conn.execute(text("SELECT version_num FROM alembic_version"))
        assert version.scalar() == migrations.head_revision()
