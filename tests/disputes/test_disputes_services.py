"""The disputes write gate: registration with parties, risk flags and the police alert,
suggestions, assignment, consent, sessions, outcome and escalation (pingan.disputes.services)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pingan.accounts.choices import Role, UnitKind
from pingan.accounts.models import Unit
from pingan.cases import services as cases
from pingan.cases.choices import Action, Channel, Status, Tier
from pingan.cases.models import Case, Step
from pingan.core.models import Notification
from pingan.disputes import services
from pingan.disputes.choices import Consent, DisputeType, Outcome, PartyRole, Referral, RiskFlag, Source
from pingan.disputes.models import Agreement, Dispute, JudicialConfirmation, MediationSession
from pingan.disputes.services import PartyIn
from pingan.people.models import Person
from pingan.people.services import create_person
from tests.conftest import make_user
from tests.disputes.conftest import REGISTERED_AT, local, new_id_number

ROUTES = "可申请劳动仲裁，或向人民法院起诉"
AGREEMENT = {
    "facts": "楼上卫生间漏水致楼下天花板受损",
    "terms": "李四赔偿张三维修费 3000 元",
    "performance": "银行转账",
    "perform_by": date(2026, 3, 20),
    "signed_on": date(2026, 3, 5),
}


def party(role: PartyRole, name: str = "王五", **kw) -> PartyIn:
    return PartyIn(role=role, name=name, id_number=kw.pop("id_number", None) or new_id_number(), **kw)


def handling(new_dispute, orgs, mediators, personas, **kw) -> Dispute:
    """A dispute assigned to 府山社区 and accepted by its mediator."""
    dispute = new_dispute(**kw)
    services.assign(dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    services.accept(dispute, actor=mediators.village)
    return dispute


def consented(new_dispute, orgs, mediators, personas, **kw) -> Dispute:
    dispute = handling(new_dispute, orgs, mediators, personas, **kw)
    services.record_consent(
        dispute, actor=mediators.village, applicant=Consent.AGREED, respondent=Consent.AGREED
    )
    return dispute


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Notifications are written on commit: run the callbacks of the wrapped block."""
    return django_capture_on_commit_callbacks


# --- register ------------------------------------------------------------------------------------


def test_register_creates_case_dispute_and_parties(new_dispute, tree, personas):
    dispute = new_dispute(amount="3000", address="府山社区3幢")
    case = Case.objects.get(pk=dispute.pk)
    assert case.kind == "dispute"
    assert case.status == Status.REGISTERED
    assert case.number.startswith("330802-20260302-")
    assert case.channel == Channel.WINDOW
    assert case.tier == Tier.VILLAGE
    assert case.data == {"dispute_type": "neighbour"}
    assert case.description.startswith("楼上卫生间漏水")
    assert case.deadline_amount == Decimal(30)
    assert dispute.amount == Decimal("3000.00")
    assert dispute.people_involved == 2
    assert dispute.risk_flags == []
    assert dispute.police_alerted_at is None
    parties = list(dispute.parties.select_related("person"))
    assert [(p.role, p.order, p.person.name) for p in parties] == [
        (PartyRole.APPLICANT, 1, "张三"),
        (PartyRole.RESPONDENT, 1, "李四"),
    ]
    assert case.requester_id == parties[0].person_id
    assert parties[0].person.area_code == tree.kecheng_village.code
    assert list(case.steps.values_list("action", flat=True)) == [Action.REGISTER]


def test_several_applicants_and_respondents_in_order(new_dispute):
    dispute = new_dispute(
        parties=[
            party(PartyRole.APPLICANT, "甲一"),
            party(PartyRole.RESPONDENT, "乙一"),
            party(PartyRole.APPLICANT, "甲二"),
            party(PartyRole.RESPONDENT, "乙二"),
        ]
    )
    rows = [(p.role, p.order, p.person.name) for p in dispute.parties.select_related("person")]
    assert rows == [
        ("applicant", 1, "甲一"),
        ("applicant", 2, "甲二"),
        ("respondent", 1, "乙一"),
        ("respondent", 2, "乙二"),
    ]
    assert dispute.people_involved == 4


def test_existing_person_found_by_id_number_not_duplicated(new_dispute, tree, personas):
    number = new_id_number()
    person = create_person(personas.admin, name="赵六", id_number=number, jurisdiction=tree.kecheng_village)
    before = Person.objects.count()
    dispute = new_dispute(
        parties=[party(PartyRole.APPLICANT, "赵六", id_number=number), party(PartyRole.RESPONDENT)]
    )
    assert dispute.parties.get(role="applicant").person_id == person.pk
    assert Person.objects.count() == before + 1  # only the respondent is new


