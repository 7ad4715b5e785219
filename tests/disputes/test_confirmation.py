"""Judicial confirmation (司法确认) and court referral (诉调对接) deadlines with concrete 2026 dates.

The expected dates are worked out by hand from the 2026 holiday schedule (chinesecalendar, seeded
into the working-day table): 中秋 9-25..9-27 (9-20 Sunday is a working day), 国庆 10-01..10-07
(10-10 Saturday is a working day), and ordinary weekends. A statutory period of n days ends on
start + n; a last day that is a rest day moves to the next working day (民法典 §201–203).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError

from pingan.accounts.choices import Role, UnitKind
from pingan.accounts.models import Unit
from pingan.cases import services as cases
from pingan.cases.choices import Action
from pingan.cases.models import Case
from pingan.core.models import Notification
from pingan.disputes import confirmation as conf
from pingan.disputes import services
from pingan.disputes.choices import (
    ConfirmationStatus,
    Consent,
    DisputeType,
    Outcome,
    PartyRole,
    Procedure,
    Referral,
    Source,
)
from pingan.disputes.models import Agreement, Dispute, JudicialConfirmation
from tests.conftest import login, make_user
from tests.disputes.conftest import new_id_number

SHANGHAI = ZoneInfo("Asia/Shanghai")
S = ConfirmationStatus


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


# ---------------------------------------------------------------------------------------------
# Building an agreed dispute directly (the dispute services are tested in their own module)


TWO_PARTIES = (
    (PartyRole.APPLICANT, "张三", "13800000001", "柯城区府山街道府山社区1幢101室"),
    (PartyRole.RESPONDENT, "李四", "13800000002", "柯城区府山街道府山社区1幢201室"),
)
COURT_CASE_NUMBER = "(2026)浙0802民诉前调1234号"


def make_agreed(
    tree: Any,
    personas: Any,
    org: Any,
    mediator: Any,
    *,
    signed_on: date,
    referral: str = "",
    court: Unit | None = None,
    procedure: str = "",
    referred_on: date | None = None,
    parties: tuple[tuple[str, str, str, str], ...] = TWO_PARTIES,
) -> Agreement:
    """A 柯城 dispute mediated by ``org`` to an agreement signed on ``signed_on``, through the
    dispute services (register → assign → accept → consent → outcome, which opens the confirmation).
    The case is left 待核查 (reported)."""
    at = local(signed_on.year, signed_on.month, signed_on.day, 9, 0)
    dispatcher = personas.kecheng_dispatcher
    dispute = services.register_dispute(
        actor=dispatcher,
        dispute_type=DisputeType.NEIGHBOUR,
        source=Source.COURT if referral else Source.WINDOW,
        jurisdiction=tree.kecheng_village,
        title="楼上漏水邻里纠纷",
        facts="楼上卫生间漏水致楼下天花板受损，双方就赔偿金额发生争执。",
        parties=[
            services.PartyIn(role=role, name=name, id_number=new_id_number(), phone=phone, address=address)
            for role, name, phone, address in parties
        ],
        referral=referral,
        court=court,
        court_case_number=COURT_CASE_NUMBER if referral else "",
        procedure=procedure,
        referred_on=referred_on,
        at=at,
    )
    services.assign(dispute, actor=dispatcher, org_unit=org.unit, at=at)
    services.accept(dispute, actor=mediator, at=at)
    services.record_consent(
        dispute, actor=mediator, applicant=Consent.AGREED, respondent=Consent.AGREED, at=at
    )
    services.record_outcome(
        dispute,
        actor=mediator,
        outcome=Outcome.SUCCESS,
        note="调解成功，双方签订调解协议",
        agreement={
            "facts": "楼上卫生间漏水致楼下天花板受损，双方就赔偿金额发生争执。",
            "terms": "一、李四于2026年10月31日前赔偿张三维修费人民币3000元。\n二、李四负责修复卫生间防水层。",
            "performance": "李四以银行转账方式一次性支付至张三账户。",
            "perform_by": max(date(2026, 10, 31), signed_on),
            "signed_on": signed_on,
        },
        at=at,
    )
    return Agreement.objects.select_related("dispute__case").get(dispute=dispute)


@pytest.fixture
def court(tree) -> Unit:
    return Unit.objects.create(name="柯城区人民法院", kind=UnitKind.COURT, jurisdiction=tree.kecheng)


@pytest.fixture
def court_clerk(tree, court):
    """A clerk of the court (共享法庭), scoped to 柯城区: records the court's decisions."""
    return make_user("court_clerk", Role.HANDLER, tree.kecheng, court, full_name="法院书记员")


