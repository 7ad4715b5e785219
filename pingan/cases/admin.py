"""Admin for cases: a read-only view. Cases change only through services.transition, and the
step log is append-only (ARCHITECTURE principle 2), so nothing is added, changed or removed here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from pingan.cases.models import Case, ScoringRule, Step
from pingan.core.scoping import visible_to
from pingan.people.services import masked

CASE_FIELDS = (
    "number", "uuid", "kind", "title", "description", "channel", "status", "version",
    "jurisdiction", "area_code", "lat", "lon", "address", "tier", "unit", "cohandler_names",
    "masked_requester", "reporter", "merged_into",
    "deadline_unit", "deadline_amount", "registered_at", "dispatched_at", "deadline_at", "warn_at",
    "red_at", "handled_at", "closed_at",
    "supervision", "extension_count", "extension_pending", "rework_count", "return_count",
    "satisfaction", "data",
)  # fmt: skip


class ReadOnlyMixin:
    """No add, change or delete: the admin only shows."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StepInline(ReadOnlyMixin, admin.TabularInline):
    """The timeline (流转记录), oldest first."""

    model = Step
    fields = ("at", "action", "from_status", "to_status", "actor", "unit", "note", "attachment_names")
    readonly_fields = fields
    ordering = ("at", "id")
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Step]:
        return super().get_queryset(request).select_related("actor", "unit").prefetch_related("attachments")

    @admin.display(description=_("附件"))
    def attachment_names(self, obj: Step) -> str:
        return "、".join(a.name for a in obj.attachments.all()) or "-"


@admin.register(Case)
class CaseAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Cases (案件), read-only: search by number prefix or title, filter by status, kind, supervision."""

    list_display = (
        "number", "kind", "title", "status", "area_code", "unit", "deadline_at", "supervision", "registered_at",
    )  # fmt: skip
    list_filter = ("status", "kind", "supervision", "channel", "tier", "extension_pending")
    list_select_related = ("unit",)
    search_fields = ("^number", "title")
    search_help_text = _("按编号前缀或标题查找")
    ordering = ("-registered_at", "-id")
    list_per_page = 50
    # No COUNT(*) over every case for each page of the list (ARCHITECTURE principle 7).
    show_full_result_count = False
    fields = CASE_FIELDS
    readonly_fields = CASE_FIELDS
    inlines = (StepInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        return visible_to(super().get_queryset(request), request.user)

    @admin.display(description=_("协办单位"))
    def cohandler_names(self, obj: Case) -> str:
        return "、".join(u.name for u in obj.cohandlers.all()) or "-"

    @admin.display(description=_("反映人"))
    def masked_requester(self, obj: Case) -> str:
        """Masked, as everywhere (DOMAIN §11): name and phone only."""
        if obj.requester is None:
            return "-"
        shown = masked(obj.requester)
        return f"{shown['name']} {shown['phone']}".strip()


@admin.register(ScoringRule)
class ScoringRuleAdmin(admin.ModelAdmin):
    """The unit scorecard's weights and grade bounds (local data, DOMAIN §2); one rule is active."""

    list_display = ("name", "is_active", "weight_handled", "weight_handled_on_time", "weight_rework",
                    "weight_overdue", "weight_extension", "grade_a", "grade_b", "grade_c", "grade_d", "updated_at")  # fmt: skip
    list_filter = ("is_active",)
