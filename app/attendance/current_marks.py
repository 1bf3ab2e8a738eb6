"""The current marks, derived from the events (migration 0035: they are no longer stored).

A mark, the current answer for one (student, date, check), is the event with the latest
``occurred_at`` for it, ties to the larger ``event_id`` (app.domain.attendance.supersedes): so
arrival order never changes the final state. ``current_marks`` ranks the events per check and
keeps the first of each.

The filters go in as arguments, on ``AttendanceEvent``'s columns, and sit inside the ranking:
a filter on student or date keeps or drops whole groups (each group is one student, one date,
one check), so filtering before ranking gives the same marks — and lets PostgreSQL prune the
months' partitions and go by ``ix_attendance_event_student_day``, which it cannot do through a
ranked subquery filtered outside. Only student and date: one group may hold events recorded
in two classes or schools (a pupil moved during the day), so a class or school filter, like
one on status or time, would rank a part of a group and could make a superseded event the
mark; filter those on the result.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Subquery, func, select
from sqlmodel import col

from app.db.models import AttendanceEvent

MARK_COLUMNS = (
    "student_id",
    "school_date",
    "check",
    "school_id",
    "class_id",
    "status",
    "leave_type",
    "occurred_at",
    "event_id",
)


def current_marks(*where: Any) -> Subquery:
    """The marks of the events matching ``where`` (clauses on AttendanceEvent's student,
    class or date), as a subquery with the columns a stored mark had."""
    e = AttendanceEvent
    rank = func.row_number().over(
        partition_by=(col(e.student_id), col(e.school_date), col(e.check)),
        order_by=(col(e.occurred_at).desc(), col(e.event_id).desc()),
    )
    ranked = (
        select(*(col(getattr(e, c)) for c in MARK_COLUMNS), rank.label("rank"))
        .where(*where)
        .subquery("ranked")
    )
    return select(*(ranked.c[c] for c in MARK_COLUMNS)).where(ranked.c.rank == 1).subquery("mark")
