"""The API describes itself at /api/openapi.json and documents itself at /api/docs, offline."""

from __future__ import annotations

from tests.conftest import login


def test_openapi_lists_every_router(personas):
    spec = login(personas.admin).get("/api/openapi.json").json()
    paths = set(spec["paths"])
    for expected in ("/api/geo/locate", "/api/people/", "/api/accounts/units", "/api/core/calendar/period"):
        assert expected in paths


def test_docs_page_loads_nothing_from_the_internet(personas):
    page = login(personas.admin).get("/api/docs").content.decode()
    assert "swagger-ui-bundle.js" in page
    assert "/static/ninja/" in page
    assert "cdn." not in page and "https://" not in page
