"""The case hints: what the statement recording a roll also finds out for the alert engine.

The intake records a roll in one statement (``app/attendance/repository.py``), and the engine,
reacting in the same transaction, would otherwise ask in statements of its own whether these
students have a case open, an alert counting the day, leave, a 休学, a policy. The questions
are about the engine's tables (``absence_case``, ``alert``, ``alert_policy``) and the tables it
reads to judge (``leave_request``, ``suspension``, ``school``), so they are written here, where
those tables are known, and the intake only places them: the select list after the event's
own columns and, for a roll with someone absent, a join after ``FROM ins i``.

The fragments read the inserted events as ``i`` (``student_id``, ``school_id``, ``status`` as
its code, ``school_date``); the hints are built from the result's rows (``present_hints``,
``absent_hints``), whose first columns are the intake's.
Which tables each feature's raw SQL may name: ``SQL_MAY_ALSO_NAME`` in tests/test_architecture.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.db.types import StatusCode

# On PostgreSQL the status is a smallint code (app.db.types.Coded): compared with ABSENT.
ABSENT = StatusCode.CODES["absent"]

# A mark that is not an absence, on a day an alert still standing counted: a correction
# the engine must look at even when the student's case is closed. One index probe per event
# (``alert.student_id``), nothing found for nearly every student.
_CORRECTS = f"""i.status <> {ABSENT} AND EXISTS (
  SELECT 1 FROM alert a WHERE a.student_id = i.student_id AND a.status <> 'withdrawn'
    AND CAST(a.days AS JSONB) @> jsonb_build_array(to_char(i.school_date, 'YYYY-MM-DD'))
) AS corrects"""

# A roll with nobody absent: who has a case open, and the corrections.
PRESENT_COLUMNS = (
    """EXISTS (
  SELECT 1 FROM absence_case c WHERE c.student_id = i.student_id AND c.status <> 'closed'
) AS open_case, """
    + _CORRECTS
)

# A roll with someone absent: every hint. ``open_case`` comes from ABSENT_JOIN (``c``).
ABSENT_COLUMNS = (
    f"""c.open_case,
  i.status = {ABSENT} AND EXISTS (
    SELECT 1 FROM absence_case r WHERE r.student_id = i.student_id AND r.status = 'closed'
      AND r.close_reason = 'reenrolled'
  ) AS reenrolled,
  (i.status = {ABSENT} OR c.open_case) AND (
    EXISTS (SELECT 1 FROM leave_request l WHERE l.student_id = i.student_id)
    OR EXISTS (SELECT 1 FROM suspension s WHERE s.student_id = i.student_id)
  ) AS leave,
  i.status = {ABSENT} AND EXISTS (
    SELECT 1 FROM school s JOIN alert_policy p
      ON p.scope_key IN ('county:' || s.county_id, 'school:' || s.id)
    WHERE s.id = i.school_id
  ) AS policy, """
    + _CORRECTS
)
ABSENT_JOIN = """CROSS JOIN LATERAL (
  SELECT EXISTS (
    SELECT 1 FROM absence_case o WHERE o.student_id = i.student_id AND o.status <> 'closed'
  ) AS open_case
) c
"""


@dataclass(frozen=True, slots=True)
class CaseHints:
    """What the statement that recorded a roll also found out about the students of the events
    it inserted, so that the alert engine, reacting in the same transaction, skips lookups that
    would find nothing: a roll with nobody absent and no case open costs it no statement at
    all, and a first absence no lookup of cases, leave or policy. The engine still looks up,
    for the students (or schools) named here, what it would have looked up for all."""

    # Students who have a case open.
    open_cases: set[int]
    # Absent students who have a case closed as re-enrolled (复学): the only cases an absence
    # may reopen.
    reenrolled: set[int]
    # Absent students and students with a case open who have any leave request or suspension:
    # the only ones who may have approved leave or a 休学 explaining a day. None: not found
    # out (a roll with nobody absent), every student concerned is looked up.
    leave: set[int] | None
    # Schools of absent students for which an alert policy is set (their own or their
    # county's); any other school's new cases take the default policy.
    policy_schools: set[int]
    # Students not marked absent whose changed day is a day of an alert still standing: a
    # correction that may take a (closed) case's alert away.
    corrected: set[int] = field(default_factory=set)


# The hints are read by position, not by label (reading a Row by attribute took 8 to 26 times
# as long as by index for a 50-row batch, and this runs for every class batch): the intake selects
# ``event_id``, ``student_id`` and (with someone absent) ``school_id``, then these columns.


def present_hints(rows: Sequence[Any]) -> CaseHints:
    """Rows: ``event_id``, ``student_id``, then PRESENT_COLUMNS (``open_case``, ``corrects``)."""
    return CaseHints({r[1] for r in rows if r[2]}, set(), None, set(), {r[1] for r in rows if r[3]})


def absent_hints(rows: Sequence[Any]) -> CaseHints:
    """Rows: ``event_id``, ``student_id``, ``school_id``, then ABSENT_COLUMNS (``open_case``,
    ``reenrolled``, ``leave``, ``policy``, ``corrects``)."""
    return CaseHints(
        open_cases={r[1] for r in rows if r[3]},
        reenrolled={r[1] for r in rows if r[4]},
        leave={r[1] for r in rows if r[5]},
        policy_schools={r[2] for r in rows if r[6]},
        corrected={r[1] for r in rows if r[7]},
    )
