"""The bare baseline: FastAPI + asyncpg inserting the same rows into a table of the same shape,
with nothing else (no auth, no validation beyond JSON, no idempotency, no marks)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

import asyncpg
from fastapi import FastAPI, Request

DSN = os.environ["BARE_DSN"]
_INSERT = (
    "INSERT INTO bare_event (event_id, student_id, school_date, check_name, status, occurred_at)"
    " VALUES ($1, $2, $3, $4, $5, $6)"
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(DSN, min_size=4, max_size=10)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


def _row(e: dict[str, Any]) -> tuple[Any, ...]:
    return (
        e["event_id"],
        e["student_id"],
        date.fromisoformat(e["school_date"]),
        e["check"],
        e["status"],
        datetime.fromisoformat(e["occurred_at"]),
    )


@app.post("/events")
async def events(request: Request) -> dict[str, int]:
    body = await request.json()
    items = body["events"] if isinstance(body, dict) and "events" in body else body
    items = items if isinstance(items, list) else [items]
    async with app.state.pool.acquire() as conn, conn.transaction():
        await conn.executemany(_INSERT, [_row(e) for e in items])
    return {"accepted": len(items)}
