"""Admin for Open311 clients: a new client's key, or a re-issued one, is shown once, here only.

Saves go through pingan.open311.services (they create the client's system user, keep it in
step and write the audit log); the key itself is never stored, only its keyed hash.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pingan.open311 import services
from pingan.open311.models import ApiClient


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ("name", "jurisdiction", "key_prefix", "active", "created_at", "last_used_at")
    list_filter = ("active",)
    search_fields = ("name", "key_prefix", "jurisdiction__code", "jurisdiction__name")
    autocomplete_fields = ("jurisdiction",)
    fields = ("name", "jurisdiction", "active", "key_prefix", "user", "created_at", "last_used_at")
    readonly_fields = ("key_prefix", "user", "created_at", "last_used_at")
    actions = ("reissue_key",)

    def save_model(self, request: HttpRequest, obj: ApiClient, form: Any, change: bool) -> None:
        if change:
            services.save_client(obj, actor=request.user, fields=list(form.changed_data))
            return
        key = services.issue_key(obj, actor=request.user)
        self._show_key(request, obj, key)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A client's system user is the 登记人 of the cases it filed: switch it off instead.
        return False

    @admin.action(description=gettext_lazy("重新签发 api_key（旧密钥立即失效）"))
    def reissue_key(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        for client in queryset:
            try:
                key = services.issue_key(client, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{client}: {'; '.join(exc.messages)}", messages.ERROR)
                continue
            self._show_key(request, client, key)

    def _show_key(self, request: HttpRequest, client: ApiClient, key: str) -> None:
        text = _("客户端「%(name)s」的 api_key：%(key)s —— 只显示这一次，请立即交给对方妥善保存。") % {
            "name": client.name,
            "key": key,
        }
        self.message_user(request, text, messages.WARNING)
