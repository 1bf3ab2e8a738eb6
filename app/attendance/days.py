"""Day statuses of students over days, from their marks and approved leave (the rules are
in ``app.domain.attendance.day_status``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from app.attendance.marks_repo import MarkRow
from app.attendance.schemas import CheckMarkOut
from app.domain.attendance import CHECK_ORDER, Check, DayStatus, LeaveType, Mark, day_status
from app.domain.students import StudentBrief


@dataclass(frozen=True, slots=True)
class DayFacts:
    status: DayStatus
    checks: dict[Check, CheckMarkOut]


def derive_days(
    students: Iterable[StudentBrief],
    marks: Iterable[MarkRow],
    leave: dict[int, set[date]],
    days: Iterable[date],
) -> dict[tuple[int, date], DayFacts]:
    by_key: dict[tuple[int, date], dict[Check, CheckMarkOut]] = defaultdict(dict)
    for m in marks:
        by_key[(m.student_id, m.school_date)][Check(m.check)] = CheckMarkOut(
            status=Mark(m.status),
            leave_type=LeaveType(m.leave_type) if m.leave_type else None,
            occurred_at=m.occurred_at,
        )
    out: dict[tuple[int, date], DayFacts] = {}
    day_list = list(days)
    for s in students:
        for d in day_list:
            checks = by_key.get((s.id, d), {})
            status = day_status(
                {c: v.status for c, v in checks.items()},
                on_approved_leave=d in leave.get(s.id, set()),
                home_schooled=s.home_schooled,
            )
            out[(s.id, d)] = DayFacts(status, dict(sorted(checks.items(), key=_check_order)))
    return out


def _check_order(item: tuple[Check, object]) -> int:
    return CHECK_ORDER.index(item[0])
