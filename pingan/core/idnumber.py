"""Resident ID numbers (公民身份号码, GB 11643-1999): parsing, checking and making.

Layout of the 18 characters: 6-digit area code (GB/T 2260) · 8-digit birth date YYYYMMDD ·
3-digit sequence (odd for men, even for women) · check character (ISO 7064 MOD 11-2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# GB 11643-1999 §8.2: weights 2^(18-i) mod 11 for positions 1..17.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Check character for (sum mod 11) = 0..10; "X" stands for 10.
CHECK_CHARS = "10X98765432"
# First two digits: provinces, autonomous regions and municipalities (GB/T 2260), plus
# 71 Taiwan, 81 Hong Kong, 82 Macao and 83 (residence permits of Taiwan residents).
# fmt: off
PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82", "83",
})
# fmt: on
EARLIEST_BIRTH = date(1900, 1, 1)


@dataclass(frozen=True)
class IdInfo:
    """What an ID number says: the normalised number, birth date, sex ("M"/"F"), area code."""

    number: str
    birth_date: date
    sex: str
    area_code: str


def normalize_id_number(value: str) -> str:
    """Strip spaces and upper-case the check character (x → X); no validation."""
    return "".join(str(value or "").split()).upper()


def check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def parse_id_number(value: str) -> IdInfo:
    """Validate an 18-digit resident ID number and read what it encodes.

    Raises ValidationError with a Chinese message naming the problem.
    """
    number = normalize_id_number(value)
    if len(number) == 15 and number.isdigit():
        raise ValidationError(_("身份证号码应为 18 位（不受理 15 位旧号码）"), code="id_length")
    if len(number) != 18:
        raise ValidationError(_("身份证号码应为 18 位"), code="id_length")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(_("身份证号码格式错误：前 17 位应为数字，末位为数字或 X"), code="id_format")
    if number[:2] not in PROVINCES:
        raise ValidationError(_("身份证号码地区码无效"), code="id_area")
    birth = _birth_date(number[6:14])
    if number[17] != check_char(number[:17]):
        raise ValidationError(_("身份证号码校验位错误"), code="id_checksum")
    # GB 11643 §6.3: the sequence code is odd for men and even for women.
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdInfo(number=number, birth_date=birth, sex=sex, area_code=number[:6])


def _birth_date(digits: str) -> date:
    try:
        birth = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise ValidationError(_("身份证号码中的出生日期无效"), code="id_birth_date") from None
    if birth < EARLIEST_BIRTH:
        raise ValidationError(_("身份证号码中的出生日期无效"), code="id_birth_date")
    if birth > timezone.localdate():
        raise ValidationError(_("身份证号码中的出生日期晚于今天"), code="id_birth_future")
    return birth


def is_valid_id_number(value: str) -> bool:
    try:
        parse_id_number(value)
    except ValidationError:
        return False
    return True


def make_id_number(area6: str, birth_date: date, seq3: int | str) -> str:
    """Build a checksum-valid ID number (demo data and tests only)."""
    area = str(area6)
    seq = f"{int(seq3):03d}"
    if len(area) != 6 or not area.isdigit() or len(seq) != 3:
        raise ValueError("area6 must be 6 digits and seq3 at most 3 digits")
    first17 = f"{area}{birth_date:%Y%m%d}{seq}"
    return first17 + check_char(first17)
