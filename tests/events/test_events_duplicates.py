"""Near-duplicates: same category, close in metres and hours, similar words, open, same county."""

from __future__ import annotations

import pytest

from pingan.cases.choices import Action, Channel
from pingan.cases.services import transition
from pingan.events.duplicates import distance_m, find_duplicates, jaccard, tokens
from tests.events.conftest import KC_POINT, local, north

FIRST = "小区门口暴露垃圾无人清理"
SIMILAR = "小区门口有暴露垃圾没人清理"


@pytest.fixture
def first(report):
    return report(title=FIRST, at=local(2026, 11, 23, 9, 0))


def _second(report, metres: float = 150, hours: int = 10, **kwargs):
    lat, lon = north(KC_POINT, metres)
    at = local(2026, 11, 23 + (9 + hours) // 24, (9 + hours) % 24, 0)
    return report(**{"title": SIMILAR, "lat": lat, "lon": lon, "at": at, **kwargs})


def test_similar_report_150_m_and_10_h_apart_is_a_duplicate(report, first):
    second = _second(report, metres=150, hours=10)
    assert distance_m(first.lat, first.lon, second.lat, second.lon) == pytest.approx(150, abs=1)
    # Words: {小区, 门口, 暴露, 垃圾, 无人, 清理} and {小区, 门口, 暴露, 垃圾, 没, 人, 清理}: 5 of 8.
    assert find_duplicates(second) == [(first, 0.625)]
    assert find_duplicates(first) == [(second, 0.625)]


def test_300_m_apart_is_not_a_duplicate(report, first):
    assert find_duplicates(_second(report, metres=300)) == []


def test_80_h_apart_is_not_a_duplicate(report, first):
    assert find_duplicates(_second(report, hours=80)) == []


def test_different_category_is_not_a_duplicate(report, first):
    assert find_duplicates(_second(report, category="0106")) == []


def test_different_words_are_not_a_duplicate(report, first):
    assert find_duplicates(_second(report, title="路口井盖缺失")) == []


def test_closed_or_merged_cases_are_not_proposed(report, first, personas):
    on_spot = _second(report, actor=personas.kecheng_grid_worker, channel=Channel.GRID, solved_on_spot=True)
    assert find_duplicates(on_spot) == []  # a closed case has no duplicates to merge …
    second = _second(report, hours=11)
    assert [c for c, _s in find_duplicates(second)] == [first]  # … and is not proposed as one
    transition(second, Action.MERGE, actor=personas.kecheng_dispatcher, target=first)
    assert find_duplicates(first) == []


def test_thresholds_are_settings(report, first, settings):
    second = _second(report, metres=150, hours=10)
    settings.DUPLICATE_METRES = 100
    assert find_duplicates(second) == []
    settings.DUPLICATE_METRES, settings.DUPLICATE_HOURS = 200, 8
    assert find_duplicates(second) == []
    settings.DUPLICATE_HOURS, settings.DUPLICATE_SIMILARITY = 72, 0.7
    assert find_duplicates(second) == []


def test_address_only_cases_match_within_the_same_jurisdiction(report, tree):
    one = report(title=FIRST, lat=None, lon=None, address="柯城区信安街道府山路")
    two = report(
        title=SIMILAR, lat=None, lon=None, address="柯城区信安街道府山路", at=local(2026, 11, 23, 15, 0)
    )
    assert one.jurisdiction == two.jurisdiction == tree.kecheng_township
    assert [c for c, _s in find_duplicates(two)] == [one]


def test_tokens_drop_stop_words_and_punctuation():
    assert tokens("有群众反映：小区门口的垃圾！") == frozenset({"小区", "门口", "垃圾"})
    assert jaccard(frozenset(), frozenset({"a"})) == 0.0
