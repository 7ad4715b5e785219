"""Point → grid, chain, address: concrete answers on the two-county tree and the demo geography."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from django.utils import timezone

from pingan.demo.geography import build_quzhou_rows, load_rows
from pingan.geo import locate
from pingan.geo.choices import Level
from pingan.geo.coords import CoordinateError, from_wgs84, to_wgs84
from pingan.geo.models import Jurisdiction
from tests.conftest import box

# Inside 柯城 (box 118.80–118.90, 28.90–29.00) and inside 江山 (118.50–118.60, 28.60–28.70).
KECHENG_POINT = (28.95, 118.85)
JIANGSHAN_POINT = (28.65, 118.55)


@pytest.fixture(scope="module")
def demo_rows():
    return build_quzhou_rows(seed=2026)


def test_point_inside_grid_returns_that_grid(tree):
    assert locate.locate_point(*KECHENG_POINT) == tree.kecheng_grid
    assert locate.locate_point(*JIANGSHAN_POINT) == tree.jiangshan_grid


def test_point_outside_every_grid_returns_none(tree):
    assert locate.locate_point(28.80, 118.70) is None
    assert locate.locate_point(40.0, 116.4) is None  # Beijing


def test_point_on_grid_edge_belongs_to_the_grid(tree):
    assert locate.locate_point(28.90, 118.85) == tree.kecheng_grid
    assert locate.locate_point(29.00, 118.90) == tree.kecheng_grid  # corner


@pytest.mark.parametrize("crs", ["gcj02", "bd09", "GCJ-02", "BD09"])
def test_gcj02_and_bd09_input_lands_in_the_same_grid(tree, crs):
    lat, lon = from_wgs84(*KECHENG_POINT, crs)
    # The shift is hundreds of metres: the conversion really happened.
    assert abs(lat - KECHENG_POINT[0]) + abs(lon - KECHENG_POINT[1]) > 0.002
    assert locate.locate_point(lat, lon, crs=crs) == tree.kecheng_grid
    back = to_wgs84(lat, lon, crs)
    assert back == pytest.approx(KECHENG_POINT, abs=2e-5)  # about 2 m


@pytest.mark.parametrize(
    ("lat", "lon", "crs", "field"),
    [
        (91, 118.0, "wgs84", "lat"),
        (-90.5, 118.0, "wgs84", "lat"),
        (float("nan"), 118.0, "wgs84", "lat"),
        (28.9, 180.01, "wgs84", "lon"),
        (28.9, float("inf"), "wgs84", "lon"),
        (28.9, 118.8, "cgcs2000", "crs"),
    ],
)
def test_bad_coordinates_raise_value_error_naming_the_field(tree, lat, lon, crs, field):
    with pytest.raises(ValueError) as info:
        locate.locate_point(lat, lon, crs=crs)
    assert isinstance(info.value, CoordinateError)
    assert info.value.field == field


def test_locate_many_returns_ids_and_minus_one(tree):
    ids = locate.locate_many([28.95, 28.65, 28.80, float("nan")], [118.85, 118.55, 118.70, 118.85])
    assert ids.tolist() == [tree.kecheng_grid.pk, tree.jiangshan_grid.pk, -1, -1]


def test_locate_many_rejects_mismatched_lengths(tree):
    with pytest.raises(ValueError):
        locate.locate_many([28.9, 28.8], [118.8])


def test_index_rebuilds_after_a_grid_is_added(tree):
    point = (28.65, 118.65)  # east of 江山's grid
    assert locate.locate_point(*point) is None
    new = Jurisdiction.objects.create(
        code="330881001001002",
        name="鹿溪社区第2网格",
        level=Level.GRID,
        parent=tree.jiangshan_village,
        geometry=box(118.60, 28.60, 118.70, 28.70),
    )
    assert locate.locate_point(*point) == new


def test_index_notices_changes_made_by_another_process(tree, monkeypatch):
    assert locate.locate_point(*KECHENG_POINT) == tree.kecheng_grid
    locate.current_index()  # built and fresh
    # QuerySet.update sends no signal: this is what another process's write looks like here.
    Jurisdiction.objects.filter(pk=tree.kecheng_grid.pk).update(
        geometry=box(118.80, 28.90, 118.84, 29.00), updated_at=timezone.now()
    )
    monkeypatch.setattr(locate, "STAMP_TTL", 0.0)
    assert locate.locate_point(*KECHENG_POINT) is None


def test_overlapping_grids_resolve_to_the_smallest_code(tree):
    Jurisdiction.objects.create(
        code="330802001001000",
        name="重叠网格",
        level=Level.GRID,
        parent=tree.kecheng_village,
        geometry=box(118.84, 28.94, 118.86, 28.96),
    )
    assert locate.locate_point(*KECHENG_POINT).code == "330802001001000"
    ids = locate.locate_many([KECHENG_POINT[0]], [KECHENG_POINT[1]])
    assert Jurisdiction.objects.get(pk=ids[0]).code == "330802001001000"


def _boundary_points(geoms: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Points on, and a hair's breadth off, grid boundaries (the hard cases)."""
    boundaries = shapely.boundary(geoms[rng.integers(0, len(geoms), n)])
    on = shapely.get_coordinates(
        shapely.line_interpolate_point(boundaries, rng.uniform(0, 1, n), normalized=True)
    )
    jitter = rng.choice([0.0, 1e-9, -1e-9, 1e-7, -1e-7], size=(n, 2))
    return on + jitter


