"""The ``__under`` lookup of the scoping function: a code path prefix, as an indexable range."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pingan.core.scoping import code_prefix
from pingan.geo.models import Jurisdiction


@pytest.mark.django_db
def test_under_finds_the_codes_below_a_path_and_nothing_beside_it(tree):
    codes = set(Jurisdiction.objects.filter(code__under="330802").values_list("code", flat=True))
    assert codes == {
        tree.kecheng.code,
        tree.kecheng_township.code,
        tree.kecheng_village.code,
        tree.kecheng_grid.code,
    }
    # 330800 is the city: its path is "3308", which holds both counties and the city itself.
    city = set(Jurisdiction.objects.filter(code__under=code_prefix("330800")).values_list("code", flat=True))
    assert {"330800", "330802", "330881"} <= city
    # A path ending in 9 must not run into the next digit's codes (3308019 < x < 330802).
    assert not Jurisdiction.objects.filter(code__under="3308019").exists()
    assert Jurisdiction.objects.filter(code__under="").count() == Jurisdiction.objects.count()


@pytest.mark.django_db
def test_under_is_a_range_not_a_like(tree):
    with CaptureQueriesContext(connection) as ctx:
        list(Jurisdiction.objects.filter(code__under="330802"))
    sql = ctx.captured_queries[0]["sql"]
    assert "LIKE" not in sql.upper() and ">=" in sql and "330803" in sql
