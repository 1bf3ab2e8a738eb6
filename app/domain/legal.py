"""The return notice's (辍学生返校通知书) life: issued to the guardian, then complied (the student
is back), escalated (reported to the township) or struck off (销号)."""

from __future__ import annotations

from enum import StrEnum


class NoticeStatus(StrEnum):
    issued = "issued"
    complied = "complied"
    escalated = "escalated"
    struck_off = "struck_off"


NOTICE_STATUS_LABELS: dict[NoticeStatus, str] = {
    NoticeStatus.issued: "已送达",
    NoticeStatus.complied: "已返校",
    NoticeStatus.escalated: "已报告乡镇",
    NoticeStatus.struck_off: "已销号",
}
