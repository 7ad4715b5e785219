"""Resident ID numbers (GB 11643-1999): check digit, birth date, sex."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from pingan.core.idnumber import check_char, make_id_number, parse_id_number

# The worked example of GB 11643-1999 Appendix A: 11010519491231002X.
STANDARD_EXAMPLE = "11010519491231002X"


def test_standard_example_is_valid_and_female():
    info = parse_id_number(STANDARD_EXAMPLE)
    assert info.number == STANDARD_EXAMPLE
    assert info.birth_date == date(1949, 12, 31)
    assert info.sex == "F"
    assert info.area_code == "110105"


def test_lower_case_x_and_spaces_are_normalised():
    assert parse_id_number(" 11010519491231002x ").number == STANDARD_EXAMPLE


def test_make_id_number_computes_the_check_digit():
    number = make_id_number("330881", date(1990, 1, 1), 123)
    assert number[:17] == "33088119900101123"
    assert number[17] == check_char(number[:17])
    info = parse_id_number(number)
    assert info.sex == "M"  # 17th digit 3 is odd
    assert info.birth_date == date(1990, 1, 1)
    assert check_char("11010519491231002") == "X"


def test_wrong_check_digit_is_refused():
    good = make_id_number("330881", date(1990, 1, 1), 123)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(ValidationError, match="身份证号码校验位错误"):
        parse_id_number(bad)


def test_impossible_birth_date_is_refused():
    first17 = "33088119900230123"  # 30 February
    with pytest.raises(ValidationError, match="出生日期无效"):
        parse_id_number(first17 + check_char(first17))


def test_future_birth_date_is_refused():
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError, match="晚于今天"):
        parse_id_number(make_id_number("330881", tomorrow, 1))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "18 位"),
        ("330881900101123", "15 位"),
        ("33088119900101123Y", "格式错误"),
        ("3308811990010112A4", "格式错误"),
        ("993881199001011234", "地区码"),
    ],
)
def test_malformed_numbers_are_refused(value, message):
    with pytest.raises(ValidationError, match=message):
        parse_id_number(value)
