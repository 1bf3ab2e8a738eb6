"""The attendance events' monthly partitions on PostgreSQL (issue 24, item 4): list them,
create the months ahead, detach a past month for archiving and drop it once archived. On SQLite
nothing is partitioned: listing and creating are no-ops, detaching and dropping raise
``NotPartitioned``.

Detaching uses plain ``DETACH PARTITION`` inside a transaction, not ``CONCURRENTLY``:
PostgreSQL refuses ``DETACH ... CONCURRENTLY`` on a table with a DEFAULT partition (ours have
one, so a month nobody created is still taken), and it cannot run in a transaction. Plain
DETACH takes an ACCESS EXCLUSIVE lock on the parent for a moment (no rows are moved);
``lock_timeout`` makes it give up rather than queue behind a long report and stall the roll
behind it.

Creating a month whose rows already sit in the DEFAULT partition fails (PostgreSQL refuses to
attach over them): create months ahead, before the roll reaches them.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.partitions import (
    PARTITIONED_TABLES,
    Month,
    Partition,
    PartitionRefused,
    check_retirable,
    parse_name,
    wanted,
)

LOCK_TIMEOUT = "5s"


class NotPartitioned(PartitionRefused):
    """The database is not PostgreSQL: the attendance tables are plain tables."""

    def __init__(self, dialect: str) -> None:
        super().__init__(f"{dialect} 数据库未分区 (not partitioned: only PostgreSQL partitions)")


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


async def detached(engine: AsyncEngine, table: str) -> list[str]:
    """Tables named like a month of ``table`` that are no longer its partitions: detached,
    waiting to be archived and dropped (empty on SQLite)."""
    if engine.dialect.name != "postgresql":
        return []
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT c.relname FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
                " AND c.relname LIKE :pattern AND NOT c.relispartition ORDER BY c.relname"
            ),
            {"pattern": f"{table}\\_____\\___"},
        )
        return [n for n in rows.scalars() if parse_name(table, n) is not None]


def _require_postgresql(engine: AsyncEngine) -> None:
    if engine.dialect.name != "postgresql":
        raise NotPartitioned(engine.dialect.name)


async def detach(engine: AsyncEngine, month: Month, today: date, backfill_days: int) -> list[str]:
    """Detach ``month``'s partition of every attendance table (one transaction), keeping the
    tables for ``pg_dump -t``; returns their names. Refuses the current or a future month and
    one still within the intake's backfill window."""
    _require_postgresql(engine)
    check_retirable(month, today, backfill_days)
    names = [Partition(t, month).name for t in PARTITIONED_TABLES]
    for table, name in zip(PARTITIONED_TABLES, names, strict=True):
        if name not in await listed(engine, table):
            raise PartitionRefused(f"{name} 不是 {table} 的分区 (not a partition of {table})")
    async with engine.begin() as conn:
        await conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        for table, name in zip(PARTITIONED_TABLES, names, strict=True):
            await conn.execute(text(f"ALTER TABLE {table} DETACH PARTITION {name}"))
    return names


async def drop(engine: AsyncEngine, month: Month, today: date) -> list[str]:
    """Drop ``month``'s detached tables (archive them first); returns their names. A
    partition still attached is refused: detach, archive, then drop."""
    _require_postgresql(engine)
    check_retirable(month, today, 0)
    names = [Partition(t, month).name for t in PARTITIONED_TABLES]
    for table, name in zip(PARTITIONED_TABLES, names, strict=True):
        if name in await listed(engine, table):
            raise PartitionRefused(
                f"{name} 仍是分区, 请先分离并归档 (still attached: detach and archive it first)"
            )
        if name not in await detached(engine, table):
            raise PartitionRefused(f"{name} 不存在 (no such detached table)")
    async with engine.begin() as conn:
        for name in names:
            await conn.execute(text(f"DROP TABLE {name}"))
    return names
