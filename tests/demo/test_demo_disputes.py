"""The demo's year of disputes and police linkage (pingan.demo.disputes): linkage rates by
county, every pushed call with its dispute, consistent steps, valid parties, exact roll-ups.

One load of 300 disputes and 600 110 dispute calls (the real demo writes 15,000 and 30,000
the same way) up to a fixed "now", checked against the rules of the services.
"""

from __future__ import annotations

import io
import itertools
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Count, F, Q

from pingan.accounts.choices import Role, UnitKind
from pingan.accounts.models import Unit, User
from pingan.cases import kinds, rollups
from pingan.cases import services as cases
from pingan.cases.choices import CLOCK_STATUSES, Action, Channel, Status, Supervision, Tier
from pingan.cases.models import ROLLUP_COUNTERS, ROLLUP_KEY, Case, CaseRollup, CaseSequence, Step
from pingan.cases.sweep import STAGES, _raise, sweep
from pingan.core import calendar
from pingan.core.idnumber import is_valid_id_number
from pingan.demo import disputes as demo
from pingan.demo.loader import demo_logins, load_demo
from pingan.disputes import confirmation
from pingan.disputes import services as dispute_services
from pingan.disputes.choices import (
    KEY_TYPES,
    CallFeedback,
    ConfirmationStatus,
    Consent,
    OrgKind,
    Outcome,
    PartyRole,
    Referral,
    RiskFlag,
    Source,
)
from pingan.disputes.models import (
    Agreement,
    Dispute,
    DisputeParty,
    JudicialConfirmation,
    MediationOrg,
    MediationSession,
    PoliceCall,
)
from pingan.geo.choices import Level
from pingan.geo.models import Jurisdiction
from pingan.people.models import Person

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()
DISPUTES, CALLS = 300, 600
COUNTIES = {"330802", "330803", "330822", "330824", "330825", "330881"}
KEYS = [str(t) for t in KEY_TYPES]
NUMBER = re.compile(r"^(\d{6})-(\d{8})-(\d{5})$")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_out(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        calendar.seed_default()  # an earlier module may have flushed the seeded calendar
        load_demo(stdout=io.StringIO(), people=300, events=0)
        out = io.StringIO()
        demo.load_disputes(DISPUTES, calls=CALLS, now=NOW, stdout=out)
        yield out.getvalue()
        from django.core.management import call_command

        call_command("flush", "--no-input", verbosity=0)


@pytest.fixture
def loaded(demo_out, db):
    """The demo, inside a test transaction (anything a test writes is rolled back)."""
    return demo_out


def is_system_note(step: Step) -> bool:
    """A 备注 the system writes without a transition (pingan.disputes.confirmation._system_note)."""
    return step.action == Action.COMMENT and bool({"confirmation", "court_result"} & set(step.data))


def steps_by_case() -> dict[int, list[Step]]:
    found: dict[int, list[Step]] = defaultdict(list)
    for step in Step.objects.order_by("case_id", "id"):
        found[step.case_id].append(step)
    return found


# --- mediation organisations and mediators ------------------------------------------------------


def test_every_mediation_unit_is_an_organisation_of_its_kind(loaded):
    units = Unit.objects.filter(kind=UnitKind.MEDIATION)
    assert MediationOrg.objects.count() == units.count()
    by_level = Counter(
        (org.unit.jurisdiction.level, org.org_kind)
        for org in MediationOrg.objects.select_related("unit__jurisdiction")
    )
    villages = Jurisdiction.objects.filter(level=Level.VILLAGE).count()
    townships = Jurisdiction.objects.filter(level=Level.TOWNSHIP).count()
    assert by_level[(Level.VILLAGE, OrgKind.VILLAGE_COMMITTEE)] == villages
    assert by_level[(Level.TOWNSHIP, OrgKind.TOWNSHIP_COMMITTEE)] == townships
    assert by_level[(Level.COUNTY, OrgKind.COUNTY_CENTRE)] == 6
    city = {o.unit.name: o for o in MediationOrg.objects.filter(unit__jurisdiction__level=Level.CITY)}
    assert (city["王宁调解工作室"].org_kind, city["王宁调解工作室"].brand) == (
        OrgKind.BRANDED_ROOM,
        "王宁调解",
    )
    assert (city["兰花热线调解室"].org_kind, city["兰花热线调解室"].brand) == (
        OrgKind.BRANDED_ROOM,
        "兰花热线",
    )
    assert city["三衢和姐调解志愿队"].org_kind == OrgKind.VOLUNTEER_TEAM
    assert city["6070老兵调解队"].brand == "6070"
    assert city["劳动人事争议调解委员会"].dispute_types == ["labour"]
    assert city["医疗纠纷人民调解委员会"].dispute_types == ["medical"]
    assert city["交通事故纠纷调解委员会"].dispute_types == ["traffic"]
    assert city["王宁调解工作室"].takes("land") and not city["医疗纠纷人民调解委员会"].takes("land")
    assert demo.create_mediation_orgs() == 0  # once only


def test_mediators_in_every_township_of_the_demo_counties_and_the_city_rooms(loaded):
    for county in ("330802", "330881"):
        townships = Jurisdiction.objects.filter(level=Level.TOWNSHIP, code__startswith=county)
        for township in townships:
            committee = Unit.objects.get(jurisdiction=township, kind=UnitKind.MEDIATION)
            assert User.objects.filter(role=Role.MEDIATOR, unit=committee).count() == 1, township.name
    wangning = User.objects.get(username="wangning_mediator")
    assert (wangning.role, wangning.unit.name) == (Role.MEDIATOR, "王宁调解工作室")
    assert wangning.has_perm("people.reveal_person")
    names = [username for username, _role, _where in demo_logins()]
    assert {"kc_mediator", "js_mediator", "wangning_mediator", "kc_mediator_002"} <= set(names)


# --- calls and linkage ----------------------------------------------------------------------------


def test_counts_sources_and_counties(loaded):
    assert PoliceCall.objects.count() == CALLS
    assert Dispute.objects.count() == DISPUTES == Case.objects.filter(kind="dispute").count()
    sources = Counter(Dispute.objects.values_list("source", flat=True))
    assert set(sources) == set(Source.values)
    assert 0.62 < sources[Source.POLICE_110] / DISPUTES < 0.78
    assert {code[:6] for code in PoliceCall.objects.values_list("area_code", flat=True)} == COUNTIES
    counties = Counter(code[:6] for code in PoliceCall.objects.values_list("area_code", flat=True))
    assert 1.4 < counties["330802"] / counties["330824"] < 2.8  # by population (53 万 : 26 万)
    key_share = PoliceCall.objects.filter(dispute_type__in=KEYS).count() / CALLS
    assert 0.28 < key_share < 0.42


def test_a_year_up_to_now_with_the_seasons_and_hours_of_110(loaded):
    first = PoliceCall.objects.order_by("called_at").first().called_at.astimezone(SHANGHAI)
    assert "2025-12-01" <= first.date().isoformat() < "2025-12-15"
    assert PoliceCall.objects.order_by("called_at").last().called_at <= NOW

    # Among the five key types, family and wage disputes before the Spring Festival (Dec–Feb),
    # neighbours in summer (Jun–Aug).
    def family_and_wages(months: set[int]) -> float:
        types = [
            t
            for t, at in PoliceCall.objects.filter(dispute_type__in=KEYS).values_list(
                "dispute_type", "called_at"
            )
            if at.astimezone(SHANGHAI).month in months
        ]
        return sum(t in ("family", "labour") for t in types) / len(types)

    assert family_and_wages({12, 1, 2}) - family_and_wages({6, 7, 8}) > 0.15
    # 110 rings at night too; the centre's window does not.
    hours = Counter(
        at.astimezone(SHANGHAI).hour for at in PoliceCall.objects.values_list("called_at", flat=True)
    )
    assert sum(hours[h] for h in (22, 23, 0, 1, 2, 3, 4, 5)) / CALLS > 0.08
    window = Case.objects.filter(dispute__source=Source.WINDOW).values_list("registered_at", flat=True)
    assert window and all(calendar.is_workday(at.astimezone(SHANGHAI).date()) for at in window)
    assert all(dtime(8, 30) <= at.astimezone(SHANGHAI).time() <= dtime(17, 30) for at in window)


def test_linkage_rate_per_county_is_its_own_between_93_and_97_percent(loaded):
    settled = NOW - timedelta(days=demo.SETTLE_DAYS)
    rates = {}
    for county in sorted(COUNTIES):
        key_calls = PoliceCall.objects.filter(
            area_code__startswith=county, dispute_type__in=KEYS, called_at__lte=settled
        )
        pushed = key_calls.filter(pushed_at__isnull=False).count()
        rates[county] = pushed / key_calls.count()
        assert 0.93 <= rates[county] <= 0.97, (county, pushed, key_calls.count())
        expected = demo.linkage_quota(demo.LINKAGE_RATE[county], key_calls.count())
        assert pushed == expected, county
    assert len(set(rates.values())) > 3  # fixed per county, not one rate for all


def test_linkage_quota_stays_within_bounds_when_it_can():
    assert demo.linkage_quota(0.932, 23) == 22  # 21/23 = 91.3 % would round out of bounds
    assert demo.linkage_quota(0.968, 1000) == 968
    assert demo.linkage_quota(0.95, 10) == 10  # no count of 10 lies within 93–97 %


def test_every_pushed_call_has_its_dispute_fed_back_and_followed_up(loaded):
    window = timedelta(hours=24)
    pushed = PoliceCall.objects.filter(pushed_at__isnull=False).select_related("dispute__case")
    assert pushed.count() == Dispute.objects.filter(source=Source.POLICE_110).count()
    reports = {s.case_id: s for s in Step.objects.filter(action=Action.REPORT).order_by("id")}
    dispatches: dict[int, Step] = {}
    for step in Step.objects.filter(action=Action.DISPATCH).order_by("-id"):
        dispatches[step.case_id] = step  # the first
    late = 0
    for call in pushed:
        dispute = call.dispute
        assert dispute is not None, call.call_number
        case = dispute.case
        assert dispute.source == Source.POLICE_110 and dispute.dispute_type == call.dispute_type
        assert case.registered_at == call.pushed_at and case.area_code == call.area_code
        assert case.title == f"110警情 {call.call_number} {dispute.get_dispute_type_display()}"
        assert dispatches[case.pk].unit_id == call.pushed_to_id
        assert call.push_due_at == call.called_at + window
        late += call.pushed_at > call.push_due_at
        report = reports.get(case.pk)
        if report is None:
            assert call.status == CallFeedback.PUSHED and call.fed_back_at is None
        else:
            assert call.status == CallFeedback.FED_BACK and call.fed_back_at == report.at
            assert call.feedback.endswith(report.note)
        if call.followed_up_at is not None:
            assert call.followed_up_at > (call.fed_back_at or call.pushed_at)
            assert call.followup_satisfied is not None and call.followup_note
    assert 0 < late < 0.12 * pushed.count()
    fed_back = pushed.filter(fed_back_at__isnull=False)
    in_a_day = fed_back.filter(fed_back_at__lte=F("pushed_at") + timedelta(hours=24)).count()
    assert 0.6 < in_a_day / fed_back.count() < 0.95  # most within 24 h, complex ones later
    key_not_pushed = PoliceCall.objects.filter(dispute_type__in=KEYS, pushed_at__isnull=True)
    assert set(key_not_pushed.values_list("status", flat=True)) <= {
        CallFeedback.WAITING,
        CallFeedback.NOT_PUSHED,
    }
    assert not PoliceCall.objects.filter(status=CallFeedback.NOT_PUSHED, not_pushed_reason="").exists()
    assert not PoliceCall.objects.filter(status=CallFeedback.WAITING, followed_up_at__isnull=False).exists()
    assert not PoliceCall.objects.filter(dispute__isnull=True, pushed_at__isnull=False).exists()
    station = Unit.objects.get(pk=pushed.first().station_id)
    assert station.kind == UnitKind.POLICE_STATION and pushed.first().area_code.startswith(station.area_code)


def test_call_numbers_are_unique_per_county_and_day(loaded):
    numbers = list(PoliceCall.objects.values_list("call_number", "area_code", "called_at"))
    assert len({n for n, _a, _c in numbers}) == CALLS
    for number, area, called in numbers:
        assert number.startswith(f"J{area[:6]}{called.astimezone(SHANGHAI):%Y%m%d}"), number


# --- disputes -------------------------------------------------------------------------------------


def test_parties_are_valid_people_of_the_register(loaded):
    parties = DisputeParty.objects.select_related("person")
    roles = defaultdict(set)
    for party in parties:
        roles[party.dispute_id].add(party.role)
    assert all(r == {PartyRole.APPLICANT, PartyRole.RESPONDENT} for r in roles.values())
    assert len(roles) == DISPUTES
    for party in parties.order_by("?")[:200]:
        person = party.person
        assert is_valid_id_number(person.id_number), party.pk
        assert person.area_code.startswith(person.id_number[:6])
        assert person.area_code[:9] == party.dispute.case.area_code[:9]
        assert person.name and person.phone.startswith("+86")
    first_applicants = {
        p.dispute_id: p.person_id for p in DisputeParty.objects.filter(role=PartyRole.APPLICANT, order=0)
    }
    for case_id, requester in Case.objects.filter(kind="dispute").values_list("id", "requester_id"):
        assert requester == first_applicants[case_id]
    # ID numbers stay unique in the register (the blind index is).
    assert Person.objects.values("id_number_index").annotate(n=Count("id")).filter(n__gt=1).count() == 0
    assert Person.objects.count() > 300  # new synthetic residents were added


def test_outcomes_agreements_and_routes_told(loaded):
    reported = Dispute.objects.exclude(outcome="")
    outcomes = Counter(reported.values_list("outcome", flat=True))
    assert 0.80 < outcomes[Outcome.SUCCESS] / reported.count() < 0.90
    assert outcomes[Outcome.FAILURE] and outcomes[Outcome.REFUSED]
    assert Agreement.objects.count() == outcomes[Outcome.SUCCESS]
    assert not Dispute.objects.filter(outcome=Outcome.SUCCESS, agreement__isnull=True).exists()
    for dispute in reported.filter(outcome__in=(Outcome.FAILURE, Outcome.REFUSED)):
        assert dispute.routes_told, dispute.pk
    for dispute in reported.filter(outcome=Outcome.REFUSED):
        assert Consent.REFUSED in (dispute.applicant_consent, dispute.respondent_consent)
    for dispute in reported.exclude(outcome=Outcome.REFUSED):
        assert dispute.both_consent and dispute.consent_at <= dispute.outcome_at
    still_open = Case.objects.filter(kind="dispute").exclude(status=Status.CLOSED)
    assert still_open.exists()
    assert not still_open.filter(registered_at__lt=NOW - timedelta(days=120)).exists()
    for agreement in Agreement.objects.select_related("dispute__case"):
        assert agreement.number == dispute_services.agreement_number(agreement.dispute.case)
        assert agreement.signed_on == agreement.dispute.outcome_at.astimezone(SHANGHAI).date()
        assert agreement.perform_by >= agreement.signed_on
    sessions = MediationSession.objects.all()
    assert sessions.exists()
    for session in sessions.select_related("dispute")[:100]:
        assert session.parties.count() == session.dispute.parties.count()
        assert session.dispute.consent_at <= session.at


def test_judicial_confirmations_follow_their_periods(loaded):
    assert JudicialConfirmation.objects.count() == Agreement.objects.count()
    statuses = Counter(JudicialConfirmation.objects.values_list("status", flat=True))
    assert statuses[ConfirmationStatus.LAPSED] > statuses[ConfirmationStatus.CONFIRMED] > 0
    for c in JudicialConfirmation.objects.select_related("agreement"):
        assert c.apply_by == calendar.legal_period_end(c.agreement.signed_on, days=30)
        if c.status in (ConfirmationStatus.DUE, ConfirmationStatus.LAPSED):
            assert (c.status == ConfirmationStatus.LAPSED) == (c.apply_by < TODAY)
            assert c.applied_on is None
            continue
        assert c.agreement.signed_on < c.applied_on <= c.apply_by
        assert c.accept_by == calendar.legal_period_end(c.applied_on, days=3)
        assert Unit.objects.get(pk=c.court_id).kind == UnitKind.COURT
        if c.accepted_on is not None:
            assert c.accepted_on <= c.accept_by
            assert c.rule_by == calendar.legal_period_end(c.accepted_on, days=25 if c.extended else 15)
        if c.status in (ConfirmationStatus.CONFIRMED, ConfirmationStatus.REJECTED):
            assert c.accepted_on <= c.ruled_on <= c.rule_by
    # The sweep's lapse finds nothing left to lapse.
    assert confirmation.lapse_due(TODAY) == 0


def test_court_referrals_have_their_periods_and_results_sent(loaded):
    referred = Dispute.objects.filter(source=Source.COURT).select_related("case", "court")
    assert referred.exists()
    assert set(referred.values_list("referral", flat=True)) <= {Referral.ASSIGNED, Referral.ENTRUSTED}
    for dispute in referred:
        assert dispute.court.kind == UnitKind.COURT and dispute.court.area_code == dispute.case.area_code[:6]
        assert dispute.referred_on == dispute.case.registered_at.astimezone(SHANGHAI).date()
        assert dispute.referral_due == confirmation.referral_due(
            dispute.referred_on, dispute.referral, dispute.procedure
        )
        assert dispute.court_case_number.startswith(f"（{dispute.referred_on.year}）浙")
        assert dispute.result_sent_at == dispute.case.closed_at
    assert not Dispute.objects.filter(referral="").exclude(referral_due=None).exists()


def test_risk_flags_are_the_services_and_the_police_were_alerted(loaded):
    flagged = Dispute.objects.exclude(risk_flags=[]).select_related("case")
    assert flagged.exists()
    kinds_seen = {f for d in flagged for f in d.risk_flags}
    assert {RiskFlag.VIOLENCE, RiskFlag.GROUP} <= kinds_seen
    for dispute in Dispute.objects.select_related("case"):
        assert dispute_services.risk_flags(dispute) == dispute.risk_flags, dispute.pk
        assert (dispute.police_alerted_at is not None) == bool(dispute.risk_flags)
    for dispute in flagged:
        assert dispute.case.tier >= Tier.TOWNSHIP
        alert = dispute.case.steps.filter(action=Action.COMMENT, note__startswith="存在民转刑风险").first()
        assert alert is None or alert.at == dispute.police_alerted_at


def test_each_dispute_went_to_an_organisation_that_takes_its_type(loaded):
    for dispute in Dispute.objects.select_related("case__unit__mediation_org").exclude(case__unit=None):
        org = dispute.case.unit.mediation_org
        assert org.takes(dispute.dispute_type), dispute.pk
        if dispute.mediator_id is not None:
            assert dispute.mediator.unit_id == dispute.case.unit_id
    kinds_used = set(Dispute.objects.values_list("case__unit__mediation_org__org_kind", flat=True))
    assert {OrgKind.VILLAGE_COMMITTEE, OrgKind.TOWNSHIP_COMMITTEE, OrgKind.INDUSTRY} <= kinds_used
    escalated = Step.objects.filter(action=Action.ESCALATE).select_related("case")
    for step in escalated:
        assert step.data["to_tier"] > step.data["from_tier"]


# --- steps, numbers, roll-ups ------------------------------------------------------------------


def test_steps_are_in_time_order_and_go_round_the_loop(loaded):
    history = steps_by_case()
    for case in Case.objects.filter(kind="dispute"):
        steps = history[case.pk]
        assert [s.at for s in steps] == sorted(s.at for s in steps), case.number
        assert steps[0].action == Action.REGISTER and steps[0].at == case.registered_at
        assert steps[-1].to_status == case.status, case.number
        for before, after in itertools.pairwise(steps):
            assert after.from_status == before.to_status, case.number
        system = sum(1 for s in steps if is_system_note(s))
        assert case.version == len(steps) - 1 - system, case.number
        if case.status != Status.CLOSED:
            continue
        loop = [
            s.action
            for s in steps
            if s.action in (Action.REGISTER, Action.DISPATCH, Action.ACCEPT, Action.REPORT, Action.CLOSE)
        ]
        assert loop[0] == Action.REGISTER and loop[-2:] == [Action.REPORT, Action.CLOSE], case.number
        assert loop[1:3] == [Action.DISPATCH, Action.ACCEPT], case.number
        close = next(s for s in steps if s.action == Action.CLOSE)
        assert case.closed_at == close.at and close.data["on_time"] == (case.handled_at <= case.deadline_at)
        assert all(s.at > close.at for s in steps if s.action == Action.EVALUATE)
    needs_note = [t.action for t in kinds.COMMON_LOOP.values() if t.note_required]
    assert not Step.objects.filter(action__in=needs_note, note="").exists()
    assert not Step.objects.filter(at__gt=NOW).exists()


def test_deadlines_follow_the_kind_policy(loaded):
    from pingan.cases import deadlines
    from pingan.disputes import kind

    for case in Case.objects.filter(kind="dispute", dispatched_at__isnull=False).select_related("dispute"):
        dispute = case.dispute
        policy = kind.policy_for(dispute.source, dispute.referral, dispute.procedure)
        assert (case.deadline_unit, case.deadline_amount) == (policy.unit, policy.amount)
        clock = deadlines.clock(case.dispatched_at, case.deadline_unit, case.deadline_amount)
        assert (case.deadline_at, case.warn_at, case.red_at) == (clock.deadline, clock.warn_at, clock.red_at)
    closed = Case.objects.filter(kind="dispute", status=Status.CLOSED)
    late = closed.filter(handled_at__gt=F("deadline_at")).count()
    assert 0 < late / closed.count() < 0.1
    assert sweep(NOW) == {"warn": 0, "yellow_card": 0, "red_card": 0}


def test_numbers_are_unique_and_sequences_continue(loaded):
    numbers = list(Case.objects.values_list("number", "area_code", "registered_at"))
    assert len({n for n, _a, _r in numbers}) == len(numbers) == DISPUTES
    per_prefix: dict[str, list[int]] = defaultdict(list)
    for number, area, registered in numbers:
        match = NUMBER.match(number)
        assert match and match[1] == area[:6], number
        assert match[2] == registered.astimezone(SHANGHAI).strftime("%Y%m%d")
        per_prefix[f"{match[1]}-{match[2]}"].append(int(match[3]))
    for prefix, sequence in per_prefix.items():
        assert sorted(sequence) == list(range(1, len(sequence) + 1)), prefix
        assert CaseSequence.objects.get(prefix=prefix).last == len(sequence)
    number, area, registered = numbers[0]
    prefix = number.rsplit("-", 1)[0]
    assert cases.next_number(area, registered) == f"{prefix}-{len(per_prefix[prefix]) + 1:05d}"


def test_rollups_equal_a_rebuild_from_the_step_log(loaded):
    def snapshot() -> dict[tuple, tuple]:
        return {
            tuple(row[k] for k in ROLLUP_KEY): tuple(row[c] for c in ROLLUP_COUNTERS)
            for row in CaseRollup.objects.values(*ROLLUP_KEY, *ROLLUP_COUNTERS)
        }

    loaded_rows = snapshot()
    assert loaded_rows and {key[4] for key in loaded_rows} == {"dispute"}
    rollups.rebuild()
    assert snapshot() == loaded_rows
    totals = {c: sum(v[i] for v in loaded_rows.values()) for i, c in enumerate(ROLLUP_COUNTERS)}
    assert totals["registered"] == 3 * DISPUTES  # three grains
    assert totals["closed"] == 3 * Case.objects.filter(status=Status.CLOSED).count()


def test_the_same_seed_gives_the_same_plan(loaded):
    def plan(seed: int) -> list[tuple]:
        _ctx, made = demo.plan_disputes(60, 120, seed=seed, now=NOW)
        calls = [
            (c.number, c.called_at, c.dispute_type, c.grid.code, c.push_at, c.not_pushed) for c in made.calls
        ]
        heads = [
            (h.registered_at, h.source, h.dispute_type, h.grid.code, h.lat, h.lon, h.outcome, h.org.unit)
            for h in made.heads
        ]
        return calls + heads

    assert plan(7) == plan(7)
    assert plan(7) != plan(8)


def test_histories_replayed_through_the_services_give_the_same_cases(loaded):
    """The loader writes steps without the services: replaying a sample through them must give
    the same case fields and the same steps (system notes are written as the system writes them)."""
    admin = User.objects.get(username="admin")
    levels = {str(action): level for action, level, _moment in STAGES}
    picks = [
        (Q(steps__action=Action.ESCALATE), 4),
        (Q(status=Status.CLOSED, supervision__gte=Supervision.YELLOW), 4),
        (Q(status__in=CLOCK_STATUSES), 4),
        (Q(dispute__outcome=Outcome.REFUSED), 3),
        (Q(dispute__agreement__confirmation__status=ConfirmationStatus.CONFIRMED), 3),
        (Q(dispute__source=Source.COURT, status=Status.CLOSED), 3),
        (~Q(dispute__risk_flags=[]), 3),
    ]
    sample = {
        c.pk: c for q, n in picks for c in Case.objects.filter(q).distinct().order_by("id")[:n]
    }.values()
    assert len(sample) >= 15
    fields = (
        "status", "unit_id", "dispatched_at", "deadline_at", "warn_at", "red_at", "handled_at", "closed_at",
        "supervision", "satisfaction", "version", "tier", "deadline_unit", "deadline_amount",
    )  # fmt: skip
    for original in sample:
        steps = list(original.steps.order_by("id"))
        escalation = next((s for s in steps if s.action == Action.ESCALATE), None)
        replay = cases.register(
            "dispute",
            actor=admin,
            title=original.title,
            jurisdiction=original.jurisdiction,
            channel=original.channel,
            policy=kinds.DeadlinePolicy(original.deadline_unit, original.deadline_amount),
            tier=escalation.data["from_tier"] if escalation else original.tier,
            at=original.registered_at,
            data=original.data,
        )
        for step in steps[1:]:
            if step.action in levels:
                _raise(replay.pk, Action(step.action), levels[step.action], step.at)
                replay.refresh_from_db()
                continue
            if is_system_note(step):
                Step.objects.create(
                    case=replay,
                    action=step.action,
                    from_status=replay.status,
                    to_status=replay.status,
                    at=step.at,
                    unit=replay.unit,
                    note=step.note,
                )
                continue
            params = {}
            if step.action == Action.DISPATCH:
                params = {"unit": Unit.objects.get(pk=step.unit_id)}
            elif step.action == Action.ESCALATE:
                params = {"tier": step.data["to_tier"]}
            elif step.action == Action.EVALUATE:
                params = {"satisfaction": step.data["satisfaction"], "by": step.data["by"]}
            cases.transition(replay, step.action, actor=admin, at=step.at, note=step.note, **params)
        replay.refresh_from_db()
        assert {f: getattr(replay, f) for f in fields} == {f: getattr(original, f) for f in fields}, (
            original.number
        )
        replayed = list(replay.steps.order_by("id"))
        assert [(s.action, s.from_status, s.to_status, s.at, s.unit_id) for s in replayed] == [
            (s.action, s.from_status, s.to_status, s.at, s.unit_id) for s in steps
        ], original.number


def test_loading_prints_what_it_wrote(loaded):
    assert f"矛盾纠纷: {DISPUTES} 件" in loaded and f"110纠纷警情 {CALLS} 条" in loaded
    assert Channel.POLICE_110 in set(Case.objects.values_list("channel", flat=True))
