"""Which students a request's answer concerned, for the access log (app/access_logs/middleware.py).

The access-log middleware opens a collection for each logged read (``collecting``); every
answer shape that names a student (any ``Schema`` with a ``student_id`` field: cases,
alerts, leaves, transfers, ledger and report rows…) notes it when it is built, and code that
renders a document without such a shape calls ``note``. Outside a logged read nothing is
collected, and the cost is one context-variable lookup per object built.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# Bounded so a county-wide export cannot grow one request's set without limit; the access
# log says so (``students_truncated``) when the cap is reached.
MAX_STUDENTS = 20_000

_seen: ContextVar[set[int] | None] = ContextVar("kcbx_read_students", default=None)


@contextmanager
def collecting() -> Iterator[set[int]]:
    found: set[int] = set()
    token = _seen.set(found)
    try:
        yield found
    finally:
        _seen.reset(token)


def note(student_ids: Iterable[int | None]) -> None:
    found = _seen.get()
    if found is None:
        return
    for sid in student_ids:
        if sid is not None and len(found) < MAX_STUDENTS:
            found.add(sid)


def note_one(student_id: int | None) -> None:
    found = _seen.get()
    if found is not None and student_id is not None and len(found) < MAX_STUDENTS:
        found.add(student_id)