def test_person_of_another_county_is_linked(new_dispute, tree, personas):
    number = new_id_number("330881")
    person = create_person(
        personas.admin, name="江山人", id_number=number, jurisdiction=tree.jiangshan_village
    )
    dispute = new_dispute(parties=[party(PartyRole.APPLICANT, id_number=number), party(PartyRole.RESPONDENT)])
    assert dispute.parties.get(role="applicant").person_id == person.pk


def test_existing_person_object_as_party(new_dispute, tree, personas):
    person = create_person(
        personas.admin, name="钱七", id_number=new_id_number(), jurisdiction=tree.kecheng_village
    )
    dispute = new_dispute(
        parties=[PartyIn(role=PartyRole.APPLICANT, person=person), party(PartyRole.RESPONDENT)]
    )
    assert dispute.parties.get(role="applicant").person_id == person.pk


@pytest.mark.parametrize(
    ("id_number", "message"),
    [("", "请填写"), ("330802198001011234", "校验位"), ("12345", "18 位")],
)
def test_bad_id_number_names_the_party_and_writes_nothing(new_dispute, id_number, message):
    counts = (Case.objects.count(), Person.objects.count(), Dispute.objects.count())
    with pytest.raises(ValidationError) as exc:
        new_dispute(
            parties=[
                party(PartyRole.APPLICANT),
                PartyIn(role=PartyRole.RESPONDENT, name="李四", id_number=id_number),
            ]
        )
    assert list(exc.value.message_dict) == ["parties[1].id_number"]
    assert message in exc.value.message_dict["parties[1].id_number"][0]
    assert (Case.objects.count(), Person.objects.count(), Dispute.objects.count()) == counts


def test_every_bad_field_is_named_at_once(new_dispute):
    with pytest.raises(ValidationError) as exc:
        new_dispute(
            dispute_type="quarrel",
            facts=" ",
            amount="-1",
            parties=[
                PartyIn(role=PartyRole.APPLICANT, name="", id_number=new_id_number()),
                PartyIn(role="judge", name="李四", id_number=new_id_number()),
                PartyIn(role=PartyRole.RESPONDENT, name="王五", id_number=new_id_number(), phone="12"),
            ],
        )
    assert set(exc.value.message_dict) == {
        "dispute_type",
        "facts",
        "amount",
        "parties[0].name",
        "parties[1].role",
        "parties[2].phone",
    }


def test_needs_an_applicant_and_a_respondent(new_dispute):
    with pytest.raises(ValidationError) as exc:
        new_dispute(parties=[party(PartyRole.APPLICANT), party(PartyRole.APPLICANT)])
    assert "申请人和一名被申请人" in exc.value.message_dict["parties"][0]
    assert not Dispute.objects.exists()


def test_the_same_person_twice_is_refused(new_dispute):
    number = new_id_number()
    with pytest.raises(ValidationError) as exc:
        new_dispute(
            parties=[
                party(PartyRole.APPLICANT, id_number=number),
                party(PartyRole.RESPONDENT, id_number=number),
            ]
        )
    assert list(exc.value.message_dict) == ["parties[1].id_number"]


def test_a_failure_after_people_were_created_rolls_everything_back(new_dispute, tree, personas):
    """The same resident given once as a Person and once by ID number is found only while writing."""
    number = new_id_number()
    person = create_person(personas.admin, name="孙八", id_number=number, jurisdiction=tree.kecheng_village)
    people = Person.objects.count()
    with pytest.raises(ValidationError) as exc:
        new_dispute(
            parties=[
                party(PartyRole.APPLICANT, "新人"),
                PartyIn(role=PartyRole.RESPONDENT, person=person),
                party(PartyRole.RESPONDENT, id_number=number),
            ]
        )
    assert list(exc.value.message_dict) == ["parties[2].id_number"]
    assert Person.objects.count() == people  # the new applicant was rolled back
    assert not Case.objects.exists()


def test_registrar_outside_the_area_is_refused(new_dispute, tree, personas):
    with pytest.raises(ValidationError) as exc:
        new_dispute(actor=personas.jiangshan_dispatcher)
    assert list(exc.value.message_dict) == ["jurisdiction"]
    assert not Case.objects.exists()


