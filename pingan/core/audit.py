"""Writing the audit log. Entries are append-only: nothing updates or deletes them.

Never put personal data (names, ID numbers, phones, addresses of residents) in ``detail``:
record which record was touched and which fields, not their values.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from pingan.core.choices import AuditAction
from pingan.core.middleware import current_request
from pingan.core.models import AuditEntry


def client_ip(request: Any) -> str | None:
    if request is None:
        return None
    meta = getattr(request, "META", {})
    return meta.get("REMOTE_ADDR") or None


def record(
    action: AuditAction | str,
    *,
    actor: Any = None,
    target: models.Model | None = None,
    detail: dict | None = None,
    request: Any = None,
    username: str = "",
) -> AuditEntry:
    """Append one audit entry. ``actor`` defaults to the user of the current request."""
    request = request if request is not None else current_request()
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEntry.objects.create(
        actor=actor,
        username=username or (actor.get_username() if actor is not None else ""),
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=_label(target),
        detail=detail or {},
        ip=client_ip(request),
    )


def _label(target: models.Model | None) -> str:
    if target is None:
        return ""
    safe = getattr(target, "audit_label", None)
    return (safe() if callable(safe) else str(target))[:200]


def recent_login_failures(username: str) -> int:
    """Failed logins for ``username`` inside the lockout window (the audit log is the counter)."""
    since = timezone.now() - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    last_success = (
        AuditEntry.objects.filter(username=username, action=AuditAction.LOGIN, at__gte=since)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    failures = AuditEntry.objects.filter(username=username, action=AuditAction.LOGIN_FAILED, at__gte=since)
    if last_success is not None:
        failures = failures.filter(at__gt=last_success)
    return failures.count()


def is_locked_out(username: str) -> bool:
    return recent_login_failures(username) >= settings.LOGIN_MAX_FAILURES
