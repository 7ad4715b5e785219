"""The disputes API (/api/disputes/): register (idempotent), list, detail, suggestions and the
mediation steps; masked parties; 404 outside the scope; 422 naming fields; 409 on stale versions."""

from __future__ import annotations

import json
from datetime import date

import pytest

from pingan.accounts.choices import Role
from pingan.cases.choices import Action, Status
from pingan.cases.models import Case
from pingan.disputes import services
from pingan.disputes.models import Agreement, Dispute
from pingan.people.models import Person
from pingan.people.services import create_person
from tests.conftest import login, make_user
from tests.disputes.conftest import new_id_number

URL = "/api/disputes/"
ROUTES = "可向人民法院起诉"


def post(client, url: str, body: dict, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def body(tree, **overrides) -> dict:
    values = {
        "dispute_type": "neighbour",
        "source": "window",
        "jurisdiction": tree.kecheng_village.code,
        "title": "楼上漏水邻里纠纷",
        "facts": "楼上卫生间漏水致楼下天花板受损。",
        "amount": "3000.50",
        "parties": [
            {"role": "applicant", "name": "张三", "id_number": new_id_number(), "phone": "13800000001"},
            {"role": "respondent", "name": "李四", "id_number": new_id_number(), "phone": "13800000002"},
        ],
    }
    values.update(overrides)
    return values


def errors(response) -> dict[str, str]:
    return {".".join(str(p) for p in d["loc"]): d["msg"] for d in response.json()["detail"]}


@pytest.fixture
def dispatcher(personas):
    return login(personas.kecheng_dispatcher)


# --- register ----------------------------------------------------------------------------------------


def test_register_returns_the_masked_detail(dispatcher, tree, orgs):
    response = post(dispatcher, URL, body(tree))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["number"].startswith("330802-")
    assert (data["status"], data["dispute_type_label"], data["source_label"]) == (
        "registered",
        "邻里纠纷",
        "中心窗口",
    )
    assert data["amount"] == "3000.50"
    assert data["area_name"] == "府山社区"
    assert [p["role"] for p in data["parties"]] == ["applicant", "respondent"]
    person = data["parties"][0]["person"]
    assert person["name"] == "张*"
    assert person["phone"].startswith("138") and "00000001" not in person["phone"]
    assert "*" in person["id_number"]
    raw = response.content.decode()
    assert "13800000001" not in raw and "张三" not in raw
    assert data["risks"] == [] and data["agreement"] is None and data["confirmation"] is None
    assert "dispatch" in data["allowed_actions"]


def test_register_names_the_bad_party_field_and_writes_nothing(dispatcher, tree):
    bad = body(tree)
    bad["parties"][1]["id_number"] = "330802198001011234"
    response = post(dispatcher, URL, bad)
    assert response.status_code == 422
    assert list(errors(response)) == ["parties[1].id_number"]
    assert "校验位" in errors(response)["parties[1].id_number"]
    assert not Case.objects.exists() and not Person.objects.exists()


def test_register_schema_errors_are_422(dispatcher, tree):
    response = post(dispatcher, URL, body(tree, dispute_type="quarrel", amount="-5"))
    assert response.status_code == 422
    fields = errors(response)
    assert any(k.endswith("dispute_type") for k in fields) and any(k.endswith("amount") for k in fields)


def test_register_outside_the_scope_is_422_on_jurisdiction(personas, tree):
    response = post(login(personas.jiangshan_dispatcher), URL, body(tree))
    assert response.status_code == 422
    assert list(errors(response)) == ["jurisdiction"]


def test_register_with_an_existing_person(dispatcher, tree, personas):
    person = create_person(
        personas.admin, name="赵六", id_number=new_id_number(), jurisdiction=tree.kecheng_village
    )
    payload = body(tree)
    payload["parties"][0] = {"role": "applicant", "person_id": person.pk}
    response = post(dispatcher, URL, payload)
    assert response.status_code == 201
    assert response.json()["parties"][0]["person"]["id"] == person.pk


def test_register_refuses_a_person_outside_the_scope(dispatcher, tree, personas):
    person = create_person(
        personas.admin, name="江山人", id_number=new_id_number("330881"), jurisdiction=tree.jiangshan_village
    )
    payload = body(tree)
    payload["parties"][0] = {"role": "applicant", "person_id": person.pk}
    response = post(dispatcher, URL, payload)
    assert response.status_code == 422
    assert list(errors(response)) == ["parties[0].person_id"]


def test_idempotency_key_makes_a_retry_harmless(dispatcher, tree):
    payload = body(tree)
    first = post(dispatcher, URL, payload, HTTP_IDEMPOTENCY_KEY="win-0001")
    again = post(dispatcher, URL, payload, HTTP_IDEMPOTENCY_KEY="win-0001")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Dispute.objects.count() == 1
    other = post(dispatcher, URL, {**payload, "title": "另一纠纷"}, HTTP_IDEMPOTENCY_KEY="win-0001")
    assert other.status_code == 422
    assert list(errors(other)) == ["Idempotency-Key"]
    assert Dispute.objects.count() == 1


def test_flagged_registration_shows_risks(dispatcher, tree, police_station):
    response = post(dispatcher, URL, body(tree, violence_threat=True, people_involved=6))
    data = response.json()
    assert data["risk_flags"] == ["violence", "group"]
    assert [r["label"] for r in data["risks"]] == ["有暴力威胁", "群体性(5人以上)"]
    assert data["police_alerted_at"] is not None
    assert data["tier_label"] == "乡镇(街道)"


# --- list and detail ----------------------------------------------------------------------------------


def test_list_filters(dispatcher, new_dispute, police_station, orgs, mediators, personas):
    plain = new_dispute()
    labour = new_dispute(dispute_type="labour", source="hotline")
    flagged = new_dispute(violence_threat=True)
    services.assign(plain, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    services.accept(plain, actor=mediators.village)

    def ids(query: str = "") -> list[int]:
        response = dispatcher.get(URL + query)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["items"]]

    assert set(ids()) == {plain.pk, labour.pk, flagged.pk}
    assert ids("?type=labour") == [labour.pk]
    assert ids("?source=hotline") == [labour.pk]
    assert ids("?flagged=true") == [flagged.pk]
    assert set(ids("?flagged=false")) == {plain.pk, labour.pk}
    assert ids("?status=handling") == [plain.pk]
    assert set(ids("?area=330802001001")) == {plain.pk, labour.pk, flagged.pk}
    assert ids("?area=330881") == []
    assert ids("?outcome=success") == []
    assert login(mediators.village).get(URL + "?mediator=me").json()["items"][0]["id"] == plain.pk
    assert ids("?mediator=me") == []
    assert dispatcher.get(URL + "?area=33x").status_code == 422


def test_list_pages_without_total(dispatcher, new_dispute):
    for _ in range(3):
        new_dispute()
    first = dispatcher.get(URL + "?page_size=2").json()
    second = dispatcher.get(URL + "?page_size=2&page=2").json()
    assert (len(first["items"]), first["has_next"]) == (2, True)
    assert (len(second["items"]), second["has_next"]) == (1, False)
    assert "total" not in first


def test_jiangshan_user_gets_404_on_a_kecheng_dispute(personas, new_dispute, orgs):
    dispute = new_dispute()
    client = login(personas.jiangshan_dispatcher)
    assert client.get(f"{URL}{dispute.pk}").status_code == 404
    assert client.get(f"{URL}{dispute.pk}/suggestions").status_code == 404
    response = post(client, f"{URL}{dispute.pk}/assign", {"version": 0, "org_unit_id": orgs.village.pk})
    assert response.status_code == 404
    assert client.get(URL).json()["items"] == []
    assert Case.objects.get(pk=dispute.pk).status == Status.REGISTERED


def test_anonymous_gets_401(new_dispute):
    dispute = new_dispute()
    assert login(None).get(f"{URL}{dispute.pk}").status_code == 401
    assert login(None).get(URL).status_code == 401


def test_suggestions(dispatcher, new_dispute, orgs):
    dispute = new_dispute()
    data = dispatcher.get(f"{URL}{dispute.pk}/suggestions?limit=2").json()
    assert [(s["name"], s["open_count"], s["org_kind_label"]) for s in data] == [
        ("府山社区人民调解委员会", 0, "村(社区)人民调解委员会"),
        ("信安街道人民调解委员会", 0, "乡镇(街道)人民调解委员会"),
    ]
    assert "就近就地化解" in data[0]["reason"]


# --- the mediation steps --------------------------------------------------------------------------------


def test_full_mediation_to_an_agreement(dispatcher, new_dispute, orgs, mediators):
    dispute = new_dispute()
    url = f"{URL}{dispute.pk}"
    response = post(dispatcher, f"{url}/assign", {"version": 0, "org_unit_id": orgs.village.pk})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["unit"]["name"]) == (
        "dispatched",
        "府山社区人民调解委员会",
    )
    mediator = login(mediators.village)
    response = post(mediator, f"{url}/accept", {"version": 1})
    assert (response.json()["status"], response.json()["mediator"]) == ("handling", "府山调解员")
    response = post(mediator, f"{url}/consent", {"version": 2, "applicant": "agreed", "respondent": "agreed"})
    assert response.json()["applicant_consent_label"] == "同意调解"
    party_ids = [p["id"] for p in response.json()["parties"]]
    response = post(
        mediator,
        f"{url}/sessions",
        {
            "version": 3,
            "at": "2026-03-04T14:30:00+08:00",
            "place": "府山社区调解室",
            "party_ids": party_ids,
            "record": "双方同意按报价赔偿。",
        },
    )
    assert response.status_code == 200, response.content
    session = response.json()["sessions"][0]
    assert (session["place"], session["party_ids"], session["recorded_by"]) == (
        "府山社区调解室",
        sorted(party_ids),
        "府山调解员",
    )
    agreement = {
        "facts": "漏水致天花板受损",
        "terms": "被申请人赔偿 3000 元",
        "performance": "转账",
        "perform_by": "2026-03-20",
        "signed_on": "2026-03-05",
    }
    response = post(mediator, f"{url}/outcome", {"version": 4, "outcome": "success", "agreement": agreement})
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["status"], data["outcome_label"]) == ("reported", "调解成功")
    assert data["agreement"]["number"] == f"调协字{data['number']}号"
    assert data["confirmation"]["apply_by"] == "2026-04-07"
    assert data["confirmation"]["status"] == "due"
    assert Agreement.objects.count() == 1