@pytest.fixture
def agreed(tree, personas, orgs, mediators):
    def make(signed_on: date, **kwargs: Any) -> Agreement:
        return make_agreed(tree, personas, orgs.village, mediators.village, signed_on=signed_on, **kwargs)

    return make


@pytest.fixture
def fixed_today(monkeypatch):
    """Fix the local date the services and API read (default 2026-11-29)."""

    def fix(day: date) -> None:
        monkeypatch.setattr(conf, "local_today", lambda: day)

    fix(date(2026, 11, 29))
    return fix


def confirmation_of(agreement: Agreement) -> JudicialConfirmation:
    return JudicialConfirmation.objects.get(agreement=agreement)


def notes(agreement: Agreement) -> list[str]:
    """The timeline notes about judicial confirmation and court referral, oldest first."""
    steps = agreement.dispute.case.steps.filter(action=Action.COMMENT).order_by("id")
    return [n for n in steps.values_list("note", flat=True) if "司法确认" in n or "诉调对接" in n]


# ---------------------------------------------------------------------------------------------
# The 30-day window (人民调解法 §33)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("signed_on", "apply_by"),
    [
        # 9-08 + 30 = 10-08, a Thursday after 国庆: a working day, stays.
        (date(2026, 9, 8), date(2026, 10, 8)),
        # 9-04 + 30 = 10-04, inside 国庆 (10-01..10-07): moves to 10-08.
        (date(2026, 9, 4), date(2026, 10, 8)),
        # 9-10 + 30 = 10-10, a Saturday worked in exchange (调休): a working day, stays.
        (date(2026, 9, 10), date(2026, 10, 10)),
        # 1-31 + 30 across a 28-day February = 3-02, a Monday.
        (date(2026, 1, 31), date(2026, 3, 2)),
        # 10-29 + 30 = 11-28, a Saturday: moves to Monday 11-30, the month's last day.
        (date(2026, 10, 29), date(2026, 11, 30)),
    ],
)
def test_apply_window_is_thirty_days_moved_past_rest_days(agreed, signed_on, apply_by):
    confirmation = confirmation_of(agreed(signed_on))
    assert confirmation.status == S.DUE
    assert confirmation.apply_by == apply_by


@pytest.mark.django_db
def test_opening_twice_keeps_one_confirmation_and_writes_a_timeline_note(agreed):
    agreement = agreed(date(2026, 9, 8))
    again = conf.open_confirmation(agreement)
    assert JudicialConfirmation.objects.filter(agreement=agreement).count() == 1
    assert again.apply_by == date(2026, 10, 8)
    assert notes(agreement) == [
        "调解协议 " + agreement.number + " 于 2026-09-08 生效，当事人可于 2026-10-08 前共同申请司法确认"
    ]


@pytest.mark.django_db
def test_application_after_the_window_is_refused_naming_the_last_day(agreed, court, mediators, fixed_today):
    agreement = agreed(date(2026, 9, 8))
    confirmation = confirmation_of(agreement)
    with pytest.raises(ValidationError) as refused:
        conf.apply_for_confirmation(
            confirmation, actor=mediators.village, court=court, applied_on=date(2026, 10, 9)
        )
    message = " ".join(refused.value.message_dict["applied_on"])
    assert "2026-10-09" in message and "2026-10-08" in message and "2026-09-08" in message
    # Nothing half-written: still waiting, no court, no timeline step beyond the opening note.
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.court_id, confirmation.applied_on) == (S.DUE, None, None)
    assert len(notes(agreement)) == 1


