"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores an aware datetime as UTC; always returns it aware, in UTC.

    SQLite has no timezone type, so naive values in the database are UTC by convention.
    A naive value handed in is a programming error: refusing it keeps local times out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware datetime (UTC is stored)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# A client's event id (a UUID, always its canonical lower-case text in Python): PostgreSQL's
# native ``uuid`` (16 bytes, against 37 as text, in the row and in every index on it); text on
# SQLite. Both order as the canonical text orders (bytes in order), which the marks' tie-break
# relies on.
EVENT_ID = String(36).with_variant(postgresql.UUID(as_uuid=False), "postgresql")
