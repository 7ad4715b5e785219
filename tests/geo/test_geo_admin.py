"""The jurisdiction admin lists, searches and shows an outline summary."""

from __future__ import annotations

from tests.conftest import login


def test_admin_changelist_search_and_filter(personas):
    client = login(personas.admin)
    response = client.get("/admin/geo/jurisdiction/", {"q": "虎山", "level__exact": "township"})
    assert response.status_code == 200
    assert "330881001" in response.content.decode() and "330802001" not in response.content.decode()


def test_admin_change_page_shows_geometry_summary(personas, tree):
    response = login(personas.admin).get(f"/admin/geo/jurisdiction/{tree.kecheng_grid.pk}/change/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Polygon" in body and "5 个顶点" in body and "有效" in body