def test_people_involved_below_party_count_is_refused(new_dispute):
    with pytest.raises(ValidationError) as exc:
        new_dispute(people_involved=1)
    assert list(exc.value.message_dict) == ["people_involved"]


def test_police_110_source_gets_five_days(new_dispute):
    dispute = new_dispute(source=Source.POLICE_110)
    assert dispute.case.channel == Channel.POLICE_110
    assert dispute.case.deadline_amount == Decimal(5)


# --- court referral ----------------------------------------------------------------------------------


@pytest.fixture
def court(tree):
    return Unit.objects.create(name="柯城区人民法院", kind=UnitKind.COURT, jurisdiction=tree.kecheng)


@pytest.mark.parametrize(
    ("referral", "procedure", "days", "due"),
    [
        # 2026-03-02 + 30 = 2026-04-01 (Wednesday)
        (Referral.ASSIGNED, "", 30, date(2026, 4, 1)),
        # + 15 = 2026-03-17 (Tuesday)
        (Referral.ENTRUSTED, "ordinary", 15, date(2026, 3, 17)),
        # + 7 = 2026-03-09 (Monday)
        (Referral.ENTRUSTED, "summary", 7, date(2026, 3, 9)),
    ],
)
def test_court_referral_due_dates(new_dispute, court, referral, procedure, days, due):
    dispute = new_dispute(
        source=Source.COURT,
        referral=referral,
        procedure=procedure,
        court=court,
        court_case_number="(2026)浙0802民初123号",
        referred_on=date(2026, 3, 2),
    )
    assert dispute.referral_due == due
    assert dispute.court == court
    assert dispute.case.deadline_amount == Decimal(days)


def test_referral_due_moves_past_a_holiday(new_dispute, court):
    # 2026-09-20 + 15 = 2026-10-05, inside the National Day holiday → 2026-10-08 (first working day;
    # 2026-10-08 is a working day after the 1–7 October holiday).
    dispute = new_dispute(
        source=Source.COURT,
        referral=Referral.ENTRUSTED,
        procedure="ordinary",
        court=court,
        referred_on=date(2026, 9, 20),
        at=local(2026, 9, 21, 9, 0),
    )
    assert dispute.referral_due == date(2026, 10, 8)


def test_entrusted_without_procedure_names_procedure(new_dispute, court):
    with pytest.raises(ValidationError) as exc:
        new_dispute(
            source=Source.COURT, referral=Referral.ENTRUSTED, court=court, referred_on=date(2026, 3, 2)
        )
    assert list(exc.value.message_dict) == ["procedure"]


def test_court_source_needs_a_referral_and_a_court(new_dispute):
    with pytest.raises(ValidationError) as exc:
        new_dispute(source=Source.COURT)
    assert list(exc.value.message_dict) == ["referral"]
    with pytest.raises(ValidationError) as exc:
        new_dispute(source=Source.COURT, referral=Referral.ASSIGNED, referred_on=date(2026, 3, 2))
    assert list(exc.value.message_dict) == ["court"]


# --- risk flags and the police alert -----------------------------------------------------------------


def test_violence_threat_flags_and_alerts_the_station_once(new_dispute, police_station, personas, on_commit):
    with on_commit(execute=True):
        dispute = new_dispute(violence_threat=True)
    assert dispute.risk_flags == [RiskFlag.VIOLENCE]
    assert dispute.police_alerted_at == REGISTERED_AT
    assert dispute.case.tier == Tier.TOWNSHIP  # 镇街首调 for a dispute at risk
    alerts = Notification.objects.filter(unit=police_station)
    assert alerts.count() == 1
    assert "民转刑风险" in alerts.get().text and dispute.case.number in alerts.get().text
    comment = dispute.case.steps.get(action=Action.COMMENT)
    assert "信安派出所" in comment.note and "第二十五条" in comment.note
    assert comment.actor == personas.kecheng_dispatcher
    # Once: a second call does nothing.
    assert services.alert_police(dispute) is False
    assert Notification.objects.filter(unit=police_station).count() == 1
    assert dispute.case.steps.filter(action=Action.COMMENT).count() == 1


def test_alert_goes_to_the_nearest_station_only(new_dispute, police_station, tree, on_commit):
    county_station = Unit.objects.create(
        name="柯城区巡特警大队", kind=UnitKind.POLICE_STATION, jurisdiction=tree.kecheng
    )
    with on_commit(execute=True):
        new_dispute(violence_threat=True)
    assert Notification.objects.filter(unit=police_station).count() == 1
    assert not Notification.objects.filter(unit=county_station).exists()