@pytest.mark.django_db
def test_application_before_the_agreement_took_effect_is_refused(agreed, court, mediators, fixed_today):
    confirmation = confirmation_of(agreed(date(2026, 9, 8)))
    with pytest.raises(ValidationError) as refused:
        conf.apply_for_confirmation(
            confirmation, actor=mediators.village, court=court, applied_on=date(2026, 9, 7)
        )
    assert "2026-09-08" in " ".join(refused.value.message_dict["applied_on"])


@pytest.mark.django_db
def test_application_dated_in_the_future_is_refused(agreed, court, mediators, fixed_today):
    fixed_today(date(2026, 9, 20))
    confirmation = confirmation_of(agreed(date(2026, 9, 8)))
    with pytest.raises(ValidationError) as refused:
        conf.apply_for_confirmation(
            confirmation, actor=mediators.village, court=court, applied_on=date(2026, 9, 21)
        )
    assert "applied_on" in refused.value.message_dict


@pytest.mark.django_db
def test_application_on_the_last_day_is_accepted_and_court_must_decide_in_three_days(
    agreed, court, mediators, fixed_today, django_capture_on_commit_callbacks
):
    agreement = agreed(date(2026, 9, 8))
    with django_capture_on_commit_callbacks(execute=True):
        confirmation = conf.apply_for_confirmation(
            confirmation_of(agreement), actor=mediators.village, court=court, applied_on=date(2026, 10, 8)
        )
    # 10-08 + 3 = 10-11, a Sunday: moves to Monday 10-12.
    assert (confirmation.status, confirmation.accept_by) == (S.APPLIED, date(2026, 10, 12))
    assert confirmation.court == court
    assert notes(agreement)[-1] == (
        "司法确认：当事人于 2026-10-08 共同向柯城区人民法院申请，法院应于 2026-10-12 前决定是否受理"
    )
    step = agreement.dispute.case.steps.latest("id")
    assert step.actor == mediators.village
    notice = Notification.objects.get(unit=court)
    assert "2026-10-12" in notice.text and agreement.number in notice.text


@pytest.mark.django_db
def test_acceptance_deadline_moves_out_of_national_day(agreed, court, mediators, fixed_today):
    # Applied 9-30: 9-30 + 3 = 10-03, inside 国庆: moves to 10-08.
    confirmation = conf.apply_for_confirmation(
        confirmation_of(agreed(date(2026, 9, 8))),
        actor=mediators.village,
        court=court,
        applied_on=date(2026, 9, 30),
    )
    assert confirmation.accept_by == date(2026, 10, 8)


@pytest.mark.django_db
def test_a_unit_that_is_not_a_court_is_refused(agreed, mediators, orgs, fixed_today):
    confirmation = confirmation_of(agreed(date(2026, 9, 8)))
    with pytest.raises(ValidationError) as refused:
        conf.apply_for_confirmation(
            confirmation, actor=mediators.village, court=orgs.township.unit, applied_on=date(2026, 9, 30)
        )
    assert "court" in refused.value.message_dict


@pytest.mark.django_db
def test_a_court_of_another_county_is_refused(agreed, mediators, tree, fixed_today):
    jiangshan_court = Unit.objects.create(
        name="江山市人民法院", kind=UnitKind.COURT, jurisdiction=tree.jiangshan
    )
    confirmation = confirmation_of(agreed(date(2026, 9, 8)))
    with pytest.raises(ValidationError) as refused:
        conf.apply_for_confirmation(
            confirmation, actor=mediators.village, court=jiangshan_court, applied_on=date(2026, 9, 30)
        )
    assert "court" in refused.value.message_dict


@pytest.mark.django_db
def test_grid_worker_may_not_record_an_application(agreed, court, personas, fixed_today):
    confirmation = confirmation_of(agreed(date(2026, 9, 8)))
    with pytest.raises(PermissionDenied):
        conf.apply_for_confirmation(
            confirmation, actor=personas.kecheng_grid_worker, court=court, applied_on=date(2026, 9, 30)
        )


@pytest.mark.django_db
def test_mediator_of_another_county_may_not_record_an_application(agreed, court, mediators, fixed_today):
    agreement = agreed(date(2026, 9, 8))
    with pytest.raises(PermissionDenied):
        conf.apply_for_confirmation(
            confirmation_of(agreement), actor=mediators.jiangshan, court=court, applied_on=date(2026, 9, 30)
        )
    # The refusal came from the timeline step after the change: all of it rolled back.
    assert confirmation_of(agreement).status == S.DUE


