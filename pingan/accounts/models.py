"""Units (organisations), users, roles and scopes."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from pingan.accounts.choices import Platform, Role, UnitKind
from pingan.core.models import TimeStampedModel
from pingan.core.scoping import ScopedQuerySet


class Unit(TimeStampedModel):
    """An organisation that receives and handles matters (承办单位): department, platform, mediation body."""

    name = models.CharField(_("名称"), max_length=80)
    kind = models.CharField(_("类型"), max_length=20, choices=UnitKind.choices, db_index=True)
    platform = models.CharField(_("平台"), max_length=20, choices=Platform.choices, blank=True)
    jurisdiction = models.ForeignKey(
        "geo.Jurisdiction", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="units"
    )
    # Denormalised jurisdiction code: the scoping function filters on it without a join.
    area_code = models.CharField(_("区划代码"), max_length=24, db_index=True, editable=False)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    phone = models.CharField(_("办公电话"), max_length=30, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_code_field = "area_code"
    scope_unit_field = "id"

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["area_code", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["jurisdiction", "name"], name="unit_unique_name_per_area")
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.area_code = self.jurisdiction.code
        super().save(*args, **kwargs)


class User(AbstractUser):
    """A person who works in the platform, with a role, a unit and a scope (数据范围)."""

    full_name = models.CharField(_("姓名"), max_length=40, blank=True)
    role = models.CharField(
        _("角色"), max_length=20, choices=Role.choices, default=Role.HANDLER, db_index=True
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("所在单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    grid = models.ForeignKey(
        "geo.Jurisdiction",
        verbose_name=_("负责网格"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="grid_workers",
        help_text=_("网格员负责的网格"),
    )
    scope_jurisdictions = models.ManyToManyField(
        "geo.Jurisdiction", verbose_name=_("数据范围（区划）"), blank=True, related_name="scoped_users"
    )
    scope_units = models.ManyToManyField(
        Unit, verbose_name=_("数据范围（单位）"), blank=True, related_name="scoped_users"
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username