def test_outcome_success_without_consent_is_422_and_writes_nothing(new_dispute, orgs, mediators, personas):
    dispute = new_dispute()
    services.assign(dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    services.accept(dispute, actor=mediators.village)
    agreement = {
        "facts": "a",
        "terms": "b",
        "performance": "c",
        "perform_by": "2026-03-20",
        "signed_on": "2026-03-05",
    }
    response = post(
        login(mediators.village),
        f"{URL}{dispute.pk}/outcome",
        {"version": 2, "outcome": "success", "agreement": agreement},
    )
    assert response.status_code == 422
    assert list(errors(response)) == ["consent"]
    assert not Agreement.objects.exists()
    assert Case.objects.get(pk=dispute.pk).status == Status.HANDLING


def test_refusal_via_consent_needs_routes(new_dispute, orgs, mediators, personas):
    dispute = new_dispute()
    services.assign(dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    services.accept(dispute, actor=mediators.village)
    client, url = login(mediators.village), f"{URL}{dispute.pk}/consent"
    response = post(client, url, {"version": 2, "applicant": "agreed", "respondent": "refused"})
    assert response.status_code == 422 and list(errors(response)) == ["routes_told"]
    response = post(
        client, url, {"version": 2, "applicant": "agreed", "respondent": "refused", "routes_told": ROUTES}
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["outcome"], response.json()["routes_told"]) == (
        "reported",
        "refused",
        ROUTES,
    )


def test_stale_version_is_409_with_the_current_one(dispatcher, new_dispute, orgs):
    dispute = new_dispute()
    response = post(dispatcher, f"{URL}{dispute.pk}/assign", {"version": 5, "org_unit_id": orgs.village.pk})
    assert response.status_code == 409
    assert response.json() == {
        "code": "version_conflict",
        "detail": "该案件已被他人修改，请刷新后重试",
        "current_version": 0,
    }


def test_illegal_step_is_409(dispatcher, new_dispute, orgs):
    dispute = new_dispute()
    url = f"{URL}{dispute.pk}/assign"
    assert post(dispatcher, url, {"version": 0, "org_unit_id": orgs.village.pk}).status_code == 200
    response = post(dispatcher, url, {"version": 1, "org_unit_id": orgs.township.pk})
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"


def test_assign_to_an_org_not_taking_the_type_is_422(dispatcher, new_dispute, orgs):
    dispute = new_dispute()
    response = post(dispatcher, f"{URL}{dispute.pk}/assign", {"version": 0, "org_unit_id": orgs.labour.pk})
    assert response.status_code == 422
    assert "不受理邻里纠纷" in errors(response)["org_unit_id"]
    response = post(dispatcher, f"{URL}{dispute.pk}/assign", {"version": 0, "org_unit_id": orgs.jiangshan.pk})
    assert response.status_code == 422 and list(errors(response)) == ["org_unit_id"]


def test_consent_by_the_dispatcher_is_403(dispatcher, new_dispute, orgs, mediators, personas):
    dispute = new_dispute()
    services.assign(dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    services.accept(dispute, actor=mediators.village)
    response = post(
        dispatcher,
        f"{URL}{dispute.pk}/consent",
        {"version": 2, "applicant": "agreed", "respondent": "agreed"},
    )
    assert response.status_code == 403


def test_accept_with_a_mediator_of_another_org_is_422(new_dispute, orgs, mediators, personas, tree):
    clerk = make_user("clerk_village", Role.HANDLER, tree.kecheng_village, orgs.village.unit)
    dispute = new_dispute()
    services.assign(dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    response = post(
        login(clerk), f"{URL}{dispute.pk}/accept", {"version": 1, "mediator_id": mediators.township.pk}
    )
    assert response.status_code == 422 and list(errors(response)) == ["mediator_id"]
    response = post(login(clerk), f"{URL}{dispute.pk}/accept", {"version": 1, "mediator_id": 999999})
    assert response.status_code == 422 and list(errors(response)) == ["mediator_id"]


def test_escalate_to_the_township(dispatcher, new_dispute, orgs, mediators, personas):
    dispute = new_dispute()
    services.assign(dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    url = f"{URL}{dispute.pk}/escalate"
    response = post(dispatcher, url, {"version": 1, "org_unit_id": orgs.township.pk})
    assert response.status_code == 422 and list(errors(response)) == ["note"]
    response = post(
        dispatcher, url, {"version": 1, "org_unit_id": orgs.township.pk, "note": "涉及多户，提级"}
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["status"], data["unit"]["name"], data["tier"]) == ("dispatched", "信安街道人民调解委员会", 2)
    actions = list(Case.objects.get(pk=dispute.pk).steps.values_list("action", flat=True))
    assert actions[-2:] == [Action.ESCALATE, Action.DISPATCH]


def test_add_party_to_a_110_dispute(dispatcher, new_dispute, orgs, mediators, personas):
    dispute = new_dispute(source="police_110", parties=[])
    services.assign(dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    client, url = login(mediators.village), f"{URL}{dispute.pk}/parties"
    response = post(client, url, {"version": 1, "role": "respondent", "name": "王五", "id_number": "123"})
    assert response.status_code == 422 and list(errors(response)) == ["parties[0].id_number"]
    response = post(
        client, url, {"version": 1, "role": "respondent", "name": "王五", "id_number": new_id_number()}
    )
    assert response.status_code == 200, response.content
    assert [p["person"]["name"] for p in response.json()["parties"]] == ["王*"]


def test_session_for_a_party_of_another_dispute_is_422(new_dispute, orgs, mediators, personas):
    dispute = new_dispute()
    other = new_dispute().parties.first()
    services.assign(dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    services.accept(dispute, actor=mediators.village)
    services.record_consent(dispute, actor=mediators.village, applicant="agreed", respondent="agreed")
    response = post(
        login(mediators.village),
        f"{URL}{dispute.pk}/sessions",
        {
            "version": 3,
            "at": "2026-03-04T14:30:00+08:00",
            "place": "调解室",
            "party_ids": [other.pk],
            "record": "x",
        },
    )
    assert response.status_code == 422 and list(errors(response)) == ["party_ids"]


def test_detail_shows_court_referral(dispatcher, tree):
    from pingan.accounts.choices import UnitKind
    from pingan.accounts.models import Unit

    court = Unit.objects.create(name="柯城区人民法院", kind=UnitKind.COURT, jurisdiction=tree.kecheng)
    payload = body(
        tree,
        source="court",
        referral="entrusted",
        procedure="summary",
        court_id=court.pk,
        referred_on="2026-03-02",
    )
    response = post(dispatcher, URL, payload)
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["referral_label"], data["court"]["name"], data["referral_due"]) == (
        "诉中委托",
        "柯城区人民法院",
        "2026-03-09",
    )
    missing = post(dispatcher, URL, {**payload, "court_id": None})
    assert missing.status_code == 422 and list(errors(missing)) == ["court_id"]
    assert date(2026, 3, 9).isoweekday() == 1


# --- scope: every route, every role of 江山 ---------------------------------------------------------------

DETAIL_ROUTES = {
    "detail": ("get", "", None),
    "suggestions": ("get", "/suggestions", None),
    "assign": ("post", "/assign", {"version": 0, "org_unit_id": "{org}"}),
    "accept": ("post", "/accept", {"version": 0}),
    "consent": ("post", "/consent", {"version": 0, "applicant": "agreed", "respondent": "agreed"}),
    "sessions": (
        "post",
        "/sessions",
        {"version": 0, "at": "2026-03-04T14:30:00+08:00", "place": "调解室", "party_ids": [1], "record": "x"},
    ),
    "parties": ("post", "/parties", {"version": 0, "role": "applicant", "name": "王五", "id_number": "{id}"}),
    "outcome": ("post", "/outcome", {"version": 0, "outcome": "failure", "routes_told": ROUTES}),
    "escalate": ("post", "/escalate", {"version": 0, "org_unit_id": "{org}", "note": "提级"}),
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("route", sorted(DETAIL_ROUTES))
def test_jiangshan_roles_get_404_on_every_route(route, role, new_dispute, orgs, tree):
    dispute = new_dispute()
    unit = orgs.jiangshan.unit if role in (Role.MEDIATOR, Role.HANDLER) else None
    client = login(make_user(f"js_{role}", role, tree.jiangshan, unit))
    method, suffix, payload = DETAIL_ROUTES[route]
    url = f"{URL}{dispute.pk}{suffix}"
    if method == "get":
        response = client.get(url)
    else:
        values = {
            k: (v.format(org=orgs.county.pk, id=new_id_number()) if isinstance(v, str) else v)
            for k, v in payload.items()
        }
        values = {k: int(v) if k == "org_unit_id" else v for k, v in values.items()}
        response = post(client, url, values)
    assert response.status_code == 404, response.content[:300]
    assert "柯城" not in response.content.decode() and "330802" not in response.content.decode()
    listed = client.get(URL)
    assert listed.status_code == 200 and listed.json()["items"] == []
    assert Case.objects.get(pk=dispute.pk).version == 0


def test_the_generic_case_page_and_api_send_dispute_steps_to_the_dispute_page(new_dispute, personas, orgs):
    """派遣/处置反馈/提级 of a dispute go through the dispute services (type check, agreement)."""
    from tests.conftest import login

    dispute = new_dispute()
    client = login(personas.kecheng_dispatcher)
    body = {"version": dispute.case.version, "unit_id": orgs.village.pk}
    refused = client.post(
        f"/api/cases/{dispute.pk}/actions/dispatch", data=json.dumps(body), content_type="application/json"
    )
    assert refused.status_code == 409 and "矛盾纠纷页面办理" in refused.json()["detail"]
    assert Case.objects.get(pk=dispute.pk).status == Status.REGISTERED
    page = client.get(f"/cases/{dispute.pk}/").content.decode()
    assert f'href="/disputes/{dispute.pk}/"' in page and "/act/dispatch/" not in page