# ---------------------------------------------------------------------------------------------
# The court: accept in 3 days, rule in 15 (+10)


def applied(agreement: Agreement, mediator: Any, court: Unit, applied_on: date) -> JudicialConfirmation:
    return conf.apply_for_confirmation(
        confirmation_of(agreement), actor=mediator, court=court, applied_on=applied_on
    )


@pytest.mark.django_db
def test_acceptance_gives_fifteen_days_to_rule_and_an_extension_ten_more(
    agreed, court, court_clerk, mediators, fixed_today
):
    agreement = agreed(date(2026, 9, 8))
    confirmation = applied(agreement, mediators.village, court, date(2026, 10, 8))
    confirmation = conf.accept_application(confirmation, actor=court_clerk, accepted_on=date(2026, 10, 12))
    # 10-12 + 15 = 10-27, a Tuesday.
    assert (confirmation.status, confirmation.accepted_on, confirmation.rule_by) == (
        S.ACCEPTED,
        date(2026, 10, 12),
        date(2026, 10, 27),
    )
    confirmation = conf.extend_ruling(
        confirmation, actor=court_clerk, extended_on=date(2026, 10, 26), note="案情复杂，经院长批准"
    )
    # 10-12 + 25 = 11-06, a Friday.
    assert (confirmation.extended, confirmation.rule_by) == (True, date(2026, 11, 6))
    assert "2026-11-06" in notes(agreement)[-1]


@pytest.mark.django_db
def test_extension_lengthens_the_period_not_the_holiday_moved_end(
    agreed, court, court_clerk, mediators, fixed_today
):
    """Accepted 9-16: 9-16 + 15 = 10-01 (国庆) → 10-08. Extended: the 25-day period ends 10-11
    (a Sunday) → 10-12; not 10-08 + 10 = 10-18 → 10-19."""
    confirmation = applied(agreed(date(2026, 9, 8)), mediators.village, court, date(2026, 9, 14))
    confirmation = conf.accept_application(confirmation, actor=court_clerk, accepted_on=date(2026, 9, 16))
    assert confirmation.rule_by == date(2026, 10, 8)
    confirmation = conf.extend_ruling(
        confirmation, actor=court_clerk, extended_on=date(2026, 9, 30), note="需补充材料"
    )
    assert confirmation.rule_by == date(2026, 10, 12)


@pytest.mark.django_db
def test_ruling_may_be_extended_only_once_and_only_within_the_period(
    agreed, court, court_clerk, mediators, fixed_today
):
    confirmation = applied(agreed(date(2026, 9, 8)), mediators.village, court, date(2026, 10, 8))
    confirmation = conf.accept_application(confirmation, actor=court_clerk, accepted_on=date(2026, 10, 12))
    with pytest.raises(ValidationError) as late:
        conf.extend_ruling(confirmation, actor=court_clerk, extended_on=date(2026, 10, 28), note="迟到的延长")
    assert "2026-10-27" in " ".join(late.value.message_dict["extended_on"])
    with pytest.raises(ValidationError) as no_reason:
        conf.extend_ruling(confirmation, actor=court_clerk, extended_on=date(2026, 10, 20), note=" ")
    assert "note" in no_reason.value.message_dict
    conf.extend_ruling(confirmation, actor=court_clerk, extended_on=date(2026, 10, 20), note="经院长批准")
    with pytest.raises(ValidationError) as twice:
        conf.extend_ruling(confirmation, actor=court_clerk, extended_on=date(2026, 10, 21), note="再延")
    assert "extended_on" in twice.value.message_dict
    assert confirmation_of(confirmation.agreement).rule_by == date(2026, 11, 6)


