"""The Quzhou demo: the promised sizes, every role in two counties, valid people, loaded once."""

from __future__ import annotations

import io

import pytest

from pingan.accounts.choices import Role
from pingan.accounts.models import Unit, User
from pingan.core.idnumber import is_valid_id_number
from pingan.demo.loader import demo_logins, ensure_demo, load_demo
from pingan.geo.choices import Level
from pingan.geo.models import Jurisdiction
from pingan.people.models import Person


def count(level: Level) -> int:
    return Jurisdiction.objects.filter(level=level).count()


@pytest.mark.slow
def test_demo_tree_units_users_and_people(db):
    load_demo(stdout=io.StringIO(), people=5000, events=0)

    # The tree: the city, its six real counties, and the promised sizes below them.
    assert count(Level.CITY) == 1
    assert {j.code for j in Jurisdiction.objects.filter(level=Level.COUNTY)} == {
        "330802",
        "330803",
        "330822",
        "330824",
        "330825",
        "330881",
    }
    assert count(Level.TOWNSHIP) >= 40
    assert count(Level.VILLAGE) >= 400
    assert count(Level.GRID) >= 2000

    # Every role in 柯城区 and 江山市; the kinds of unit the loop dispatches to.
    for county in ("330802", "330881"):
        roles = set(
            User.objects.filter(scope_jurisdictions__code__startswith=county).values_list("role", flat=True)
        )
        assert roles == set(Role.values), county
    kinds = set(Unit.objects.values_list("kind", flat=True))
    assert {"department", "platform", "mediation", "police_station", "court", "centre"} <= kinds
    assert Unit.objects.filter(name__endswith="综治工作平台").count() == count(Level.TOWNSHIP)
    assert len(demo_logins()) == User.objects.count()

    # 5,000 people with checksum-valid IDs whose area code is their county's.
    assert Person.objects.count() == 5000
    sample = list(Person.objects.order_by("?")[:200])
    assert all(is_valid_id_number(p.id_number) for p in sample)
    assert all(p.area_code.startswith(p.id_number[:6]) for p in sample)

    # Running the demo again reuses what is there.
    out = io.StringIO()
    assert ensure_demo(stdout=out) is False
    assert Person.objects.count() == 5000
    assert "已存在" in out.getvalue()
