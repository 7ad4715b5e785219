"""/api/events/: category tree, idempotent intake, masked detail, suggestion, merge; scope and errors."""

from __future__ import annotations

import json

import pytest

from pingan.accounts.choices import UnitKind
from pingan.accounts.models import Unit
from pingan.cases.models import Case
from pingan.events.models import Category, RoutingRule
from tests.conftest import login
from tests.events.conftest import KC_POINT, OUTSIDE_POINT, north

BODY = {
    "channel": "hotline",
    "category": "0101",
    "title": "小区门口暴露垃圾无人清理",
    "lat": KC_POINT[0],
    "lon": KC_POINT[1],
    "requester_name": "王芳",
    "requester_phone": "13812345678",
    "channel_ref": "12345-20261123-0001",
}


def _post(client, url, body, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def _fields(response) -> set[str]:
    return {tuple(d["loc"])[-1] for d in response.json()["detail"]}


@pytest.fixture
def seat(personas):
    return login(personas.kecheng_dispatcher)


def test_categories_come_as_a_tree(catalogue, seat):
    response = seat.get("/api/events/categories")
    assert response.status_code == 200
    tree = {node["name"]: node for node in response.json()}
    assert list(tree) == ["市容环境", "违法建设", "安全生产"]
    rubbish = tree["市容环境"]["children"][0]
    assert (
        rubbish["code"] == "0101"
        and rubbish["deadline_unit"] == "working_days"
        and rubbish["deadline_amount"] == 1
    )
    assert [c["name"] for c in tree["安全生产"]["children"]] == ["燃气泄漏"]
    assert tree["安全生产"]["children"][0]["urgent"] is True
    Category.objects.filter(code="0106").update(active=False)
    names = [c["name"] for c in seat.get("/api/events/categories").json()[0]["children"]]
    assert names == ["暴露垃圾"]


def test_intake_creates_then_replays_with_the_same_key(catalogue, seat):
    created = _post(seat, "/api/events/", BODY, **{"Idempotency-Key": "call-0001"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["number"].startswith("330802-") and body["category"] == {
        "code": "0101",
        "name": "暴露垃圾",
        "major": "市容环境",
    }
    assert body["jurisdiction"]["code"] == "330802001001001" and body["channel_ref"] == "12345-20261123-0001"
    replay = _post(seat, "/api/events/", BODY, **{"Idempotency-Key": "call-0001"})
    assert replay.status_code == 200 and replay.json()["id"] == body["id"]
    assert Case.objects.count() == 1
    other = _post(seat, "/api/events/", {**BODY, "title": "另一件事"}, **{"Idempotency-Key": "call-0001"})
    assert other.status_code == 422 and _fields(other) == {"Idempotency-Key"}
    assert Case.objects.count() == 1
    without_key = _post(seat, "/api/events/", BODY)
    assert without_key.status_code == 201 and Case.objects.count() == 2


def test_intake_answers_bad_input_with_422_naming_the_field(catalogue, seat):
    outside = _post(seat, "/api/events/", {**BODY, "lat": OUTSIDE_POINT[0], "lon": OUTSIDE_POINT[1]})
    assert outside.status_code == 422 and _fields(outside) == {"location"}
    assert "不在本平台的任何网格内" in outside.json()["detail"][0]["msg"]
    unknown = _post(seat, "/api/events/", {**BODY, "category": "9999"})
    assert unknown.status_code == 422 and _fields(unknown) == {"category"}
    extra = _post(seat, "/api/events/", {**BODY, "colour": "red"})
    assert extra.status_code == 422 and _fields(extra) == {"colour"}
    missing = _post(seat, "/api/events/", {k: v for k, v in BODY.items() if k != "title"})
    assert missing.status_code == 422 and _fields(missing) == {"title"}
    blank = _post(seat, "/api/events/", {**BODY, "title": "  "})
    assert blank.status_code == 422 and _fields(blank) == {"title"}
    long_key = _post(seat, "/api/events/", BODY, **{"Idempotency-Key": "k" * 101})
    assert long_key.status_code == 422 and _fields(long_key) == {"Idempotency-Key"}
    nobody = _post(seat, "/api/events/", {**BODY, "requester_id": 999999})
    assert nobody.status_code == 422 and _fields(nobody) == {"requester_id"}
    assert Case.objects.count() == 0


def test_detail_shows_the_requester_masked(catalogue, seat):
    case_id = _post(seat, "/api/events/", BODY).json()["id"]
    response = seat.get(f"/api/events/{case_id}")
    assert response.status_code == 200
    requester = response.json()["requester"]
    assert requester["name"] == "王*" and requester["phone"] == "138****5678"
    text = response.content.decode()
    assert "13812345678" not in text and "王芳" not in json.dumps(response.json(), ensure_ascii=False)


def test_another_county_gets_404_for_every_event_route(catalogue, seat, personas):
    case_id = _post(seat, "/api/events/", BODY).json()["id"]
    other = _post(seat, "/api/events/", {**BODY, "title": "暴露垃圾"}).json()["id"]
    js = login(personas.jiangshan_dispatcher)
    assert js.get(f"/api/events/{case_id}").status_code == 404
    assert js.get(f"/api/events/{case_id}/suggestion").status_code == 404
    assert _post(js, f"/api/events/{case_id}/merge", {"target": other}).status_code == 404
    assert login(None).get(f"/api/events/{case_id}").status_code == 401


def test_suggestion_gives_the_unit_and_visible_duplicates(catalogue, seat, tree):
    chengguan = Unit.objects.create(
        name="柯城区综合行政执法局", kind=UnitKind.DEPARTMENT, jurisdiction=tree.kecheng
    )
    RoutingRule.objects.create(category=catalogue["0101"], jurisdiction=tree.kecheng, unit=chengguan)
    first = _post(seat, "/api/events/", BODY).json()["id"]
    lat, lon = north(KC_POINT, 150)
    second = _post(
        seat, "/api/events/", {**BODY, "title": "小区门口有暴露垃圾没人清理", "lat": lat, "lon": lon}
    )
    response = seat.get(f"/api/events/{second.json()['id']}/suggestion")
    assert response.status_code == 200
    body = response.json()
    assert body["unit"] == {"id": chengguan.pk, "name": "柯城区综合行政执法局"} and body["source"] == "rule"
    [duplicate] = body["duplicates"]
    assert duplicate["id"] == first and duplicate["score"] == 0.625
    assert duplicate["distance_m"] == pytest.approx(150, abs=1)


def test_merge_through_the_api_and_conflicts_as_409(catalogue, seat):
    first = _post(seat, "/api/events/", BODY).json()["id"]
    second = _post(seat, "/api/events/", {**BODY, "title": "暴露垃圾"}).json()
    stale = _post(
        seat, f"/api/events/{second['id']}/merge", {"target": first, "version": second["version"] + 1}
    )
    assert stale.status_code == 409 and "已被他人修改" in stale.json()["detail"]
    merged = _post(seat, f"/api/events/{second['id']}/merge", {"target": first, "note": "同一处"})
    assert merged.status_code == 200, merged.content
    assert merged.json()["status"] == "cancelled" and merged.json()["merged_into"].startswith("330802-")
    again = _post(seat, f"/api/events/{second['id']}/merge", {"target": first})
    assert again.status_code == 409 and "已注销" in again.json()["detail"]
    missing = _post(seat, f"/api/events/{first}/merge", {"target": 999999})
    assert missing.status_code == 422 and _fields(missing) == {"target"}


def test_handler_cannot_file_or_merge(catalogue, personas, seat):
    handler = login(personas.kecheng_handler)
    assert _post(handler, "/api/events/", BODY).status_code == 403
    first = _post(seat, "/api/events/", BODY).json()["id"]
    second = _post(seat, "/api/events/", BODY).json()["id"]
    assert _post(handler, f"/api/events/{second}/merge", {"target": first}).status_code == 403
