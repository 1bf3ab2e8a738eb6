"""Rules about a student's identity that hold wherever the data comes from (API or import)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from app.domain.idcard import InvalidIdNumber, parse_id_number

# 学籍 status codes (JY/T 1001) the service sets: 在读, 休学, 复学, 转学(转出), 下落不明.
STUDYING, SUSPENDED, RESUMED, TRANSFERRED, MISSING = "01", "02", "05", "10", "15"
ENROLLMENT_STATUS_LABELS = {
    STUDYING: "在读",
    SUSPENDED: "休学",
    RESUMED: "复学",
    TRANSFERRED: "转学(转出)",
    MISSING: "下落不明",
}


class ChangeKind(StrEnum):
    transfer_out = "transfer_out"
    transfer_in = "transfer_in"
    left_without_transfer = "left_without_transfer"
    suspended = "suspended"
    resumed = "resumed"


CHANGE_KIND_LABELS: dict[ChangeKind, str] = {
    ChangeKind.transfer_out: "转出",
    ChangeKind.transfer_in: "转入",
    ChangeKind.left_without_transfer: "未办理转学手续离校",
    ChangeKind.suspended: "休学",
    ChangeKind.resumed: "复学",
}


GENDER_LABELS = {"male": "男", "female": "女"}
GENDER_FROM_LABEL = {"男": "male", "女": "female", "male": "male", "female": "female"}

SPECIAL_GROUPS = {
    "left_behind": "留守儿童",
    "disabled": "残疾儿童",
    "single_parent": "单亲家庭",
    "orphan": "孤儿",
    "poverty": "家庭经济困难",
}


@dataclass(frozen=True, slots=True)
class Identity:
    gender: str
    birth_date: date
    id_number: str | None


def reconcile_identity(
    id_number: str | None, gender: str | None, birth_date: date | None
) -> Identity:
    """Fill gender and birth date from the ID number, or check they agree with it.

    Raises ``InvalidIdNumber`` with ``args[1]`` naming the field at fault.
    """
    if id_number is None:
        if gender is None or birth_date is None:
            raise InvalidIdNumber(
                "无身份证号时须填写性别和出生日期 (gender and birth date are required "
                "without an ID number)",
                "gender" if gender is None else "birth_date",
            )
        return Identity(gender, birth_date, None)
    parsed = parse_id_number(id_number)
    if birth_date is not None and birth_date != parsed.birth_date:
        raise InvalidIdNumber(
            f"出生日期与身份证号不符,身份证号为 {parsed.birth_date.isoformat()} "
            "(birth date disagrees with the ID number)",
            "birth_date",
        )
    if gender is not None and gender != parsed.gender:
        raise InvalidIdNumber(
            f"性别与身份证号不符,身份证号为{GENDER_LABELS[parsed.gender]} "
            "(gender disagrees with the ID number)",
            "gender",
        )
    return Identity(parsed.gender, parsed.birth_date, parsed.value)


def suspension_last_day(end_date: date, ended_on: date | None) -> date:
    """The last day a student is suspended: a suspension ended early covers up to the day
    before it was ended, never past its approved end date."""
    if ended_on is None:
        return end_date
    return min(end_date, ended_on - timedelta(days=1))


@dataclass(frozen=True, slots=True)
class StudentBrief:
    """What the roll needs of a student on every request (kept in the reference cache)."""

    id: int
    name: str
    school_id: int
    class_id: int
    active: bool
    home_schooled: bool
