"""一日三查: the three roll checks, what each can record, and the day status derived from them.

Day status rules (also in the README):

1. a 送教上门 student (taught at home) is ``present``: never absent;
2. present at 晨检 → ``present``; ``late`` at 晨检 → ``late``;
3. absent (or on leave) at 晨检 but present or late at a later check → ``late``
   (a late arrival, not an absence); not recorded at 晨检 but present later → ``present``;
4. otherwise, a ``leave`` mark at any check, or approved leave covering the date → ``leave``
   (explained);
5. otherwise, ``absent`` at any check → ``absent`` (unexplained: this is what raises alerts);
6. otherwise ``not_recorded``.

A correction is simply a later observation: for one (student, date, check) the mark with the
latest ``occurred_at`` wins, ties broken by the larger ``event_id``. That order depends only on
the events themselves, so any arrival order gives the same final state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum


class Check(StrEnum):
    morning = "morning"  # 晨检
    noon = "noon"  # 午检
    dismissal = "dismissal"  # 放学前


CHECK_LABELS = {Check.morning: "晨检", Check.noon: "午检", Check.dismissal: "放学前"}
CHECK_ORDER = (Check.morning, Check.noon, Check.dismissal)


class Mark(StrEnum):
    present = "present"
    late = "late"
    absent = "absent"
    leave = "leave"


class LeaveType(StrEnum):
    sick = "sick"  # 病假
    personal = "personal"  # 事假
    other = "other"


class LeaveStatus(StrEnum):
    pending = "pending"  # 待审批
    approved = "approved"  # 已批准
    rejected = "rejected"  # 已驳回
    cancelled = "cancelled"  # 已撤销


LEAVE_STATUS_LABELS: dict[LeaveStatus, str] = {
    LeaveStatus.pending: "待审批",
    LeaveStatus.approved: "已批准",
    LeaveStatus.rejected: "已驳回",
    LeaveStatus.cancelled: "已撤销",
}


class Symptom(StrEnum):
    """因病缺勤 symptoms (WS/T 772-2020)."""

    fever = "fever"  # 发热
    cough = "cough"  # 咳嗽
    sore_throat = "sore_throat"  # 咽痛
    rash = "rash"  # 皮疹
    diarrhoea = "diarrhoea"  # 腹泻
    vomiting = "vomiting"  # 呕吐
    headache = "headache"  # 头痛
    other = "other"
    # The rest of the WS/T 772-2020 list (issue 21).
    parotid_swelling = "parotid_swelling"  # 腮腺肿大
    abdominal_pain = "abdominal_pain"  # 腹痛
    dizziness = "dizziness"  # 头晕
    fatigue = "fatigue"  # 乏力
    conjunctival_congestion = "conjunctival_congestion"  # 结膜充血
    # The severe signs one child alone is reported for (学校和托幼机构传染病疫情报告工作规范
    # 2006: 不明原因的高热、呼吸困难或剧烈呕吐、腹泻).
    high_fever = "high_fever"  # 高热
    breathing_difficulty = "breathing_difficulty"  # 呼吸困难
    severe_vomiting_diarrhoea = "severe_vomiting_diarrhoea"  # 剧烈呕吐/腹泻


class DayStatus(StrEnum):
    present = "present"  # 正常到校
    late = "late"  # 迟到
    leave = "leave"  # 请假
    absent = "absent"  # 缺勤(未说明原因)
    not_recorded = "not_recorded"  # 未点名


DAY_STATUS_LABELS = {
    DayStatus.present: "正常到校",
    DayStatus.late: "迟到",
    DayStatus.leave: "请假",
    DayStatus.absent: "缺勤",
    DayStatus.not_recorded: "未点名",
}

_ATTENDED = (Mark.present, Mark.late)


def day_status(
    marks: Mapping[Check, Mark], *, on_approved_leave: bool, home_schooled: bool
) -> DayStatus:
    if home_schooled:
        return DayStatus.present
    morning = marks.get(Check.morning)
    later = [marks[c] for c in (Check.noon, Check.dismissal) if c in marks]
    if morning is Mark.present:
        return DayStatus.present
    if morning is Mark.late:
        return DayStatus.late
    if any(m in _ATTENDED for m in later):
        return DayStatus.present if morning is None else DayStatus.late
    if on_approved_leave or Mark.leave in marks.values():
        return DayStatus.leave
    if Mark.absent in marks.values():
        return DayStatus.absent
    return DayStatus.not_recorded


def supersedes(new: tuple[datetime, str], old: tuple[datetime, str]) -> bool:
    """Whether observation ``new`` (occurred_at, event_id) replaces ``old``."""
    return new > old


def fingerprint(
    *,
    student_id: int,
    school_date: date,
    check: Check,
    status: Mark,
    leave_type: LeaveType | None,
    occurred_at: datetime,
    note: str | None,
) -> bytes:
    """What makes two submissions of one ``event_id`` 'the same content': the first 16 bytes
    of the SHA-256 of its fields. Only two contents sent with one event id are ever compared,
    so 128 bits leave a clash at 2^-128 (a second preimage, not a birthday bound); stored as
    16 bytes rather than 64 hex characters (issue 24: storage per event)."""
    canonical = "\x1f".join(
        (
            str(student_id),
            school_date.isoformat(),
            check.value,
            status.value,
            leave_type.value if leave_type else "",
            repr(occurred_at.timestamp()),
            note or "",
        )
    )
    return hashlib.sha256(canonical.encode()).digest()[:16]
