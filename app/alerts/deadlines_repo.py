"""The deadline rows' queries: inserting them once per obligation, claiming due ones for the
sweep (locked, so a second engine skips them), setting aside and retrying those whose firing
raised, and marking what was fired."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, bindparam, literal_column, text, update
from sqlalchemy import select as sa_select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.alerts.engine_repo import dialect_name
from app.db.bulk import insert_many
from app.db.models import Deadline
from app.db.types import UTCDateTime


async def add_deadlines(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert each unless a deadline for the same obligation exists (its dedupe key): one
    statement for all of them."""
    if not rows:
        return
    conn = await session.connection()
    table = Deadline.__table__  # type: ignore[attr-defined]
    await insert_many(conn, table, rows, skip_conflicts_on=("dedupe_key",))


class Due(NamedTuple):
    """A claimed deadline: what the sweep needs of it (plain values, not an ORM object)."""

    id: int
    case_id: int
    kind: str
    key: str
    due_at: datetime


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[Due]:
    """Due pending deadlines in due order, locked so a second engine skips them.

    ``state = 'pending'`` is written literally so the partial index ``ix_deadline_pending_due``
    always applies (a bound parameter would not match it in a generic plan). On PostgreSQL the
    claim walks that index in order: the planner, counting the entries of deadlines fired
    since the last vacuum as candidates, otherwise picks a bitmap scan that re-reads every
    one of them at each claim, whereas an index scan stops after ``limit`` rows and marks the
    dead entries it meets so later claims skip them."""
    table = Deadline.__table__  # type: ignore[attr-defined]
    stmt = (
        sa_select(table.c.id, table.c.case_id, table.c.kind, table.c.key, table.c.due_at)
        .where(table.c.state == literal_column("'pending'"), table.c.due_at <= now)
        .order_by(table.c.due_at, table.c.id)
        .limit(limit)
    )
    conn = await session.connection()
    if dialect_name(session) == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
        await conn.execute(text("SET LOCAL enable_bitmapscan = off"))
    return [Due(*row) for row in await conn.execute(stmt)]


# The claim and the mark in one statement: the due rows, locked (``claim_due``), written as
# fired at ``:at`` with their lateness. ``floor`` of the exact interval is the same
# millisecond count ``lateness_ms`` computes in Python, and the CTE (locking, so never
# inlined) claims once. The sweep marks those of its batch that turn out stale as cancelled
# (``cancel_fired``): a sweep of overdue deadlines writes each row once instead of twice.
_CLAIM_FIRED = text(
    "WITH claimed AS (SELECT id FROM deadline WHERE state = 'pending' AND due_at <= :now "
    "ORDER BY due_at, id LIMIT :n FOR UPDATE SKIP LOCKED) "
    "UPDATE deadline SET state = 'fired', fired_at = :at, lateness_ms = CAST(LEAST(:most, "
    "GREATEST(0, floor(extract(epoch FROM :at - deadline.due_at) * 1000))) AS bigint) "
    "FROM claimed WHERE deadline.id = claimed.id "
    "RETURNING deadline.id, deadline.case_id, deadline.kind, deadline.key, deadline.due_at"
).bindparams(
    bindparam("now", type_=UTCDateTime),
    bindparam("at", type_=UTCDateTime),
    bindparam("most", type_=BigInteger),
)


_CANCEL_FIRED = text(
    "UPDATE deadline SET state = 'cancelled' WHERE id = ANY(CAST(:ids AS bigint[]))"
)


_MS = timedelta(milliseconds=1)


