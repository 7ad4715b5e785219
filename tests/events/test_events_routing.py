"""Routing: the most specific rule suggests the unit, and dispatchers' choices override it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from pingan.accounts.choices import Platform, UnitKind
from pingan.accounts.models import Unit
from pingan.cases.choices import Action
from pingan.cases.models import Step
from pingan.events import services
from pingan.events.choices import SuggestionSource
from pingan.events.models import Category, DispatchChoice, RoutingRule
from pingan.events.routing import rebuild_choices, suggest, suggest_unit
from pingan.geo.choices import Level
from pingan.geo.models import Jurisdiction
from tests.events.conftest import JS_POINT, local


@pytest.fixture
def chengguan(tree):
    return Unit.objects.create(
        name="柯城区综合行政执法局", kind=UnitKind.DEPARTMENT, jurisdiction=tree.kecheng
    )


def _rule(
    category: str, where: Jurisdiction, unit: Unit, priority: int = 0, active: bool = True
) -> RoutingRule:
    return RoutingRule.objects.create(
        category=Category.objects.get(code=category),
        jurisdiction=where,
        unit=unit,
        priority=priority,
        active=active,
    )


def _dispatched(report, dispatcher, unit: Unit, day: int, **kwargs) -> None:
    case = report(at=local(2026, 11, day, 9, 0), **kwargs)
    services.dispatch(case, unit, actor=dispatcher, at=local(2026, 11, day, 9, 30))


def test_most_specific_rule_wins(report, tree, units, chengguan):
    case = report()
    _rule("0101", tree.city, units.city_centre)
    assert suggest_unit(case) == units.city_centre
    _rule("0101", tree.kecheng, chengguan)
    assert suggest_unit(case) == chengguan  # 330802 is longer than 3308
    _rule("01", tree.kecheng_township, units.kecheng_platform)
    assert suggest_unit(case) == units.kecheng_platform  # the township beats the county, even for the 大类
    _rule("0101", tree.kecheng_township, units.kecheng_police)
    assert suggest_unit(case) == units.kecheng_police  # same township: the 小类 rule beats the 大类 rule
    _rule("0101", tree.kecheng_township, units.city_centre, priority=5)
    assert suggest_unit(case) == units.city_centre  # same township and 小类: the higher priority
    _rule("0101", tree.kecheng_grid, chengguan, active=False)
    found = suggest(case)
    assert (found.unit, found.source) == (
        units.city_centre,
        SuggestionSource.RULE,
    )  # inactive rules do not count


def test_rule_of_another_county_does_not_apply(report, personas, tree, units, chengguan):
    _rule("0101", tree.kecheng, chengguan)
    case = report(actor=personas.jiangshan_dispatcher, lat=JS_POINT[0], lon=JS_POINT[1])
    assert suggest_unit(case) is None


def test_dispatch_records_the_suggestion_on_the_step(report, personas, tree, units, chengguan):
    _rule("0101", tree.kecheng, chengguan)
    case = report()
    services.dispatch(
        case, units.kecheng_platform, actor=personas.kecheng_dispatcher, at=local(2026, 11, 23, 9, 30)
    )
    step = Step.objects.get(case=case, action=Action.DISPATCH)
    assert step.unit == units.kecheng_platform and step.data["suggested_unit_id"] == chengguan.pk


def test_suggestion_learns_the_unit_dispatchers_choose_more_often(report, personas, tree, units, chengguan):
    """Rule says 城管; dispatchers chose the 街道综治平台 3 times and 城管 once → the platform."""
    _rule("0101", tree.kecheng, chengguan)
    seat = personas.kecheng_dispatcher
    _dispatched(report, seat, units.kecheng_platform, 16)
    _dispatched(report, seat, units.kecheng_platform, 17)
    _dispatched(report, seat, chengguan, 18)
    case = report(at=local(2026, 11, 23, 9, 0))
    found = suggest(case)
    # 2 against 1: chosen more often, and at least twice → already learned.
    assert (found.unit, found.source) == (units.kecheng_platform, SuggestionSource.LEARNED)
    _dispatched(report, seat, chengguan, 19)
    found = suggest(case)
    # 2 against 2: not more often than the rule's unit → the rule.
    assert (found.unit, found.source) == (chengguan, SuggestionSource.RULE)
    assert found.choices == {units.kecheng_platform.pk: 2, chengguan.pk: 2} and found.area == "330802001"
    _dispatched(report, seat, units.kecheng_platform, 20)
    found = suggest(case)
    # 3 against 2 → the platform again.
    assert (found.unit, found.source) == (units.kecheng_platform, SuggestionSource.LEARNED)


def test_three_overrides_against_one_switch_the_suggestion(report, personas, tree, units, chengguan):
    _rule("0101", tree.kecheng, chengguan)
    seat = personas.kecheng_dispatcher
    for day in (16, 17, 18):
        _dispatched(report, seat, units.kecheng_platform, day)
    _dispatched(report, seat, chengguan, 19)
    case = report(at=local(2026, 11, 23, 9, 0))
    assert suggest_unit(case) == units.kecheng_platform
    step = Step.objects.filter(action=Action.DISPATCH, unit=units.kecheng_platform).first()
    assert step.data["suggested_unit_id"] == chengguan.pk  # they were overrides of the rule


def test_a_single_override_is_not_enough(report, personas, tree, units, chengguan):
    _rule("0101", tree.kecheng, chengguan)
    _dispatched(report, personas.kecheng_dispatcher, units.kecheng_platform, 16)
    assert suggest_unit(report()) == chengguan


def test_choices_for_another_category_do_not_count(report, personas, tree, units, chengguan):
    _rule("0101", tree.kecheng, chengguan)
    for day in (16, 17, 18):
        _dispatched(
            report, personas.kecheng_dispatcher, units.kecheng_platform, day, category="0106", title="占道"
        )
    assert suggest_unit(report()) == chengguan


def test_learning_falls_back_to_the_county_when_the_township_has_no_choices(
    report, personas, tree, units, chengguan
):
    _rule("0101", tree.kecheng, chengguan)
    for day in (16, 17, 18):
        _dispatched(report, personas.kecheng_dispatcher, units.kecheng_platform, day)
    Jurisdiction.objects.create(code="330802002", name="荷花街道", level=Level.TOWNSHIP, parent=tree.kecheng)
    case = report(lat=None, lon=None, address="衢州市柯城区荷花街道荷五路3号")
    assert case.area_code == "330802002"
    found = suggest(case)
    assert (found.unit, found.area) == (units.kecheng_platform, "330802")


def test_default_unit_by_name_in_the_case_county_then_township_platform(
    report, personas, tree, units, chengguan
):
    Category.objects.filter(code="0401").update(default_unit_name="综合行政执法局")
    building = report(category="0401", title="违建")
    found = suggest(building)
    assert (found.unit, found.source) == (chengguan, SuggestionSource.DEFAULT_UNIT)
    # 江山市 has no 综合行政执法局 in the fixture; its township's 监管执法 platform takes it.
    js_platform = Unit.objects.create(
        name="虎山街道监管执法平台",
        kind=UnitKind.PLATFORM,
        platform=Platform.JIANGUAN,
        jurisdiction=tree.jiangshan_township,
    )
    js_case = report(
        actor=personas.jiangshan_dispatcher, category="0401", title="违建", lat=JS_POINT[0], lon=JS_POINT[1]
    )
    found = suggest(js_case)
    assert (found.unit, found.source) == (js_platform, SuggestionSource.PLATFORM)


def test_rollup_kept_by_dispatch_equals_the_rebuild_from_steps(report, personas, tree, units, chengguan):
    seat = personas.kecheng_dispatcher
    for day, unit in ((16, units.kecheng_platform), (17, units.kecheng_platform), (18, chengguan)):
        _dispatched(report, seat, unit, day)
    _dispatched(report, seat, chengguan, 19, category="0106", title="占道")
    kept = sorted(
        DispatchChoice.objects.values_list("category__code", "area", "unit_id", "month", "count", "last_at")
    )
    assert [(c, a, u, n) for c, a, u, _m, n, _t in kept] == [
        ("0101", "330802001", units.kecheng_platform.pk, 2),
        ("0101", "330802001", chengguan.pk, 1),
        ("0106", "330802001", chengguan.pk, 1),
    ]
    assert kept[0][5] == local(2026, 11, 17, 9, 30)  # the latest choice
    assert rebuild_choices() == 3
    rebuilt = sorted(
        DispatchChoice.objects.values_list("category__code", "area", "unit_id", "month", "count", "last_at")
    )
    assert rebuilt == kept
    call_command("rebuild_dispatch_choices", stdout=StringIO())
    assert DispatchChoice.objects.count() == 3


def test_choices_older_than_a_year_are_forgotten(report, personas, tree, units, chengguan):
    _rule("0101", tree.kecheng, chengguan)
    for day in (16, 17, 18):
        _dispatched(report, personas.kecheng_dispatcher, units.kecheng_platform, day)
    assert suggest_unit(report(at=local(2027, 10, 31, 9, 0))) == units.kecheng_platform
    assert suggest_unit(report(at=local(2027, 12, 1, 9, 0))) == chengguan  # window starts 2026-12


def test_a_page_of_suggestions_reads_once_and_answers_as_one_by_one(
    report, personas, tree, units, chengguan, django_assert_max_num_queries
):
    """suggest_many (the dispatch desk) gives each case what suggest gives it, in three queries."""
    from pingan.events.models import Event
    from pingan.events.routing import suggest_many

    _rule("0101", tree.kecheng, chengguan)
    seat = personas.kecheng_dispatcher
    for day in (16, 17, 18):
        _dispatched(report, seat, units.kecheng_platform, day)  # learned in the township
    Category.objects.filter(code="0401").update(default_unit_name="综合行政执法局")
    Unit.objects.create(
        name="虎山街道监管执法平台",
        kind=UnitKind.PLATFORM,
        platform=Platform.JIANGUAN,
        jurisdiction=tree.jiangshan_township,
    )
    cases = [
        report(at=local(2026, 11, 23, 9, 0)),  # learned
        report(category="0106", title="占道"),  # nothing learned, no rule for 0106 → default or none
        report(category="0401", title="违建"),  # default unit by name
        report(
            actor=personas.jiangshan_dispatcher,
            category="0401",
            title="违建",
            lat=JS_POINT[0],
            lon=JS_POINT[1],
        ),
    ]
    events = {
        e.case_id: e for e in Event.objects.select_related("category__parent", "category__default_unit")
    }
    pairs = [(c, events[c.pk]) for c in cases]
    with django_assert_max_num_queries(3):
        many = suggest_many(pairs)
    for case in cases:
        one = suggest(case)
        assert (many[case.pk].unit, many[case.pk].source, many[case.pk].choices, many[case.pk].area) == (
            one.unit,
            one.source,
            one.choices,
            one.area,
        )
    assert {many[c.pk].source for c in cases} >= {
        SuggestionSource.LEARNED,
        SuggestionSource.DEFAULT_UNIT,
        SuggestionSource.PLATFORM,
    }
