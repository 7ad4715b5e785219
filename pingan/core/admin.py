"""Admin for the shared kernel: the working-day calendar (editable) and the audit log (read-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from pingan.core import audit
from pingan.core.choices import AuditAction
from pingan.core.models import AuditEntry, WorkingDay

WEEKDAYS = "一二三四五六日"


@admin.register(WorkingDay)
class WorkingDayAdmin(admin.ModelAdmin):
    """The yearly 调休 schedule is data: administrators correct or extend it here (DOMAIN §3)."""

    list_display = ("date", "weekday", "is_workday", "note")
    list_editable = ("is_workday", "note")
    list_filter = ("is_workday",)
    date_hierarchy = "date"
    search_fields = ("note",)
    list_per_page = 100

    @admin.display(description=_("星期"))
    def weekday(self, obj: WorkingDay) -> str:
        return "星期" + WEEKDAYS[obj.date.weekday()]

    def save_model(self, request: HttpRequest, obj: WorkingDay, form: Any, change: bool) -> None:
        # Saving fires the post_save signal that clears the calendar cache (core/signals.py).
        super().save_model(request, obj, form, change)
        audit.record(
            AuditAction.UPDATE if change else AuditAction.CREATE,
            actor=request.user,
            target=obj,
            detail={"is_workday": obj.is_workday, "note": obj.note},
            request=request,
        )

    def delete_model(self, request: HttpRequest, obj: WorkingDay) -> None:
        audit.record(AuditAction.DELETE, actor=request.user, target=obj, request=request)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        # One entry per removed day, then a per-row delete so the cache signal fires.
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit log is append-only: viewable, never added, changed or removed by hand."""

    list_display = ("at", "username", "action", "target_type", "target_id", "target_label", "ip")
    list_filter = ("action", "at")
    search_fields = ("username", "target_type", "target_id", "target_label")
    date_hierarchy = "at"
    list_per_page = 100
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
