"""Many rows into one table in one statement.

On PostgreSQL ``INSERT … SELECT … FROM unnest(arrays)``: one array parameter per column (one
plain parameter for a column whose value is the same in every row), so the server plans and
runs one statement for the whole batch (an executemany runs the insert once per row, each with
its own bind and execute round of the protocol), and the text is the same whatever the number
of rows, so its prepared plan is reused. Elsewhere (SQLite) the plain
executemany. ``skip_conflicts_on``: the unique columns whose existing row keeps the new one out
(``ON CONFLICT … DO NOTHING``: the same cause retried writes once).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

_PG = postgresql.dialect()  # type: ignore[no-untyped-call]


@cache
def _pg_insert(
    table: Table, columns: tuple[str, ...], conflict: tuple[str, ...], same: frozenset[str]
) -> Any:
    """The statement for ``columns``, those in ``same`` bound once (one value for every row)
    and the others as arrays."""
    arrays = [name for name in columns if name not in same]
    unnest = ", ".join(
        f"CAST(:{name} AS {table.c[name].type.compile(dialect=_PG)}[])" for name in arrays
    )
    picks = ", ".join(
        f"CAST(:{name} AS {table.c[name].type.compile(dialect=_PG)})"
        if name in same
        else f'u."{name}"'
        for name in columns
    )
    names = ", ".join(f'"{name}"' for name in columns)
    aliases = ", ".join(f'"{name}"' for name in arrays)
    sql = f'INSERT INTO "{table.name}" ({names}) SELECT {picks} '
    sql += f"FROM unnest({unnest}) AS u({aliases})"
    if conflict:
        sql += f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    return text(sql)


async def insert_many(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    skip_conflicts_on: tuple[str, ...] = (),
) -> None:
    """Insert ``rows`` (dicts with the same keys, the columns' Python values) into ``table``."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        stmt = sqlite.insert(table)
        if skip_conflicts_on:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(skip_conflicts_on))
        await conn.execute(stmt, list(rows))
        return
    columns = tuple(rows[0])
    params: dict[str, Any] = {}
    same: set[str] = set()
    for name in columns:
        process = table.c[name].type.bind_processor(conn.dialect)
        values = [r[name] for r in rows]
        first = values[0]
        # A column with one value for the whole batch (a notice's topic and time, a timeline
        # entry's actor) is sent once, not as an array: the driver encodes, and checks the
        # type of, every element of an array, and that was most of a sweep batch's insert.
        # One column stays an array however alike the rows: it gives unnest its row count.
        if len(same) < len(columns) - 1 and values.count(first) == len(values):
            same.add(name)
            params[name] = process(first) if process is not None else first
        else:
            params[name] = [process(v) for v in values] if process is not None else values
    await conn.execute(_pg_insert(table, columns, skip_conflicts_on, frozenset(same)), params)
