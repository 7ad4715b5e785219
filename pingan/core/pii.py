"""Personal-data helpers (DOMAIN §11): phone normalisation and the masks shown by default.

Masks follow common practice for Chinese government systems: an ID number keeps its first
four and last four characters, a mobile its first three and last four digits, a name its
surname character, an address its first six characters.
"""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

REGION = "CN"


def _parse_phone(value: str) -> phonenumbers.PhoneNumber:
    text = str(value or "").strip()
    try:
        number = phonenumbers.parse(text, REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(_("手机号码无效（固定电话请带区号）"), code="phone_invalid") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("手机号码无效（固定电话请带区号）"), code="phone_invalid")
    return number


def normalize_phone(value: str) -> str:
    """A mobile or a landline with area code → E.164 ("+8613812345678"); ValidationError if invalid."""
    return phonenumbers.format_number(_parse_phone(value), phonenumbers.PhoneNumberFormat.E164)


def format_phone(value: str) -> str:
    """Display form: mobiles "13812345678", landlines "0570-1234567", others international."""
    if not value:
        return ""
    try:
        number = _parse_phone(value)
    except ValidationError:
        return str(value)
    if number.country_code != 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.national_significant_number(number)
    area_length = phonenumbers.length_of_geographical_area_code(number)
    if area_length:
        # Trunk prefix 0 + area code, a hyphen, then the local number (GB/T 3180 style).
        return f"0{national[:area_length]}-{national[area_length:]}"
    return national


def mask_id(value: str) -> str:
    """ "330881199001011234" → "3308**********1234"."""
    value = str(value or "")
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    """ "13812345678" → "138****5678"; "0570-1234567" → "0570-***4567"."""
    display = format_phone(value) if value else ""
    if not display:
        return ""
    if "-" in display:
        area, _sep, local = display.rpartition("-")
        return f"{area}-{'*' * max(len(local) - 4, 0)}{local[-4:]}"
    if len(display) >= 8:
        return display[:3] + "*" * (len(display) - 7) + display[-4:]
    return "*" * (len(display) - 2) + display[-2:]


def mask_name(value: str) -> str:
    """ "张三" → "张*", "欧阳娜娜" → "欧***": the first character and a star for each other one."""
    value = str(value or "").strip()
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)


def mask_address(value: str) -> str:
    """The first six characters, then "****" ("江山市虎山街道鹿溪南路12号" → "江山市虎山街****")."""
    value = str(value or "").strip()
    if not value:
        return ""
    # A very short address would be shown whole by the six-character rule: keep half of it.
    keep = 6 if len(value) > 6 else len(value) // 2
    return value[:keep] + "****"
