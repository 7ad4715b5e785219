"""GET requests with the spec's filters, a request by id, tokens — and no personal data in any of them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from pingan.cases.choices import Action, Channel
from pingan.cases.models import Case
from pingan.cases.services import transition
from pingan.events.services import intake, merge
from pingan.open311 import georeport
from tests.open311.conftest import JS_POINT, KC_POINT, body, error_fields, get, good_report, local, post, xml

REQUEST_ELEMENTS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
NOVEMBER = {"start_date": "2026-11-01T00:00:00+08:00", "end_date": "2026-11-30T23:59:59+08:00"}
PERSON_ID = "330802199001011232"


@pytest.fixture
def hotline(services, personas):
    """File an event as the 柯城 12345 seat (a requester with name and phone) on a given day."""

    def make(at, category="0101", point=KC_POINT, actor=None, **extra):
        case, _created = intake(
            actor=actor or personas.kecheng_dispatcher,
            channel=Channel.HOTLINE,
            category=category,
            title="府山路暴露垃圾",
            description=f"柯城张三（13812345678，身份证{PERSON_ID}）反映门口垃圾无人清理",
            lat=point[0],
            lon=point[1],
            address="府山路12号",
            requester_name="柯城张三",
            requester_phone="13812345678",
            at=at,
            **extra,
        )
        return case

    return make


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [r["service_request_id"] for r in body(response)]


def test_requests_list_shows_the_spec_fields_with_string_ids(hotline, units, personas):
    case = hotline(local(2026, 11, 23, 9, 0))
    transition(case, Action.DISPATCH, actor=personas.kecheng_dispatcher, unit=units.kecheng_police,
               at=local(2026, 11, 23, 10, 0))  # fmt: skip
    (request,) = body(get("requests.json", **NOVEMBER))
    assert list(request) == REQUEST_ELEMENTS
    assert request["service_request_id"] == case.number and isinstance(request["service_request_id"], str)
    assert request["status"] == "open" and request["status_notes"] == "待签收"
    assert (request["service_code"], request["service_name"]) == ("0101", "暴露垃圾")
    assert request["agency_responsible"] == "柯城区公安分局"
    assert request["service_notice"] == "派遣后 1 个工作日内处置"
    assert request["requested_datetime"] == "2026-11-23T09:00:00+08:00"
    assert request["updated_datetime"] == "2026-11-23T10:00:00+08:00"
    # The unit's deadline: 1 working day after dispatch (the end of Tuesday 24 November).
    assert request["expected_datetime"] == "2026-11-24T23:59:59+08:00"
    assert (request["lat"], request["long"]) == KC_POINT
    assert request["address"] == "府山路12号"
    assert request["description"] is None  # a hotline seat's text stays inside the platform
    assert request["zipcode"] is None and request["media_url"] is None


def test_requests_xml_has_the_spec_element_names(hotline):
    hotline(local(2026, 11, 23, 9, 0))
    root = xml(get("requests.xml", **NOVEMBER))
    assert root.tag == "service_requests"
    (request,) = root.findall("request")
    assert [c.tag for c in request] == REQUEST_ELEMENTS
    assert request.findtext("status") == "open"
    assert request.findtext("lat") == str(KC_POINT[0])


def test_service_request_id_list_overrides_every_other_filter(hotline):
    old = hotline(local(2026, 6, 1, 9, 0))
    new = hotline(local(2026, 11, 23, 9, 0))
    hotline(local(2026, 11, 24, 9, 0))
    found = ids(
        get("requests.json", service_request_id=f"{old.number}, {new.number}", status="closed", **NOVEMBER)
    )
    assert found == [new.number, old.number]


def test_status_filter_maps_closed_cancelled_and_merged_to_closed(hotline, personas):
    dispatcher = personas.kecheng_dispatcher
    open_case = hotline(local(2026, 11, 20, 9, 0))
    cancelled = hotline(local(2026, 11, 21, 9, 0))
    transition(
        cancelled, Action.CANCEL, actor=dispatcher, note="不属于受理范围", at=local(2026, 11, 21, 10, 0)
    )
    merged = hotline(local(2026, 11, 22, 9, 0))
    merge(merged, open_case, actor=dispatcher, at=local(2026, 11, 22, 9, 30))
    assert ids(get("requests.json", status="open", **NOVEMBER)) == [open_case.number]
    closed = body(get("requests.json", status="closed", **NOVEMBER))
    assert [(r["service_request_id"], r["status"], r["status_notes"]) for r in closed] == [
        (merged.number, "closed", f"已并入 {open_case.number} 一并办理"),
        (cancelled.number, "closed", "已注销"),
    ]
    # A handler's note ("不属于受理范围") never leaves the platform.
    assert "不属于受理范围" not in get("requests.json", status="closed", **NOVEMBER).content.decode()
    assert len(ids(get("requests.json", status="open,closed", **NOVEMBER))) == 3


def test_dates_select_on_requested_datetime_inclusive(hotline):
    hotline(local(2026, 10, 31, 23, 59))
    first = hotline(local(2026, 11, 1, 0, 0))
    last = hotline(local(2026, 11, 30, 23, 59))
    hotline(local(2026, 12, 1, 0, 0))
    assert ids(get("requests.json", **NOVEMBER)) == [last.number, first.number]
    # 00:00–08:00 on 1 November in Shanghai, given in UTC.
    utc = {"start_date": "2026-10-31T16:00:00Z", "end_date": "2026-11-01T00:00:00Z"}
    assert ids(get("requests.json", **utc)) == [first.number]


def test_default_window_is_the_most_recent_90_days(hotline):
    now = timezone.now()
    hotline(now - timedelta(days=91))
    recent = hotline(now - timedelta(days=89))
    assert ids(get("requests.json")) == [recent.number]


def test_start_date_alone_covers_90_days_from_it(hotline):
    hotline(local(2026, 6, 1, 9, 0))
    inside = hotline(local(2026, 6, 20, 9, 0))
    hotline(local(2026, 9, 1, 9, 0))  # 92 days later
    assert ids(get("requests.json", start_date="2026-06-02T00:00:00+08:00")) == [inside.number]


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"start_date": "2026-11-01"}, ["start_date"]),  # no time, no zone
        ({"start_date": "2026-11-01T00:00:00"}, ["start_date"]),  # no zone
        ({"end_date": "yesterday"}, ["end_date"]),
        ({"start_date": "2026-11-30T00:00:00Z", "end_date": "2026-11-01T00:00:00Z"}, ["start_date"]),
        # More than 90 days.
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, ["end_date"]),
        ({"status": "pending"}, ["status"]),
        ({"status": "done", "start_date": "x"}, ["status", "start_date"]),
    ],
)
def test_bad_filters_are_400_naming_each_parameter(services, params, fields):
    response = get("requests.json", **params)
    assert response.status_code == 400
    assert error_fields(response) == fields
    assert {e["code"] for e in body(response)} == {400}


def test_unencoded_plus_in_an_offset_is_understood(hotline):
    case = hotline(local(2026, 11, 23, 9, 0))
    response = get(
        "requests.json", start_date="2026-11-23T00:00:00 08:00", end_date="2026-11-24T00:00:00 08:00"
    )
    assert ids(response) == [case.number]


def test_service_code_filter_takes_a_comma_list(hotline):
    garbage = hotline(local(2026, 11, 23, 9, 0))
    building = hotline(local(2026, 11, 23, 10, 0), category="0401")
    hotline(local(2026, 11, 23, 11, 0), category="0603")
    assert ids(get("requests.json", service_code="0101,0401", **NOVEMBER)) == [
        building.number,
        garbage.number,
    ]


def test_jurisdiction_id_narrows_to_a_county(hotline, personas):
    hotline(local(2026, 11, 23, 9, 0))
    jiangshan = hotline(local(2026, 11, 23, 10, 0), point=JS_POINT, actor=personas.jiangshan_dispatcher)
    assert ids(get("requests.json", jurisdiction_id="330881", **NOVEMBER)) == [jiangshan.number]
    assert len(ids(get("requests.json", jurisdiction_id="330800", **NOVEMBER))) == 2


def test_at_most_max_requests_newest_first(hotline, monkeypatch):
    cases = [hotline(local(2026, 11, d, 9, 0)) for d in (20, 21, 22)]
    monkeypatch.setattr(georeport, "MAX_REQUESTS", 2)
    assert ids(get("requests.json", **NOVEMBER)) == [cases[2].number, cases[1].number]


def test_request_by_id_in_json_and_xml(hotline):
    case = hotline(local(2026, 11, 23, 9, 0))
    (request,) = body(get(f"requests/{case.number}.json"))
    assert request["service_request_id"] == case.number
    root = xml(get(f"requests/{case.number}.xml"))
    assert root.tag == "service_requests" and root.findtext("request/service_request_id") == case.number


def test_unknown_request_is_404(services):
    response = get("requests/330802-20261123-99999.json")
    assert response.status_code == 404
    assert error_fields(response) == ["service_request_id"]


def test_token_is_the_case_uuid(hotline):
    case = hotline(local(2026, 11, 23, 9, 0))
    assert body(get(f"tokens/{case.uuid}.json")) == [
        {"service_request_id": case.number, "token": str(case.uuid)}
    ]
    root = xml(get(f"tokens/{case.uuid}.xml"))
    assert [c.tag for c in root.find("request")] == ["service_request_id", "token"]
    for token in ("not-a-uuid", "6f1c2a52-0000-4000-8000-000000000000"):
        response = get(f"tokens/{token}.json")
        assert response.status_code == 404 and error_fields(response) == ["token"]


# --- personal data ------------------------------------------------------------------------------


def _all_reads(number: str) -> str:
    """Every read that shows the request: the list, the list by id, the request, in both formats."""
    registered = Case.objects.get(number=number).registered_at
    window = {
        "start_date": (registered - timedelta(hours=1)).isoformat(),
        "end_date": (registered + timedelta(hours=1)).isoformat(),
    }
    texts = []
    for fmt in ("json", "xml"):
        listed = get(f"requests.{fmt}", **window)
        assert number in listed.content.decode()
        texts.append(listed.content.decode())
        texts.append(get(f"requests/{number}.{fmt}").content.decode())
        texts.append(get(f"requests.{fmt}", service_request_id=number).content.decode())
    return "\n".join(texts)


def test_no_requester_name_phone_or_id_number_in_any_read(hotline):
    case = hotline(local(2026, 11, 23, 9, 0))
    text = _all_reads(case.number)
    assert case.number in text
    for secret in ("张三", "13812345678", "138****5678", PERSON_ID, "反映门口垃圾"):
        assert secret not in text


def test_open311_description_is_shown_with_phone_id_and_email_masked(kecheng_app):
    description = f"门口垃圾三天没人清理，联系我 13812345678 或 zs@example.com，身份证 {PERSON_ID}"
    response = post(good_report(kecheng_app[1], description=description))
    number = body(response)[0]["service_request_id"]
    (request,) = body(get(f"requests/{number}.json"))
    assert request["description"] == (
        "门口垃圾三天没人清理，联系我 138****5678 或 ***@example.com，身份证 3308**********1232"
    )
    assert request["media_url"] == "https://img.example.com/fushan/1.jpg"
    text = _all_reads(number)
    for secret in ("张三", "13812345678", PERSON_ID, "zhangsan", "zs@example.com"):
        assert secret not in text
