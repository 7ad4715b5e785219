"""Admin for units and users: who works where, in which role, over which scope."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from pingan.accounts.models import Unit, User
from pingan.core import audit
from pingan.core.choices import AuditAction


def _audit_save(request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
    # Field names only, never values (passwords, personal data stay out of the log).
    fields = sorted(name for name in form.changed_data if not name.startswith("password"))
    audit.record(
        AuditAction.UPDATE if change else AuditAction.CREATE,
        actor=request.user,
        target=obj,
        detail={"fields": fields},
        request=request,
    )


class AuditedAdmin(admin.ModelAdmin):
    """Admin saves and deletes are audited like any other write."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # After the many-to-many fields are saved, so a scope change is part of the recorded write.
        super().save_related(request, form, formsets, change)
        _audit_save(request, form.instance, form, change)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit.record(AuditAction.DELETE, actor=request.user, target=obj, request=request)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Unit)
class UnitAdmin(AuditedAdmin):
    list_display = ("name", "kind", "platform", "jurisdiction", "parent", "is_active")
    list_filter = ("kind", "platform", "is_active")
    search_fields = ("name", "area_code", "jurisdiction__name")
    autocomplete_fields = ("jurisdiction", "parent")
    list_select_related = ("jurisdiction", "parent")
    list_per_page = 100


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    list_display = ("username", "full_name", "role", "unit", "grid", "is_active", "is_staff", "last_login")
    list_filter = ("role", "is_active", "is_staff", "is_superuser", "unit__kind")
    search_fields = ("username", "full_name", "unit__name", "grid__code", "grid__name")
    list_select_related = ("unit", "grid")
    ordering = ("username",)
    autocomplete_fields = ("unit", "grid", "scope_jurisdictions")
    filter_horizontal = ("scope_units", "groups", "user_permissions")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("full_name", "email")}),
        (_("岗位与数据范围"), {"fields": ("role", "unit", "grid", "scope_jurisdictions", "scope_units")}),
        (_("权限"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2")}),
        (_("岗位与数据范围"), {"fields": ("full_name", "role", "unit", "grid", "scope_jurisdictions")}),
    )
    readonly_fields = ("last_login", "date_joined")
