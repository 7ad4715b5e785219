"""Indicators (DOMAIN §2): the formulas, a hand-built March 2026, the scorecard, scope, API, Excel, pages."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError

from pingan.accounts.choices import Role
from pingan.cases import indicators
from pingan.cases.indicators import Counts, Filters, Period, compute, due_to_close, percent, rollup_q
from pingan.cases.models import ScoringRule
from tests.cases.indicator_history import build, local
from tests.conftest import login, make_user

MARCH = Period.month(2026, 3)
NOW = local(2026, 4, 15, 10, 0)


# ---------------------------------------------------------------------------------------------
# Formulas


def test_972_due_911_closed_737_on_time_gives_93_72_and_75_82_percent():
    # 应结案数 = handled 930 + solved on the spot 20 + overdue and not yet handled 22 = 972.
    counts = Counts(handled=930, on_spot=20, overdue=22, closed=911, closed_on_time=737)
    assert due_to_close(counts) == 972
    result = compute(counts)
    assert percent(result.closing_rate) == "93.72%"
    assert percent(result.closing_on_time_rate) == "75.82%"
    assert result.closing_rate == Decimal(911) / Decimal(972)


def test_parked_matters_are_not_due():
    # 挂账 leaves the statistics: parked matters are counted (parked) but never in 应结案数.
    counts = Counts(handled=10, overdue=2, parked=5, closed=9)
    assert due_to_close(counts) == 12
    assert percent(compute(counts).closing_rate) == "75.00%"


def test_rates_without_a_denominator_are_no_data_not_zero():
    result = compute(Counts(), ScoringRule())
    assert result.closing_rate is None and result.handling_rate is None
    assert percent(result.closing_rate) == "—"
    assert result.score is None and result.grade == ""


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        ("100", "A"), ("90", "A"), ("89.99", "B"), ("75", "B"), ("74.99", "C"), ("60", "C"),
        ("59.99", "D"), ("40", "D"), ("39.99", "E"), ("0", "E"),
    ],
)  # fmt: skip
def test_grade_boundaries(score, grade):
    assert indicators.grade(Decimal(score), ScoringRule()) == grade


def test_default_scorecard_weights_rates_30_20_20_20_10():
    # 处置率 0.9, 按期处置率 0.8, 返工率 0.1, 超期待处置率 0.1, 延期率 0.05:
    # 27 + 16 + 18 + 18 + 9.5 = 88.5 → B
    counts = Counts(handled=90, handled_on_time=80, overdue=10, reworks=10, extensions=5)
    result = compute(counts, ScoringRule())
    assert result.score == Decimal("88.50") and result.grade == "B"


def test_active_scoring_rule_replaces_weights_and_bounds(db):
    ScoringRule.objects.create(
        name="市考核口径", weight_handled=40, weight_handled_on_time=30, weight_rework=10, weight_overdue=10,
        weight_extension=10, grade_a=95, grade_b=85, grade_c=70, grade_d=50, is_active=True,
    )  # fmt: skip
    counts = Counts(handled=90, handled_on_time=80, overdue=10, reworks=10, extensions=5)
    # 36 + 24 + 9 + 9 + 9.5 = 87.5 → B (≥ 85)
    result = compute(counts, ScoringRule.current())
    assert result.score == Decimal("87.50") and result.grade == "B"


def test_scoring_rule_weights_must_add_up_to_100():
    with pytest.raises(ValidationError) as err:
        ScoringRule(weight_handled=50).clean()
    assert "weight_handled" in err.value.error_dict
    with pytest.raises(ValidationError) as err:
        ScoringRule(grade_b=95).clean()
    assert "grade_a" in err.value.error_dict


def _grains(period: Period) -> set[tuple[str, str, str]]:
    """(grain, first day, last day) of each part of ``rollup_q(period)``."""
    q = rollup_q(period)
    parts = q.children if q.connector == "OR" and all(hasattr(c, "children") for c in q.children) else [q]
    out = set()
    for part in parts:
        terms = dict(part.children)
        low = terms.get("day__gte") or terms.get("day__range", (None, None))[0]
        high = terms.get("day__lt") or terms.get("day__lte") or terms.get("day__range", (None, None))[1]
        out.add((str(terms["grain"]), str(low), str(high)))
    return out


def test_whole_months_come_from_the_month_grain_and_the_ends_from_days():
    assert _grains(Period(date(2026, 2, 15), date(2026, 4, 10))) == {
        ("day", "2026-02-15", "2026-03-01"),  # [02-15, 03-01)
        ("month", "2026-03-01", "2026-04-01"),  # March
        ("day", "2026-04-01", "2026-04-10"),  # [04-01, 04-10]
    }
    assert _grains(Period(date(2026, 3, 2), date(2026, 3, 31))) == {("day", "2026-03-02", "2026-03-31")}
    assert _grains(Period.quarter(2026, 1)) == {("month", "2026-01-01", "2026-04-01")}


def test_periods_day_month_quarter_year():
    assert Period.containing("day", date(2026, 3, 5)) == Period(date(2026, 3, 5), date(2026, 3, 5))
    assert Period.containing("month", date(2026, 2, 5)) == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert Period.containing("quarter", date(2026, 8, 5)) == Period(date(2026, 7, 1), date(2026, 9, 30))
    assert Period.containing("year", date(2026, 8, 5)) == Period(date(2026, 1, 1), date(2026, 12, 31))
    with pytest.raises(ValidationError) as err:
        Period.between(date(2026, 3, 5), date(2026, 3, 1))
    assert "end" in err.value.error_dict


# ---------------------------------------------------------------------------------------------
# A hand-built March 2026 (tests/cases/indicator_history.py)


@pytest.fixture
def history(tree, units, personas):
    return build(tree, units, personas)


def _by_name(rows):
    return {r.name: r for r in rows}


def test_march_per_unit_exact_counts_and_rates(history, personas):
    rows = _by_name(indicators.rows(personas.city_leader, Filters(MARCH), now=NOW))
    a, b = rows["柯城区公安分局"], rows["江山市公安局"]
    assert (a.counts.dispatched, a.counts.handled, a.counts.handled_on_time) == (5, 3, 2)
    assert (a.counts.closed, a.counts.closed_on_time, a.counts.overdue) == (3, 2, 1)
    assert (a.counts.reworks, a.counts.reworked, a.counts.extensions, a.counts.parked) == (1, 1, 1, 1)
    assert a.counts.yellow_cards == 3  # c2, c4, c5 at the 03-06 sweep
    ia = a.indicators
    assert (ia.due_to_close, ia.due_to_handle) == (4, 4)
    assert [percent(getattr(ia, n)) for n in indicators.RATE_NAMES] == [
        "75.00%",
        "50.00%",
        "75.00%",
        "50.00%",
        "25.00%",
        "25.00%",
        "25.00%",
        "50.00%",
    ]  # 结案, 按期结案, 处置, 按期处置, 返工, 超期待处置, 延期, 满意(4–5)
    # c1 re-evaluated 4 → 5 counts once, as 5; c2 scored 3: mean 4.00.
    assert (a.counts.satisfaction_count, ia.satisfaction_mean) == (2, Decimal("4.00"))
    # 0.75×30 + 0.5×20 + 0.75×20 + 0.75×20 + 0.75×10 = 70
    assert (ia.score, ia.grade) == (Decimal("70.00"), "C")
    assert (b.counts.dispatched, b.counts.returned, b.counts.handled, b.counts.closed_on_time) == (3, 1, 2, 1)
    ib = b.indicators
    assert (ib.due_to_handle, percent(ib.handling_rate), percent(ib.handling_on_time_rate)) == (
        2,
        "100.00%",
        "50.00%",
    )
    assert (ib.score, ib.grade) == (Decimal("90.00"), "A")
    # Units without matters are listed, with no rates and no grade.
    assert rows["衢州市社会治理中心"].indicators.closing_rate is None
    assert rows["衢州市社会治理中心"].indicators.grade == ""


def test_march_per_county_counts_matters_solved_on_the_spot(history, personas):
    f = Filters(MARCH, group="area", level="county")
    rows = _by_name(indicators.rows(personas.city_leader, f, now=NOW))
    kc, js = rows["柯城区"].indicators, rows["江山市"].indicators
    # 柯城: handled 3 + on the spot 1 + overdue 1 = 5 due; closed 3 + 1 (3 on time).
    assert (rows["柯城区"].counts.registered, kc.due_to_close) == (6, 5)
    assert (percent(kc.closing_rate), percent(kc.closing_on_time_rate)) == ("80.00%", "60.00%")
    assert (rows["江山市"].counts.cancelled, js.due_to_close) == (1, 2)
    assert (percent(js.closing_rate), percent(js.closing_on_time_rate)) == ("100.00%", "50.00%")
    township = _by_name(
        indicators.rows(personas.city_leader, Filters(MARCH, group="area", level="township"), now=NOW)
    )
    assert township["信安街道"].indicators.due_to_close == 5


def test_quarter_year_and_a_range_across_months_read_the_same_march(history, personas):
    def unit_a(period):
        return _by_name(indicators.rows(personas.city_leader, Filters(period), now=NOW))[
            "柯城区公安分局"
        ].counts

    march = unit_a(MARCH)
    assert unit_a(Period.quarter(2026, 1)) == march
    assert unit_a(Period.year(2026)) == march
    assert unit_a(Period(date(2026, 2, 15), date(2026, 4, 10))) == march  # days + a month + days
    assert unit_a(Period(date(2026, 3, 2), date(2026, 3, 31))) == march  # days only


def test_a_range_of_days_counts_what_happened_in_it(history, personas):
    # 03-01..03-05: c1 handled (c2's first report was sent back by 返工 on 03-04).
    f = Filters(Period(date(2026, 3, 1), date(2026, 3, 5)))
    a = _by_name(indicators.rows(personas.city_leader, f, now=NOW))["柯城区公安分局"].counts
    assert (a.handled, a.closed, a.reworks, a.extensions, a.dispatched) == (1, 1, 1, 1, 5)
    # Overdue is a point-in-time count read now: only c5 is still open and overdue (c2 was
    # closed since, c4 parked), so the past period sees 1.
    assert a.overdue == 1


def test_village_filter_reads_the_detail_grain(history, personas, tree):
    f = Filters(MARCH, area=tree.kecheng_village.code)
    a = _by_name(indicators.rows(personas.city_leader, f, now=NOW))["柯城区公安分局"]
    assert (a.counts.handled, a.counts.overdue, a.indicators.due_to_close) == (3, 1, 4)
    f = Filters(MARCH, area=tree.jiangshan_village.code)
    rows = _by_name(indicators.rows(personas.city_leader, f, now=NOW))
    assert "柯城区公安分局" not in rows and rows["江山市公安局"].counts.handled == 2


def test_monthly_trend_ends_with_the_period(history, personas):
    months = indicators.trend(personas.city_leader, Filters(MARCH, group="area"), now=NOW)
    assert [m for m, _c, _i in months][-3:] == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert len(months) == 12
    _m, counts, march = months[-1]
    # Both counties: handled 5 + on the spot 1 + overdue 1 = 7 due; closed 6.
    assert (march.due_to_close, counts.closed) == (7, 6)
    assert months[-2][2].closing_rate is None  # February: nothing due


# ---------------------------------------------------------------------------------------------
# Scope


def test_jiangshan_user_sees_no_kecheng_unit_rows(history, personas):
    client = login(personas.jiangshan_dispatcher)
    data = client.get("/api/indicators/?group=unit&start=2026-03-01&end=2026-03-31").json()
    names = [r["name"] for r in data["rows"]]
    assert "江山市公安局" in names
    assert not any("柯城" in n or "信安" in n for n in names)
    assert data["total"]["handled"] == 2
    areas = client.get("/api/indicators/?group=area&level=township&start=2026-03-01&end=2026-03-31").json()
    assert [r["name"] for r in areas["rows"]] == ["虎山街道"]
    assert areas["total"]["due_to_close"] == 2


def test_area_outside_the_scope_is_refused_naming_the_field(history, personas, tree):
    client = login(personas.jiangshan_dispatcher)
    response = client.get(f"/api/indicators/?area={tree.kecheng.code}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["area"]


def test_handler_sees_own_unit_only_when_scope_is_one_unit(history, tree, units):
    # A handler whose area scope is a grid sees the unit rows of their own unit only.
    handler = make_user("kc_unit_only", Role.HANDLER, tree.kecheng_grid, units.kecheng_police)
    rows = indicators.rows(handler, Filters(MARCH), now=NOW)
    assert [r.name for r in rows] == ["柯城区公安分局"]
    assert rows[0].counts.handled == 3


# ---------------------------------------------------------------------------------------------
# API and Excel


def test_api_rows_carry_fractions_and_formatted_rates(history, personas):
    data = login(personas.city_leader).get("/api/indicators/?period=month&on=2026-03-20").json()
    assert (data["start"], data["end"]) == ("2026-03-01", "2026-03-31")
    a = next(r for r in data["rows"] if r["name"] == "柯城区公安分局")
    assert (a["due_to_close"], a["closing_rate"], a["closing_rate_text"]) == (4, 0.75, "75.00%")
    assert (a["overdue_rate"], a["score"], a["grade"]) == (0.25, 70.0, "C")


def test_scorecard_ranks_units_by_score(history, personas):
    data = login(personas.city_leader).get("/api/indicators/scorecard?start=2026-03-01&end=2026-03-31").json()
    ranked = [(r["rank"], r["name"], r["score"], r["grade"]) for r in data["rows"] if r["rank"]]
    assert ranked == [(1, "江山市公安局", 90.0, "A"), (2, "柯城区公安分局", 70.0, "C")]
    assert data["rule"]["weight_handled"] == 30.0 and data["rule"]["grade_b"] == 75.0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=2026-03-05&end=2026-03-01", "end"),
        ("period=month&start=2026-03-01", "period"),
        ("kind=nonsense", "kind"),
        ("start=2016-01-01&end=2026-12-31", "start"),
    ],
)
def test_bad_input_is_a_422_naming_the_parameter(personas, query, field):
    response = login(personas.city_leader).get(f"/api/indicators/?{query}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == field


def test_bad_date_and_bad_group_are_422_not_500(personas):
    client = login(personas.city_leader)
    assert client.get("/api/indicators/?start=2026-13-01").status_code == 422
    assert client.get("/api/indicators/?group=people").status_code == 422
    assert client.get("/api/indicators/export.xlsx?level=village").status_code == 422


def test_anonymous_gets_401(db):
    assert login(None).get("/api/indicators/").status_code == 401


def test_excel_export_has_chinese_headers_and_percent_cells(history, personas):
    response = login(personas.city_leader).get("/api/indicators/export.xlsx?start=2026-03-01&end=2026-03-31")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    headers = [c.value for c in sheet[3]]
    assert headers[:7] == ["名称", "区划代码", "应结案数", "结案数", "按期结案数", "结案率", "按期结案率"]
    assert headers[-2:] == ["得分", "等级"]
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=4)}
    a = rows["柯城区公安分局"]
    col = {h: i for i, h in enumerate(headers)}
    assert a[col["应结案数"]].value == 4
    assert a[col["结案率"]].value == 0.75 and a[col["结案率"]].number_format == "0.00%"
    assert a[col["按期结案率"]].value == 0.5
    assert (a[col["得分"]].value, a[col["等级"]].value) == (70, "C")
    assert rows["合计"][col["结案数"]].value == 5
    assert rows["衢州市社会治理中心"][col["结案率"]].value == "—"
    assert "2026-03-01 至 2026-03-31" in sheet["A2"].value


# ---------------------------------------------------------------------------------------------
# Pages


def test_indicator_page_shows_table_charts_and_export(history, personas):
    page = (
        login(personas.city_leader).get("/cases/indicators/?start=2026-03-01&end=2026-03-31").content.decode()
    )
    assert 'id="ranking-chart"' in page and 'id="trend-chart"' in page
    assert "柯城区公安分局" in page and "75.0%" in page
    assert 'class="grade grade-C"' in page and 'class="grade grade-A"' in page
    assert "/api/indicators/export.xlsx?start=2026-03-01&amp;end=2026-03-31&amp;group=unit" in page
    assert "按期结案率排名" in page and "数据时间" in page


def test_indicator_page_for_jiangshan_mentions_nothing_of_kecheng(history, personas):
    page = login(personas.jiangshan_dispatcher).get(
        "/cases/indicators/?start=2026-03-01&end=2026-03-31&group=area&level=township"
    )
    body = page.content.decode()
    assert page.status_code == 200 and "虎山街道" in body
    assert "柯城" not in body and "330802" not in body


def test_indicator_page_keeps_bad_dates_and_says_why(personas):
    page = (
        login(personas.city_leader).get("/cases/indicators/?start=2026-03-05&end=2026-03-01").content.decode()
    )
    assert "结束日期不能早于开始日期" in page and 'value="2026-03-05"' in page


def test_scorecard_page_ranks_and_colours_grades(history, personas):
    page = login(personas.city_leader).get("/cases/indicators/scorecard/?start=2026-03-01&end=2026-03-31")
    body = page.content.decode()
    assert body.index("江山市公安局") < body.index("柯城区公安分局")
    assert "处置率×30" in body and "90 分及以上" in body


def test_navigation_offers_indicators_to_office_roles_only(db, personas):
    assert 'href="/cases/indicators/"' in login(personas.kecheng_dispatcher).get("/").content.decode()
    assert 'href="/cases/indicators/"' not in login(personas.kecheng_grid_worker).get("/").content.decode()
