"""The case timeline's one writer: the engine, casework and return notices all shape their
entries with ``entry`` and insert them with ``write``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.bulk import insert_many
from app.db.models import CaseEvent
from app.domain.cases import TimelineKind
from app.domain.delivery import CASE_EVENTS

TEXT_MAX = 500  # the column's width


def entry(
    case_id: int, kind: TimelineKind, text: str, at: datetime, actor: str | None
) -> dict[str, Any]:
    name = str(kind)
    return {
        "case_id": case_id,
        "at": at,
        "kind": name,
        "text": text[:TEXT_MAX],
        "actor": actor,
        # Only the case-level events reach county webhooks: the others are born dispatched,
        # so the delivery worker neither reads nor rewrites them.
        "dispatched_at": None if name in CASE_EVENTS else at,
    }


async def write(session: AsyncSession, entries: Sequence[dict[str, Any]]) -> None:
    """Entries, in order, in one statement (the engine gathers a transaction's entries)."""
    if not entries:
        return
    conn = await session.connection()
    await insert_many(conn, CaseEvent.__table__, entries)  # type: ignore[attr-defined]