def lateness_ms(fired_at: datetime, due_at: datetime, most: int) -> int:
    """How late a deadline fired, in whole milliseconds (floored), between 0 and ``most``."""
    return min(most, max(0, (fired_at - due_at) // _MS))


async def claim_fired(
    session: AsyncSession, now: datetime, limit: int, at: datetime, most: int
) -> list[Due] | None:
    """On PostgreSQL, ``claim_due`` and ``mark_deadlines`` (all as fired at ``at``, lateness
    capped at ``most``) in one statement, in due order; None elsewhere (claim, then mark)."""
    if dialect_name(session) != "postgresql":
        return None
    conn = await session.connection()
    await conn.execute(text("SET LOCAL enable_bitmapscan = off"))  # see ``claim_due``
    rows = await conn.execute(_CLAIM_FIRED, {"now": now, "n": limit, "at": at, "most": most})
    return sorted((Due(*row) for row in rows), key=lambda d: (d.due_at, d.id))


async def cancel_fired(session: AsyncSession, ids: Sequence[int]) -> None:
    """Deadlines ``claim_fired`` marked fired that fired nothing: stale, so cancelled."""
    if not ids:
        return
    conn = await session.connection()
    await conn.execute(_CANCEL_FIRED, {"ids": list(ids)})


async def claim_ids(session: AsyncSession, ids: Sequence[int], states: Sequence[str]) -> list[Due]:
    """The deadlines ``ids`` still in one of ``states``, locked (a second engine skips them)."""
    table = Deadline.__table__  # type: ignore[attr-defined]
    stmt = (
        sa_select(table.c.id, table.c.case_id, table.c.kind, table.c.key, table.c.due_at)
        .where(table.c.id.in_(list(ids)), table.c.state.in_(list(states)))
        .order_by(table.c.due_at, table.c.id)
    )
    if dialect_name(session) == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    conn = await session.connection()
    return [Due(*row) for row in await conn.execute(stmt)]


async def failed_due(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    """Deadlines set aside whose retry time has come, oldest due first."""
    table = Deadline.__table__  # type: ignore[attr-defined]
    stmt = (
        sa_select(table.c.id)
        .where(table.c.state == literal_column("'failed'"), table.c.retry_at <= now)
        .order_by(table.c.due_at, table.c.id)
        .limit(limit)
    )
    conn = await session.connection()
    return [i for (i,) in await conn.execute(stmt)]


class Chores(NamedTuple):
    retry: bool  # a set-aside deadline's retry time has come
    digest: bool  # late notices await their digest


_CHORES = text(
    "SELECT EXISTS (SELECT 1 FROM deadline WHERE state = 'failed' AND retry_at <= :now), "
    "EXISTS (SELECT 1 FROM notification WHERE digest_pending)"
).bindparams(bindparam("now", type_=UTCDateTime))


async def chores(session: AsyncSession, now: datetime) -> Chores:
    """Two probes of small partial indexes, in one statement."""
    conn = await session.connection()
    retry, digest = (await conn.execute(_CHORES, {"now": now})).one()
    return Chores(bool(retry), bool(digest))


async def fail_deadline(session: AsyncSession, deadline_id: int, error: str) -> int | None:
    """Set a deadline aside with its error; returns its failed attempts so far (None: it was
    fired or cancelled meanwhile)."""
    table = Deadline.__table__  # type: ignore[attr-defined]
    stmt = (
        update(table)
        .where(table.c.id == deadline_id, table.c.state.in_(("pending", "failed")))
        .values(state="failed", attempts=table.c.attempts + 1, last_error=error)
        .returning(table.c.attempts)
    )
    conn = await session.connection()
    found = (await conn.execute(stmt)).scalar_one_or_none()
    return None if found is None else int(found)


async def retry_deadline_at(session: AsyncSession, deadline_id: int, at: datetime) -> None:
    table = Deadline.__table__  # type: ignore[attr-defined]
    conn = await session.connection()
    await conn.execute(update(table).where(table.c.id == deadline_id).values(retry_at=at))


_MARK = text(
    "UPDATE deadline SET state = m.state, fired_at = :at, lateness_ms = m.lateness "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:states AS text[]), CAST(:lateness AS bigint[])) "
    "AS m(id, state, lateness) WHERE deadline.id = m.id"
).bindparams(bindparam("at", type_=UTCDateTime))


async def mark_deadlines(
    session: AsyncSession, rows: Sequence[tuple[int, str, datetime, int]]
) -> None:
    """(id, state, fired_at, lateness_ms) for each claimed deadline: on PostgreSQL one
    statement per ``fired_at`` (a batch shares one) over arrays, elsewhere one executemany.
    An executemany runs the update once per row on the server; the arrays run it once."""
    if not rows:
        return
    if dialect_name(session) == "postgresql":
        by_time: dict[datetime, list[tuple[int, str, int]]] = {}
        for i, state, at, late in rows:
            by_time.setdefault(at, []).append((i, state, late))
        conn = await session.connection()
        for at, marks in by_time.items():
            await conn.execute(
                _MARK,
                {
                    "ids": [m[0] for m in marks],
                    "states": [m[1] for m in marks],
                    "lateness": [m[2] for m in marks],
                    "at": at,
                },
            )
        return
    table = Deadline.__table__  # type: ignore[attr-defined]
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            state=bindparam("b_state"),
            fired_at=bindparam("b_fired_at"),
            lateness_ms=bindparam("b_lateness"),
        )
    )
    conn = await session.connection()
    await conn.execute(
        stmt,
        [
            {"b_id": i, "b_state": state, "b_fired_at": at, "b_lateness": late}
            for i, state, at, late in rows
        ],
    )
