"""/api/linkage/: calls in (idempotent), import (422 listing every bad row), list and detail in
scope, push / not-push / follow-up, statistics and the Excel export."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pingan.disputes.choices import CallFeedback, DisputeType
from pingan.disputes.models import PoliceCall
from tests.conftest import login
from tests.disputes.conftest import local
from tests.disputes.test_linkage import HEADER, make_call, pushed

URL = "/api/linkage"
BODY = {
    "call_number": "J20260301001",
    "called_at": "2026-03-01T08:30:00+08:00",
    "dispute_type": "邻里纠纷",
    "station": "信安派出所",
    "place": "府山街道某小区3幢",
    "area_code": "330802001001",
    "summary": "楼上漏水",
}


def post(client, url: str, body: dict):
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def dispatcher(personas):
    return login(personas.kecheng_dispatcher)


def test_post_call_is_idempotent_on_the_call_number(dispatcher, police_station):
    first = post(dispatcher, f"{URL}/calls", BODY)
    assert first.status_code == 201, first.content
    data = first.json()
    assert (data["status"], data["key_type"], data["duplicate"]) == ("waiting", True, False)
    assert data["station"]["name"] == "信安派出所"
    assert data["push_due_at"].startswith("2026-03-02T00:30:00")  # 24 h later, in UTC
    again = post(dispatcher, f"{URL}/calls", {**BODY, "summary": "重发"})
    assert again.status_code == 200
    assert again.json()["id"] == data["id"]
    assert again.json()["duplicate"] is True
    assert PoliceCall.objects.count() == 1


def test_post_call_by_station_id_and_point(dispatcher, tree, police_station):
    body = {
        **BODY,
        "station": "",
        "station_id": police_station.pk,
        "area_code": "",
        "lat": 28.95,
        "lon": 118.85,
    }
    response = post(dispatcher, f"{URL}/calls", body)
    assert response.status_code == 201, response.content
    assert response.json()["area_code"] == tree.kecheng_grid.code


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"dispute_type": "打架"}, "dispute_type"),
        ({"station": "", "station_id": 999999}, "station_id"),
        ({"station": ""}, "station_id"),
        ({"area_code": "110101"}, "area_code"),
        ({"called_at": "2030-01-01T00:00:00+08:00"}, "called_at"),
        ({"caller_id": 999999}, "caller_id"),
    ],
)
def test_bad_call_is_422_naming_the_field(dispatcher, police_station, changes, field):
    response = post(dispatcher, f"{URL}/calls", {**BODY, **changes})
    assert response.status_code == 422, response.content
    assert field in [d["loc"][-1] for d in response.json()["detail"]]
    assert PoliceCall.objects.count() == 0


def test_unknown_input_field_is_422(dispatcher, police_station):
    response = post(dispatcher, f"{URL}/calls", {**BODY, "extra": 1})
    assert response.status_code == 422


def test_grid_worker_may_not_post_calls(personas, police_station):
    response = post(login(personas.kecheng_grid_worker), f"{URL}/calls", BODY)
    assert response.status_code == 403


def test_anonymous_is_401():
    assert login(None).get(f"{URL}/calls").status_code == 401


# --- import --------------------------------------------------------------------------------------


def workbook(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def line(number: str, kind: str = "邻里纠纷", station: str = "信安派出所") -> list:
    return [number, "2026-03-01 08:30", "府山", kind, station, "330802001001", "争吵"]


def upload(client, content: bytes, name: str = "calls.xlsx"):
    return client.post(f"{URL}/calls/import", {"file": SimpleUploadedFile(name, content)})


def test_import_skips_duplicates_and_reports_them(dispatcher, police_station):
    post(dispatcher, f"{URL}/calls", {**BODY, "call_number": "A1"})
    response = upload(dispatcher, workbook([line("A1"), line("A2"), line("A2")]))
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["created"] == 1
    assert [(s["row"], s["field"]) for s in data["skipped"]] == [(2, "接警单号"), (4, "接警单号")]
    assert PoliceCall.objects.count() == 2


def test_import_with_bad_rows_is_422_listing_each_and_writes_nothing(dispatcher, police_station):
    response = upload(
        dispatcher, workbook([line("B1"), line("B2", kind="斗殴"), line("B3", station="无此所")])
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [(d["loc"][1], d["field"]) for d in detail] == [(3, "纠纷类型"), (4, "派出所")]
    assert PoliceCall.objects.count() == 0


def test_import_without_a_file_is_422(dispatcher):
    response = dispatcher.post(f"{URL}/calls/import")
    assert response.status_code == 422


def test_import_refused_to_grid_worker(personas):
    response = upload(login(personas.kecheng_grid_worker), workbook([line("C1")]))
    assert response.status_code == 403


# --- list, detail, scope -------------------------------------------------------------------------


@pytest.fixture
def calls(tree, police_station):
    """Three 柯城 calls in March 2026: a neighbour call overdue, a traffic call, a pushed land call."""
    at = local(2026, 3, 1, 9, 0)
    return [
        make_call(police_station, tree.kecheng_village, "L1", at),
        make_call(police_station, tree.kecheng_village, "L2", at, dispute_type=DisputeType.TRAFFIC),
        make_call(
            police_station, tree.kecheng_village, "L3", at, dispute_type=DisputeType.LAND, **pushed(at, 2)
        ),
    ]


def test_list_filters(dispatcher, calls):
    def numbers(query: str) -> list[str]:
        response = dispatcher.get(f"{URL}/calls?{query}")
        assert response.status_code == 200, response.content
        return sorted(item["call_number"] for item in response.json()["items"])

    assert numbers("") == ["L1", "L2", "L3"]
    assert numbers("key=true") == ["L1", "L3"]
    assert numbers("type=traffic") == ["L2"]
    assert numbers("status=pushed") == ["L3"]
    assert numbers("overdue=true") == ["L1", "L2"]
    assert numbers("date_from=2026-03-02") == []
    assert numbers("area=330881") == []
    assert dispatcher.get(f"{URL}/calls?area=abc").status_code == 422


def test_detail_and_list_are_scoped(personas, calls):
    jiangshan = login(personas.jiangshan_dispatcher)
    assert jiangshan.get(f"{URL}/calls").json()["items"] == []
    assert jiangshan.get(f"{URL}/calls/{calls[0].pk}").status_code == 404
    assert post(jiangshan, f"{URL}/calls/{calls[0].pk}/not-push", {"reason": "无需"}).status_code == 404
    assert login(personas.kecheng_dispatcher).get(f"{URL}/calls/{calls[0].pk}").json()["call_number"] == "L1"


def test_detail_shows_time_overdue(dispatcher, calls):
    data = dispatcher.get(f"{URL}/calls/{calls[0].pk}").json()
    assert data["seconds_left"] == 0
    assert data["overdue_seconds"] > 0
    done = dispatcher.get(f"{URL}/calls/{calls[2].pk}").json()
    assert (done["overdue_seconds"], done["seconds_left"]) == (0, None)


# --- actions -------------------------------------------------------------------------------------


def test_push_not_push_follow_up(dispatcher, orgs, calls):
    call = calls[0]
    suggestions = dispatcher.get(f"{URL}/calls/{call.pk}/suggestions").json()
    assert suggestions[0]["name"] == "府山社区人民调解委员会"
    response = post(
        dispatcher,
        f"{URL}/calls/{call.pk}/push",
        {"org_unit_id": suggestions[0]["org_unit_id"], "at": "2026-03-01T15:00:00+08:00"},
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "pushed"
    assert data["pushed_to"]["name"] == "府山社区人民调解委员会"
    assert data["dispute"]["status"] == "dispatched"
    again = post(dispatcher, f"{URL}/calls/{call.pk}/push", {"org_unit_id": suggestions[0]["org_unit_id"]})
    assert again.status_code == 409
    follow = post(dispatcher, f"{URL}/calls/{call.pk}/follow-up", {"note": "已化解", "satisfied": True})
    assert follow.status_code == 200
    assert follow.json()["followup_satisfied"] is True

    other = calls[1]
    assert post(dispatcher, f"{URL}/calls/{other.pk}/not-push", {"reason": ""}).status_code == 422
    done = post(dispatcher, f"{URL}/calls/{other.pk}/not-push", {"reason": "当场和解"})
    assert done.json()["status"] == CallFeedback.NOT_PUSHED


def test_push_to_an_unknown_org_names_the_field(dispatcher, orgs, calls):
    response = post(dispatcher, f"{URL}/calls/{calls[0].pk}/push", {"org_unit_id": 999999})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["org_unit_id"]


def test_follow_up_before_push_is_409(dispatcher, calls):
    response = post(dispatcher, f"{URL}/calls/{calls[0].pk}/follow-up", {"note": "回访"})
    assert response.status_code == 409


# --- statistics ----------------------------------------------------------------------------------


@pytest.fixture
def stats_calls(tree, police_station):
    """10 key-type calls in March 2026: 9 pushed (8 in time, one after 30 h), one waiting."""
    for i in range(10):
        at = local(2026, 3, 2 + i, 9, 0)
        extra = {} if i == 9 else pushed(at, 30 if i == 8 else 1)
        make_call(police_station, tree.kecheng_village, f"S{i}", at, **extra)


def test_stats_by_station(dispatcher, stats_calls):
    response = dispatcher.get(f"{URL}/stats?by=station&from=2026-03-01&to=2026-03-31")
    assert response.status_code == 200, response.content
    data = response.json()
    row = data["rows"][0]
    assert (row["name"], row["key_calls"], row["pushed"], row["pushed_on_time"]) == ("信安派出所", 10, 9, 8)
    assert (row["linkage_rate"], row["linkage_rate_text"]) == (0.9, "90.00%")
    assert row["push_timeliness_rate_text"] == "88.89%"
    assert row["meets_target"] is False
    assert data["total"]["key_calls"] == 10
    assert data["target"] == 0.95


def test_stats_by_month_and_bad_input(dispatcher, stats_calls):
    months = dispatcher.get(f"{URL}/stats?by=month&from=2026-02-01&to=2026-03-31").json()["rows"]
    assert [(m["key"], m["key_calls"]) for m in months] == [("2026-02", 0), ("2026-03", 10)]
    assert dispatcher.get(f"{URL}/stats?by=week").status_code == 422
    bad = dispatcher.get(f"{URL}/stats?from=2026-03-31&to=2026-03-01")
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["end"]


def test_stats_are_scoped(personas, stats_calls):
    data = (
        login(personas.jiangshan_dispatcher)
        .get(f"{URL}/stats?by=county&from=2026-03-01&to=2026-03-31")
        .json()
    )
    assert data["rows"] == []
    assert data["total"]["calls"] == 0


def test_excel_export_has_three_sheets_and_the_rates(dispatcher, stats_calls):
    response = dispatcher.get(f"{URL}/stats.xlsx?from=2026-03-01&to=2026-03-31")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["按派出所", "按县(市、区)", "按月"]
    sheet = book["按派出所"]
    header = [c.value for c in sheet[3]]
    row = {h: c.value for h, c in zip(header, sheet[4], strict=False)}
    assert row["名称"] == "信安派出所"
    assert row["五类纠纷警情数"] == 10
    assert row["联动率"] == pytest.approx(0.9)
    assert row["联动率达标(≥95%)"] == "未达标"
    assert sheet["A5"].value == "合计"


def test_excel_export_is_scoped(personas, stats_calls):
    response = login(personas.jiangshan_dispatcher).get(
        f"{URL}/stats.xlsx?by=station&from=2026-03-01&to=2026-03-31"
    )
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    text = " ".join(str(v) for row in book.active.iter_rows(values_only=True) for v in row if v)
    assert "信安" not in text
    assert "柯城" not in text


def test_push_due_shown_for_a_call_recorded_now(dispatcher, police_station):
    from django.utils import timezone

    now = timezone.now()
    response = post(dispatcher, f"{URL}/calls", {**BODY, "called_at": now.isoformat()})
    left = response.json()["seconds_left"]
    assert timedelta(hours=23, minutes=59).total_seconds() < left <= timedelta(hours=24).total_seconds()
