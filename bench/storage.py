"""Storage per attendance event on PostgreSQL: table + indexes + TOAST of the events, per event
stored, against the bare baseline's table (issue 24, item 3; goal <= 250 bytes per event for
events and marks together: the marks are derived from the events since migration 0035, so the
events are the whole of it).

Sizes are ``pg_total_relation_size`` after a VACUUM (so the visibility map and free space map
are counted, as they would be on a live server): what the disk holds, not what a row would
take in theory.
"""

from __future__ import annotations

import asyncpg

GOAL = 250


async def _bytes(conn: asyncpg.Connection, table: str) -> tuple[int, int, int]:
    """(total bytes, of which indexes, rows) of a table; a partitioned table's are its
    partitions' (its own relation holds nothing), a plain table has no partition tree."""
    row = await conn.fetchrow(
        "SELECT coalesce((SELECT sum(pg_total_relation_size(relid))"
        " FROM pg_partition_tree($1::regclass)), pg_total_relation_size($1::regclass)),"
        " coalesce((SELECT sum(pg_indexes_size(relid)) FROM pg_partition_tree($1::regclass)),"
        " pg_indexes_size($1::regclass))",
        table,
    )
    count = await conn.fetchval(f"SELECT count(*) FROM {table}")  # fixed names
    return int(row[0]), int(row[1]), int(count)


async def breakdown(conn: asyncpg.Connection, table: str, events: int) -> None:
    """Where a table's bytes go, per event: each column's average ``pg_column_size`` (what
    the value takes in the tuple, before alignment), the whole tuple (header, null bitmap
    and padding included) and each index, summed over the partitions."""
    cols = [
        r[0]
        for r in await conn.fetch(
            "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0"
            " AND NOT attisdropped ORDER BY attnum",
            table,
        )
    ]
    sizes = ", ".join(f'avg(pg_column_size("{c}"))' for c in cols)
    row = await conn.fetchrow(f"SELECT {sizes}, avg(pg_column_size(t.*)) FROM {table} t")
    print(
        f"  {table} columns (avg bytes): "
        + ", ".join(f"{c} {float(v or 0):.1f}" for c, v in zip(cols, row, strict=False))
    )
    print(
        f"  {table} tuple (header, nulls, padding, data): {float(row[-1] or 0):.1f} B"
        " + 4 B line pointer"
    )
    indexes = await conn.fetch(
        "SELECT coalesce(i.inhparent, x.indexrelid)::regclass::text,"
        " sum(pg_relation_size(x.indexrelid))"
        " FROM pg_partition_tree($1::regclass) p JOIN pg_index x ON x.indrelid = p.relid"
        " LEFT JOIN pg_inherits i ON i.inhrelid = x.indexrelid GROUP BY 1 ORDER BY 1",
        table,
    )
    for name, size in indexes:
        print(f"  {table} index {name}: {int(size) / events:.1f} B per event")


async def report(dsn: str, events_table: str = "attendance_event") -> dict[str, float]:
    """Print bytes per event of the events and the bare table; returns the figures."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("VACUUM ANALYZE attendance_event, bare_event")
        event_total, event_index, events = await _bytes(conn, events_table)
        bare_total, bare_index, bare = await _bytes(conn, "bare_event")
        if events:
            await breakdown(conn, events_table, events)
    finally:
        await conn.close()
    if not events or not bare:
        print("storage per event: no events stored")
        return {}
    per = {"event": event_total / events, "bare": bare_total / bare}
    print(f"storage per event ({events} events, {bare} bare rows; table + indexes):")
    print(
        f"  attendance_event {per['event']:6.0f} B  (indexes {event_index / events:5.0f} B)\n"
        f"  bare_event       {per['bare']:6.0f} B  (indexes {bare_index / bare:5.0f} B)"
    )
    total = per["event"]
    print(
        f"ratio storage kcbx / bare: {total / per['bare']:.2f}x — {total:.0f} bytes per event "
        f"(events; the marks are derived from them, not stored; goal <= {GOAL})"
    )
    per["total"] = total
    return per
