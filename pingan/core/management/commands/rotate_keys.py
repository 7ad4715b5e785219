"""`manage.py rotate_keys [--blind-index]`: re-encrypt every encrypted column with the newest key.

Put the new Fernet key first in PINGAN_FIELD_KEYS (keep the old ones after it), restart, run
this command, then drop the old keys. Rows are rewritten in batches with a conditional
UPDATE (only if the column still holds the token read), so the site can stay up: a row
changed meanwhile was already written with the newest key. Tokens already readable with
the newest key alone are left as they are, so a second run changes nothing.

``--blind-index``: after changing PINGAN_BLIND_INDEX_KEY, recompute the blind indexes
(every app whose ``services`` module defines ``recompute_blind_indexes``).
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, models, transaction

from pingan.core import audit
from pingan.core.choices import AuditAction
from pingan.core.crypto import EncryptedTextField, rotate_token


def encrypted_columns() -> list[tuple[type[models.Model], list[EncryptedTextField]]]:
    """Every concrete model with EncryptedTextField columns, and those fields."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            found.append((model, fields))
    return found


class Rotator:
    """Re-encrypts the raw tokens of one model's encrypted columns, batch by batch."""

    def __init__(self, model: type[models.Model], fields: list[EncryptedTextField], batch_size: int) -> None:
        self.model = model
        self.fields = fields
        self.batch_size = batch_size
        self.newest = Fernet(settings.FIELD_KEYS[0].encode())
        qn = connection.ops.quote_name
        self.table = qn(model._meta.db_table)
        self.pk = qn(str(model._meta.pk.column))
        self.columns = [qn(str(f.column)) for f in fields]

    def is_current(self, token: str) -> bool:
        try:
            self.newest.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def batches(self) -> Any:
        # Raw SQL: the ORM field would decrypt on load, and we need the stored token.
        select = f"SELECT {self.pk}, {', '.join(self.columns)} FROM {self.table}"
        first = f"{select} ORDER BY {self.pk} LIMIT %s"
        following = f"{select} WHERE {self.pk} > %s ORDER BY {self.pk} LIMIT %s"
        last: Any = None
        while True:
            with connection.cursor() as cursor:
                if last is None:
                    cursor.execute(first, [self.batch_size])
                else:
                    cursor.execute(following, [last, self.batch_size])
                rows = cursor.fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield rows

    def run(self) -> tuple[int, int]:
        """Return (tokens rotated, tokens changed concurrently and left alone)."""
        rotated = raced = 0
        for rows in self.batches():
            with transaction.atomic(), connection.cursor() as cursor:
                for row in rows:
                    pk, tokens = row[0], row[1:]
                    for column, token in zip(self.columns, tokens, strict=True):
                        if not token or self.is_current(token):
                            continue
                        cursor.execute(
                            f"UPDATE {self.table} SET {column} = %s WHERE {self.pk} = %s AND {column} = %s",
                            [rotate_token(token), pk, token],
                        )
                        if cursor.rowcount == 1:
                            rotated += 1
                        else:
                            raced += 1
        return rotated, raced


def blind_index_recomputers() -> list[tuple[str, Any]]:
    """(app label, recompute function) for apps whose services define recompute_blind_indexes."""
    found = []
    for config in apps.get_app_configs():
        name = f"{config.name}.services"
        if importlib.util.find_spec(config.name) is None or importlib.util.find_spec(name) is None:
            continue
        func = getattr(importlib.import_module(name), "recompute_blind_indexes", None)
        if callable(func):
            found.append((config.label, func))
    return found


class Command(BaseCommand):
    help = (
        "Re-encrypt encrypted columns with the newest key of PINGAN_FIELD_KEYS (and recompute blind indexes)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--blind-index", action="store_true", help="recompute blind indexes with BLIND_INDEX_KEY"
        )
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, blind_index: bool = False, batch_size: int = 500, **options: Any) -> None:
        counts: dict[str, Any] = {"rotated": {}, "concurrent": 0, "keys": len(settings.FIELD_KEYS)}
        for model, fields in encrypted_columns():
            rotated, raced = Rotator(model, fields, batch_size).run()
            counts["rotated"][model._meta.label] = rotated
            counts["concurrent"] += raced
            self.stdout.write(f"{model._meta.label}: {rotated} 个字段值已用新密钥重新加密")
        if blind_index:
            counts["blind_index"] = {}
            for label, recompute in blind_index_recomputers():
                changed = recompute(batch_size=batch_size)
                counts["blind_index"][label] = changed
                self.stdout.write(f"{label}: {changed} 行盲索引已重算")
        audit.record(AuditAction.KEY_ROTATION, detail=counts)
        self.stdout.write(self.style.SUCCESS("密钥轮换完成"))
