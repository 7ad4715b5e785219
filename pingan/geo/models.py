"""Jurisdictions and grids: one tree of codes (a code is a path) with GeoJSON outlines."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from pingan.core.models import TimeStampedModel
from pingan.core.scoping import ScopedQuerySet
from pingan.geo.choices import Level


class Jurisdiction(TimeStampedModel):
    """A node of the tree city → county → township → village/community → grid (行政区划/网格)."""

    code = models.CharField(_("代码"), max_length=24, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # GeoJSON geometry (Polygon or MultiPolygon) in WGS-84 lon/lat.
    geometry = models.JSONField(_("边界"), null=True, blank=True)
    # Representative point for labels and map centring (WGS-84).
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)
    population = models.PositiveIntegerField(_("常住人口"), null=True, blank=True)
    synthetic = models.BooleanField(_("合成边界"), default=False, help_text=_("边界为演示用合成数据"))

    objects = ScopedQuerySet.as_manager()
    scope_code_field = "code"

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def ancestors(self) -> list[Jurisdiction]:
        """Parents from the top of the tree down to the direct parent."""
        chain: list[Jurisdiction] = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))
