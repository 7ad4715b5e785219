"""Field encryption at rest (MultiFernet) and keyed blind indexes for exact search.

PINGAN_FIELD_KEYS holds Fernet keys, newest first: values are encrypted with the first and
decrypted with any, so a new key can be put in front and `pingan rotate-keys` re-encrypts
every row without downtime. PINGAN_BLIND_INDEX_KEY keys an HMAC-SHA256 of the normalised
value, so an exact search by ID number or phone never decrypts the table.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@functools.lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_KEYS))


def encrypt(plain: str) -> str:
    return fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise InvalidToken(
            "cannot decrypt a field: is PINGAN_FIELD_KEYS missing the key it was written with?"
        ) from exc


def rotate_token(token: str) -> str:
    """Re-encrypt a token with the newest key."""
    return fernet().rotate(token.encode()).decode()


def blind_index(value: str, purpose: str) -> str:
    """Keyed HMAC of a normalised value; ``purpose`` separates ID numbers from phones."""
    key = hashlib.sha256(f"{purpose}:{settings.BLIND_INDEX_KEY}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token; Python code sees the plain value."""

    description = "Encrypted text"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
