"""Police linkage pages: the board (rates, target, waiting calls with one-click push, export,
import), the call list, one call with its actions, the import page; scope and roles."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from pingan.disputes.choices import CallFeedback, DisputeType
from pingan.disputes.models import PoliceCall
from tests.conftest import login
from tests.disputes.conftest import local
from tests.disputes.test_linkage import make_call, pushed
from tests.disputes.test_linkage_api import line, workbook

MARCH = "?start=2026-03-01&end=2026-03-31"


@pytest.fixture
def calls(tree, police_station, orgs):
    """20 key-type 柯城 calls in March 2026: 19 pushed (one late), one waiting; a traffic call waiting."""
    made = []
    for i in range(20):
        at = local(2026, 3, 1 + i, 10, 0)
        extra = {} if i == 19 else pushed(at, 30 if i == 18 else 2)
        made.append(make_call(police_station, tree.kecheng_village, f"KC{i:03d}", at, **extra))
    made.append(
        make_call(
            police_station,
            tree.kecheng_village,
            "KCT",
            local(2026, 3, 5, 9, 0),
            dispute_type=DisputeType.TRAFFIC,
        )
    )
    return made


def test_board_shows_rates_against_the_target(personas, calls):
    response = login(personas.kecheng_dispatcher).get(reverse("linkage:board") + MARCH)
    assert response.status_code == 200
    page = response.content.decode()
    kpis = response.context["kpis"]
    assert [k["value"] for k in kpis[:3]] == ["20", "95.0%", "94.7%"]
    assert [k.get("state") for k in kpis[1:3]] == ["good", "bad"]
    assert response.context["counties"][0]["name"] == "柯城区"
    assert response.context["counties"][0]["linkage_rate_short"] == "95.0%"
    assert response.context["stations"][0]["name"] == "信安派出所"
    assert "✓ 达标" in page
    assert "/api/linkage/stats.xlsx?from=2026-03-01&amp;to=2026-03-31" in page
    assert 'id="county-chart"' in page and "vendor/echarts/echarts.min.js" in page
    charts = response.context["charts"]
    assert charts["county"]["linkage"] == [95.0]
    assert charts["county"]["target"] == 95.0


def test_board_lists_waiting_calls_most_urgent_first_with_a_suggestion(personas, calls):
    response = login(personas.kecheng_dispatcher).get(reverse("linkage:board") + MARCH)
    waiting = response.context["waiting"]
    assert [w["call_number"] for w in waiting] == ["KCT", "KC019"]  # the traffic call is due first
    assert waiting[0]["clock"]["state"] == "overdue"
    assert waiting[0]["suggestions"][0].org.unit.name == "府山社区人民调解委员会"
    assert reverse("linkage:push", args=[calls[19].pk]) in response.content.decode()


def test_one_click_push_from_the_board(personas, orgs, calls):
    client = login(personas.kecheng_dispatcher)
    call = calls[19]
    board = reverse("linkage:board") + MARCH
    response = client.post(
        reverse("linkage:push", args=[call.pk]), {"org_unit": orgs.village.pk, "next": board}
    )
    assert response.status_code == 302
    assert response["Location"] == board
    call.refresh_from_db()
    assert call.status == CallFeedback.PUSHED
    assert call.dispute.case.unit == orgs.village.unit
    after = client.get(board)
    assert [k["value"] for k in after.context["kpis"][:2]] == ["20", "100.0%"]


def test_push_to_an_org_outside_scope_is_422(personas, orgs, calls):
    client = login(personas.kecheng_dispatcher)
    response = client.post(reverse("linkage:push", args=[calls[19].pk]), {"org_unit": orgs.jiangshan.pk})
    assert response.status_code == 422
    assert PoliceCall.objects.get(pk=calls[19].pk).status == CallFeedback.WAITING


def test_push_an_already_pushed_call_is_409(personas, orgs, calls):
    response = login(personas.kecheng_dispatcher).post(
        reverse("linkage:push", args=[calls[0].pk]), {"org_unit": orgs.village.pk}
    )
    assert response.status_code == 409
    assert "不能再推送" in response.content.decode()


def test_not_push_needs_a_reason_then_follow_up(personas, calls):
    client = login(personas.kecheng_dispatcher)
    call = calls[20]
    url = reverse("linkage:not_push", args=[call.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 422
    assert "reason" in response.context["not_push_form"].errors
    response = client.post(url, {"reason": "当场和解"}, follow=True)
    assert response.status_code == 200
    assert "已标记为不予推送" in response.content.decode()
    follow = client.post(
        reverse("linkage:follow_up", args=[call.pk]), {"note": "报警人满意", "satisfied": "1"}
    )
    assert follow.status_code == 302
    call.refresh_from_db()
    assert (call.status, call.followup_satisfied) == (CallFeedback.NOT_PUSHED, True)


def test_call_page_offers_actions_by_role(personas, mediators, calls):
    url = reverse("linkage:call", args=[calls[19].pk])
    office = login(personas.kecheng_dispatcher).get(url)
    assert office.status_code == 200
    assert office.context["can_push"] is True
    assert 'id="push"' in office.content.decode()
    mediator = login(mediators.village).get(url)
    assert mediator.status_code == 200
    assert mediator.context["can_push"] is False
    assert 'id="push"' not in mediator.content.decode()


def test_mediator_posting_a_push_is_403(mediators, orgs, calls):
    response = login(mediators.village).post(
        reverse("linkage:push", args=[calls[19].pk]), {"org_unit": orgs.village.pk}
    )
    assert response.status_code == 403


def test_jiangshan_user_sees_none_of_kecheng(personas, calls):
    client = login(personas.jiangshan_dispatcher)
    for url in (reverse("linkage:board") + MARCH, reverse("linkage:calls")):
        page = client.get(url).content.decode()
        assert "柯城" not in page and "信安" not in page and "KC0" not in page
    assert client.get(reverse("linkage:call", args=[calls[0].pk])).status_code == 404
    assert client.post(reverse("linkage:not_push", args=[calls[19].pk]), {"reason": "x"}).status_code == 404


def test_call_list_filters_and_pages(personas, calls):
    client = login(personas.kecheng_dispatcher)
    response = client.get(reverse("linkage:calls") + "?status=waiting")
    assert response.context["total"] == 2
    response = client.get(reverse("linkage:calls") + "?key=0")
    assert [r["call_number"] for r in response.context["rows"]] == ["KCT"]
    everything = client.get(reverse("linkage:calls"))
    assert everything.context["total"] == 21
    assert len(everything.context["rows"]) == 21
    bad = client.get(reverse("linkage:calls") + "?date_from=2026-03-31&date_to=2026-03-01")
    assert bad.status_code == 200
    assert bad.context["total"] == 0


def test_import_page_lists_every_bad_row_and_then_imports(personas, police_station):
    client = login(personas.kecheng_dispatcher)
    url = reverse("linkage:import")
    assert client.get(url).status_code == 200
    bad = SimpleUploadedFile(
        "calls.xlsx", workbook([line("I1"), line("I2", kind="斗殴"), line("I3", station="无此所")])
    )
    response = client.post(url, {"file": bad})
    assert response.status_code == 422
    assert [(e.row, e.field) for e in response.context["errors"]] == [(3, "纠纷类型"), (4, "派出所")]
    assert "未导入任何警情" in response.content.decode()
    assert PoliceCall.objects.count() == 0
    good = SimpleUploadedFile("calls.xlsx", workbook([line("I1"), line("I2"), line("I1")]))
    response = client.post(url, {"file": good})
    assert response.status_code == 200
    assert "新增 2 条，跳过重复 1 条" in response.content.decode()
    assert PoliceCall.objects.count() == 2


def test_import_page_refused_to_grid_worker(personas):
    assert login(personas.kecheng_grid_worker).get(reverse("linkage:import")).status_code == 403


def test_grid_worker_sees_the_board_without_actions(personas, calls):
    response = login(personas.kecheng_grid_worker).get(reverse("linkage:board") + MARCH)
    assert response.status_code == 200
    assert response.context["can_push"] is False
    assert 'id="import"' not in response.content.decode()


def test_empty_board(personas):
    response = login(personas.kecheng_dispatcher).get(reverse("linkage:board"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "没有待推送的警情" in page
    assert "所选区间内没有纠纷警情" in page


def test_bad_period_falls_back_and_says_so(personas):
    response = login(personas.kecheng_dispatcher).get(
        reverse("linkage:board") + "?start=2026-03-31&end=2026-03-01"
    )
    assert response.status_code == 200
    today = timezone.localdate()
    assert (response.context["period"].start, response.context["period"].end) == (today.replace(day=1), today)
    assert "结束日期不能早于开始日期" in response.content.decode()
