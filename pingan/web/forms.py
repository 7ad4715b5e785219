"""Forms of the web shell: the login form (with lockout) and the audit-log filters."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pingan.core import audit
from pingan.core.choices import AuditAction
from pingan.core.models import AuditEntry


class LoginForm(AuthenticationForm):
    """Django's login form, refusing a locked username before the password is even checked."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("用户名或密码不正确。请注意密码区分大小写。"),
        "inactive": _("该账户已停用，请联系管理员。"),
        "locked": _("登录失败次数过多，账户已锁定 %(minutes)s 分钟"),
    }

    def __init__(self, request: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["password"].label = _("密码")
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autocapitalize": "none"})

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        # 等保 2.0 login-failure handling: a locked name is refused without touching the password,
        # so guessing cannot continue during the lock; the refusal itself is audited.
        if username and audit.is_locked_out(username):
            audit.record(AuditAction.LOGIN_LOCKED, username=username[:150], request=self.request)
            raise ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"minutes": settings.LOGIN_LOCKOUT_MINUTES},
            )
        return super().clean()


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class AuditFilterForm(forms.Form):
    """Filters of the audit-log page; every field is optional."""

    username = forms.CharField(label=_("用户名"), required=False, max_length=150)
    action = forms.ChoiceField(label=_("动作"), required=False)
    target_type = forms.ChoiceField(label=_("对象类型"), required=False)
    date_from = forms.DateField(label=_("开始日期"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("结束日期"), required=False, widget=DateInput())

    def __init__(self, *args: Any, target_types: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        action, target_type = self.fields["action"], self.fields["target_type"]
        assert isinstance(action, forms.ChoiceField) and isinstance(target_type, forms.ChoiceField)
        action.choices = [("", _("全部")), *AuditAction.choices]
        target_type.choices = [("", _("全部")), *((t, t) for t in target_types or [])]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("结束日期不能早于开始日期"))
        return data

    def filter(self, queryset: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
        """Apply the valid filters; an invalid field is ignored (its error is shown beside it)."""
        data = self.cleaned_data if self.is_bound else {}
        if data.get("username"):
            queryset = queryset.filter(username=data["username"].strip())
        if data.get("action"):
            queryset = queryset.filter(action=data["action"])
        if data.get("target_type"):
            queryset = queryset.filter(target_type=data["target_type"])
        # Days are Asia/Shanghai days (the current time zone), the end day included.
        if data.get("date_from"):
            queryset = queryset.filter(at__gte=_start_of(data["date_from"]))
        if data.get("date_to") and "date_to" not in self.errors:
            queryset = queryset.filter(at__lt=_start_of(data["date_to"] + timedelta(days=1)))
        return queryset


def _start_of(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
