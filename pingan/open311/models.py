"""Open311 API clients: the applications allowed to file service requests (GeoReport v2 POST).

Reads of the GeoReport v2 endpoint are public (the spec asks for no key); writes need an
api_key. A key is shown once when issued and stored only as a keyed hash, with its first
characters kept in clear so an administrator can tell keys apart.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from pingan.core.models import TimeStampedModel
from pingan.core.scoping import code_prefix


class ApiClient(TimeStampedModel):
    """An application that files events through Open311 (e.g. a city app, a WeChat mini-program)."""

    name = models.CharField(_("名称"), max_length=80, unique=True)
    # Where it may file: the system user's scope (a report located outside it is refused).
    jurisdiction = models.ForeignKey(
        "geo.Jurisdiction", verbose_name=_("可上报区划"), on_delete=models.PROTECT, related_name="+"
    )
    # The account cases are registered under (登记人); it has no password and cannot log in.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("系统账号"),
        on_delete=models.PROTECT,
        related_name="open311_client",
        editable=False,
    )
    key_prefix = models.CharField(_("密钥前缀"), max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(_("启用"), default=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("Open311 客户端")
        verbose_name_plural = _("Open311 客户端")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    def clean(self) -> None:
        jurisdiction = self.jurisdiction if self.jurisdiction_id else None
        if jurisdiction is not None and not jurisdiction.code.startswith(code_prefix(settings.INSTANCE_CODE)):
            raise ValidationError({"jurisdiction": [_("须为本平台所辖区划")]})

    @property
    def idempotency_owner(self) -> str:
        """Whose Idempotency-Key a key is (pingan.events.models.IdempotencyKey.owner)."""
        return f"open311:{self.pk}"