def test_without_a_station_the_county_public_security_is_told(new_dispute, tree, units, personas, on_commit):
    with on_commit(execute=True):
        dispute = new_dispute(
            actor=personas.jiangshan_dispatcher, jurisdiction=tree.jiangshan_village, violence_threat=True
        )
    assert dispute.police_alerted_at is not None
    assert Notification.objects.filter(unit=units.jiangshan_police).count() == 1


def test_nobody_to_alert_leaves_it_unmarked(new_dispute, tree, units, personas, on_commit):
    Unit.objects.filter(pk=units.jiangshan_police.pk).update(is_active=False)
    with on_commit(execute=True):
        dispute = new_dispute(
            actor=personas.jiangshan_dispatcher, jurisdiction=tree.jiangshan_village, violence_threat=True
        )
    assert dispute.risk_flags == ["violence"]
    assert dispute.police_alerted_at is None
    assert not Notification.objects.exists()


def test_group_of_five_flags(new_dispute, police_station, settings):
    assert settings.DISPUTE_GROUP_SIZE == 5
    assert new_dispute(people_involved=4).risk_flags == []
    assert new_dispute(people_involved=5).risk_flags == [RiskFlag.GROUP]
    parties = [party(PartyRole.APPLICANT) for _ in range(4)] + [party(PartyRole.RESPONDENT)]
    assert new_dispute(parties=parties).risk_flags == [RiskFlag.GROUP]


def test_same_party_again_within_90_days_flags_repeat(new_dispute, police_station, settings):
    assert settings.DISPUTE_REPEAT_DAYS == 90
    number = new_id_number()
    first = new_dispute(parties=[party(PartyRole.APPLICANT, id_number=number), party(PartyRole.RESPONDENT)])
    assert first.risk_flags == []
    # 90 days later to the minute: still inside the window.
    again = new_dispute(
        parties=[party(PartyRole.RESPONDENT, id_number=number), party(PartyRole.APPLICANT)],
        at=REGISTERED_AT + timedelta(days=90),
    )
    assert again.risk_flags == [RiskFlag.REPEAT]
    assert services.risk_flags(again) == ["repeat"]
    assert services.risk_flags(first) == []  # the later one does not count for the earlier


def test_same_party_after_91_days_is_not_repeat(new_dispute):
    number = new_id_number()
    new_dispute(parties=[party(PartyRole.APPLICANT, id_number=number), party(PartyRole.RESPONDENT)])
    later = new_dispute(
        parties=[party(PartyRole.APPLICANT, id_number=number), party(PartyRole.RESPONDENT)],
        at=REGISTERED_AT + timedelta(days=91),
    )
    assert later.risk_flags == []


def test_all_three_flags_in_order(new_dispute, police_station, on_commit):
    number = new_id_number()
    new_dispute(parties=[party(PartyRole.APPLICANT, id_number=number), party(PartyRole.RESPONDENT)])
    with on_commit(execute=True):
        dispute = new_dispute(
            parties=[party(PartyRole.APPLICANT, id_number=number), party(PartyRole.RESPONDENT)],
            violence_threat=True,
            people_involved=8,
            at=REGISTERED_AT + timedelta(days=1),
        )
    assert dispute.risk_flags == ["violence", "repeat", "group"]
    assert Notification.objects.filter(unit=police_station).count() == 1


# --- suggestions and assignment ----------------------------------------------------------------------


def test_suggestions_deepest_first_with_load_and_reasons(new_dispute, orgs, personas):
    dispute = new_dispute()
    # Load the county centre and 王宁 differently: 2 open at 王宁, 1 at the county centre.
    for org in (orgs.wangning, orgs.wangning, orgs.county):
        services.assign(new_dispute(), actor=personas.kecheng_dispatcher, org_unit=org.unit)
    found = services.suggest_orgs(dispute)
    assert [(s.org.unit.name, s.open_count) for s in found] == [
        ("府山社区人民调解委员会", 0),
        ("信安街道人民调解委员会", 0),
        ("柯城区矛盾纠纷调处化解中心", 1),
        ("王宁调解工作室", 2),
    ]
    assert (
        found[0].reason
        == "受理各类纠纷；辖区府山社区覆盖纠纷发生地；就近就地化解；村(社区)层级；在办 0 件（上限 30 件）"
    )
    assert "在办 2 件" in found[3].reason


