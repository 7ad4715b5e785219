"""The audit log is append-only, also in the admin; the calendar is editable there."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from pingan.core import audit, calendar
from pingan.core.choices import AuditAction
from pingan.core.models import AppendOnlyError, AuditEntry, WorkingDay
from tests.conftest import login

pytestmark = pytest.mark.django_db


def test_audit_entries_cannot_be_changed_or_deleted(personas):
    entry = audit.record(AuditAction.LOGIN, actor=personas.admin)
    entry.username = "someone-else"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(username="x")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).username == "admin"


def test_audit_admin_is_read_only(personas):
    entry = audit.record(AuditAction.LOGIN, actor=personas.admin)
    client = login(personas.admin)
    changelist = client.get(reverse("admin:core_auditentry_changelist"), {"action": "login", "q": "admin"})
    assert changelist.status_code == 200
    assert b"admin" in changelist.content
    assert client.get(reverse("admin:core_auditentry_add")).status_code == 403
    assert client.get(reverse("admin:core_auditentry_delete", args=[entry.pk])).status_code == 403
    view = client.get(reverse("admin:core_auditentry_change", args=[entry.pk]))
    assert view.status_code == 200
    assert b'name="_save"' not in view.content
    assert (
        client.post(reverse("admin:core_auditentry_change", args=[entry.pk]), {"username": "x"}).status_code
        == 403
    )
    assert AuditEntry.objects.get(pk=entry.pk).username == "admin"


def test_working_day_admin_edit_updates_calendar_and_audits(personas):
    calendar.invalidate()
    day = date(2026, 11, 26)
    assert calendar.is_workday(day)
    client = login(personas.admin)
    response = client.post(
        reverse("admin:core_workingday_change", args=[day.isoformat()]),
        {"date": day.isoformat(), "is_workday": "", "note": "临时休息"},
    )
    assert response.status_code == 302
    assert not calendar.is_workday(day)
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE, target_type="core.workingday")
    assert entry.detail == {"is_workday": False, "note": "临时休息"}
    calendar.invalidate()
    assert WorkingDay.objects.get(date=day).note == "临时休息"
