"""Synthetic residents: valid, reproducible, fast to load, sealed like real ones."""

from __future__ import annotations

import time

import pytest

from pingan.core.idnumber import parse_id_number
from pingan.core.pii import normalize_phone
from pingan.people.models import Person
from pingan.people.services import find_people
from pingan.people.synthetic import bulk_create_people, fake_people

pytestmark = pytest.mark.django_db


def test_fake_people_are_valid_and_reproducible(tree):
    villages = [tree.kecheng_village, tree.jiangshan_village]
    people = fake_people(300, villages, seed=7)
    assert people == fake_people(300, villages, seed=7)
    assert len({p["id_number"] for p in people}) == 300
    for p in people:
        info = parse_id_number(p["id_number"])
        assert info.area_code == p["jurisdiction"].code[:6]
        assert 1940 <= info.birth_date.year <= 2008
        assert (info.sex, info.birth_date.year) == (p["sex"], p["birth_year"])
        assert normalize_phone(p["phone"]).startswith("+861")
        assert 2 <= len(p["name"]) <= 4
    jiangshan = [p for p in people if p["jurisdiction"] == tree.jiangshan_village]
    assert jiangshan and all(p["address"].startswith("江山市虎山街道") for p in jiangshan)
    assert all(p["address"].endswith("号") for p in people)


def test_bulk_create_encrypts_indexes_and_is_fast(tree, personas):
    rows = fake_people(5000, [tree.kecheng_village, tree.jiangshan_village], seed=2026)
    started = time.monotonic()
    assert bulk_create_people(rows) == 5000
    elapsed = time.monotonic() - started
    assert elapsed < 10, elapsed  # a few seconds on a laptop; generous for CI
    first = rows[0]
    found = list(find_people(personas.admin, id_number=first["id_number"]))
    assert len(found) == 1 and found[0].name == first["name"]
    assert list(find_people(personas.admin, phone=first["phone"])) == found
    # Loading the same rows again adds nobody (ID numbers already registered).
    assert bulk_create_people(rows[:10]) == 0
    assert Person.objects.count() == 5000