@pytest.mark.django_db
def test_ruling_confirms_or_rejects_and_records_the_day(
    agreed, court, court_clerk, mediators, fixed_today, django_capture_on_commit_callbacks
):
    first, second = agreed(date(2026, 9, 8)), agreed(date(2026, 9, 8))
    for agreement in (first, second):
        confirmation = applied(agreement, mediators.village, court, date(2026, 10, 8))
        conf.accept_application(confirmation, actor=court_clerk, accepted_on=date(2026, 10, 9))
    with django_capture_on_commit_callbacks(execute=True):
        done = conf.rule(
            confirmation_of(first), actor=court_clerk, ruled_on=date(2026, 10, 20), confirmed=True
        )
    assert (done.status, done.ruled_on) == (S.CONFIRMED, date(2026, 10, 20))
    assert notes(first)[-1] == "司法确认：法院于 2026-10-20 裁定调解协议有效"
    # The mediation organisation and the mediator hear of it.
    assert Notification.objects.filter(unit=first.dispute.case.unit, text__contains="调解协议有效").exists()
    assert Notification.objects.filter(user=mediators.village, text__contains="调解协议有效").exists()

    with pytest.raises(ValidationError) as no_reason:
        conf.rule(confirmation_of(second), actor=court_clerk, ruled_on=date(2026, 10, 20), confirmed=False)
    assert "note" in no_reason.value.message_dict
    # 10-09 + 15 = 10-24, a Saturday → 10-26; a ruling on 10-27 is recorded and marked late.
    rejected = conf.rule(
        confirmation_of(second),
        actor=court_clerk,
        ruled_on=date(2026, 10, 27),
        confirmed=False,
        note="协议内容违反法律",
    )
    assert (rejected.status, rejected.ruled_on, rejected.rule_by) == (
        S.REJECTED,
        date(2026, 10, 27),
        date(2026, 10, 26),
    )
    assert "已超过期限 2026-10-26" in notes(second)[-1]


@pytest.mark.django_db
def test_not_accepting_needs_a_reason_and_ends_the_application(
    agreed, court, court_clerk, mediators, fixed_today
):
    confirmation = applied(agreed(date(2026, 9, 8)), mediators.village, court, date(2026, 10, 8))
    with pytest.raises(ValidationError):
        conf.not_accept(confirmation, actor=court_clerk, decided_on=date(2026, 10, 9), note="")
    with pytest.raises(ValidationError) as early:
        conf.not_accept(confirmation, actor=court_clerk, decided_on=date(2026, 10, 7), note="不属于受理范围")
    assert "2026-10-08" in " ".join(early.value.message_dict["decided_on"])
    done = conf.not_accept(
        confirmation, actor=court_clerk, decided_on=date(2026, 10, 9), note="不属于本院管辖"
    )
    assert (done.status, done.ruled_on, done.note) == (S.NOT_ACCEPTED, date(2026, 10, 9), "不属于本院管辖")
    with pytest.raises(conf.ConfirmationStateError):
        conf.accept_application(done, actor=court_clerk, accepted_on=date(2026, 10, 10))


@pytest.mark.django_db
def test_court_steps_need_the_application_first(agreed, court_clerk, fixed_today):
    confirmation = confirmation_of(agreed(date(2026, 9, 8)))
    with pytest.raises(conf.ConfirmationStateError):
        conf.accept_application(confirmation, actor=court_clerk, accepted_on=date(2026, 9, 10))
    with pytest.raises(conf.ConfirmationStateError):
        conf.rule(confirmation, actor=court_clerk, ruled_on=date(2026, 9, 10), confirmed=True)


@pytest.mark.django_db
def test_acceptance_before_the_application_is_refused(agreed, court, court_clerk, mediators, fixed_today):
    confirmation = applied(agreed(date(2026, 9, 8)), mediators.village, court, date(2026, 10, 8))
    with pytest.raises(ValidationError) as early:
        conf.accept_application(confirmation, actor=court_clerk, accepted_on=date(2026, 10, 7))
    assert "2026-10-08" in " ".join(early.value.message_dict["accepted_on"])


@pytest.mark.django_db
def test_only_the_court_or_the_desk_records_the_courts_decisions(
    agreed, court, mediators, personas, tree, fixed_today
):
    other_court = Unit.objects.create(name="衢州市中级人民法院", kind=UnitKind.COURT, jurisdiction=tree.city)
    stranger = make_user("other_clerk", Role.HANDLER, tree.kecheng, other_court)
    confirmation = applied(agreed(date(2026, 9, 8)), mediators.village, court, date(2026, 10, 8))
    for actor in (stranger, mediators.village):
        with pytest.raises(PermissionDenied):
            conf.accept_application(confirmation, actor=actor, accepted_on=date(2026, 10, 9))
    # The centre's desk (共享法庭 at the centre) may record it.
    done = conf.accept_application(
        confirmation, actor=personas.kecheng_dispatcher, accepted_on=date(2026, 10, 9)
    )
    assert done.status == S.ACCEPTED


