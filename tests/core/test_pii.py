"""Phone normalisation and the masks shown by default (DOMAIN §11)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from pingan.core.pii import format_phone, mask_address, mask_id, mask_name, mask_phone, normalize_phone


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("+86 138-1234-5678", "+8613812345678"),
        ("0570-1234567", "+865701234567"),
        ("021-62345678", "+862162345678"),
    ],
)
def test_normalize_phone_returns_e164(raw, e164):
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize("raw", ["12345", "1234567", "abc", "057012345678", "23812345678"])
def test_invalid_phones_are_refused(raw):
    with pytest.raises(ValidationError, match="手机号码无效"):
        normalize_phone(raw)


def test_format_phone_national():
    assert format_phone("+8613812345678") == "13812345678"
    assert format_phone("+865701234567") == "0570-1234567"
    assert format_phone("+862162345678") == "021-62345678"
    assert format_phone("") == ""


def test_masks():
    assert mask_id("330881199001011234") == "3308**********1234"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+8613812345678") == "138****5678"
    assert mask_phone("+865701234567") == "0570-***4567"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_address("江山市虎山街道鹿溪南路12号") == "江山市虎山街****"
    assert mask_address("江山市") == "江****"


def test_masks_of_empty_values_are_empty():
    assert mask_id("") == mask_phone("") == mask_name("") == mask_address("") == ""
