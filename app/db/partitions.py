"""The attendance tables' monthly partitions on PostgreSQL (issue 24, item 4): list them and
create the months ahead. On SQLite nothing is partitioned and both are no-ops.

Creating a month whose rows already sit in the DEFAULT partition fails (PostgreSQL refuses to
attach over them): create months ahead, before the roll reaches them.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.partitions import PARTITIONED_TABLES, Partition, parse_name, wanted


async def listed(engine: AsyncEngine, table: str) -> list[str]:
    """The partitions of ``table`` by name (empty on SQLite)."""
    if engine.dialect.name != "postgresql":
        return []
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = CAST(:t AS regclass) ORDER BY c.relname"
            ),
            {"t": table},
        )
        return list(rows.scalars())


async def ensure(engine: AsyncEngine, today: date, ahead: int) -> list[str]:
    """Create the missing monthly partitions up to ``ahead`` months past today's month;
    returns the names created."""
    if engine.dialect.name != "postgresql":
        return []
    created: list[str] = []
    for table in PARTITIONED_TABLES:
        have = {parse_name(table, n) for n in await listed(engine, table)}
        missing: list[Partition] = [
            p for p in wanted(table, today, today, ahead) if p.month not in have
        ]
        async with engine.begin() as conn:
            for p in missing:
                await conn.execute(
                    text(
                        f"CREATE TABLE {p.name} PARTITION OF {table}"
                        f" FOR VALUES FROM ('{p.lower}') TO ('{p.upper}')"
                    )
                )
                created.append(p.name)
    return created
