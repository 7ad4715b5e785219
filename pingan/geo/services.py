"""State changes of the jurisdiction tree, and the per-process outline cache the map reads."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from shapely.geometry.base import BaseGeometry

from pingan.geo import locate
from pingan.geo.choices import LEVEL_ORDER
from pingan.geo.models import Jurisdiction

BATCH = 500
UPDATED_FIELDS = ["name", "geometry", "lat", "lon", "synthetic", "updated_at"]


def shape_of(geometry: dict | None) -> BaseGeometry | None:
    """A shapely geometry from a stored GeoJSON dict (None stays None)."""
    if not geometry:
        return None
    return shapely.from_geojson(json.dumps(geometry))


def representative_lat_lon(geom: BaseGeometry | None) -> tuple[float | None, float | None]:
    """A point guaranteed inside the shape (a centroid can fall outside a concave outline)."""
    if geom is None or geom.is_empty:
        return None, None
    point = geom.representative_point()
    return round(point.y, 7), round(point.x, 7)


def save_jurisdictions(rows: Iterable[dict]) -> tuple[int, int]:
    """Create or update jurisdictions from rows; returns (created, updated).

    Each row has code, name, level, parent_code ('' for a root), geometry (GeoJSON dict or
    None) and optionally synthetic and shape (the parsed geometry, to skip re-parsing).
    Rows are written tier by tier so that every parent exists before its children; an
    existing code is updated in place (name, geometry, point, synthetic) and keeps its parent.
    The caller validates: this function trusts its input.
    """
    depth = {level.value: i for i, level in enumerate(LEVEL_ORDER)}
    ordered = sorted(rows, key=lambda r: (depth[str(r["level"])], r["code"]))
    created = updated = 0
    with transaction.atomic():
        id_by_code: dict[str, int] = dict(Jurisdiction.objects.values_list("code", "id"))
        for level in LEVEL_ORDER:
            tier = [r for r in ordered if str(r["level"]) == level.value]
            if not tier:
                continue
            new = [r for r in tier if r["code"] not in id_by_code]
            old = [r for r in tier if r["code"] in id_by_code]
            made = Jurisdiction.objects.bulk_create([_new_node(r, id_by_code) for r in new], batch_size=BATCH)
            id_by_code.update({node.code: node.pk for node in made})
            _update_nodes(old, id_by_code)
            created += len(new)
            updated += len(old)
        transaction.on_commit(locate.invalidate)
    locate.invalidate()
    return created, updated


def _new_node(row: dict, id_by_code: dict[str, int]) -> Jurisdiction:
    geom = row.get("shape") or shape_of(row.get("geometry"))
    lat, lon = representative_lat_lon(geom)
    parent_code = row.get("parent_code") or ""
    return Jurisdiction(
        code=row["code"],
        name=row["name"],
        level=str(row["level"]),
        parent_id=id_by_code[parent_code] if parent_code else None,
        geometry=row.get("geometry") or None,
        lat=lat,
        lon=lon,
        synthetic=bool(row.get("synthetic", False)),
    )


def _update_nodes(rows: list[dict], id_by_code: dict[str, int]) -> None:
    now = timezone.now()
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        nodes = Jurisdiction.objects.in_bulk([id_by_code[r["code"]] for r in chunk])
        for row in chunk:
            node = nodes[id_by_code[row["code"]]]
            geom = row.get("shape") or shape_of(row.get("geometry"))
            node.name = row["name"]
            node.geometry = row.get("geometry") or None
            node.lat, node.lon = representative_lat_lon(geom)
            node.synthetic = bool(row.get("synthetic", False))
            # bulk_update skips auto_now: set it, other processes watch it to refresh caches.
            node.updated_at = now
        Jurisdiction.objects.bulk_update(list(nodes.values()), UPDATED_FIELDS, batch_size=BATCH)


# ---------------------------------------------------------------------------------------------
# Outline cache: the map asks for up to a few thousand polygons at a time. Serialising them from
# the JSON column on every request costs ~100 ms; each feature is serialised once per process
# (coordinates rounded to 6 decimals, ~0.1 m) and requests concatenate the cached strings.

OUTLINE_DECIMALS = 6


@dataclass
class _OutlineCache:
    stamp: Any = None
    generation: int = -1
    checked_at: float = 0.0
    features: dict[int, str] = field(default_factory=dict)


_outlines = _OutlineCache()
_outlines_lock = threading.Lock()


def _fresh_outlines() -> _OutlineCache:
    global _outlines
    cache = _outlines
    now = time.monotonic()
    if cache.generation == locate.generation() and now - cache.checked_at < locate.STAMP_TTL:
        return cache
    stamp = locate.jurisdiction_stamp()
    if cache.generation == locate.generation() and stamp == cache.stamp:
        cache.checked_at = now
        return cache
    with _outlines_lock:
        _outlines = _OutlineCache(stamp=stamp, generation=locate.generation(), checked_at=now)
        return _outlines


def outline_collection(queryset: QuerySet[Jurisdiction]) -> str:
    """A GeoJSON FeatureCollection (text) of the jurisdictions in ``queryset``, code order.

    Properties: code, name, level, parent_code. Geometry is read from the database only for
    features not yet in this process's cache.
    """
    cache = _fresh_outlines()
    rows = list(queryset.order_by("code").values_list("id", "code", "name", "level", "parent__code"))
    missing = [r[0] for r in rows if r[0] not in cache.features]
    geometries: dict[int, dict | None] = {}
    for start in range(0, len(missing), BATCH):
        chunk = missing[start : start + BATCH]
        geometries.update(Jurisdiction.objects.filter(id__in=chunk).values_list("id", "geometry"))
    parts = []
    for node_id, code, name, level, parent_code in rows:
        text = cache.features.get(node_id)
        if text is None:
            text = _feature_text(code, name, level, parent_code, geometries.get(node_id))
            cache.features[node_id] = text
        parts.append(text)
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


def _feature_text(code: str, name: str, level: str, parent_code: str | None, geometry: dict | None) -> str:
    feature = {
        "type": "Feature",
        "properties": {"code": code, "name": name, "level": level, "parent_code": parent_code},
        "geometry": _rounded(geometry),
    }
    return json.dumps(feature, ensure_ascii=False, separators=(",", ":"))


def _rounded(geometry: dict | None) -> dict | None:
    if not isinstance(geometry, dict) or "coordinates" not in geometry:
        return None
    try:
        return {"type": geometry["type"], "coordinates": _round_coords(geometry["coordinates"])}
    except (KeyError, TypeError, ValueError, IndexError):
        return None  # a malformed outline written behind the importer's back: show no shape


def _round_coords(coords: Any) -> Any:
    # A list of positions (a ring) is rounded in one numpy call; deeper lists recurse.
    if coords and isinstance(coords[0], int | float):
        return [round(float(c), OUTLINE_DECIMALS) for c in coords]
    if coords and coords[0] and isinstance(coords[0][0], int | float):
        return np.round(np.asarray(coords, dtype=float), OUTLINE_DECIMALS).tolist()
    return [_round_coords(c) for c in coords]