# ---------------------------------------------------------------------------------------------
# Lapse (the sweep)


@pytest.mark.django_db
def test_lapse_marks_only_windows_that_have_passed_and_is_idempotent(agreed, court, mediators, fixed_today):
    ends_8th = agreed(date(2026, 9, 8))  # apply by 10-08
    ends_10th = agreed(date(2026, 9, 10))  # apply by 10-10
    assert conf.lapse_due(date(2026, 10, 8)) == 0  # the last day itself is still inside the window
    assert conf.lapse_due(date(2026, 10, 9)) == 1
    assert conf.lapse_due(date(2026, 10, 9)) == 0
    assert (confirmation_of(ends_8th).status, confirmation_of(ends_10th).status) == (S.LAPSED, S.DUE)
    assert notes(ends_8th)[-1] == "司法确认：当事人未在 2026-10-08 前共同申请，申请期限已过"
    assert conf.lapse_due(date(2026, 10, 11)) == 1
    assert confirmation_of(ends_10th).status == S.LAPSED
    assert len(notes(ends_10th)) == 2


@pytest.mark.django_db
def test_an_application_made_in_time_may_be_recorded_after_the_lapse(agreed, court, mediators, fixed_today):
    agreement = agreed(date(2026, 9, 8))
    conf.lapse_due(date(2026, 10, 12))
    confirmation = applied(agreement, mediators.village, court, date(2026, 10, 8))
    assert (confirmation.status, confirmation.accept_by) == (S.APPLIED, date(2026, 10, 12))
    with pytest.raises(conf.ConfirmationStateError):
        applied(agreement, mediators.village, court, date(2026, 10, 8))


# ---------------------------------------------------------------------------------------------
# Court referral (诉调对接)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("referral", "procedure", "referred_on", "due"),
    [
        # 委派 30 days: 9-01 + 30 = 10-01 (国庆) → 10-08.
        (Referral.ASSIGNED, "", date(2026, 9, 1), date(2026, 10, 8)),
        # 委派 from 10-30: + 30 = 11-29, a Sunday → 11-30.
        (Referral.ASSIGNED, "", date(2026, 10, 30), date(2026, 11, 30)),
        # 委托, ordinary procedure 15 days: 9-12 + 15 = 9-27 (中秋) → 9-28.
        (Referral.ENTRUSTED, Procedure.ORDINARY, date(2026, 9, 12), date(2026, 9, 28)),
        # 委托, summary procedure 7 days: 9-24 + 7 = 10-01 (国庆) → 10-08.
        (Referral.ENTRUSTED, Procedure.SUMMARY, date(2026, 9, 24), date(2026, 10, 8)),
        # 委托, summary: 11-02 + 7 = 11-09, a Monday.
        (Referral.ENTRUSTED, Procedure.SUMMARY, date(2026, 11, 2), date(2026, 11, 9)),
    ],
)
def test_referral_due_dates(referral, procedure, referred_on, due):
    assert conf.referral_due(referred_on, referral, procedure) == due


@pytest.mark.django_db
def test_referral_due_names_the_bad_field():
    assert conf.referral_due(date(2026, 9, 1), "", "") is None
    for args, field in (
        ((date(2026, 9, 1), "sent", ""), "referral"),
        ((date(2026, 9, 1), Referral.ENTRUSTED, ""), "procedure"),
        ((date(2026, 9, 1), Referral.ENTRUSTED, "fast"), "procedure"),
        ((None, Referral.ASSIGNED, ""), "referred_on"),
        ((date(2031, 3, 1), Referral.ASSIGNED, ""), "referred_on"),  # a year the calendar does not know
    ):
        with pytest.raises(ValidationError) as refused:
            conf.referral_due(*args)
        assert field in refused.value.message_dict, args


