"""Import jurisdictions and grid outlines from GeoJSON, CSV or Excel: all valid, or nothing.

Formats
- GeoJSON FeatureCollection: properties code, name, level, parent_code (optional synthetic);
  the feature geometry is the outline. Errors name the feature number (1 = first feature).
- CSV (UTF-8, with or without BOM) and Excel .xlsx (first sheet): columns
  code, name, level, parent_code, geometry (Chinese headers 代码, 名称, 层级, 上级代码, 边界 also
  work; optional synthetic / 合成). geometry is GeoJSON text or WKT and may be empty except
  for grids. Errors name the spreadsheet row (the header is row 1).
  Row 0 means the file as a whole.

Rules (each broken rule is reported, with every other error in the file)
- code: digits only; unique in the file. level: one of Level (value or Chinese label).
- parent_code: empty only for province/city/county (a root); otherwise it must exist in
  the file or the database, the child code must extend the parent's path
  (pingan.core.scoping.code_prefix) and the level must be exactly one tier below.
- An existing code is UPDATED IN PLACE (name, outline, synthetic), provided the file gives
  it the same level and parent as the database has; otherwise it is an error.
- geometry: a valid Polygon or MultiPolygon in WGS-84 lon/lat, required for grids, and
  inside its parent's outline: up to 0.5 % of the child's area may stick out, because real
  outlines and generated tilings disagree by float slivers.

Nothing is written unless the whole file is valid; then everything is written in one
transaction, parents before children, and one audit entry records the counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from django.db import transaction
from django.utils.translation import gettext as _
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from pingan.core.audit import record
from pingan.core.choices import AuditAction
from pingan.core.importing import ImportFailed, RowError, cell_text, is_blank, read_table
from pingan.core.scoping import code_prefix
from pingan.geo.choices import LEVEL_ORDER, Level
from pingan.geo.models import Jurisdiction
from pingan.geo.services import save_jurisdictions, shape_of

MAX_FILE_BYTES = 100 * 1024 * 1024
# Share of a child's area allowed outside its parent (float slivers along shared borders).
OUTSIDE_TOLERANCE = 0.005
ROOT_LEVELS = {Level.PROVINCE.value, Level.CITY.value, Level.COUNTY.value}
COLUMNS = ("code", "name", "level", "parent_code", "geometry", "synthetic")
HEADER_ALIASES = {
    "code": "code",
    "代码": "code",
    "区划代码": "code",
    "编码": "code",
    "name": "name",
    "名称": "name",
    "level": "level",
    "层级": "level",
    "级别": "level",
    "parent_code": "parent_code",
    "parent": "parent_code",
    "上级代码": "parent_code",
    "上级": "parent_code",
    "geometry": "geometry",
    "边界": "geometry",
    "几何": "geometry",
    "wkt": "geometry",
    "synthetic": "synthetic",
    "合成": "synthetic",
    "合成边界": "synthetic",
}
LEVEL_ALIASES = {
    **{level.value: level.value for level in Level},
    "省": Level.PROVINCE.value,
    "市": Level.CITY.value,
    "县": Level.COUNTY.value,
    "区": Level.COUNTY.value,
    "县(市、区)": Level.COUNTY.value,
    "县（市、区）": Level.COUNTY.value,
    "县级": Level.COUNTY.value,
    "乡镇": Level.TOWNSHIP.value,
    "街道": Level.TOWNSHIP.value,
    "乡镇(街道)": Level.TOWNSHIP.value,
    "乡镇（街道）": Level.TOWNSHIP.value,
    "乡": Level.TOWNSHIP.value,
    "镇": Level.TOWNSHIP.value,
    "村": Level.VILLAGE.value,
    "社区": Level.VILLAGE.value,
    "村社": Level.VILLAGE.value,
    "村(社区)": Level.VILLAGE.value,
    "村（社区）": Level.VILLAGE.value,
    "网格": Level.GRID.value,
}
TRUE_WORDS = {"1", "true", "yes", "y", "是", "t"}
DEPTH = {level.value: i for i, level in enumerate(LEVEL_ORDER)}


@dataclass
class Row:
    """One parsed input row; ``shape`` is filled by validation when the geometry is good."""

    number: int
    code: str
    name: str
    level: str
    parent_code: str
    geometry: Any  # GeoJSON dict, GeoJSON/WKT text, or None
    synthetic: bool = False
    shape: BaseGeometry | None = None
    geometry_ok: bool = True

    def as_write_row(self) -> dict:
        geometry = json.loads(shapely.to_geojson(self.shape)) if self.shape is not None else None
        return {
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "parent_code": self.parent_code,
            "geometry": geometry,
            "synthetic": self.synthetic,
            "shape": self.shape,
        }


# --- entry points ------------------------------------------------------------------------------


def import_jurisdictions(path: str | Path, *, actor: Any = None) -> str:
    """Validate and import a file; returns a one-line summary or raises ImportFailed."""
    path = Path(path)
    return import_jurisdictions_bytes(path.name, path.read_bytes(), actor=actor)


def import_uploaded(upload: Any, *, actor: Any = None) -> str:
    """The API's entry: an UploadedFile (multipart), read with a size limit."""
    size = getattr(upload, "size", None) or 0
    if size > MAX_FILE_BYTES:
        raise ImportFailed(
            [RowError(0, _("文件过大（上限 %(mb)d MB）") % {"mb": MAX_FILE_BYTES // 2**20}, "file")]
        )
    return import_jurisdictions_bytes(getattr(upload, "name", "") or "", upload.read(), actor=actor)


def import_jurisdictions_bytes(filename: str, data: bytes, *, actor: Any = None) -> str:
    """Read, validate and write; the writes and the audit entry share one transaction."""
    rows = read_rows(filename, data)
    by_level: dict[str, int] = {}
    for row in rows:
        by_level[row.level] = by_level.get(row.level, 0) + 1
    with transaction.atomic():
        validate_or_raise(rows)
        created, updated = save_jurisdictions(row.as_write_row() for row in rows)
        record(
            AuditAction.IMPORT,
            actor=actor,
            detail={
                "kind": "jurisdictions",
                "file": filename[:200],
                "created": created,
                "updated": updated,
                "by_level": by_level,
            },
        )
    return _("导入行政区划 %(total)d 条：新增 %(created)d，更新 %(updated)d（%(levels)s）") % {
        "total": len(rows),
        "created": created,
        "updated": updated,
        "levels": "，".join(
            f"{Level(k).label} {v}" for k, v in sorted(by_level.items(), key=lambda kv: DEPTH[kv[0]])
        ),
    }


def validate_or_raise(rows: list[Row]) -> None:
    errors = validate_rows(rows)
    if errors:
        raise ImportFailed(errors)


# --- reading -----------------------------------------------------------------------------------


def read_rows(filename: str, data: bytes) -> list[Row]:
    """Parse a file into rows by its extension; unreadable files raise ImportFailed (row 0)."""
    suffix = Path(filename).suffix.lower()
    if not data:
        raise ImportFailed([RowError(0, _("文件为空"), "file")])
    if suffix in (".geojson", ".json"):
        rows = _read_geojson(data)
    elif suffix in (".csv", ".xlsx"):
        rows = _read_table(read_table(data, suffix))
    else:
        raise ImportFailed(
            [
                RowError(
                    0,
                    _("不支持的文件类型 %(ext)s：请用 .geojson、.csv 或 .xlsx") % {"ext": suffix or "?"},
                    "file",
                )
            ]
        )
    if not rows:
        raise ImportFailed([RowError(0, _("文件中没有数据行"), "file")])
    return rows


def rows_from_dicts(records: Iterable[dict], first_number: int = 1) -> list[Row]:
    """Rows from dicts with the column names (e.g. generated demo rows), numbered from ``first_number``."""
    return [_row_from_record(n, rec) for n, rec in enumerate(records, start=first_number)]


def _read_geojson(data: bytes) -> list[Row]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ImportFailed([RowError(0, _("不是有效的 GeoJSON：%(err)s") % {"err": exc}, "file")]) from exc
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        raise ImportFailed([RowError(0, _("GeoJSON 必须是 FeatureCollection"), "file")])
    rows = []
    for number, feature in enumerate(doc["features"], start=1):
        if not isinstance(feature, dict):
            feature = {}
        props = feature.get("properties")
        if not isinstance(props, dict):
            props = {}
        record_ = {
            HEADER_ALIASES.get(str(k).strip().lower(), HEADER_ALIASES.get(str(k).strip(), "")): v
            for k, v in props.items()
        }
        record_["geometry"] = feature.get("geometry")
        rows.append(_row_from_record(number, record_))
    return rows


def _read_table(table: tuple[list[str], list[tuple[int, list[Any]]]]) -> list[Row]:
    header, lines = table
    columns = [HEADER_ALIASES.get(h.strip().lower(), HEADER_ALIASES.get(h.strip(), "")) for h in header]
    missing = [c for c in ("code", "name", "level", "parent_code") if c not in columns]
    if missing:
        raise ImportFailed(
            [RowError(1, _("缺少列 %(cols)s") % {"cols": "、".join(missing)}, c) for c in missing]
        )
    rows = []
    for number, values in lines:
        if is_blank(values):
            continue
        record_ = {col: values[i] if i < len(values) else None for i, col in enumerate(columns) if col}
        rows.append(_row_from_record(number, record_))
    return rows


def _row_from_record(number: int, rec: dict) -> Row:
    geometry = rec.get("geometry")
    if isinstance(geometry, str) and not geometry.strip():
        geometry = None
    level_text = cell_text(rec.get("level"))
    return Row(
        number=number,
        code=cell_text(rec.get("code")),
        name=cell_text(rec.get("name")),
        level=LEVEL_ALIASES.get(level_text, LEVEL_ALIASES.get(level_text.lower(), level_text)),
        parent_code=cell_text(rec.get("parent_code")),
        geometry=geometry,
        synthetic=cell_text(rec.get("synthetic")).lower() in TRUE_WORDS,
    )


# --- validation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Known:
    """A jurisdiction already in the database, as far as validation needs it."""

    code: str
    level: str
    parent_code: str
    geometry: dict | None


def validate_rows(rows: list[Row]) -> list[RowError]:
    """Every error in ``rows`` (empty list: all valid). Fills ``row.shape`` for good geometries."""
    errors: list[RowError] = []
    first_row: dict[str, int] = {}
    for row in rows:
        errors += _check_fields(row)
        if row.code:
            if row.code in first_row:
                errors.append(
                    RowError(
                        row.number,
                        _("代码 %(code)s 与第 %(n)d 行重复") % {"code": row.code, "n": first_row[row.code]},
                        "code",
                    )
                )
            else:
                first_row[row.code] = row.number
        errors += _check_geometry(row)
    in_file = {row.code: row for row in rows if row.code and first_row.get(row.code) == row.number}
    known = _known(set(in_file) | {r.parent_code for r in rows if r.parent_code})
    for row in rows:
        errors += _check_existing(row, known)
        errors += _check_parent(row, in_file, known)
    errors.sort(key=lambda e: (e.row, COLUMNS.index(e.field) if e.field in COLUMNS else 99))
    return errors


def _check_fields(row: Row) -> list[RowError]:
    errors = []
    if not row.code:
        errors.append(RowError(row.number, _("代码不能为空"), "code"))
    elif not row.code.isascii() or not row.code.isdigit():
        errors.append(RowError(row.number, _("代码只能由数字组成：%(code)s") % {"code": row.code}, "code"))
    elif len(row.code) > 24:
        errors.append(RowError(row.number, _("代码过长（最多 24 位）"), "code"))
    if not row.name:
        errors.append(RowError(row.number, _("名称不能为空"), "name"))
    elif len(row.name) > 60:
        errors.append(RowError(row.number, _("名称过长（最多 60 字）"), "name"))
    if not row.level:
        errors.append(RowError(row.number, _("层级不能为空"), "level"))
    elif row.level not in DEPTH:
        errors.append(
            RowError(
                row.number,
                _("未知层级 %(level)s，可选：%(choices)s")
                % {"level": row.level, "choices": "、".join(f"{lv.value}/{lv.label}" for lv in Level)},
                "level",
            )
        )
    if row.parent_code and (not row.parent_code.isascii() or not row.parent_code.isdigit()):
        errors.append(
            RowError(
                row.number, _("上级代码只能由数字组成：%(code)s") % {"code": row.parent_code}, "parent_code"
            )
        )
    return errors


def _check_geometry(row: Row) -> list[RowError]:
    if row.geometry is None:
        if row.level == Level.GRID:
            row.geometry_ok = False
            return [RowError(row.number, _("网格必须有边界"), "geometry")]
        return []
    row.geometry_ok = False
    try:
        geom = _parse_geometry(row.geometry)
    except ValueError as exc:
        return [RowError(row.number, str(exc), "geometry")]
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        return [
            RowError(
                row.number,
                _("边界必须是 Polygon 或 MultiPolygon，收到 %(t)s") % {"t": geom.geom_type},
                "geometry",
            )
        ]
    if geom.is_empty:
        return [RowError(row.number, _("边界为空"), "geometry")]
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        return [RowError(row.number, _("边界坐标超出经纬度范围，应为 WGS-84 经度、纬度"), "geometry")]
    if not geom.is_valid:
        return [
            RowError(
                row.number, _("边界无效（如自相交）：%(why)s") % {"why": explain_validity(geom)}, "geometry"
            )
        ]
    row.shape = geom
    row.geometry_ok = True
    return []


def _parse_geometry(value: Any) -> BaseGeometry:
    """GeoJSON dict, GeoJSON text or WKT text -> shapely geometry; ValueError with a Chinese message."""
    try:
        if isinstance(value, dict):
            return shapely.from_geojson(json.dumps(value))
        text = str(value).strip()
        if text.startswith("{"):
            return shapely.from_geojson(text)
        return shapely.from_wkt(text)
    except (GEOSException, ValueError, TypeError) as exc:
        raise ValueError(_("无法解析边界（应为 GeoJSON 或 WKT）：%(err)s") % {"err": str(exc)[:120]}) from exc


def _known(codes: set[str]) -> dict[str, _Known]:
    found: dict[str, _Known] = {}
    wanted = sorted(c for c in codes if c)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for code, level, parent_code, geometry in Jurisdiction.objects.filter(code__in=chunk).values_list(
            "code", "level", "parent__code", "geometry"
        ):
            found[code] = _Known(code, level, parent_code or "", geometry)
    return found


def _check_existing(row: Row, known: dict[str, _Known]) -> list[RowError]:
    current = known.get(row.code)
    if current is None or row.level not in DEPTH:
        return []
    errors = []
    if current.level != row.level:
        errors.append(
            RowError(
                row.number,
                _("代码 %(code)s 已存在且层级为 %(old)s，不能改为 %(new)s")
                % {"code": row.code, "old": Level(current.level).label, "new": Level(row.level).label},
                "level",
            )
        )
    if current.parent_code != row.parent_code:
        errors.append(
            RowError(
                row.number,
                _("代码 %(code)s 已存在且上级为 %(old)s，不能改为 %(new)s")
                % {"code": row.code, "old": current.parent_code or "-", "new": row.parent_code or "-"},
                "parent_code",
            )
        )
    return errors


def _check_parent(row: Row, in_file: dict[str, Row], known: dict[str, _Known]) -> list[RowError]:
    if row.level not in DEPTH or not row.code:
        return []
    if not row.parent_code:
        if row.level in ROOT_LEVELS:
            return []
        return [
            RowError(
                row.number, _("%(level)s必须填写上级代码") % {"level": Level(row.level).label}, "parent_code"
            )
        ]
    parent_row = in_file.get(row.parent_code)
    parent_known = known.get(row.parent_code)
    if parent_row is None and parent_known is None:
        return [
            RowError(
                row.number,
                _("上级代码 %(code)s 既不在文件中也不在系统中") % {"code": row.parent_code},
                "parent_code",
            )
        ]
    errors = []
    prefix = code_prefix(row.parent_code)
    if not row.code.startswith(prefix) or len(row.code) <= len(prefix) or row.code == row.parent_code:
        errors.append(
            RowError(
                row.number,
                _("代码 %(code)s 不在上级 %(parent)s 之下（应以 %(prefix)s 开头且更长）")
                % {"code": row.code, "parent": row.parent_code, "prefix": prefix},
                "code",
            )
        )
    parent_level = parent_row.level if parent_row is not None else parent_known.level  # type: ignore[union-attr]
    if parent_level in DEPTH and DEPTH[row.level] != DEPTH[parent_level] + 1:
        errors.append(
            RowError(
                row.number,
                _("层级 %(level)s 不是上级（%(parent)s）的下一级")
                % {"level": Level(row.level).label, "parent": Level(parent_level).label},
                "level",
            )
        )
    errors += _check_inside_parent(row, parent_row, parent_known)
    return errors


def _check_inside_parent(row: Row, parent_row: Row | None, parent_known: _Known | None) -> list[RowError]:
    if row.shape is None:
        return []
    if parent_row is not None:
        if not parent_row.geometry_ok:
            return []  # the parent's own error is reported on its row
        parent_shape = parent_row.shape
    else:
        parent_shape = shape_of(parent_known.geometry) if parent_known else None
    if parent_shape is None or not parent_shape.is_valid:
        return []
    area = row.shape.area
    outside = row.shape.difference(parent_shape).area if area else 0.0
    if area and outside > OUTSIDE_TOLERANCE * area:
        return [
            RowError(
                row.number,
                _("边界有 %(pct).1f%% 超出上级 %(parent)s 的边界")
                % {"pct": 100 * outside / area, "parent": row.parent_code},
                "geometry",
            )
        ]
    return []
