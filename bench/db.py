"""What every benchmark needs: its own PostgreSQL database made anew, and percentiles."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import asyncpg
from sqlalchemy.engine import make_url

from app.db import migrations


def dsn(url: str, database: str | None = None) -> str:
    """asyncpg's form of a SQLAlchemy URL, optionally for another database."""
    u = make_url(url).set(drivername="postgresql")
    if database:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


async def fresh_database(url: str) -> None:
    """Drop and create the benchmark's database, then build it with the real migrations."""
    name = make_url(url).database
    conn = await asyncpg.connect(dsn(url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    await asyncio.to_thread(migrations.upgrade, url)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")