def close_case(agreement: Agreement, personas: Any, mediator: Any, at: datetime) -> Any:
    case = Case.objects.get(pk=agreement.dispute_id)
    cases.transition(case, Action.CLOSE, actor=personas.kecheng_dispatcher, at=at)
    return case, case.steps.get(action=Action.CLOSE)


@pytest.mark.django_db
def test_result_of_a_court_referred_dispute_goes_back_to_the_court_once(
    agreed, court, personas, mediators, django_capture_on_commit_callbacks
):
    agreement = agreed(
        date(2026, 9, 8),
        referral=Referral.ASSIGNED,
        court=court,
        referred_on=date(2026, 9, 1),
    )
    assert agreement.dispute.referral_due == date(2026, 10, 8)
    with django_capture_on_commit_callbacks(execute=True):
        case, step = close_case(agreement, personas, mediators.village, local(2026, 9, 9, 10, 0))
        # Called by the kind's 结案 hook once it is wired; calling again changes nothing.
        conf.on_dispute_closed(case, step)
        conf.on_dispute_closed(case, step)
    dispute = Dispute.objects.get(pk=case.pk)
    assert dispute.result_sent_at == local(2026, 9, 9, 10, 0)
    sent = Notification.objects.filter(unit=court)
    assert sent.count() == 1
    text = sent.get().text
    assert "诉前委派" in text and "调解成功" in text and agreement.number in text
    assert COURT_CASE_NUMBER in text and "期限 2026-10-08，按期办结" in text
    assert sum("诉调对接结果回复" in n for n in notes(agreement)) == 1


@pytest.mark.django_db
def test_closing_a_dispute_not_referred_by_a_court_sends_nothing(
    agreed, court, personas, mediators, django_capture_on_commit_callbacks
):
    agreement = agreed(date(2026, 9, 8))
    with django_capture_on_commit_callbacks(execute=True):
        case, step = close_case(agreement, personas, mediators.village, local(2026, 9, 9, 10, 0))
        conf.on_dispute_closed(case, step)
    assert Dispute.objects.get(pk=case.pk).result_sent_at is None
    assert not Notification.objects.filter(unit=court).exists()


# ---------------------------------------------------------------------------------------------
# API


def post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def with_reveal(user: Any) -> Any:
    user.user_permissions.add(Permission.objects.get(codename="reveal_person"))
    return type(user).objects.get(pk=user.pk)  # a fresh object: permissions are cached


@pytest.mark.django_db
def test_api_list_filters_by_status_due_within_and_overdue(agreed, court, mediators, personas, fixed_today):
    fixed_today(date(2026, 10, 9))
    late = agreed(date(2026, 9, 8))  # apply by 10-08: overdue on 10-09
    soon = agreed(date(2026, 9, 10))  # apply by 10-10: due within 1 day
    later = agreed(date(2026, 9, 25))  # apply by 10-26 (9-25 + 30 = 10-25 Sunday → 10-26)
    client = login(personas.kecheng_dispatcher)

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/confirmations/{query}")
        assert response.status_code == 200, response.content
        return [item["dispute_id"] for item in response.json()["items"]]

    assert ids("") == [late.dispute_id, soon.dispute_id, later.dispute_id]
    assert ids("?overdue=true") == [late.dispute_id]
    assert ids("?overdue=false") == [soon.dispute_id, later.dispute_id]
    assert ids("?due_within=1") == [soon.dispute_id]
    assert ids("?due_within=17") == [soon.dispute_id, later.dispute_id]
    assert ids("?status=lapsed") == []
    body = client.get("/api/confirmations/?due_within=1").json()
    item = body["items"][0]
    assert body["count"] == 1
    assert (item["apply_by"], item["deadline"], item["days_left"]) == ("2026-10-10", "2026-10-10", 1)
    assert item["document_url"] == f"/api/confirmations/agreements/{soon.dispute_id}.docx"
    assert client.get("/api/confirmations/?due_within=-1").status_code == 422
    assert client.get("/api/confirmations/?status=nonsense").status_code == 422


