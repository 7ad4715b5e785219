"""The Quzhou demo geography: real counties, enough synthetic tiers, valid for the importer."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import shapely

from pingan.demo.geography import COUNTIES, build_quzhou_rows, county_outlines, load_rows
from pingan.geo import locate
from pingan.geo.importer import rows_from_dicts, validate_rows
from pingan.geo.models import Jurisdiction


@pytest.fixture(scope="module")
def rows():
    return build_quzhou_rows(seed=2026)


def _shape(row: dict):
    return shapely.from_geojson(json.dumps(row["geometry"]))


def test_tree_sizes_and_codes(rows):
    levels = Counter(r["level"] for r in rows)
    assert levels["city"] == 1 and levels["county"] == 6
    assert levels["township"] >= 40 and levels["village"] >= 400 and levels["grid"] >= 2000
    lengths = {"city": 6, "county": 6, "township": 9, "village": 12, "grid": 15}
    assert all(len(r["code"]) == lengths[r["level"]] for r in rows)
    assert len({r["code"] for r in rows}) == len(rows)
    names = {r["code"]: r["name"] for r in rows}
    assert names["330802"] == "柯城区" and names["330881"] == "江山市"
    assert "信安街道" in {r["name"] for r in rows if r["parent_code"] == "330802"}
    assert names["330802001001001"].endswith("第1网格")


def test_counties_are_real_and_lower_tiers_synthetic(rows):
    for row in rows:
        assert row["synthetic"] is (row["level"] not in ("city", "county"))
    kecheng = _shape(next(r for r in rows if r["code"] == "330802"))
    # The real 柯城区 outline contains the district government (about 118.87 E, 28.94 N, WGS-84).
    assert kecheng.contains(shapely.Point(118.873, 28.936))
    assert set(county_outlines()) == set(COUNTIES)


def test_every_polygon_is_valid_and_children_tile_their_parent(rows):
    shapes = {r["code"]: _shape(r) for r in rows}
    assert all(
        g.is_valid and not g.is_empty and g.geom_type in ("Polygon", "MultiPolygon") for g in shapes.values()
    )
    children: dict[str, list] = {}
    for r in rows:
        if r["parent_code"]:
            children.setdefault(r["parent_code"], []).append(shapes[r["code"]])
    for parent_code in ("330802", "330881001", "330803001001"):
        union = shapely.union_all(children[parent_code])
        assert union.symmetric_difference(shapes[parent_code]).area < 1e-6 * shapes[parent_code].area


def test_same_seed_gives_same_rows(rows):
    again = build_quzhou_rows(seed=2026)
    assert [r["code"] for r in again] == [r["code"] for r in rows]
    assert again[500]["geometry"] == rows[500]["geometry"]
    other = build_quzhou_rows(seed=7)
    assert other[500]["geometry"] != rows[500]["geometry"]


def test_rows_pass_the_importers_validation(db, rows):
    assert validate_rows(rows_from_dicts(rows)) == []


def test_load_rows_writes_everything_and_locate_finds_a_kecheng_grid(db, rows):
    assert load_rows(rows) == len(rows)
    assert Jurisdiction.objects.count() == len(rows)
    grid = Jurisdiction.objects.get(code="330802001001001")
    assert grid.parent.code == "330802001001" and grid.synthetic and grid.lat is not None
    found = locate.locate_point(grid.lat, grid.lon)
    assert found == grid
    # Loading again updates in place instead of duplicating.
    assert load_rows(rows[:10]) == 10
    assert Jurisdiction.objects.count() == len(rows)
