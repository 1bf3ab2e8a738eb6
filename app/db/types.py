"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, SmallInteger, String
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


class Coded(TypeDecorator[str]):
    """A closed set of words stored as a ``smallint`` code on PostgreSQL (2 bytes, against
    5 to 10 as text: issue 24, storage per event), as the word itself on SQLite, whose rows
    are not where the storage goes. Python sees the word on both: binds and results are mapped
    here, so ORM and Core statements need no change; raw SQL on PostgreSQL must write the
    code (``CODES`` of the subclass). Today's codes number the words in alphabetical order,
    so ``ORDER BY``, ``min`` and ``max`` answer as they did on the words. Not the one-byte
    ``"char"``: PostgreSQL has no ``max("char")`` (it casts to text, and a pivot's comparison
    then no longer matches a ``"char"`` parameter) and asyncpg wants it as bytes."""

    impl = String(10)
    cache_ok = True
    CODES: ClassVar[dict[str, int]] = {}

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(SmallInteger())
        return dialect.type_descriptor(String(10))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name != "postgresql":
            return value
        return self.CODES[str(value)]

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name != "postgresql":
            return value
        return _WORDS[type(self)][value]

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        if value is None or dialect.name != "postgresql":
            return repr(value)
        return str(self.CODES[str(value)])

    @property
    def python_type(self) -> type[str]:
        return str


# Fixed codes, never renumbered (they are in the rows): a new word takes the next free one.
# Today's number the words in alphabetical order. "" is 0: a query may compare with ""
# (nullif), as it may on SQLite's text.
class CheckCode(Coded):
    cache_ok = True
    CODES: ClassVar[dict[str, int]] = {"": 0, "dismissal": 1, "morning": 2, "noon": 3}


class StatusCode(Coded):
    cache_ok = True
    CODES: ClassVar[dict[str, int]] = {"": 0, "absent": 1, "late": 2, "leave": 3, "present": 4}


class LeaveTypeCode(Coded):
    cache_ok = True
    CODES: ClassVar[dict[str, int]] = {"": 0, "other": 1, "personal": 2, "sick": 3}


class RecorderKindCode(Coded):
    cache_ok = True
    CODES: ClassVar[dict[str, int]] = {"": 0, "api_key": 1, "staff": 2}


_WORDS = {c: {v: k for k, v in c.CODES.items()} for c in Coded.__subclasses__()}
