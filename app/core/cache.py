"""Per-process caches of reference data the intake path reads on every request: who an API key
or token is, schools with their calendars, students' school and class, and a county's illness
cluster rules.

Staleness is bounded two ways: a write committed in this process clears the affected group at
once (the unit of work reports which tables it changed), and entries written by other
processes are picked up when their time-to-live runs out (``KCBX_REFERENCE_CACHE_SECONDS``,
``KCBX_ACTOR_CACHE_SECONDS``; 0 turns a cache off). Only found objects are cached, so a
student created elsewhere a moment ago is never reported unknown.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, Hashable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from app.domain.students import StudentBrief

if TYPE_CHECKING:
    from app.domain.access import Actor
    from app.domain.illness import Rule
    from app.domain.schools import SchoolRef

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """``pack``/``unpack``: how a value is kept, when it can be kept as a tuple of plain values
    (numbers, strings): the garbage collector stops tracking such tuples, so a county's worth of
    students does not lengthen every full collection of the process."""

    def __init__(
        self,
        ttl: float,
        maxsize: int = 200_000,
        pack: Callable[[V], Any] | None = None,
        unpack: Callable[[Any], V] | None = None,
    ) -> None:
        self.ttl = ttl
        self.maxsize = maxsize
        self._pack = pack
        self._unpack = unpack
        self._data: dict[K, tuple[float, Any]] = {}

    def get(self, key: K) -> V | None:
        if self.ttl <= 0:
            return None
        hit = self._data.get(key)
        if hit is None:
            return None
        if hit[0] < time.monotonic():
            del self._data[key]
            return None
        return hit[1] if self._unpack is None else self._unpack(hit[1])

    def put(self, key: K, value: V) -> None:
        if self.ttl <= 0:
            return
        if len(self._data) >= self.maxsize:
            self._data.clear()  # crude, but bounded; reference data refills in one query
        kept = value if self._pack is None else self._pack(value)
        self._data[key] = (time.monotonic() + self.ttl, kept)

    async def get_many(
        self, keys: Collection[K], load: Callable[[set[K]], Awaitable[dict[K, V]]]
    ) -> dict[K, V]:
        found: dict[K, V] = {}
        missing: set[K] = set()
        for k in keys:
            v = self.get(k)
            if v is None:
                missing.add(k)
            else:
                found[k] = v
        if missing:
            loaded = await load(missing)
            for k, v in loaded.items():
                self.put(k, v)
            found.update(loaded)
        return found

    def clear(self) -> None:
        self._data.clear()


_GROUPS = {
    "actors": {"staff", "staff_role", "api_key", "school", "county"},
    "schools": {"school", "term", "term_break", "calendar_override", "national_year"},
    "students": {"student", "school_class"},
    "illness_rules": {"illness_rule"},
}


def _student_fields(s: StudentBrief) -> tuple[int, str, int, int, bool, bool]:
    return (s.id, s.name, s.school_id, s.class_id, s.active, s.home_schooled)


def _student(fields: tuple[int, str, int, int, bool, bool]) -> StudentBrief:
    return StudentBrief(*fields)


class ReferenceCache:
    def __init__(self, reference_ttl: float, actor_ttl: float) -> None:
        self.actors: TTLCache[tuple[str, str], Actor] = TTLCache(actor_ttl)
        self.schools: TTLCache[int, SchoolRef] = TTLCache(reference_ttl)
        self.students: TTLCache[int, StudentBrief] = TTLCache(
            reference_ttl,
            pack=_student_fields,
            unpack=_student,
        )
        # A county's cluster rules (its rows over the defaults), read by every sick batch.
        self.illness_rules: TTLCache[int, tuple[Rule, ...]] = TTLCache(reference_ttl)

    def tables_changed(self, tables: Collection[str]) -> None:
        """Called after a commit that changed these tables."""
        for group, watched in _GROUPS.items():
            if watched.intersection(tables):
                getattr(self, group).clear()

    def clear(self) -> None:
        self.tables_changed({t for watched in _GROUPS.values() for t in watched})
