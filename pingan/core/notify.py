"""Notifications (通知): rows that the top bar counts and lists; later also SMS/IM gateways."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models, transaction

from pingan.core.models import Notification


def notify(
    text: str,
    *,
    units: Iterable[Any] = (),
    users: Iterable[Any] = (),
    link: str = "",
    source: models.Model | None = None,
) -> None:
    """Queue one notification per unit and per user, written when the transaction commits."""
    rows = [Notification(unit=u, text=text[:300], link=link) for u in units if u is not None]
    rows += [Notification(user=u, text=text[:300], link=link) for u in users if u is not None]
    if source is not None:
        for row in rows:
            row.source_type, row.source_id = source._meta.label_lower, str(source.pk)
    if rows:
        transaction.on_commit(lambda: Notification.objects.bulk_create(rows))


def unread_count(user: Any) -> int:
    """Unread notifications addressed to the user or to the user's unit."""
    if not getattr(user, "is_authenticated", False):
        return 0
    q = models.Q(user=user)
    if user.unit_id:
        q |= models.Q(unit_id=user.unit_id)
    return Notification.objects.filter(q, read_at__isnull=True).count()