@pytest.mark.django_db
def test_api_other_county_sees_nothing(agreed, court, personas, mediators, fixed_today):
    agreement = agreed(date(2026, 9, 8))
    pk = confirmation_of(agreement).pk
    client = login(personas.jiangshan_dispatcher)
    assert client.get("/api/confirmations/").json() == {"count": 0, "items": []}
    assert client.get(f"/api/confirmations/{pk}").status_code == 404
    response = post(
        client, f"/api/confirmations/{pk}/apply", {"court_id": court.pk, "applied_on": "2026-09-30"}
    )
    assert response.status_code == 404
    assert confirmation_of(agreement).status == S.DUE


@pytest.mark.django_db
def test_api_walks_an_application_to_a_ruling(agreed, court, court_clerk, mediators, fixed_today):
    agreement = agreed(date(2026, 9, 8))
    pk = confirmation_of(agreement).pk
    mediator, clerk = login(mediators.village), login(court_clerk)
    response = post(
        mediator, f"/api/confirmations/{pk}/apply", {"court_id": court.pk, "applied_on": "2026-10-09"}
    )
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["applied_on"] and "2026-10-08" in error["msg"]

    response = post(
        mediator, f"/api/confirmations/{pk}/apply", {"court_id": court.pk, "applied_on": "2026-09-30"}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["accept_by"]) == ("applied", "2026-10-08")
    assert (
        post(
            mediator, f"/api/confirmations/{pk}/apply", {"court_id": court.pk, "applied_on": "2026-09-30"}
        ).status_code
        == 409
    )

    response = post(clerk, f"/api/confirmations/{pk}/accept", {"accepted_on": "2026-10-08"})
    assert (response.status_code, response.json()["rule_by"]) == (200, "2026-10-23")  # 10-08 + 15, a Friday
    response = post(
        clerk, f"/api/confirmations/{pk}/extend", {"extended_on": "2026-10-20", "note": "经院长批准"}
    )
    assert (response.status_code, response.json()["rule_by"]) == (
        200,
        "2026-11-02",
    )  # 10-08 + 25 = 11-02, a Monday
    response = post(clerk, f"/api/confirmations/{pk}/rule", {"ruled_on": "2026-10-30", "confirmed": True})
    body = response.json()
    assert (response.status_code, body["status"], body["ruled_on"], body["deadline"]) == (
        200,
        "confirmed",
        "2026-10-30",
        None,
    )
    assert clerk.get(f"/api/confirmations/{pk}").json()["status_label"] == "裁定有效"


@pytest.mark.django_db
def test_api_bad_input_names_the_field(agreed, court, orgs, mediators, court_clerk, fixed_today):
    pk = confirmation_of(agreed(date(2026, 9, 8))).pk
    mediator = login(mediators.village)
    response = post(
        mediator,
        f"/api/confirmations/{pk}/apply",
        {"court_id": orgs.township.unit.pk, "applied_on": "2026-09-30"},
    )
    assert (response.status_code, response.json()["detail"][0]["loc"]) == (422, ["court_id"])
    response = post(
        mediator, f"/api/confirmations/{pk}/apply", {"court_id": court.pk, "applied_on": "2026-13-01"}
    )
    assert response.status_code == 422 and "applied_on" in json.dumps(response.json())
    response = post(
        mediator, f"/api/confirmations/{pk}/apply", {"court_id": court.pk, "applied_on": "2026-09-30", "x": 1}
    )
    assert response.status_code == 422
    response = post(login(court_clerk), f"/api/confirmations/{pk}/not-accept", {"decided_on": "2026-09-30"})
    assert response.status_code == 422 and "note" in json.dumps(response.json())


@pytest.mark.django_db
def test_api_role_refusal_is_403(agreed, court, personas, fixed_today):
    pk = confirmation_of(agreed(date(2026, 9, 8))).pk
    response = post(
        login(personas.kecheng_grid_worker),
        f"/api/confirmations/{pk}/apply",
        {"court_id": court.pk, "applied_on": "2026-09-30"},
    )
    # The grid worker's scope (one grid) does not hold the village dispute: 404 before any 403.
    assert response.status_code == 404
    handler = login(personas.kecheng_handler)  # 柯城 scope, handler role
    response = post(
        handler, f"/api/confirmations/{pk}/apply", {"court_id": court.pk, "applied_on": "2026-09-30"}
    )
    assert response.status_code == 403
