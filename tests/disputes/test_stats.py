"""Dispute statistics (pingan.disputes.stats and /api/disputes/stats/) on hand-built data:
counts by type, by area (county, township, village) and by local month, the success rate
(调解成功率 = 成功 ÷ 有结果), the police-linked share, scope, and bad input naming the field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from ninja.testing import TestClient

from pingan.disputes import services, stats
from pingan.disputes.api_stats import router
from pingan.disputes.choices import Consent, DisputeType, Outcome, Source
from pingan.disputes.stats import StatsFilters
from tests.disputes.conftest import local

MARCH = StatsFilters(date(2026, 3, 1), date(2026, 3, 31))
AGREEMENT = {"facts": "f", "terms": "t", "performance": "p", "perform_by": date(2026, 3, 20)}


def finish(dispute, orgs, mediators, personas, outcome: Outcome) -> None:
    services.assign(dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    services.accept(dispute, actor=mediators.village)
    if outcome == Outcome.REFUSED:
        services.record_consent(
            dispute,
            actor=mediators.village,
            applicant=Consent.AGREED,
            respondent=Consent.REFUSED,
            routes_told="诉讼",
        )
        return
    services.record_consent(
        dispute, actor=mediators.village, applicant=Consent.AGREED, respondent=Consent.AGREED
    )
    if outcome == Outcome.SUCCESS:
        agreement = {**AGREEMENT, "signed_on": dispute.case.registered_at.date()}
        services.record_outcome(dispute, actor=mediators.village, outcome=outcome, agreement=agreement)
    else:
        services.record_outcome(dispute, actor=mediators.village, outcome=outcome, routes_told="仲裁")


@pytest.fixture
def data(new_dispute, orgs, mediators, personas, tree, police_station):
    """柯城 in March 2026: 4 disputes (2 successes, 1 failure, 1 refusal → 50.0 %), one 110-sourced,
    one flagged; one 柯城 dispute on the last evening of March and one just after midnight (April,
    local time); one 江山 dispute in March."""
    made = {
        "s1": new_dispute(at=local(2026, 3, 2, 9)),
        "s2": new_dispute(dispute_type=DisputeType.LABOUR, at=local(2026, 3, 10, 9), violence_threat=True),
        "f": new_dispute(dispute_type=DisputeType.CONSUMER, at=local(2026, 3, 15, 9)),
        "r": new_dispute(
            source=Source.POLICE_110, dispute_type=DisputeType.FAMILY, at=local(2026, 3, 31, 23, 30)
        ),
        "april": new_dispute(at=local(2026, 4, 1, 0, 10)),
        "jiangshan": new_dispute(
            jurisdiction=tree.jiangshan_village, actor=personas.jiangshan_dispatcher, at=local(2026, 3, 5, 9)
        ),
    }
    finish(made["s1"], orgs, mediators, personas, Outcome.SUCCESS)
    finish(made["s2"], orgs, mediators, personas, Outcome.SUCCESS)
    finish(made["f"], orgs, mediators, personas, Outcome.FAILURE)
    finish(made["r"], orgs, mediators, personas, Outcome.REFUSED)
    return made


def test_summary_counts_rates_and_shares(data, personas):
    counts = stats.summary(personas.kecheng_dispatcher, MARCH)
    assert (counts.total, counts.key_types, counts.outcomes, counts.success) == (4, 3, 4, 2)
    assert (counts.flagged, counts.police) == (1, 1)
    assert counts.success_rate == Decimal("0.5000")
    assert counts.police_share == Decimal("0.2500")
    assert stats.percent(counts.success_rate) == "50.0%" and stats.percent(None) == "—"
    # The city leader also sees 江山 (no outcome there): 5 disputes, the same 4 outcomes.
    city = stats.summary(personas.city_leader, MARCH)
    assert (city.total, city.outcomes, city.success_rate) == (5, 4, Decimal("0.5000"))


def test_by_type_lists_every_type_key_types_first(data, personas):
    rows = stats.by_type(personas.kecheng_dispatcher, MARCH)
    assert [r.key for r in rows][:5] == ["neighbour", "family", "land", "labour", "medical"]
    assert len(rows) == len(DisputeType)
    got = {r.key: (r.counts.total, r.counts.success, r.counts.outcomes) for r in rows if r.counts.total}
    assert got == {"neighbour": (1, 1, 1), "labour": (1, 1, 1), "consumer": (1, 0, 1), "family": (1, 0, 1)}
    assert [r.is_key_type for r in rows[:6]] == [True] * 5 + [False]


def test_by_area_groups_one_level_below_the_scope_or_the_chosen_area(data, personas, tree):
    city = stats.by_area(personas.city_leader, MARCH)
    assert stats.area_level(personas.city_leader, MARCH) == "county"
    assert [(r.key, r.name, r.counts.total) for r in city] == [
        ("330802", "柯城区", 4),
        ("330881", "江山市", 1),
    ]
    county = stats.by_area(personas.kecheng_dispatcher, MARCH)
    assert [(r.key, r.counts.total) for r in county] == [("330802001", 4)]
    village = stats.by_area(personas.city_leader, StatsFilters(MARCH.start, MARCH.end, area="330802001"))
    assert [(r.key, r.name, r.counts.total, r.counts.success) for r in village] == [
        ("330802001001", "府山社区", 4, 2)
    ]


def test_by_month_uses_local_months_and_includes_empty_ones(data, personas):
    months = stats.by_month(personas.kecheng_dispatcher, StatsFilters(date(2026, 3, 1), date(2026, 4, 30)))
    assert (months[0].key, months[-1].key, len(months)) == ("2025-05", "2026-04", 12)
    totals = {m.key: m.counts.total for m in months}
    # 23:30 on 31 March (15:30 UTC) is March; 00:10 on 1 April (16:10 UTC on 31 March) is April.
    assert totals["2026-03"] == 4 and totals["2026-04"] == 1 and totals["2026-02"] == 0
    trend = stats.month_trend(months)
    assert (trend.month, trend.total, trend.previous, trend.arrow) == ("2026-04", 1, 4, "↓")
    assert trend.change == Decimal("-0.7500")


def test_period_ends_are_local_days(data, personas):
    last_day = StatsFilters(date(2026, 3, 31), date(2026, 3, 31))
    assert stats.summary(personas.kecheng_dispatcher, last_day).total == 1  # 23:30, not the 00:10 one
    assert (
        stats.summary(personas.kecheng_dispatcher, StatsFilters(date(2026, 4, 1), date(2026, 4, 1))).total
        == 1
    )


def test_filters_by_type_and_area(data, personas):
    labour = StatsFilters(MARCH.start, MARCH.end, dispute_type=DisputeType.LABOUR)
    assert stats.summary(personas.kecheng_dispatcher, labour).total == 1
    jiangshan = StatsFilters(MARCH.start, MARCH.end, area="330881")
    assert stats.summary(personas.kecheng_dispatcher, jiangshan).total == 0  # outside the scope
    assert stats.summary(personas.city_leader, jiangshan).total == 1


def test_bad_filters_name_the_field():
    with pytest.raises(ValidationError) as end:
        StatsFilters(date(2026, 3, 2), date(2026, 3, 1)).validate()
    assert list(end.value.message_dict) == ["end"]
    with pytest.raises(ValidationError) as area:
        StatsFilters(date(2026, 3, 1), date(2026, 3, 2), area="33x").validate()
    assert list(area.value.message_dict) == ["area"]
    with pytest.raises(ValidationError) as kind:
        StatsFilters(date(2026, 3, 1), date(2026, 3, 2), dispute_type="fight").validate()
    assert list(kind.value.message_dict) == ["dispute_type"]


def test_api_returns_the_same_figures_in_scope(data, personas):
    client = TestClient(router)
    response = client.get("/?start=2026-03-01&end=2026-03-31", user=personas.kecheng_dispatcher)
    assert response.status_code == 200
    body = response.json()
    assert body["summary"]["total"] == 4 and body["summary"]["success_rate"] == 0.5
    assert body["summary"]["police_share"] == 0.25
    assert body["area_level"] == "township" and [r["key"] for r in body["by_area"]] == ["330802001"]
    assert len(body["by_month"]) == 12 and body["by_month"][-1] == {
        **body["by_month"][-1], "key": "2026-03", "total": 4,
    }  # fmt: skip
    assert "江山" not in response.content.decode()
    bad = client.get("/?dispute_type=fight", user=personas.kecheng_dispatcher)
    assert bad.status_code == 422 and "dispute_type" in bad.content.decode()
