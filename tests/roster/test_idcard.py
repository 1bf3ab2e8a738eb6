from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.idcard import (
    InvalidIdNumber,
    check_character,
    normalize_student_no,
    parse_id_number,
)
from app.domain.students import reconcile_identity


def test_a_published_example_number() -> None:
    # GB 11643's worked example: 11010519491231002 → check character X.
    parsed = parse_id_number("11010519491231002x")
    assert parsed.value == "11010519491231002X"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.gender == "female"
    assert parsed.masked == "110105********002X"


@given(st.text(alphabet="0123456789", min_size=17, max_size=17), st.integers(0, 16))
def test_changing_any_one_digit_breaks_the_check(first17: str, pos: int) -> None:
    number = first17 + check_character(first17)
    changed = str((int(number[pos]) + 1) % 10)
    tampered = number[:pos] + changed + number[pos + 1 :]
    with pytest.raises(InvalidIdNumber):
        parse_id_number(tampered)


def test_wrong_check_character_names_the_expected_one() -> None:
    with pytest.raises(InvalidIdNumber, match="应为 X"):
        parse_id_number("110105194912310021")


@pytest.mark.parametrize("raw", ["", "12345", "11010519491331002X", "1101051949123100 2"])
def test_malformed_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidIdNumber):
        parse_id_number(raw)


def test_student_numbers() -> None:
    assert normalize_student_no(" g11010519491231002x ") == "G11010519491231002X"
    assert normalize_student_no("L12345678901234567X") == "L12345678901234567X"
    with pytest.raises(InvalidIdNumber):
        normalize_student_no("G110105194912310021")  # G + an ID number with a bad check
    with pytest.raises(InvalidIdNumber):
        normalize_student_no("X11010519491231002X")


def test_identity_comes_from_the_id_number_and_must_agree() -> None:
    ident = reconcile_identity("11010519491231002X", None, None)
    assert (ident.gender, ident.birth_date) == ("female", date(1949, 12, 31))
    with pytest.raises(InvalidIdNumber) as err:
        reconcile_identity("11010519491231002X", "male", None)
    assert err.value.args[1] == "gender"
