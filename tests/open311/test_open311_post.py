"""POST requests: api_key, service_code, location and attributes checked; a good report becomes an event."""

from __future__ import annotations

import pytest

from pingan.cases.choices import Channel, Status
from pingan.cases.models import Case
from pingan.events.models import Event, IdempotencyKey
from pingan.open311.services import create_client
from pingan.people.services import masked
from tests.open311.conftest import JS_POINT, OUTSIDE_POINT, body, error_fields, good_report, post, xml


def test_good_post_files_an_open311_event_and_returns_its_id_as_a_string(kecheng_app, tree):
    app, key = kecheng_app
    response = post(good_report(key, **{"attribute[volume]": "2.5", "attribute[signs][]": ["smell", "road"]}))
    assert response.status_code == 201
    (answer,) = body(response)
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    case = Case.objects.get()
    assert answer["service_request_id"] == case.number and isinstance(answer["service_request_id"], str)
    assert answer["service_notice"] == "派遣后 1 个工作日内处置"
    assert answer["account_id"] is None
    assert (case.kind, case.channel, case.status) == ("event", Channel.OPEN311, Status.REGISTERED)
    assert case.jurisdiction == tree.kecheng_grid
    assert case.reporter == app.user
    assert case.title == "府山路口有一堆生活垃圾，三天没人清理"
    assert Event.objects.get(case=case).category.code == "0101"
    assert case.data["open311"] == {
        "client": app.pk,
        "attributes": {"kind": "household", "volume": "2.5", "signs": ["smell", "road"]},
        "media_url": "https://img.example.com/fushan/1.jpg",
        "address_id": "",
    }
    # The requester went into the people register (family name first), sealed and masked.
    assert masked(case.requester)["name"] == "张*"
    assert masked(case.requester)["phone"] == "138****5678"


def test_good_post_answers_in_xml_with_the_spec_elements(kecheng_app):
    _app, key = kecheng_app
    response = post(good_report(key), fmt="xml")
    assert response.status_code == 201
    root = xml(response)
    assert root.tag == "service_requests"
    (request,) = root.findall("request")
    assert [c.tag for c in request] == ["service_request_id", "service_notice", "account_id"]
    assert request.findtext("service_request_id") == Case.objects.get().number
    assert request.find("account_id").text is None


def test_post_never_echoes_the_requester(kecheng_app):
    _app, key = kecheng_app
    text = post(good_report(key)).content.decode()
    assert "13812345678" not in text and "张" not in text and "zhangsan" not in text


@pytest.mark.parametrize("api_key", [None, "", "not-a-key"])
def test_post_without_a_valid_api_key_is_403(kecheng_app, api_key):
    response = post(good_report(api_key))
    assert response.status_code == 403
    (error,) = body(response)
    assert error["code"] == 403 and error["description"].startswith("api_key: ")
    assert Case.objects.count() == 0


def test_switched_off_client_is_403(kecheng_app):
    app, key = kecheng_app
    app.active = False
    app.save()
    assert post(good_report(key)).status_code == 403


