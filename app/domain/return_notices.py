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


def notice_status_label(status: NoticeStatus, delivered: bool) -> str:
    """An issued notice reads 已发出 until the school records its delivery (送达), then
    已送达: "delivered" is a fact someone records, not what creating the notice implies."""
    if status is NoticeStatus.issued and delivered:
        return DELIVERED_LABEL
    return NOTICE_STATUS_LABELS[status]
