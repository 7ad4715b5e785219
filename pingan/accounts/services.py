"""Writes for units and users: inside a transaction, checked, audited."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from pingan.accounts.choices import Role
from pingan.accounts.models import User
from pingan.core import audit
from pingan.core.choices import AuditAction


@transaction.atomic
def create_admin(username: str, password: str) -> User:
    """An installation administrator (superuser) — `pingan createadmin`."""
    if not username:
        raise ValidationError({"username": ["用户名不能为空"]})
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": [f"用户名 {username} 已存在"]})
    validate_password(password)
    user = User.objects.create_superuser(username=username, password=password, role=Role.ADMIN)
    audit.record(AuditAction.CREATE, target=user, detail={"role": Role.ADMIN})
    return user
