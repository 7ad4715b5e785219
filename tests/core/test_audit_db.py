"""The audit log is append-only down to the database on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from pingan.core import audit
from pingan.core.choices import AuditAction
from pingan.core.models import AuditEntry


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
@pytest.mark.parametrize("sql", ["UPDATE core_auditentry SET username = 'x'", "DELETE FROM core_auditentry"])
def test_database_refuses_to_change_audit_entries(db, sql):
    audit.record(AuditAction.LOGIN_FAILED, username="someone")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AuditEntry.objects.filter(username="someone").count() == 1
