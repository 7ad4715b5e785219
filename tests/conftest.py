"""Shared personas and a small two-county tree (柯城区 and 江山市) for every test.

Personas (STYLE.md §6): 柯城 grid worker, 柯城 dispatcher, 江山 dispatcher, city leader,
admin, and the anonymous visitor. Build on them; do not invent others per test file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from pingan.accounts.choices import Role, UnitKind
from pingan.accounts.models import Unit, User
from pingan.geo.choices import Level
from pingan.geo.models import Jurisdiction

PASSWORD = "Pingan-test-2026"
pytest_plugins = ["tests.browser"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is deliberately slow; tests that do not test hashing use a fast hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _chinese_by_default():
    """Every test starts in the platform's language, whatever an earlier test activated."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _calendar_seeded(request):
    """Tests that flush the database (transactional_db, live_server) remove the seeded calendar;
    put it back before any test that uses the database."""
    names = request.fixturenames
    if "transactional_db" in names or "live_server" in names:
        request.getfixturevalue("transactional_db")
    elif "db" in names or request.node.get_closest_marker("django_db"):
        request.getfixturevalue("db")
    else:
        return
    from pingan.core.calendar import seed_default
    from pingan.core.models import WorkingDay

    if not WorkingDay.objects.exists():
        seed_default()


def box(lon0: float, lat0: float, lon1: float, lat1: float) -> dict:
    """A GeoJSON polygon for a lon/lat rectangle."""
    return {
        "type": "Polygon",
        "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]],
    }


@dataclass
class Tree:
    """The small jurisdiction tree every test can use."""

    city: Jurisdiction
    kecheng: Jurisdiction
    jiangshan: Jurisdiction
    kecheng_township: Jurisdiction
    jiangshan_township: Jurisdiction
    kecheng_village: Jurisdiction
    jiangshan_village: Jurisdiction
    kecheng_grid: Jurisdiction
    jiangshan_grid: Jurisdiction


def _node(code: str, name: str, level: Level, parent: Jurisdiction | None, geometry: dict) -> Jurisdiction:
    return Jurisdiction.objects.create(code=code, name=name, level=level, parent=parent, geometry=geometry)


@pytest.fixture
def tree(db) -> Tree:
    city = _node("330800", "衢州市", Level.CITY, None, box(118.0, 28.2, 119.4, 29.5))
    kecheng = _node("330802", "柯城区", Level.COUNTY, city, box(118.80, 28.90, 118.90, 29.00))
    jiangshan = _node("330881", "江山市", Level.COUNTY, city, box(118.50, 28.60, 118.60, 28.70))
    kt = _node("330802001", "信安街道", Level.TOWNSHIP, kecheng, box(118.80, 28.90, 118.90, 29.00))
    jt = _node("330881001", "虎山街道", Level.TOWNSHIP, jiangshan, box(118.50, 28.60, 118.60, 28.70))
    kv = _node("330802001001", "府山社区", Level.VILLAGE, kt, box(118.80, 28.90, 118.90, 29.00))
    jv = _node("330881001001", "鹿溪社区", Level.VILLAGE, jt, box(118.50, 28.60, 118.60, 28.70))
    kg = _node("330802001001001", "府山社区第1网格", Level.GRID, kv, box(118.80, 28.90, 118.90, 29.00))
    jg = _node("330881001001001", "鹿溪社区第1网格", Level.GRID, jv, box(118.50, 28.60, 118.60, 28.70))
    return Tree(city, kecheng, jiangshan, kt, jt, kv, jv, kg, jg)


@dataclass
class Units:
    kecheng_police: Unit
    jiangshan_police: Unit
    kecheng_platform: Unit
    jiangshan_platform: Unit
    city_centre: Unit


@pytest.fixture
def units(tree: Tree) -> Units:
    return Units(
        kecheng_police=Unit.objects.create(
            name="柯城区公安分局", kind=UnitKind.DEPARTMENT, jurisdiction=tree.kecheng
        ),
        jiangshan_police=Unit.objects.create(
            name="江山市公安局", kind=UnitKind.DEPARTMENT, jurisdiction=tree.jiangshan
        ),
        kecheng_platform=Unit.objects.create(
            name="信安街道综治工作平台",
            kind=UnitKind.PLATFORM,
            platform="zongzhi",
            jurisdiction=tree.kecheng_township,
        ),
        jiangshan_platform=Unit.objects.create(
            name="虎山街道综治工作平台",
            kind=UnitKind.PLATFORM,
            platform="zongzhi",
            jurisdiction=tree.jiangshan_township,
        ),
        city_centre=Unit.objects.create(
            name="衢州市社会治理中心", kind=UnitKind.CENTRE, jurisdiction=tree.city
        ),
    )


def make_user(username: str, role: Role, scope: Jurisdiction, unit: Unit | None = None, **extra: Any) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, role=role, unit=unit, **extra)
    user.scope_jurisdictions.add(scope)
    return user


@dataclass
class Personas:
    kecheng_grid_worker: User
    kecheng_dispatcher: User
    kecheng_handler: User
    jiangshan_dispatcher: User
    jiangshan_grid_worker: User
    city_leader: User
    admin: User


@pytest.fixture
def personas(tree: Tree, units: Units) -> Personas:
    admin = User.objects.create_superuser(username="admin", password=PASSWORD, role=Role.ADMIN)
    return Personas(
        kecheng_grid_worker=make_user(
            "kc_grid",
            Role.GRID_WORKER,
            tree.kecheng_grid,
            units.kecheng_platform,
            grid=tree.kecheng_grid,
            full_name="柯城网格员",
        ),
        kecheng_dispatcher=make_user("kc_dispatch", Role.DISPATCHER, tree.kecheng, full_name="柯城坐席"),
        kecheng_handler=make_user("kc_handler", Role.HANDLER, tree.kecheng, units.kecheng_police),
        jiangshan_dispatcher=make_user("js_dispatch", Role.DISPATCHER, tree.jiangshan, full_name="江山坐席"),
        jiangshan_grid_worker=make_user(
            "js_grid",
            Role.GRID_WORKER,
            tree.jiangshan_grid,
            units.jiangshan_platform,
            grid=tree.jiangshan_grid,
        ),
        city_leader=make_user("city_leader", Role.LEADER, tree.city, units.city_centre, full_name="市领导"),
        admin=admin,
    )


def login(user: User | None) -> Client:
    """A test client logged in as ``user`` (None: the anonymous visitor)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client