def test_api_key_in_the_query_string_is_accepted(kecheng_app, client):
    _app, key = kecheng_app
    data = good_report(key)
    del data["api_key"]
    from urllib.parse import urlencode

    response = client.post(
        f"/open311/v2/requests.json?api_key={key}",
        data=urlencode(data),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 201


def test_missing_service_code_is_400_naming_it(kecheng_app):
    response = post(good_report(kecheng_app[1], service_code=None))
    assert response.status_code == 400
    assert error_fields(response) == ["service_code"]


def test_unknown_service_code_is_404_as_the_spec_says(kecheng_app):
    response = post(good_report(kecheng_app[1], service_code="9999"))
    assert response.status_code == 404
    assert error_fields(response) == ["service_code"]


def test_missing_location_is_400(kecheng_app):
    response = post(good_report(kecheng_app[1], lat=None, long=None))
    assert response.status_code == 400
    assert error_fields(response) == ["lat/long"]


def test_lat_without_long_is_400_naming_long(kecheng_app):
    response = post(good_report(kecheng_app[1], long=None))
    assert response.status_code == 400
    assert error_fields(response) == ["long"]


def test_address_id_alone_cannot_be_located(kecheng_app):
    response = post(good_report(kecheng_app[1], lat=None, long=None, address_id="A-1001"))
    assert response.status_code == 400
    assert error_fields(response) == ["address_id"]


def test_address_string_alone_locates_the_township(kecheng_app, tree):
    response = post(good_report(kecheng_app[1], lat=None, long=None, address_string="柯城区信安街道府山路口"))
    assert response.status_code == 201
    assert Case.objects.get().jurisdiction == tree.kecheng_township


def test_place_outside_the_client_jurisdiction_is_400(kecheng_app):
    response = post(good_report(kecheng_app[1], lat=str(JS_POINT[0]), long=str(JS_POINT[1])))
    assert response.status_code == 400
    assert error_fields(response) == ["lat/long"]
    response = post(good_report(kecheng_app[1], lat=str(OUTSIDE_POINT[0]), long=str(OUTSIDE_POINT[1])))
    assert response.status_code == 400
    assert error_fields(response) == ["lat/long"]


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({"attribute[kind]": None}, "attribute[kind]"),  # required
        ({"attribute[kind]": "toxic"}, "attribute[kind]"),  # not one of the keys
        ({"attribute[volume]": "two"}, "attribute[volume]"),  # not a number
        ({"attribute[seen_at]": "yesterday"}, "attribute[seen_at]"),  # not ISO 8601
        ({"attribute[signs][]": ["smell", "fire"]}, "attribute[signs]"),
        ({"attribute[colour]": "red"}, "attribute[colour]"),  # no such attribute
    ],
)
def test_bad_attribute_is_400_naming_it(kecheng_app, attributes, field):
    response = post(good_report(kecheng_app[1], **attributes))
    assert response.status_code == 400
    assert error_fields(response) == [field]
    assert Case.objects.count() == 0


def test_every_bad_parameter_is_reported_at_once(kecheng_app):
    long_text = "很" * 4001
    response = post(
        good_report(
            kecheng_app[1],
            lat="91",
            description=long_text,
            media_url="ftp://x",
            **{"attribute[kind]": None},
        )
    )
    assert response.status_code == 400
    assert sorted(error_fields(response)) == ["attribute[kind]", "description", "lat", "media_url"]
    assert all(e["code"] == 400 for e in body(response))


def test_invalid_phone_is_400_naming_phone(kecheng_app):
    response = post(good_report(kecheng_app[1], phone="12345"))
    assert response.status_code == 400
    assert error_fields(response) == ["phone"]


def test_phone_without_a_name_is_400_whether_or_not_the_phone_is_known(kecheng_app):
    key = kecheng_app[1]
    assert post(good_report(key)).status_code == 201  # registers 张三 with 13812345678
    for phone in ("13812345678", "13900001111"):
        response = post(good_report(key, first_name=None, last_name=None, phone=phone))
        assert response.status_code == 400
        assert error_fields(response) == ["first_name/last_name"]


def test_json_body_is_refused_naming_the_content_type(kecheng_app, client):
    response = client.post(
        "/open311/v2/requests.json", data=good_report(kecheng_app[1]), content_type="application/json"
    )
    assert response.status_code == 400
    assert error_fields(response) == ["Content-Type"]


def test_retry_with_the_same_idempotency_key_returns_the_same_id(kecheng_app):
    key = kecheng_app[1]
    headers = {"Idempotency-Key": "suishoupai-7f3a"}
    first = post(good_report(key), headers=headers)
    again = post(good_report(key), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert body(first)[0]["service_request_id"] == body(again)[0]["service_request_id"]
    assert Case.objects.count() == 1
    assert IdempotencyKey.objects.get().owner == f"open311:{kecheng_app[0].pk}"


def test_same_idempotency_key_with_other_attributes_is_400(kecheng_app):
    key = kecheng_app[1]
    headers = {"Idempotency-Key": "suishoupai-7f3a"}
    assert post(good_report(key), headers=headers).status_code == 201
    response = post(good_report(key, **{"attribute[kind]": "construction"}), headers=headers)
    assert response.status_code == 400
    assert error_fields(response) == ["Idempotency-Key"]
    assert Case.objects.count() == 1


def test_two_clients_may_use_the_same_idempotency_key(kecheng_app, tree):
    _other, other_key = create_client(name="衢州城市通", jurisdiction=tree.city)
    headers = {"Idempotency-Key": "k-1"}
    first = post(good_report(kecheng_app[1]), headers=headers)
    second = post(good_report(other_key), headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert Case.objects.count() == 2
