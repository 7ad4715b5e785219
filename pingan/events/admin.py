"""Admin for the event catalogue and routing rules; events and intake keys are read-only here.

Events change only through pingan.events.services and the case engine, so their admin pages
show, never edit. The requester is not shown (the case links to the masked people register).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from pingan.events.models import Category, Event, IdempotencyKey, RoutingRule


class ChildInline(admin.TabularInline):
    model = Category
    fk_name = "parent"
    fields = ("code", "name", "deadline_amount", "deadline_unit", "urgent", "active", "order")
    extra = 0
    show_change_link = True


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "parent",
        "platform",
        "deadline_amount",
        "deadline_unit",
        "urgent",
        "active",
    )
    list_filter = ("active", "urgent", "platform", "deadline_unit", "parent")
    search_fields = ("code", "name")
    ordering = ("order", "code")
    autocomplete_fields = ("default_unit",)
    fieldsets = (
        (None, {"fields": ("parent", "code", "name", "platform", "active", "order")}),
        (
            _("期限与条件"),
            {
                "fields": (
                    "deadline_amount",
                    "deadline_unit",
                    "urgent",
                    "register_condition",
                    "close_condition",
                )
            },
        ),
        (_("分拨"), {"fields": ("default_unit", "default_unit_name")}),
        (_("Open311 附加属性"), {"fields": ("fields",)}),
    )

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return [ChildInline] if obj is not None and obj.parent_id is None else []


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("category", "jurisdiction", "area_prefix", "unit", "priority", "active")
    list_filter = ("active",)
    search_fields = ("category__name", "category__code", "unit__name", "area_prefix")
    autocomplete_fields = ("category", "unit", "jurisdiction")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("case", "category", "channel_ref", "on_spot")
    list_filter = ("on_spot", "category__parent")
    search_fields = ("case__number", "channel_ref")
    fields = ("case", "category", "channel_ref", "on_spot")


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ("key", "owner", "case", "created_at")
    search_fields = ("key", "owner", "case__number")
    fields = ("key", "owner", "actor", "case", "created_at")
