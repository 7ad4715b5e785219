"""Locate API cost: a point request answers from the in-memory index, so its queries are the
session, the user and the user's scope prefixes (docs/performance.md, "Locate")."""

from __future__ import annotations

import pytest
from django.utils import timezone

from pingan.accounts.models import User
from pingan.core.scoping import in_scope, scope_prefixes, visible_to
from pingan.geo import locate
from pingan.geo.models import Jurisdiction
from tests.conftest import login

KECHENG_POINT = {"lat": 28.95, "lon": 118.85}


@pytest.fixture
def fresh_index(tree, monkeypatch):
    """A built index whose freshness check (one query every STAMP_TTL seconds) stays out of
    the counts below."""
    locate.invalidate()
    locate.current_index()
    monkeypatch.setattr(locate, "STAMP_TTL", 3600.0)


@pytest.mark.parametrize(
    ("persona", "status", "queries"),
    [
        ("kecheng_dispatcher", 200, 3),  # session, user, scope prefixes
        ("jiangshan_dispatcher", 404, 3),  # outside the scope: the same cost, no leak
        ("admin", 200, 2),  # a superuser's scope needs no query
    ],
)
def test_locate_point_queries(personas, fresh_index, django_assert_max_num_queries, persona, status, queries):
    client = login(getattr(personas, persona))
    with django_assert_max_num_queries(queries):
        response = client.get("/api/geo/locate", KECHENG_POINT)
    assert response.status_code == status


def test_scope_prefixes_are_read_once_per_user(personas, django_assert_num_queries):
    user = User.objects.get(pk=personas.kecheng_dispatcher.pk)
    with django_assert_num_queries(2):  # the prefixes once; then the filtered jurisdictions
        assert in_scope(user, "330802001001001")
        assert not in_scope(user, "330881001001001")
        assert scope_prefixes(user) == ["330802"]
        codes = set(visible_to(Jurisdiction.objects.all(), user).values_list("code", flat=True))
    assert codes == {"330802", "330802001", "330802001001", "330802001001001"}


def test_index_chain_matches_the_database(tree, fresh_index):
    found = locate.locate_grid(KECHENG_POINT["lat"], KECHENG_POINT["lon"])
    assert found is not None
    grid, ancestors = found
    assert (grid.pk, grid.code, grid.name, grid.level) == (
        tree.kecheng_grid.pk,
        "330802001001001",
        "府山社区第1网格",
        "grid",
    )
    expected = locate.chain(tree.kecheng_grid)
    assert [(a.pk, a.code, a.name, a.level) for a in ancestors] == [
        (a.pk, a.code, a.name, a.level) for a in expected
    ]
    assert locate.locate_grid(28.80, 118.70) is None  # in no grid


def test_renamed_ancestor_shows_in_the_chain(personas, tree):
    client = login(personas.admin)
    client.get("/api/geo/locate", KECHENG_POINT)  # index built
    tree.kecheng.name = "柯城区（新）"
    tree.kecheng.save()  # the save signal drops the index
    chain = client.get("/api/geo/locate", KECHENG_POINT).json()["chain"]
    assert chain[1]["name"] == "柯城区（新）"


def test_ancestor_renamed_by_another_process_is_noticed(personas, tree, monkeypatch):
    client = login(personas.admin)
    client.get("/api/geo/locate", KECHENG_POINT)  # index built
    # QuerySet.update sends no signal: this is what another process's write looks like here.
    Jurisdiction.objects.filter(pk=tree.kecheng_township.pk).update(
        name="信安街道（新）", updated_at=timezone.now()
    )
    monkeypatch.setattr(locate, "STAMP_TTL", 0.0)
    chain = client.get("/api/geo/locate", KECHENG_POINT).json()["chain"]
    assert chain[2]["name"] == "信安街道（新）"
