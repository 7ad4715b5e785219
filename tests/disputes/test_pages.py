"""Dispute pages: the one-stop window, the list, the mediator's workbench, one dispute, statistics.

Each page renders for the roles that use it and hides what lies outside the user's scope (404 for
a dispute, nothing in a list); the window registers a dispute with its parties and, when the
service refuses, names the field beside the row that was wrong and keeps every typed value; the
workbench's forms move the case through the services (签收 → 意愿 → 调解记录 → 结果).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from pingan.accounts.choices import Role, UnitKind
from pingan.accounts.models import Unit
from pingan.cases.choices import Status
from pingan.cases.models import Case, Step
from pingan.disputes import services
from pingan.disputes.choices import Consent, DisputeType, Outcome, PartyRole, RiskFlag, Source
from pingan.disputes.models import Agreement, Dispute, DisputeParty, MediationSession
from pingan.disputes.services import PartyIn
from pingan.people.models import Person
from tests.conftest import login, make_user
from tests.disputes.conftest import new_id_number

WINDOW = "/disputes/new/"
INVALID_ID = "330802199001011231"  # checksum digit wrong (…1232 is valid)


def window_post(tree, applicant_id: str, respondent_id: str, **extra) -> dict:
    data = {
        "dispute_type": DisputeType.NEIGHBOUR,
        "facts": "楼上装修噪音持续一个月，双方多次争吵。",
        "title": "",
        "source": Source.WINDOW,
        "jurisdiction": tree.kecheng_village.code,
        "address": "府山社区5幢",
        "amount": "2000",
        "people_involved": "",
        "applicants-TOTAL_FORMS": "1",
        "applicants-INITIAL_FORMS": "0",
        "applicants-MIN_NUM_FORMS": "1",
        "applicants-MAX_NUM_FORMS": "20",
        "applicants-0-name": "赵大明",
        "applicants-0-id_number": applicant_id,
        "applicants-0-phone": "13900000011",
        "applicants-0-address": "府山社区5幢301",
        "respondents-TOTAL_FORMS": "1",
        "respondents-INITIAL_FORMS": "0",
        "respondents-MIN_NUM_FORMS": "1",
        "respondents-MAX_NUM_FORMS": "20",
        "respondents-0-name": "钱小红",
        "respondents-0-id_number": respondent_id,
        "respondents-0-phone": "13900000012",
        "respondents-0-address": "府山社区5幢401",
    }
    data.update(extra)
    return data


def field_block(html: str, field_id: str) -> str:
    """The .field block holding the input ``field_id`` (its label, input and errors)."""
    start = html.rfind('<div class="field', 0, html.index(f'id="{field_id}"'))
    return html[start : html.index("</div>", html.index(f'id="{field_id}"')) + 6]


@pytest.fixture
def revealer(personas):
    """The 柯城 dispatcher may reveal (查看完整个人信息), like a real centre desk."""
    user = personas.kecheng_dispatcher
    user.user_permissions.add(
        Permission.objects.get(codename="reveal_person", content_type__app_label="people")
    )
    return user


# --- the window ----------------------------------------------------------------------------------


def test_window_renders_for_desk_and_mediators_and_refuses_grid_workers(personas, mediators):
    for user in (personas.kecheng_dispatcher, mediators.village, personas.admin):
        response = login(user).get(WINDOW)
        assert response.status_code == 200, user
        html = response.content.decode()
        assert 'name="applicants-0-id_number"' in html and 'name="respondents-0-id_number"' in html
    assert login(personas.kecheng_grid_worker).get(WINDOW).status_code == 403
    assert login(None).get(WINDOW).status_code == 302  # to the login page


def test_window_offers_key_types_first_and_places_in_scope_only(personas, tree):
    html = login(personas.kecheng_dispatcher).get(WINDOW).content.decode()
    labels = re.findall(r'name="dispute_type" value="(\w+)"', html)
    assert labels[:5] == ["neighbour", "family", "land", "labour", "medical"]
    assert tree.kecheng_village.code in html and "府山社区" in html
    assert tree.jiangshan_village.code not in html and "鹿溪社区" not in html
    # The dispatcher's scope is one county: it is preselected.
    assert f'<option value="{tree.kecheng.code}" selected>' in html


def test_window_registers_a_dispute_with_two_parties(personas, tree, orgs):
    applicant_id, respondent_id = new_id_number(), new_id_number()
    response = login(personas.kecheng_dispatcher).post(WINDOW, window_post(tree, applicant_id, respondent_id))
    dispute = Dispute.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/disputes/{dispute.pk}/?registered=1"
    case = Case.objects.get(pk=dispute.pk)
    assert (case.kind, case.status, case.area_code) == (
        "dispute",
        Status.REGISTERED,
        tree.kecheng_village.code,
    )
    assert case.title == "邻里纠纷（府山社区）"  # generated: no personal data in titles
    assert dispute.source == Source.WINDOW and str(dispute.amount) == "2000.00"
    parties = list(dispute.parties.select_related("person").order_by("role"))
    assert [(p.role, p.person.name) for p in parties] == [
        (PartyRole.APPLICANT, "赵大明"),
        (PartyRole.RESPONDENT, "钱小红"),
    ]
    assert parties[0].person.id_number == applicant_id


def test_window_registers_a_court_referral_with_its_due_date(personas, tree, units):
    court = Unit.objects.create(name="柯城区人民法院", kind=UnitKind.COURT, jurisdiction=tree.kecheng)
    data = window_post(
        tree, new_id_number(), new_id_number(), source=Source.COURT, referral="entrusted", court=str(court.pk),
        procedure="summary", referred_on="2026-03-02", court_case_number="（2026）浙0802民初123号",
    )  # fmt: skip
    client = login(personas.kecheng_dispatcher)
    assert 'id="id_court"' in client.get(WINDOW).content.decode()
    response = client.post(WINDOW, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    dispute = Dispute.objects.get()
    # 诉中委托，简易程序: 7 days from 2026-03-02 → 2026-03-09 (a Monday, a working day).
    assert (dispute.referral, dispute.court, dispute.referral_due) == ("entrusted", court, date(2026, 3, 9))
    html = client.get(f"/disputes/{dispute.pk}/").content.decode()
    assert "须于 2026-03-09 前调结" in html and "（2026）浙0802民初123号" in html
    # A referral without its date: the error sits beside the field, and the section is open.
    data.pop("referred_on")
    refused = client.post(WINDOW, data)
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "请填写委派/委托日期" in field_block(html, "id_referred_on")
    assert '<details class="card dp-fold" open>' in html


def test_window_links_a_person_already_in_the_register(personas, tree, orgs):
    known = new_id_number()
    services.register_dispute(
        actor=personas.kecheng_dispatcher, dispute_type=DisputeType.LAND, source=Source.WINDOW,
        jurisdiction=tree.kecheng_village, title="田埂纠纷", facts="田埂归属争议。",
        parties=[PartyIn(role=PartyRole.APPLICANT, name="孙老三", id_number=known),
                 PartyIn(role=PartyRole.RESPONDENT, name="周老四", id_number=new_id_number())],
    )  # fmt: skip
    before = Person.objects.count()
    response = login(personas.kecheng_dispatcher).post(WINDOW, window_post(tree, known, new_id_number()))
    assert response.status_code == 302
    assert Person.objects.count() == before + 1  # only the respondent is new
    newest = Dispute.objects.order_by("-pk").first()
    assert newest.parties.get(role=PartyRole.APPLICANT).person.id_number == known
    # The same applicant within 90 days: the second dispute carries the REPEAT flag.
    assert RiskFlag.REPEAT in newest.risk_flags


def test_invalid_id_on_the_second_party_names_that_field_and_keeps_every_typed_value(personas, tree):
    data = window_post(tree, new_id_number(), INVALID_ID)
    response = login(personas.kecheng_dispatcher).post(WINDOW, data)
    assert response.status_code == 422
    assert not Dispute.objects.exists() and not Person.objects.exists()  # nothing half-written
    html = response.content.decode()
    block = field_block(html, "id_respondents-0-id_number")
    assert "身份证号码校验位错误" in block and "has-error" in block
    assert "身份证号码校验位错误" not in field_block(html, "id_applicants-0-id_number")
    for typed in (
        "楼上装修噪音持续一个月",
        "赵大明",
        "钱小红",
        INVALID_ID,
        "13900000012",
        "府山社区5幢401",
        "2000",
    ):
        assert typed in html, typed
    assert '<input type="radio" name="dispute_type" value="neighbour"' in html
    assert re.search(r'value="neighbour"[^>]*checked', html)


def test_missing_respondent_and_form_errors_keep_the_rest(personas, tree):
    data = window_post(tree, new_id_number(), "", **{"respondents-0-name": "", "respondents-0-phone": "",
                                                     "respondents-0-address": "", "facts": ""})  # fmt: skip
    response = login(personas.kecheng_dispatcher).post(WINDOW, data)
    assert response.status_code == 422
    html = response.content.decode()
    assert "请至少填写一名被申请人" in html
    facts = field_block(html, "id_facts")
    assert "has-error" in facts and 'class="field-error"' in facts
    assert "赵大明" in html and not Dispute.objects.exists()


def test_add_row_without_javascript_keeps_typed_values(personas, tree):
    data = window_post(tree, "330802199001011232", "", add_party="respondents")
    response = login(personas.kecheng_dispatcher).post(WINDOW, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="respondents-TOTAL_FORMS" value="2"' in html
    assert 'name="respondents-1-name"' in html
    assert "赵大明" in html and "楼上装修噪音持续一个月" in html
    assert "has-error" not in html and not Dispute.objects.exists()


def test_party_lookup_says_invalid_found_or_new(personas, tree, new_dispute):
    dispute = new_dispute()
    known = dispute.parties.get(role=PartyRole.APPLICANT).person
    client = login(personas.kecheng_dispatcher)
    url = reverse("disputes:party_lookup")
    asked = {"HTTP_HX_TRIGGER_NAME": "respondents-1-id_number"}
    assert "校验位错误" in client.post(url, {"id_number": INVALID_ID}).content.decode()
    # htmx names the input that asked: the other rows' numbers are not what is looked up.
    found = client.post(
        url, {"applicants-0-id_number": INVALID_ID, "respondents-1-id_number": known.id_number}, **asked
    ).content.decode()
    assert "人员库已有" in found and "张*" in found and "张三" not in found
    assert "柯城区信安街道府山社区" in found
    assert "人员库中没有此人" in client.post(url, {"id_number": new_id_number()}).content.decode()
    # Outside the scope the register does not answer.
    js = login(personas.jiangshan_dispatcher).post(url, {"id_number": known.id_number}).content.decode()
    assert "人员库已有" not in js
    assert client.get(url).status_code == 405


# --- one dispute: detail, suggestions, assignment ------------------------------------------------


def test_detail_shows_masked_parties_flags_and_suggestions(personas, new_dispute, orgs, police_station):
    dispute = new_dispute(violence_threat=True)
    response = login(personas.kecheng_dispatcher).get(f"/disputes/{dispute.pk}/?registered=1")
    assert response.status_code == 200
    html = response.content.decode()
    assert "张*" in html and "李*" in html
    assert "张三" not in html and "李四" not in html  # masked
    assert "13800000001" not in html
    assert 'class="risk-badge"' in html and "有暴力威胁" in html
    assert "已于" in html and "通报属地派出所" in html
    suggested = [s.org.unit_id for s in services.suggest_orgs(dispute)]
    assert suggested and f'data-assign="{suggested[0]}"' in html
    assert f'href="/cases/{dispute.pk}/"' in html  # the loop's other actions
    assert "流转记录" in html  # the case timeline partial


def test_detail_is_404_outside_the_scope_and_for_other_kinds(personas, new_dispute, units):
    dispute = new_dispute()
    assert login(personas.jiangshan_dispatcher).get(f"/disputes/{dispute.pk}/").status_code == 404
    assert login(personas.city_leader).get(f"/disputes/{dispute.pk}/").status_code == 200
    from pingan.cases import services as cases

    event = cases.register(
        "event", actor=personas.kecheng_dispatcher, title="占道", jurisdiction=dispute.case.jurisdiction,
        channel="grid",
    )  # fmt: skip
    assert login(personas.kecheng_dispatcher).get(f"/disputes/{event.pk}/").status_code == 404


def test_one_click_assign_dispatches_to_the_suggested_org(personas, new_dispute, orgs):
    dispute = new_dispute()
    first = services.suggest_orgs(dispute)[0].org
    case = Case.objects.get(pk=dispute.pk)
    response = login(personas.kecheng_dispatcher).post(
        f"/disputes/{dispute.pk}/assign/",
        {"org_unit": first.unit_id, "version": case.version, "next": f"/disputes/{dispute.pk}/"},
    )
    assert response.status_code == 302 and response["Location"] == f"/disputes/{dispute.pk}/"
    case.refresh_from_db()
    assert (case.status, case.unit_id) == (Status.DISPATCHED, first.unit_id)


def test_assign_refuses_an_org_outside_the_scope_and_a_stale_page(personas, new_dispute, orgs):
    dispute = new_dispute()
    case = Case.objects.get(pk=dispute.pk)
    client = login(personas.kecheng_dispatcher)
    response = client.post(
        f"/disputes/{dispute.pk}/assign/", {"org_unit": orgs.jiangshan.unit_id, "version": case.version}
    )
    assert response.status_code == 422
    assert "请选择您数据范围内的调解组织" in response.content.decode()
    stale = client.post(
        f"/disputes/{dispute.pk}/assign/", {"org_unit": orgs.village.unit_id, "version": case.version + 5}
    )
    assert stale.status_code == 409 and "该案件已被他人修改" in stale.content.decode()
    case.refresh_from_db()
    assert case.status == Status.REGISTERED
    # A grid worker of the area may look, but not assign.
    refused = login(personas.kecheng_grid_worker).post(
        f"/disputes/{dispute.pk}/assign/", {"org_unit": orgs.village.unit_id, "version": case.version}
    )
    assert refused.status_code in (403, 404)
    case.refresh_from_db()
    assert case.status == Status.REGISTERED


# --- the workbench: accept, consent, session, outcome --------------------------------------------


def assigned(new_dispute, orgs, personas, **kw) -> Dispute:
    dispute = new_dispute(**kw)
    services.assign(dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    return dispute


def version_of(dispute: Dispute) -> int:
    return Case.objects.get(pk=dispute.pk).version


def test_workbench_lists_my_unit_disputes_with_deadline_and_next_step(personas, new_dispute, orgs, mediators):
    mine = assigned(new_dispute, orgs, personas)
    other = new_dispute()
    services.assign(other, actor=personas.kecheng_dispatcher, org_unit=orgs.township.unit)
    response = login(mediators.village).get("/disputes/workbench/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-case="{mine.pk}"' in html and f'data-case="{other.pk}"' not in html
    assert "下一步：" in html and "签收" in html
    assert "剩余" in html  # time left on the 30-day clock
    assert Case.objects.get(pk=mine.pk).deadline_at.strftime("%Y-%m-%d") in html
    # Other roles get the page with its explanation, not an error.
    assert login(personas.kecheng_dispatcher).get("/disputes/workbench/").status_code == 200
    assert login(mediators.jiangshan).get("/disputes/workbench/").content.decode().count("data-case=") == 0


def test_workbench_actions_move_the_case_to_a_successful_agreement(personas, new_dispute, orgs, mediators):
    dispute = assigned(new_dispute, orgs, personas)
    client = login(mediators.village)
    back = "/disputes/workbench/"
    accept = client.post(f"/disputes/{dispute.pk}/accept/", {"version": version_of(dispute), "next": back})
    assert accept.status_code == 302 and accept["Location"] == back
    dispute.refresh_from_db()
    assert Case.objects.get(pk=dispute.pk).status == Status.HANDLING and dispute.mediator == mediators.village
    assert "记录调解意愿" in client.get(back).content.decode()

    consent = client.post(
        f"/disputes/{dispute.pk}/consent/",
        {
            "version": version_of(dispute),
            "applicant": "agreed",
            "respondent": "agreed",
            "routes_told": "x",
            "next": back,
        },
    )
    assert consent.status_code == 302
    dispute.refresh_from_db()
    assert dispute.both_consent and dispute.routes_told == ""

    parties = list(dispute.parties.values_list("pk", flat=True))
    at = timezone.localtime().replace(second=0, microsecond=0) - timedelta(hours=1)
    session = client.post(
        f"/disputes/{dispute.pk}/sessions/",
        {"version": version_of(dispute), "at": at.strftime("%Y-%m-%dT%H:%M"), "place": "府山社区调解室",
         "party_ids": parties, "others": "社区民警", "record": "双方陈述意见，同意赔偿。", "next": back},
    )  # fmt: skip
    assert session.status_code == 302
    saved = MediationSession.objects.get(dispute=dispute)
    assert (saved.place, saved.parties.count(), saved.at) == ("府山社区调解室", 2, at)

    today = timezone.localdate()
    outcome = client.post(
        f"/disputes/{dispute.pk}/outcome/",
        {"version": version_of(dispute), "outcome": "success", "agreement_facts": "楼上漏水",
         "terms": "李四赔偿张三维修费3000元", "performance": "银行转账",
         "perform_by": (today + timedelta(days=10)).isoformat(), "signed_on": today.isoformat(),
         "routes_told": "不应保存", "note": "", "next": back},
    )  # fmt: skip
    assert outcome.status_code == 302
    dispute.refresh_from_db()
    case = Case.objects.get(pk=dispute.pk)
    assert (case.status, dispute.outcome, dispute.routes_told) == (Status.REPORTED, Outcome.SUCCESS, "")
    agreement = Agreement.objects.get(dispute=dispute)
    assert agreement.terms == "李四赔偿张三维修费3000元" and agreement.signed_on == today
    html = client.get(f"/disputes/{dispute.pk}/").content.decode()
    assert agreement.number in html and "司法确认" in html and "待申请" in html
    assert 'id="agreement-docx"' not in html  # the mediator has no 查看完整个人信息
    actions = list(Step.objects.filter(case_id=dispute.pk).values_list("action", flat=True))
    assert "report" in actions and "accept" in actions


def test_the_agreement_document_is_offered_to_those_who_may_reveal(
    personas, new_dispute, orgs, mediators, revealer
):
    dispute = assigned(new_dispute, orgs, personas)
    services.accept(dispute, actor=mediators.village)
    services.record_consent(
        dispute, actor=mediators.village, applicant=Consent.AGREED, respondent=Consent.AGREED
    )
    today = timezone.localdate()
    agreement = {"facts": "f", "terms": "t", "performance": "p", "perform_by": today, "signed_on": today}
    services.record_outcome(dispute, actor=mediators.village, outcome=Outcome.SUCCESS, agreement=agreement)
    html = login(revealer).get(f"/disputes/{dispute.pk}/").content.decode()
    assert f'href="/api/confirmations/agreements/{dispute.pk}.docx" id="agreement-docx"' in html
    assert (
        'id="agreement-docx"'
        not in login(personas.city_leader).get(f"/disputes/{dispute.pk}/").content.decode()
    )


def test_outcome_without_terms_names_the_fields_and_keeps_what_was_typed(
    personas, new_dispute, orgs, mediators
):
    dispute = assigned(new_dispute, orgs, personas)
    services.accept(dispute, actor=mediators.village)
    services.record_consent(
        dispute, actor=mediators.village, applicant=Consent.AGREED, respondent=Consent.AGREED
    )
    response = login(mediators.village).post(
        f"/disputes/{dispute.pk}/outcome/",
        {"version": version_of(dispute), "outcome": "success", "agreement_facts": "漏水", "terms": "",
         "performance": "当面交付现金", "perform_by": "", "signed_on": timezone.localdate().isoformat()},
    )  # fmt: skip
    assert response.status_code == 422
    html = response.content.decode()
    assert "调解成功须填写此项" in field_block(html, f"d{dispute.pk}-terms")
    assert "当面交付现金" in html
    assert not Agreement.objects.exists()
    assert Case.objects.get(pk=dispute.pk).status == Status.HANDLING


def test_an_agreement_dated_in_the_future_is_refused_by_the_service_beside_its_field(
    personas, new_dispute, orgs, mediators
):
    dispute = assigned(new_dispute, orgs, personas)
    services.accept(dispute, actor=mediators.village)
    services.record_consent(
        dispute, actor=mediators.village, applicant=Consent.AGREED, respondent=Consent.AGREED
    )
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = login(mediators.village).post(
        f"/disputes/{dispute.pk}/outcome/",
        {"version": version_of(dispute), "outcome": "success", "agreement_facts": "漏水", "terms": "赔偿",
         "performance": "转账", "perform_by": (tomorrow + timedelta(days=5)).isoformat(),
         "signed_on": tomorrow.isoformat()},
    )  # fmt: skip
    assert response.status_code == 422
    assert "晚于今天" in field_block(response.content.decode(), f"d{dispute.pk}-signed_on")
    assert not Agreement.objects.exists()


def test_refused_consent_ends_mediation_with_the_routes_told(personas, new_dispute, orgs, mediators):
    dispute = assigned(new_dispute, orgs, personas)
    services.accept(dispute, actor=mediators.village)
    client = login(mediators.village)
    missing = client.post(
        f"/disputes/{dispute.pk}/consent/",
        {"version": version_of(dispute), "applicant": "agreed", "respondent": "refused", "routes_told": " "},
    )
    assert missing.status_code == 422 and "须填写已告知的仲裁、行政、诉讼等途径" in missing.content.decode()
    html = client.get(f"/disputes/{dispute.pk}/").content.decode()
    assert "仲裁、行政、诉讼" in html  # the §26 sentence is prefilled
    done = client.post(
        f"/disputes/{dispute.pk}/consent/",
        {"version": version_of(dispute), "applicant": "agreed", "respondent": "refused",
         "routes_told": "已告知可申请仲裁或向法院起诉"},
    )  # fmt: skip
    assert done.status_code == 302
    dispute.refresh_from_db()
    assert dispute.outcome == Outcome.REFUSED and dispute.respondent_consent == Consent.REFUSED
    assert Case.objects.get(pk=dispute.pk).status == Status.REPORTED


def test_failure_needs_the_routes_told(personas, new_dispute, orgs, mediators):
    dispute = assigned(new_dispute, orgs, personas)
    services.accept(dispute, actor=mediators.village)
    services.record_consent(
        dispute, actor=mediators.village, applicant=Consent.AGREED, respondent=Consent.AGREED
    )
    response = login(mediators.village).post(
        f"/disputes/{dispute.pk}/outcome/",
        {"version": version_of(dispute), "outcome": "failure", "routes_told": "已告知可向人民法院起诉"},
    )
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert (dispute.outcome, dispute.routes_told) == (Outcome.FAILURE, "已告知可向人民法院起诉")


def test_another_units_mediator_can_neither_see_nor_act(personas, new_dispute, orgs, mediators):
    dispute = assigned(new_dispute, orgs, personas)
    # The 江山 mediator: outside the scope, 404.
    assert login(mediators.jiangshan).post(f"/disputes/{dispute.pk}/accept/", {}).status_code == 404
    # The 柯城 labour mediator sees the county (scope) but is not the assigned unit.
    response = login(mediators.labour).post(
        f"/disputes/{dispute.pk}/accept/", {"version": version_of(dispute)}
    )
    assert response.status_code in (403, 409)
    assert Case.objects.get(pk=dispute.pk).status == Status.DISPATCHED


def test_a_110_dispute_without_parties_asks_for_them_first(personas, new_dispute, orgs, mediators, tree):
    dispute = new_dispute(source=Source.POLICE_110, parties=[])
    services.assign(dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    services.accept(dispute, actor=mediators.village)
    client = login(mediators.village)
    html = client.get("/disputes/workbench/").content.decode()
    assert "补录当事人" in html
    response = client.post(
        f"/disputes/{dispute.pk}/parties/",
        {"version": version_of(dispute), "role": "applicant", "name": "吴六", "id_number": INVALID_ID},
    )
    assert response.status_code == 422 and "校验位错误" in field_block(
        response.content.decode(), f"d{dispute.pk}-id_number"
    )
    for role, name in (("applicant", "吴六"), ("respondent", "郑七")):
        ok = client.post(
            f"/disputes/{dispute.pk}/parties/",
            {"version": version_of(dispute), "role": role, "name": name, "id_number": new_id_number()},
        )
        assert ok.status_code == 302
    assert DisputeParty.objects.filter(dispute=dispute).count() == 2
    assert "记录调解意愿" in client.get("/disputes/workbench/").content.decode()


# --- the list ------------------------------------------------------------------------------------


def test_list_filters_masks_and_stays_in_scope(personas, new_dispute, orgs, mediators, tree, police_station):
    plain = new_dispute()
    flagged = new_dispute(dispute_type=DisputeType.LABOUR, violence_threat=True, title="欠薪纠纷")
    services.assign(flagged, actor=personas.kecheng_dispatcher, org_unit=orgs.labour.unit)
    services.accept(flagged, actor=mediators.labour)
    client = login(personas.kecheng_dispatcher)

    def listed(query: str) -> set[int]:
        html = client.get(f"/disputes/?{query}").content.decode()
        return {int(pk) for pk in re.findall(r'data-case="(\d+)"', html)}

    assert listed("tab=all") == {plain.pk, flagged.pk}
    assert listed("tab=all&dispute_type=labour") == {flagged.pk}
    assert listed("tab=all&flagged=yes") == {flagged.pk}
    assert listed("tab=all&flagged=no") == {plain.pk}
    assert listed(f"tab=all&mediator={mediators.labour.pk}") == {flagged.pk}
    assert listed("tab=all&outcome=none") == {plain.pk, flagged.pk}
    assert listed("tab=handling") == {flagged.pk}
    assert listed("tab=registered") == {plain.pk}
    html = client.get("/disputes/?tab=all").content.decode()
    assert "张*" in html and "张三" not in html
    assert "有暴力威胁" in html
    assert (
        login(personas.jiangshan_dispatcher).get("/disputes/?tab=all").content.decode().count("data-case=")
        == 0
    )


def test_list_pages_without_a_total(personas, new_dispute, monkeypatch):
    from pingan.disputes import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    made = [new_dispute(title=f"纠纷{i}") for i in range(3)]
    client = login(personas.kecheng_dispatcher)
    first = client.get("/disputes/?tab=all").content.decode()
    assert "下一页" in first and "第 1 页" in first
    second = client.get("/disputes/?tab=all&page=2").content.decode()
    assert re.findall(r'data-case="(\d+)"', second) == [str(made[0].pk)]
    assert "下一页" not in second


# --- statistics ----------------------------------------------------------------------------------


def test_stats_page_counts_hand_built_disputes(personas, new_dispute, orgs, mediators, tree):
    d1 = assigned(new_dispute, orgs, personas)
    services.accept(d1, actor=mediators.village)
    services.record_consent(d1, actor=mediators.village, applicant=Consent.AGREED, respondent=Consent.AGREED)
    services.record_outcome(
        d1, actor=mediators.village, outcome=Outcome.SUCCESS,
        agreement={"facts": "f", "terms": "t", "performance": "p", "perform_by": date(2026, 3, 20),
                   "signed_on": date(2026, 3, 5)},
    )  # fmt: skip
    d2 = assigned(new_dispute, orgs, personas, dispute_type=DisputeType.CONSUMER)
    services.accept(d2, actor=mediators.village)
    services.record_consent(d2, actor=mediators.village, applicant=Consent.AGREED, respondent=Consent.AGREED)
    services.record_outcome(d2, actor=mediators.village, outcome=Outcome.FAILURE, routes_told="起诉")
    new_dispute(source=Source.POLICE_110, dispute_type=DisputeType.FAMILY)
    new_dispute(jurisdiction=tree.jiangshan_village, actor=personas.jiangshan_dispatcher)  # not 柯城
    response = login(personas.kecheng_dispatcher).get("/disputes/stats/?start=2026-03-01&end=2026-03-31")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'id="stat-total">3<', html)
    assert re.search(r'id="stat-key">2<', html)  # neighbour + family
    assert re.search(r'id="stat-success-rate">50.0%<', html)
    assert re.search(r'id="stat-police-share">33.3%<', html)
    assert "信安街道" in html and "虎山街道" not in html  # township rows of the one county in scope
    leader = (
        login(personas.city_leader).get("/disputes/stats/?start=2026-03-01&end=2026-03-31").content.decode()
    )
    assert re.search(r'id="stat-total">4<', leader) and "江山市" in leader and "柯城区" in leader


def test_stats_page_shows_bad_dates_beside_the_field(personas):
    response = login(personas.kecheng_dispatcher).get("/disputes/stats/?start=2026-05-01&end=2026-04-01")
    assert response.status_code == 200
    assert "结束日期不能早于开始日期" in response.content.decode()


@pytest.mark.parametrize("role", [Role.GRID_WORKER, Role.HANDLER, Role.SUPERVISOR, Role.LEADER])
def test_list_stats_and_workbench_render_for_every_role(role, tree, units, personas):
    user = make_user(f"u_{role}", role, tree.kecheng, units.kecheng_police)
    client = login(user)
    for url in ("/disputes/", "/disputes/stats/", "/disputes/workbench/"):
        assert client.get(url).status_code == 200, url