def test_locate_many_equals_locate_point_and_brute_force(db, demo_rows):
    load_rows(demo_rows)
    index = locate.current_index()
    assert index.raster is not None and len(index.geoms) >= 2000
    rng = np.random.default_rng(7)
    minx, miny, maxx, maxy = shapely.total_bounds(index.geoms)
    uniform = np.column_stack(
        [rng.uniform(minx - 0.01, maxx + 0.01, 1000), rng.uniform(miny - 0.01, maxy + 0.01, 1000)]
    )
    vertices = shapely.get_coordinates(index.geoms[:50])[:200]
    points = np.vstack([uniform, _boundary_points(index.geoms, 800, rng), vertices])
    xs, ys = points[:, 0], points[:, 1]

    bulk = locate.locate_many(ys, xs)

    one_by_one = []
    for lat, lon in zip(ys, xs, strict=True):
        grid = locate.locate_point(lat, lon)
        one_by_one.append(grid.pk if grid else -1)
    assert bulk.tolist() == one_by_one
    # Brute force: the smallest code among grids that cover the point.
    by_code = sorted(
        (code, pk, shapely.from_geojson(json.dumps(geometry)))
        for pk, code, geometry in Jurisdiction.objects.filter(level=Level.GRID).values_list(
            "id", "code", "geometry"
        )
    )
    polys = np.array([g for _c, _pk, g in by_code])
    pks = np.array([pk for _c, pk, _g in by_code])
    for i in rng.choice(len(points), 300, replace=False):
        covering = np.flatnonzero(shapely.intersects_xy(polys, xs[i], ys[i]))
        assert bulk[i] == (pks[covering[0]] if len(covering) else -1)
    assert (bulk >= 0).sum() > 1000  # the sample really exercised grids


def test_chain_is_top_down_in_one_query(tree, django_assert_num_queries):
    grid = Jurisdiction.objects.get(pk=tree.kecheng_grid.pk)
    with django_assert_num_queries(1):
        ancestors = locate.chain(grid)
    assert [a.code for a in ancestors] == ["330800", "330802", "330802001", "330802001001"]
    assert locate.chain(tree.city) == []


def test_address_gives_county_and_township(tree):
    found = locate.locate_address("浙江省衢州市江山市虎山街道鹿溪南路1号")
    assert found == {"county": tree.jiangshan, "township": tree.jiangshan_township}


def test_address_with_only_a_city_finds_a_unique_township(tree):
    found = locate.locate_address("衢州市信安街道某小区")
    assert found == {"county": tree.kecheng, "township": tree.kecheng_township}


def test_address_county_without_known_township(tree):
    found = locate.locate_address("江山市某某路8号")
    assert found == {"county": tree.jiangshan, "township": None}


@pytest.mark.parametrize("text", ["", "   ", "北京市朝阳区建国路", "无法识别的文字"])
def test_unrecognised_address_gives_nothing(tree, text):
    assert locate.locate_address(text) == {"county": None, "township": None}


def test_no_grids_at_all_locates_nothing(db):
    locate.invalidate()
    assert locate.locate_point(*KECHENG_POINT) is None
    assert locate.locate_many([28.9], [118.8]).tolist() == [-1]


def test_malformed_stored_outline_is_skipped(tree):
    Jurisdiction.objects.filter(pk=tree.jiangshan_grid.pk).update(
        geometry={"type": "Polygon", "coordinates": "x"}
    )
    locate.invalidate()
    assert locate.locate_point(*JIANGSHAN_POINT) is None
    assert locate.locate_point(*KECHENG_POINT) == tree.kecheng_grid
