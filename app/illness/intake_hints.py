"""The illness hint the statement recording a roll also finds out (issue 21): which of its
students have an illness record the illness hook (``app.illness.roll``) may close or extend:
one not closed by a return, or one that ran within the 31 days it looks back. A batch in which
no student has one costs the hook no read.

Written here, where ``illness_record`` is known; the intake (``app/attendance/repository.py``)
places the column after the case hints, reading the inserted events as ``i``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

COLUMN = """, EXISTS (
  SELECT 1 FROM illness_record r WHERE r.student_id = i.student_id
    AND (r.returned_on IS NULL OR r.last_day >= i.school_date - 31)
) AS illness"""


def with_records(rows: Sequence[Any]) -> set[int]:
    """The students with such a record, of the intake's rows: ``student_id`` second, COLUMN
    last (read by position: a Row's attribute is several times slower than its index)."""
    return {r[1] for r in rows if r[-1]}
