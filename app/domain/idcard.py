"""Chinese resident ID numbers (GB 11643-1999) and 学籍号 (national student number).

An ID number is 17 digits and a check character: the ISO 7064 MOD 11-2 checksum of the first
17 digits, written ``0``–``9`` or ``X``. Digits 7–14 are the birth date; the 17th digit is odd
for males. A 学籍号 is ``G`` followed by the ID number, or ``L``/``J`` followed by 18
characters for a temporary number assigned to a child without a usable ID number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_STUDENT_NO_SHAPE = re.compile(r"^(G\d{17}[\dX]|[LJ][0-9A-Z]{18})$")


class InvalidIdNumber(ValueError):
    """The reason is in Chinese first, as staff read it, then in English."""


@dataclass(frozen=True, slots=True)
class IdNumber:
    value: str
    birth_date: date
    gender: str  # "male" | "female"

    @property
    def masked(self) -> str:
        """Shown to staff: region kept for context, birth date and sequence hidden."""
        return f"{self.value[:6]}********{self.value[-4:]}"


def check_character(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def parse_id_number(raw: str) -> IdNumber:
    value = raw.strip().upper()
    if not _ID_SHAPE.match(value):
        raise InvalidIdNumber(
            "身份证号应为18位:17位数字加1位校验码 (18 characters: 17 digits + check)"
        )
    expected = check_character(value[:17])
    if value[17] != expected:
        raise InvalidIdNumber(
            f"身份证号校验码错误,应为 {expected} (wrong check character: expected {expected})"
        )
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise InvalidIdNumber("身份证号中的出生日期无效 (invalid birth date in ID number)") from exc
    gender = "male" if int(value[16]) % 2 == 1 else "female"
    return IdNumber(value=value, birth_date=born, gender=gender)


def normalize_student_no(raw: str) -> str:
    value = raw.strip().upper()
    if not _STUDENT_NO_SHAPE.match(value):
        raise InvalidIdNumber(
            "学籍号应为 G+18位身份证号,或 L/J+18位临时号 (G + ID number, or L/J + 18 characters)"
        )
    if value[0] == "G":
        parse_id_number(value[1:])
    return value


def mask_student_no(value: str) -> str:
    """A 学籍号 shown like the ID number it contains: ``G530122********1234`` (the prefix
    letter and region kept, birth date and sequence hidden); any other shape keeps only its
    first and last characters' context the same way."""
    if len(value) >= 12:
        return f"{value[:7]}{'*' * (len(value) - 11)}{value[-4:]}"
    return "*" * len(value)


def mask_mobile(value: str) -> str:
    """``138****1234``: enough to recognise a number, not to dial it."""
    if len(value) >= 7:
        return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"
    return "*" * len(value)
