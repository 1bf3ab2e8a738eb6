"""离校未归: a child seen at school and then missing at a later check of the same day.

A noon (午检) or dismissal (放学前) absence after an attended check is a different obligation
from a day absence: the day itself stays ``present`` or ``late`` (``day_status``), so it never
enters the consecutive-day run, but the guardian is phoned within the hour all the same.

``left_during_day`` decides, from one day's marks, at which check the child went missing
(``None``: not missing). The rules (decisions, also in the README):

* the child must have been *seen* (``present`` or ``late``) at an earlier check that day —
  usually 晨检, but a child who came late at 午检 and is gone at 放学前 left during the day too;
* an ``absent`` mark after that, with no later check finding the child again, is the check
  that found them missing (a later ``present`` resolves it: the child was found);
* a ``leave`` mark at any check, approved leave covering the day, or 送教上门 explains it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from app.domain.attendance import CHECK_ORDER, Check, Mark

LEFT_SCHOOL_LABEL = "离校未归"


class LeftSchoolStatus:
    raised = "raised"  # 待联系
    contacted = "contacted"  # 已联系家长
    withdrawn = "withdrawn"  # 已撤回: found present, explained, or corrected


LEFT_SCHOOL_STATUS_LABELS = {
    LeftSchoolStatus.raised: "待联系家长",
    LeftSchoolStatus.contacted: "已联系家长",
    LeftSchoolStatus.withdrawn: "已撤回",
}


def left_during_day(
    marks: Mapping[Check, Mark], *, on_approved_leave: bool, home_schooled: bool
) -> Check | None:
    if home_schooled or on_approved_leave or Mark.leave in marks.values():
        return None
    seen = False
    missing: Check | None = None
    for check in CHECK_ORDER:
        mark = marks.get(check)
        if mark in (Mark.present, Mark.late):
            seen, missing = True, None
        elif mark is Mark.absent and seen and missing is None:
            missing = check
    return missing


def contact_due(found_at: datetime, contact_minutes: int) -> datetime:
    """The guardian is phoned within ``contact_minutes`` of the check that found the child
    missing (the case's rule for a morning absence)."""
    return found_at + timedelta(minutes=contact_minutes)
