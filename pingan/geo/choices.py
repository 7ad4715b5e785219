from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    """Tiers of the jurisdiction tree (DOMAIN §1). Codes: 6 digits county, 9 township, 12 village."""

    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("县(市、区)")
    TOWNSHIP = "township", _("乡镇(街道)")
    VILLAGE = "village", _("村(社区)")
    GRID = "grid", _("网格")


# Depth order, top to bottom; a child is always exactly one tier below its parent.
LEVEL_ORDER = [Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE, Level.GRID]