def test_labour_dispute_suggests_the_labour_committee_first_at_its_level(new_dispute, orgs):
    dispute = new_dispute(dispute_type=DisputeType.LABOUR, jurisdiction=orgs.township.unit.jurisdiction)
    names = [s.org.unit.name for s in services.suggest_orgs(dispute)]
    assert names == [
        "信安街道人民调解委员会",
        "柯城区劳动争议人民调解委员会",  # specialised first among the county-level ones
        "王宁调解工作室",
        "柯城区矛盾纠纷调处化解中心",
    ]
    assert "专门受理劳资纠纷" in services.suggest_orgs(dispute)[1].reason


def test_neighbour_dispute_never_suggests_the_labour_committee(new_dispute, orgs):
    names = [s.org.unit.name for s in services.suggest_orgs(new_dispute(), limit=10)]
    assert "柯城区劳动争议人民调解委员会" not in names
    assert "虎山街道人民调解委员会" not in names  # 江山: does not cover 府山社区


def test_flagged_dispute_skips_the_village_committee(new_dispute, orgs, police_station):
    names = [s.org.unit.name for s in services.suggest_orgs(new_dispute(violence_threat=True))]
    assert names[0] == "信安街道人民调解委员会"
    assert "府山社区人民调解委员会" not in names


def test_full_org_goes_last(new_dispute, orgs, personas):
    orgs.village.capacity = 1
    orgs.village.save()
    services.assign(new_dispute(), actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    found = services.suggest_orgs(new_dispute())
    assert found[-1].org == orgs.village
    assert services.suggest_orgs(new_dispute(), limit=2)[0].org == orgs.township


def test_assign_dispatches_to_the_org(new_dispute, orgs, personas, on_commit):
    dispute = new_dispute()
    with on_commit(execute=True):
        services.assign(dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit, version=0)
    case = Case.objects.get(pk=dispute.pk)
    assert case.status == Status.DISPATCHED
    assert case.unit == orgs.village.unit
    assert case.version == 1
    assert Notification.objects.filter(unit=orgs.village.unit).count() == 1


def test_assign_refuses_an_org_that_does_not_take_the_type(new_dispute, orgs, personas):
    with pytest.raises(ValidationError) as exc:
        services.assign(new_dispute(), actor=personas.kecheng_dispatcher, org_unit=orgs.labour.unit)
    assert "不受理邻里纠纷" in exc.value.message_dict["org_unit"][0]


def test_assign_refuses_a_unit_that_is_no_mediation_org(new_dispute, units, personas):
    with pytest.raises(ValidationError) as exc:
        services.assign(new_dispute(), actor=personas.kecheng_dispatcher, org_unit=units.kecheng_police)
    assert list(exc.value.message_dict) == ["org_unit"]


def test_assign_with_a_stale_version_conflicts(new_dispute, orgs, personas):
    with pytest.raises(cases.VersionConflict):
        services.assign(
            new_dispute(), actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit, version=3
        )


# --- accept --------------------------------------------------------------------------------------------


def test_mediator_accepts_and_becomes_the_mediator(new_dispute, orgs, mediators, personas):
    dispute = new_dispute()
    services.assign(dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    services.accept(dispute, actor=mediators.village)
    dispute.refresh_from_db()
    assert dispute.mediator == mediators.village
    assert dispute.case.status == Status.HANDLING


def test_handler_accepting_picks_the_least_loaded_mediator(new_dispute, orgs, mediators, personas, tree):
    second = make_user("med_village2", Role.MEDIATOR, tree.kecheng_village, orgs.village.unit)
    clerk = make_user("clerk_village", Role.HANDLER, tree.kecheng_village, orgs.village.unit)
    busy = new_dispute()
    services.assign(busy, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    services.accept(busy, actor=mediators.village)
    dispute = new_dispute()
    services.assign(dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    services.accept(dispute, actor=clerk)
    assert Dispute.objects.get(pk=dispute.pk).mediator == second


def test_handler_may_name_a_mediator_of_the_unit_only(new_dispute, orgs, mediators, personas, tree):
    clerk = make_user("clerk_village", Role.HANDLER, tree.kecheng_village, orgs.village.unit)
    dispute = new_dispute()
    services.assign(dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    with pytest.raises(ValidationError) as exc:
        services.accept(dispute, actor=clerk, mediator=mediators.township)
    assert list(exc.value.message_dict) == ["mediator"]
    assert Case.objects.get(pk=dispute.pk).status == Status.DISPATCHED
    services.accept(dispute, actor=clerk, mediator=mediators.village)
    assert Dispute.objects.get(pk=dispute.pk).mediator == mediators.village


def test_mediator_of_another_org_cannot_accept(new_dispute, orgs, mediators, personas):
    dispute = new_dispute()
    services.assign(dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    with pytest.raises(PermissionDenied):
        services.accept(dispute, actor=mediators.township)


# --- consent ---------------------------------------------------------------------------------------------


def test_both_agree_is_a_comment(new_dispute, orgs, mediators, personas):
    dispute = consented(new_dispute, orgs, mediators, personas)
    dispute.refresh_from_db()
    assert (dispute.applicant_consent, dispute.respondent_consent) == ("agreed", "agreed")
    assert dispute.both_consent and dispute.consent_at is not None
    step = dispute.case.steps.last()
    assert step.action == Action.COMMENT
    assert step.note == "当事人意愿：申请人同意调解，被申请人同意调解"
    assert dispute.case.status == Status.HANDLING


def test_refusal_ends_with_routes_told(new_dispute, orgs, mediators, personas):
    dispute = handling(new_dispute, orgs, mediators, personas)
    services.record_consent(
        dispute,
        actor=mediators.village,
        applicant=Consent.AGREED,
        respondent=Consent.REFUSED,
        routes_told=ROUTES,
    )
    dispute.refresh_from_db()
    assert dispute.outcome == Outcome.REFUSED
    assert dispute.routes_told == ROUTES
    case = Case.objects.get(pk=dispute.pk)
    assert case.status == Status.REPORTED
    step = case.steps.last()
    assert step.action == Action.REPORT
    assert "被申请人拒绝调解" in step.note and ROUTES in step.note


def test_refusal_without_routes_is_refused(new_dispute, orgs, mediators, personas):
    dispute = handling(new_dispute, orgs, mediators, personas)
    with pytest.raises(ValidationError) as exc:
        services.record_consent(
            dispute, actor=mediators.village, applicant=Consent.REFUSED, respondent=Consent.AGREED
        )
    assert list(exc.value.message_dict) == ["routes_told"]
    dispute.refresh_from_db()
    assert dispute.applicant_consent == Consent.PENDING and dispute.outcome == ""


def test_consent_before_acceptance_is_illegal(new_dispute, orgs, mediators, personas):
    dispute = new_dispute()
    services.assign(dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    with pytest.raises(cases.IllegalTransition):
        services.record_consent(dispute, actor=mediators.village, applicant="agreed", respondent="agreed")


def test_consent_by_the_dispatcher_is_forbidden(new_dispute, orgs, mediators, personas):
    dispute = handling(new_dispute, orgs, mediators, personas)
    with pytest.raises(PermissionDenied):
        services.record_consent(
            dispute, actor=personas.kecheng_dispatcher, applicant="agreed", respondent="agreed"
        )


# --- sessions --------------------------------------------------------------------------------------------


def test_session_records_time_place_and_attendance(new_dispute, orgs, mediators, personas):
    dispute = consented(new_dispute, orgs, mediators, personas)
    applicant, respondent = dispute.parties.order_by("role")
    session = services.add_session(
        dispute,
        actor=mediators.village,
        at=local(2026, 3, 4, 14, 30),
        place="府山社区调解室",
        party_ids=[applicant.pk, respondent.pk],
        others="社区民警",
        record="双方陈述事实，初步同意按维修报价赔偿。",
    )
    assert MediationSession.objects.get().pk == session.pk
    assert set(session.parties.values_list("pk", flat=True)) == {applicant.pk, respondent.pk}
    assert session.recorded_by == mediators.village
    step = dispute.case.steps.last()
    assert step.action == Action.COMMENT
    assert step.note == "调解：2026-03-04 14:30 于府山社区调解室，到场当事人 2 人"


def test_session_needs_both_consents(new_dispute, orgs, mediators, personas):
    dispute = handling(new_dispute, orgs, mediators, personas)
    with pytest.raises(ValidationError) as exc:
        services.add_session(
            dispute,
            actor=mediators.village,
            at=local(2026, 3, 4, 14, 0),
            place="调解室",
            party_ids=[],
            record="x",
        )
    assert list(exc.value.message_dict) == ["consent"]


def test_session_refuses_a_party_of_another_dispute(new_dispute, orgs, mediators, personas):
    dispute = consented(new_dispute, orgs, mediators, personas)
    other = new_dispute().parties.first()
    with pytest.raises(ValidationError) as exc:
        services.add_session(
            dispute,
            actor=mediators.village,
            at=local(2026, 3, 1, 14, 0),
            place="",
            party_ids=[other.pk],
            record="",
        )
    assert set(exc.value.message_dict) == {"at", "place", "party_ids", "record"}
    assert not MediationSession.objects.exists()


# --- outcome ---------------------------------------------------------------------------------------------


def test_success_creates_the_agreement_and_opens_confirmation(new_dispute, orgs, mediators, personas):
    dispute = consented(new_dispute, orgs, mediators, personas)
    services.record_outcome(
        dispute,
        actor=mediators.village,
        outcome=Outcome.SUCCESS,
        agreement=AGREEMENT,
        at=local(2026, 3, 5, 16, 0),
    )
    agreement = Agreement.objects.get(dispute=dispute)
    assert agreement.number == f"调协字{dispute.case.number}号"
    assert (agreement.terms, agreement.perform_by, agreement.signed_on) == (
        "李四赔偿张三维修费 3000 元",
        date(2026, 3, 20),
        date(2026, 3, 5),
    )
    # 人民调解法 §33: 30 days from 2026-03-05 → 2026-04-04 (Saturday, 清明 holiday) → 2026-04-07.
    confirmation = JudicialConfirmation.objects.get(agreement=agreement)
    assert confirmation.apply_by == date(2026, 4, 7)
    case = Case.objects.get(pk=dispute.pk)
    assert case.status == Status.REPORTED
    assert case.steps.get(action=Action.REPORT).note == "调解成功"
    dispute.refresh_from_db()
    assert dispute.outcome == Outcome.SUCCESS


def test_success_without_both_consents_writes_nothing(new_dispute, orgs, mediators, personas):
    dispute = handling(new_dispute, orgs, mediators, personas)
    with pytest.raises(ValidationError) as exc:
        services.record_outcome(dispute, actor=mediators.village, outcome="success", agreement=AGREEMENT)
    assert list(exc.value.message_dict) == ["consent"]
    assert not Agreement.objects.exists()
    dispute.refresh_from_db()
    assert dispute.outcome == "" and dispute.case.status == Status.HANDLING


def test_agreement_fields_are_checked(new_dispute, orgs, mediators, personas):
    dispute = consented(new_dispute, orgs, mediators, personas)
    bad = {**AGREEMENT, "terms": "", "signed_on": date(2026, 3, 6), "perform_by": "2026-03-04"}
    with pytest.raises(ValidationError) as exc:
        services.record_outcome(
            dispute, actor=mediators.village, outcome="success", agreement=bad, at=local(2026, 3, 5, 16, 0)
        )
    assert exc.value.message_dict.keys() == {"agreement.terms", "agreement.signed_on"}
    assert "晚于今天" in exc.value.message_dict["agreement.signed_on"][0]
    bad = {**AGREEMENT, "perform_by": date(2026, 3, 4)}
    with pytest.raises(ValidationError) as exc:
        services.record_outcome(
            dispute, actor=mediators.village, outcome="success", agreement=bad, at=local(2026, 3, 5, 16, 0)
        )
    assert list(exc.value.message_dict) == ["agreement.perform_by"]
    assert not Agreement.objects.exists()


def test_failure_needs_routes_and_reports(new_dispute, orgs, mediators, personas):
    dispute = consented(new_dispute, orgs, mediators, personas)
    with pytest.raises(ValidationError) as exc:
        services.record_outcome(dispute, actor=mediators.village, outcome=Outcome.FAILURE)
    assert list(exc.value.message_dict) == ["routes_told"]
    services.record_outcome(dispute, actor=mediators.village, outcome=Outcome.FAILURE, routes_told=ROUTES)
    case = Case.objects.get(pk=dispute.pk)
    assert case.status == Status.REPORTED
    assert case.steps.last().note == f"调解不成。已告知：{ROUTES}"
    with pytest.raises(cases.IllegalTransition):
        services.record_outcome(dispute, actor=mediators.village, outcome=Outcome.FAILURE, routes_told=ROUTES)


def test_outcome_by_a_stale_version_conflicts(new_dispute, orgs, mediators, personas):
    dispute = consented(new_dispute, orgs, mediators, personas)
    with pytest.raises(cases.VersionConflict):
        services.record_outcome(
            dispute, actor=mediators.village, outcome="withdrawn", note="申请人撤回", version=1
        )


# --- escalate --------------------------------------------------------------------------------------------


def test_escalate_to_the_township_committee(new_dispute, orgs, mediators, personas):
    dispute = consented(new_dispute, orgs, mediators, personas)
    services.record_outcome(dispute, actor=mediators.village, outcome=Outcome.FAILURE, routes_told=ROUTES)
    services.escalate(
        dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.township.unit, note="村级调解不成，提级镇街"
    )
    case = Case.objects.get(pk=dispute.pk)
    assert (case.status, case.unit, case.tier) == (Status.DISPATCHED, orgs.township.unit, Tier.TOWNSHIP)
    assert list(case.steps.values_list("action", flat=True))[-2:] == [Action.ESCALATE, Action.DISPATCH]
    dispute.refresh_from_db()
    assert dispute.mediator is None and dispute.outcome == ""
    services.accept(dispute, actor=mediators.township)
    assert Dispute.objects.get(pk=dispute.pk).mediator == mediators.township


def test_escalate_refuses_the_same_or_lower_tier(new_dispute, orgs, mediators, personas):
    dispute = handling(new_dispute, orgs, mediators, personas)
    with pytest.raises(ValidationError) as exc:
        services.escalate(dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit, note="提级")
    assert "高于「村(社区)」" in exc.value.message_dict["org_unit"][0]
    assert Case.objects.get(pk=dispute.pk).steps.filter(action=Action.ESCALATE).count() == 0


def test_escalate_needs_a_note(new_dispute, orgs, mediators, personas):
    dispute = handling(new_dispute, orgs, mediators, personas)
    with pytest.raises(ValidationError) as exc:
        services.escalate(dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.county.unit, note=" ")
    assert list(exc.value.message_dict) == ["note"]
    assert Case.objects.get(pk=dispute.pk).status == Status.HANDLING


def test_escalate_refuses_an_org_of_another_area(new_dispute, orgs, mediators, personas):
    dispute = new_dispute()
    with pytest.raises(ValidationError) as exc:
        services.escalate(dispute, actor=personas.admin, org_unit=orgs.jiangshan.unit, note="提级")
    assert "辖区不包括" in exc.value.message_dict["org_unit"][0]


def test_register_takes_a_bounded_number_of_queries(new_dispute):
    new_dispute()  # warm caches (kinds, calendar)
    with CaptureQueriesContext(connection) as ctx:
        new_dispute()
    assert len(ctx.captured_queries) < 40
    assert Step.objects.filter(action=Action.REGISTER).count() == 2


# --- 110 disputes without parties -------------------------------------------------------------------


def test_police_110_dispute_may_start_without_parties_then_get_them(new_dispute, orgs, mediators, personas):
    dispute = new_dispute(source=Source.POLICE_110, parties=[])
    assert dispute.parties.count() == 0 and dispute.case.requester is None
    services.assign(dispute, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    services.accept(dispute, actor=mediators.village)
    with pytest.raises(ValidationError) as exc:
        services.record_consent(dispute, actor=mediators.village, applicant="agreed", respondent="agreed")
    assert list(exc.value.message_dict) == ["parties"]
    applicant = services.add_party(
        dispute, actor=mediators.village, party=party(PartyRole.APPLICANT, "报警人")
    )
    services.add_party(dispute, actor=mediators.village, party=party(PartyRole.RESPONDENT, "对方"))
    assert (applicant.role, applicant.order) == ("applicant", 1)
    assert Case.objects.get(pk=dispute.pk).requester_id == applicant.person_id
    services.record_consent(dispute, actor=mediators.village, applicant="agreed", respondent="agreed")
    assert Dispute.objects.get(pk=dispute.pk).both_consent
    notes = list(dispute.case.steps.filter(action=Action.COMMENT).values_list("note", flat=True))
    assert notes[:2] == ["增加当事人（申请人）", "增加当事人（被申请人）"]


def test_add_party_refuses_a_bad_id_number(new_dispute, mediators):
    dispute = new_dispute()
    with pytest.raises(ValidationError) as exc:
        services.add_party(
            dispute, actor=mediators.village, party=PartyIn(role="respondent", name="王五", id_number="1")
        )
    assert list(exc.value.message_dict) == ["parties[0].id_number"]


def test_window_dispute_without_parties_is_refused(new_dispute):
    with pytest.raises(ValidationError) as exc:
        new_dispute(parties=[])
    assert list(exc.value.message_dict) == ["parties"]
