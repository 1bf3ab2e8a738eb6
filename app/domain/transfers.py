"""The steps of a transfer (转学): applied, signed by the head teacher, signed by the receiving
school, then approved or rejected; and whether a suspension (休学) is still running."""

from __future__ import annotations

from enum import StrEnum


class TransferStatus(StrEnum):
    applied = "applied"
    head_teacher_signed = "head_teacher_signed"
    receiving_signed = "receiving_signed"
    approved = "approved"
    rejected = "rejected"


TRANSFER_STATUS_LABELS: dict[TransferStatus, str] = {
    TransferStatus.applied: "已申请",
    TransferStatus.head_teacher_signed: "班主任已签字",
    TransferStatus.receiving_signed: "接收学校已签字",
    TransferStatus.approved: "已批准",
    TransferStatus.rejected: "未批准",
}


class SuspensionStatus(StrEnum):
    active = "active"
    ended = "ended"
