"""/api/geo/: happy paths, 422 naming fields, 404 outside scope, 401 for the anonymous visitor."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from pingan.geo.coords import from_wgs84
from pingan.geo.models import Jurisdiction
from tests.conftest import login

KECHENG_POINT = {"lat": 28.95, "lon": 118.85}

ENDPOINTS = [
    "/api/geo/jurisdictions",
    "/api/geo/jurisdictions/330802",
    "/api/geo/outlines?level=grid",
    "/api/geo/locate?lat=28.95&lon=118.85",
    "/api/geo/locate?address=江山市虎山街道",
]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_anonymous_visitor_gets_401(personas, url):
    assert login(None).get(url).status_code == 401


def test_anonymous_import_gets_401(personas):
    upload = SimpleUploadedFile("j.csv", b"code,name,level,parent_code\n")
    assert login(None).post("/api/geo/import", {"file": upload}).status_code == 401


# --- list --------------------------------------------------------------------------------------


def test_list_paginates_and_filters(personas):
    client = login(personas.admin)
    body = client.get("/api/geo/jurisdictions").json()
    assert body["count"] == 9
    assert body["items"][0] == {
        "code": "330800",
        "name": "衢州市",
        "level": "city",
        "parent_code": None,
        "lat": None,
        "lon": None,
    }
    grids = client.get("/api/geo/jurisdictions?level=grid").json()["items"]
    assert [g["code"] for g in grids] == ["330802001001001", "330881001001001"]
    children = client.get("/api/geo/jurisdictions?parent=330800").json()["items"]
    assert [c["code"] for c in children] == ["330802", "330881"]
    found = client.get("/api/geo/jurisdictions?q=虎山").json()["items"]
    assert [f["code"] for f in found] == ["330881001"]
    page = client.get("/api/geo/jurisdictions?page=2&page_size=4").json()
    assert [i["code"] for i in page["items"]] == ["330802001001001", "330881", "330881001", "330881001001"]


def test_list_shows_only_the_users_county(personas):
    body = login(personas.jiangshan_dispatcher).get("/api/geo/jurisdictions").json()
    codes = [i["code"] for i in body["items"]]
    assert codes == ["330881", "330881001", "330881001001", "330881001001001"]
    assert not any(c.startswith("330802") for c in codes)


def test_list_rejects_unknown_level(personas):
    response = login(personas.admin).get("/api/geo/jurisdictions?level=planet")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "level"]


# --- detail ------------------------------------------------------------------------------------


def test_grid_detail_has_chain_children_and_workers(personas, tree):
    body = login(personas.kecheng_grid_worker).get("/api/geo/jurisdictions/330802001001001").json()
    assert body["name"] == "府山社区第1网格" and body["parent_code"] == "330802001001"
    assert [a["code"] for a in body["ancestors"]] == ["330800", "330802", "330802001", "330802001001"]
    assert body["ancestors"][1] == {"code": "330802", "name": "柯城区", "level": "county"}
    assert body["children_count"] == 0 and body["synthetic"] is False
    assert body["workers"] == [{"username": "kc_grid", "name": "柯城网格员"}]


def test_county_detail_counts_children(personas):
    body = login(personas.city_leader).get("/api/geo/jurisdictions/330802").json()
    assert body["children_count"] == 1 and body["workers"] == []


@pytest.mark.parametrize("code", ["330802001001001", "330802", "330800", "999999"])
def test_detail_outside_scope_is_404(personas, code):
    assert login(personas.jiangshan_dispatcher).get(f"/api/geo/jurisdictions/{code}").status_code == 404


# --- outlines ----------------------------------------------------------------------------------


def test_outlines_are_a_feature_collection_rounded_to_6_decimals(personas, tree):
    Jurisdiction.objects.filter(pk=tree.kecheng_grid.pk).update(
        geometry={
            "type": "Polygon",
            "coordinates": [[[118.8000001234, 28.9], [118.9, 28.9], [118.9, 29.0], [118.8000001234, 28.9]]],
        }
    )
    client = login(personas.admin)
    from pingan.geo import locate

    locate.invalidate()
    body = client.get("/api/geo/outlines?level=grid").json()
    assert body["type"] == "FeatureCollection"
    assert [f["properties"] for f in body["features"]] == [
        {
            "code": "330802001001001",
            "name": "府山社区第1网格",
            "level": "grid",
            "parent_code": "330802001001",
        },
        {
            "code": "330881001001001",
            "name": "鹿溪社区第1网格",
            "level": "grid",
            "parent_code": "330881001001",
        },
    ]
    assert body["features"][0]["geometry"]["coordinates"][0][0] == [118.8, 28.9]
    counties = client.get("/api/geo/outlines").json()
    assert [f["properties"]["code"] for f in counties["features"]] == ["330802", "330881"]
    within = client.get("/api/geo/outlines?level=grid&within=330881").json()
    assert [f["properties"]["code"] for f in within["features"]] == ["330881001001001"]


def test_outlines_show_no_other_county(personas):
    client = login(personas.jiangshan_dispatcher)
    for level in ("county", "township", "village", "grid"):
        features = client.get(f"/api/geo/outlines?level={level}").json()["features"]
        assert features and all(f["properties"]["code"].startswith("330881") for f in features)
    assert client.get("/api/geo/outlines?level=city").json()["features"] == []
    assert client.get("/api/geo/outlines?level=grid&within=330802").status_code == 404


def test_outlines_reflect_a_rename(personas, tree):
    client = login(personas.admin)
    client.get("/api/geo/outlines?level=county")  # fills the cache
    tree.kecheng.name = "柯城区（改）"
    tree.kecheng.save()
    names = [f["properties"]["name"] for f in client.get("/api/geo/outlines?level=county").json()["features"]]
    assert names == ["柯城区（改）", "江山市"]


# --- locate ------------------------------------------------------------------------------------


def test_locate_point_returns_grid_and_chain(personas):
    response = login(personas.kecheng_dispatcher).get("/api/geo/locate", KECHENG_POINT)
    assert response.status_code == 200
    assert response.json() == {
        "grid": {"code": "330802001001001", "name": "府山社区第1网格"},
        "chain": [
            {"code": "330800", "name": "衢州市", "level": "city"},
            {"code": "330802", "name": "柯城区", "level": "county"},
            {"code": "330802001", "name": "信安街道", "level": "township"},
            {"code": "330802001001", "name": "府山社区", "level": "village"},
        ],
        "crs": "wgs84",
        "wgs84": {"lat": 28.95, "lon": 118.85},
    }


def test_locate_accepts_gcj02(personas):
    lat, lon = from_wgs84(28.95, 118.85, "gcj02")
    body = (
        login(personas.kecheng_dispatcher)
        .get("/api/geo/locate", {"lat": lat, "lon": lon, "crs": "gcj02"})
        .json()
    )
    assert body["grid"]["code"] == "330802001001001" and body["crs"] == "gcj02"
    assert body["wgs84"]["lat"] == pytest.approx(28.95, abs=2e-5)


def test_locate_point_in_no_grid_is_404_in_chinese(personas):
    response = login(personas.admin).get("/api/geo/locate", {"lat": 28.8, "lon": 118.7})
    assert response.status_code == 404
    assert "网格" in response.json()["detail"]


def test_locate_grid_outside_scope_is_404(personas):
    response = login(personas.jiangshan_dispatcher).get("/api/geo/locate", KECHENG_POINT)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": 91, "lon": 118.85}, "lat"),
        ({"lat": "abc", "lon": 118.85}, "lat"),
        ({"lat": "nan", "lon": 118.85}, "lat"),
        ({"lat": 28.95, "lon": 200}, "lon"),
        ({"lat": 28.95, "lon": "1e999"}, "lon"),
        ({"lat": 28.95}, "lon"),
        ({}, "lat"),
        ({"lat": 28.95, "lon": 118.85, "crs": "epsg3857"}, "crs"),
    ],
)
def test_locate_bad_input_is_422_naming_the_field(personas, params, field):
    response = login(personas.admin).get("/api/geo/locate", params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == field


def test_locate_address(personas, tree):
    client = login(personas.jiangshan_dispatcher)
    body = client.get("/api/geo/locate", {"address": "浙江省衢州市江山市虎山街道鹿溪南路1号"}).json()
    assert body == {
        "county": {"code": "330881", "name": "江山市"},
        "township": {"code": "330881001", "name": "虎山街道"},
    }
    # An address in another county is not revealed to a 江山 user.
    other = client.get("/api/geo/locate", {"address": "衢州市柯城区信安街道"}).json()
    assert other == {"county": None, "township": None}


# --- import ------------------------------------------------------------------------------------

CSV_OK = (
    "code,name,level,parent_code,geometry\n"
    '330881002,双塔街道,township,330881,"POLYGON((118.55 28.6, 118.6 28.6, 118.6 28.65, 118.55 28.65, 118.55 28.6))"\n'
)


def test_import_by_superuser(personas):
    upload = SimpleUploadedFile("j.csv", CSV_OK.encode())
    response = login(personas.admin).post("/api/geo/import", {"file": upload})
    assert response.status_code == 200, response.content
    assert "新增 1" in response.json()["summary"]
    assert Jurisdiction.objects.filter(code="330881002").exists()


def test_import_with_permission(personas):
    user = personas.jiangshan_dispatcher
    user.user_permissions.add(Permission.objects.get(codename="add_jurisdiction"))
    upload = SimpleUploadedFile("j.csv", CSV_OK.encode())
    assert login(user).post("/api/geo/import", {"file": upload}).status_code == 200


def test_import_without_permission_is_403(personas):
    upload = SimpleUploadedFile("j.csv", CSV_OK.encode())
    response = login(personas.kecheng_dispatcher).post("/api/geo/import", {"file": upload})
    assert response.status_code == 403
    assert not Jurisdiction.objects.filter(code="330881002").exists()


def test_import_errors_are_422_listing_every_row(personas):
    content = "code,name,level,parent_code\n330881002,,township,330881\n330881003,x,nope,330881\n"
    before = Jurisdiction.objects.count()
    response = login(personas.admin).post(
        "/api/geo/import", {"file": SimpleUploadedFile("j.csv", content.encode())}
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [(d["loc"], d["field"]) for d in detail] == [(["file", 2], "name"), (["file", 3], "level")]
    assert all(d["msg"] for d in detail)
    assert Jurisdiction.objects.count() == before


@pytest.mark.parametrize(
    ("name", "content"),
    [("j.xlsx", b"garbage"), ("j.geojson", b"\xff\xfe"), ("j.exe", b"MZ"), ("j.csv", b"\x00\x01,\x02")],
)
def test_import_garbage_is_422_not_500(personas, name, content):
    response = login(personas.admin).post("/api/geo/import", {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 422
    assert json.loads(response.content)["detail"][0]["loc"][0] == "file"


def test_import_without_file_is_422(personas):
    response = login(personas.admin).post("/api/geo/import", {})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]


def test_import_permission_is_checked_before_the_input(personas):
    response = login(personas.kecheng_dispatcher).post(
        "/api/geo/import", data=json.dumps({}), content_type="application/json"
    )
    assert response.status_code == 403
