"""The Quzhou demo: the promised sizes, every role in two counties, valid people."""

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


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        load_demo(stdout=io.StringIO(), people=5000)
        yield
        from django.core.management import call_command

        call_command("flush", "--no-input", verbosity=0)


def count(level: Level) -> int:
    return Jurisdiction.objects.filter(level=level).count()


@pytest.mark.slow
def test_demo_has_the_promised_tree(demo, django_db_blocker):
    with django_db_blocker.unblock():
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


@pytest.mark.slow
def test_demo_has_every_role_in_two_counties(demo, django_db_blocker):
    with django_db_blocker.unblock():
        for county in ("330802", "330881"):
            roles = set(
                User.objects.filter(scope_jurisdictions__code__startswith=county).values_list(
                    "role", flat=True
                )
            )
            assert roles == set(Role.values), county
        kinds = set(Unit.objects.values_list("kind", flat=True))
        assert {"department", "platform", "mediation", "police_station", "court", "centre"} <= kinds
        assert Unit.objects.filter(name__endswith="综治工作平台").count() == count(Level.TOWNSHIP)
        assert len(demo_logins()) == User.objects.count()


@pytest.mark.slow
def test_demo_people_have_valid_ids_and_are_encrypted(demo, django_db_blocker):
    with django_db_blocker.unblock():
        assert Person.objects.count() == 5000
        sample = list(Person.objects.order_by("?")[:200])
        assert all(is_valid_id_number(p.id_number) for p in sample)
        assert all(p.area_code.startswith(p.id_number[:6]) for p in sample)


@pytest.mark.slow
def test_running_the_demo_again_reuses_it(demo, django_db_blocker):
    with django_db_blocker.unblock():
        before = Person.objects.count()
        out = io.StringIO()
        assert ensure_demo(stdout=out) is False
        assert Person.objects.count() == before
        assert "已存在" in out.getvalue()
