"""Admin for the jurisdiction tree. Outlines are edited by import (`pingan import jurisdictions`),
where the whole file is validated; here they are shown as a short summary only."""

from __future__ import annotations

import shapely
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from shapely.errors import GEOSException

from pingan.geo.models import Jurisdiction
from pingan.geo.services import shape_of


@admin.register(Jurisdiction)
class JurisdictionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "synthetic")
    list_filter = ("level", "synthetic")
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    raw_id_fields = ("parent",)
    ordering = ("code",)
    fields = ("code", "name", "level", "parent", "population", "synthetic", "lat", "lon", "geometry_summary")
    readonly_fields = ("geometry_summary",)
    list_per_page = 100

    @admin.display(description=_("边界"))
    def geometry_summary(self, obj: Jurisdiction) -> str:
        """E.g. "Polygon，37 个顶点，范围 118.80,28.90 – 118.90,29.00（有效）"."""
        try:
            geom = shape_of(obj.geometry)
        except (GEOSException, ValueError, TypeError):
            return str(_("无法解析"))
        if geom is None:
            return str(_("无"))
        minx, miny, maxx, maxy = geom.bounds
        validity = _("有效") if geom.is_valid else _("无效")
        return (
            f"{geom.geom_type}，{shapely.get_num_coordinates(geom)} {_('个顶点')}，"
            f"{_('范围')} {minx:.4f},{miny:.4f} – {maxx:.4f},{maxy:.4f}（{validity}）"
        )
