"""Coordinate systems used by Chinese map services, all converted to WGS-84 before lookup.

- WGS-84: GPS, and every geometry stored in pingan.
- GCJ-02 (国测局 "火星坐标"): AMap/Gaode, Tencent, most phone map SDKs inside China.
- BD-09: Baidu maps (GCJ-02 shifted once more).

The conversions themselves come from fast_geocn.coord (accuracy about 0.5-1 m); this module
only validates input and names the systems.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from django.db import models
from django.utils.translation import gettext_lazy as _
from fast_geocn import coord


class Crs(models.TextChoices):
    WGS84 = "wgs84", _("WGS-84（GPS）")
    GCJ02 = "gcj02", _("GCJ-02（高德、腾讯）")
    BD09 = "bd09", _("BD-09（百度）")


# (lng, lat) in the named system -> (lng, lat) in WGS-84.
_TO_WGS84: dict[str, Callable[[float, float], tuple[float, float]]] = {
    Crs.WGS84: lambda lng, lat: (lng, lat),
    Crs.GCJ02: coord.gcj02_to_wgs84,
    Crs.BD09: coord.bd09_to_wgs84,
}
_FROM_WGS84: dict[str, Callable[[float, float], tuple[float, float]]] = {
    Crs.WGS84: lambda lng, lat: (lng, lat),
    Crs.GCJ02: coord.wgs84_to_gcj02,
    Crs.BD09: coord.wgs84_to_bd09,
}


class CoordinateError(ValueError):
    """A bad latitude, longitude or coordinate system; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def normalise_crs(crs: str | None) -> str:
    """The canonical name of a coordinate system, or CoordinateError."""
    value = (crs or Crs.WGS84).strip().lower().replace("-", "").replace("_", "")
    if value not in _TO_WGS84:
        choices = "、".join(c.value for c in Crs)
        raise CoordinateError("crs", f"不支持的坐标系 {crs!r}，可选：{choices}")
    return value


def check_lat_lon(lat: float, lon: float) -> tuple[float, float]:
    """Return (lat, lon) as floats, or raise CoordinateError naming the bad one."""
    lat_value = _finite(lat)
    if lat_value is None or not -90.0 <= lat_value <= 90.0:
        raise CoordinateError("lat", f"纬度必须是 -90 到 90 之间的数，收到 {lat!r}")
    lon_value = _finite(lon)
    if lon_value is None or not -180.0 <= lon_value <= 180.0:
        raise CoordinateError("lon", f"经度必须是 -180 到 180 之间的数，收到 {lon!r}")
    return lat_value, lon_value


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def to_wgs84(lat: float, lon: float, crs: str = Crs.WGS84) -> tuple[float, float]:
    """Convert (lat, lon) in ``crs`` to WGS-84 (lat, lon). Points outside China are unchanged."""
    system = normalise_crs(crs)
    lat, lon = check_lat_lon(lat, lon)
    lng, wlat = _TO_WGS84[system](lon, lat)
    return wlat, lng


def from_wgs84(lat: float, lon: float, crs: str) -> tuple[float, float]:
    """Convert WGS-84 (lat, lon) to (lat, lon) in ``crs`` (for tests and map clients)."""
    system = normalise_crs(crs)
    lat, lon = check_lat_lon(lat, lon)
    lng, clat = _FROM_WGS84[system](lon, lat)
    return clat, lng
