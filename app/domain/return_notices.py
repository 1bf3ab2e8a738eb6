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
    NoticeStatus.issued: "已发出",
    NoticeStatus.complied: "已返校",
    NoticeStatus.escalated: "已报告乡镇",
    NoticeStatus.struck_off: "已销号",
}

DELIVERED_LABEL = "已送达"

# A notice in force: the guardian has been told to bring the child back and nothing has
# resolved it yet.
IN_FORCE = (NoticeStatus.issued.value, NoticeStatus.escalated.value)


def struck_off_text(number: str, reason: str) -> str:
    """The timeline entry of a 销号, by hand or by a transfer (the case machine's effect)."""
    return f"返校通知书 {number} 销号:{reason}"


def notice_status_label(status: NoticeStatus, delivered: bool) -> str:
    """An issued notice reads 已发出 until the school records its delivery (送达), then
    已送达: "delivered" is a fact someone records, not what creating the notice implies."""
    if status is NoticeStatus.issued and delivered:
        return DELIVERED_LABEL
    return NOTICE_STATUS_LABELS[status]
