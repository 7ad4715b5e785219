"""The common loop: every transition checked in one place, each appending a step."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pingan.cases.choices import Action, Status, Supervision, Tier
from pingan.cases.models import Case, Step
from pingan.cases.services import IllegalTransition, VersionConflict, transition
from tests.cases.conftest import local


def run(case, action, actor, **kw):
    return transition(case, action, actor=actor, **kw)


def test_full_loop_writes_a_step_per_transition(new_case, actors, units):
    case = new_case()
    assert case.number.startswith("330802-20261123-")
    assert case.status == Status.REGISTERED
    run(case, Action.DISPATCH, actors["dispatcher"], unit=units.kecheng_police, at=local(2026, 11, 23, 9, 30))
    run(case, Action.ACCEPT, actors["handler"], at=local(2026, 11, 23, 10, 0))
    run(case, Action.REPORT, actors["handler"], note="已清理", at=local(2026, 11, 24, 15, 0))
    run(case, Action.CLOSE, actors["dispatcher"], at=local(2026, 11, 24, 16, 0))
    run(case, Action.EVALUATE, actors["dispatcher"], satisfaction=5, by="callback")
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.satisfaction == 5
    actions = list(Step.objects.filter(case=case).values_list("action", flat=True))
    assert actions == ["register", "dispatch", "accept", "report", "close", "evaluate"]
    assert case.version == 5
    close = Step.objects.get(case=case, action=Action.CLOSE)
    assert close.from_status == Status.REPORTED and close.to_status == Status.CLOSED
    assert close.data["on_time"] is True


def test_dispatch_starts_the_clock_in_working_days(new_case, actors, units):
    case = new_case()
    # Friday 2026-11-27 16:00 + 3 working days → end of Wednesday 2026-12-02.
    run(case, Action.DISPATCH, actors["dispatcher"], unit=units.kecheng_police, at=local(2026, 11, 27, 16, 0))
    assert case.deadline_at == local(2026, 12, 2, 23, 59, 59)
    assert case.warn_at < case.deadline_at < case.red_at


def test_close_before_verify_is_refused(new_case, actors, units):
    case = new_case()
    run(case, Action.DISPATCH, actors["dispatcher"], unit=units.kecheng_police)
    with pytest.raises(IllegalTransition, match="待签收"):
        run(case, Action.CLOSE, actors["dispatcher"])
    assert Case.objects.get(pk=case.pk).status == Status.DISPATCHED
    assert Step.objects.filter(case=case).count() == 2


def test_rework_returns_case_to_same_unit(new_case, actors, units):
    case = new_case()
    run(case, Action.DISPATCH, actors["dispatcher"], unit=units.kecheng_police)
    run(case, Action.ACCEPT, actors["handler"])
    run(case, Action.REPORT, actors["handler"], note="已处理")
    run(case, Action.REWORK, actors["dispatcher"], note="现场仍有摊位")
    assert case.status == Status.HANDLING and case.unit == units.kecheng_police
    assert case.rework_count == 1 and case.handled_at is None


def test_return_needs_a_reason_and_sends_case_back_to_the_desk(new_case, actors, units):
    case = new_case()
    run(case, Action.DISPATCH, actors["dispatcher"], unit=units.kecheng_police)
    with pytest.raises(ValidationError) as err:
        run(case, Action.RETURN, actors["handler"])
    assert "note" in err.value.error_dict
    run(case, Action.RETURN, actors["handler"], note="不属于公安职责")
    assert case.status == Status.RETURNED and case.unit is None and case.return_count == 1
    assert case.deadline_at is None
    assert Step.objects.get(case=case, action=Action.RETURN).unit == units.kecheng_police


def test_only_the_responsible_unit_accepts(new_case, actors, units):
    case = new_case()
    run(case, Action.DISPATCH, actors["dispatcher"], unit=units.kecheng_police)
    with pytest.raises(PermissionDenied):
        run(case, Action.ACCEPT, actors["other_handler"])
    with pytest.raises(PermissionDenied):
        run(case, Action.DISPATCH, actors["handler"], unit=units.kecheng_police)


def test_second_dispatcher_with_a_stale_version_gets_a_conflict(new_case, actors, units):
    case = new_case()
    seen = case.version
    first = Case.objects.get(pk=case.pk)
    second = Case.objects.get(pk=case.pk)
    transition(first, Action.DISPATCH, actor=actors["dispatcher"], version=seen, unit=units.kecheng_police)
    with pytest.raises(VersionConflict, match="已被他人修改"):
        transition(second, Action.CANCEL, actor=actors["dispatcher"], version=seen, note="重复")
    assert Case.objects.get(pk=case.pk).status == Status.DISPATCHED


def test_stale_object_without_version_still_cannot_overwrite(new_case, actors, units):
    """Even without a client version, the row's version guards the write."""
    case = new_case()
    stale = Case.objects.get(pk=case.pk)
    transition(case, Action.DISPATCH, actor=actors["dispatcher"], unit=units.kecheng_police)
    stale.status = Status.REGISTERED  # what the stale copy believes
    with pytest.raises(VersionConflict):
        transition(stale, Action.CANCEL, actor=actors["dispatcher"], note="重复")


def test_extension_request_and_approval_moves_the_deadline(new_case, actors, units):
    case = new_case()
    run(case, Action.DISPATCH, actors["dispatcher"], unit=units.kecheng_police, at=local(2026, 11, 23, 9, 0))
    assert case.deadline_at == local(2026, 11, 26, 23, 59, 59)
    run(case, Action.REQUEST_EXTENSION, actors["handler"], amount=2, note="需协调")
    with pytest.raises(ValidationError):
        run(case, Action.REQUEST_EXTENSION, actors["handler"], amount=2, note="再次")
    run(case, Action.APPROVE_EXTENSION, actors["dispatcher"])
    # Thursday 2026-11-26 + 2 working days → Monday 2026-11-30.
    assert case.deadline_at == local(2026, 11, 30, 23, 59, 59)
    assert case.extension_count == 1 and not case.extension_pending


def test_parking_needs_a_reason_and_unparking_resumes(new_case, actors, units):
    case = new_case()
    run(case, Action.DISPATCH, actors["dispatcher"], unit=units.kecheng_police)
    with pytest.raises(ValidationError):
        run(case, Action.PARK, actors["dispatcher"])
    run(case, Action.PARK, actors["dispatcher"], note="需市级资金，年内无法解决")
    assert case.status == Status.PARKED
    run(case, Action.UNPARK, actors["dispatcher"], note="资金到位")
    assert case.status == Status.HANDLING


def test_escalation_moves_up_one_tier_and_back_to_the_desk(new_case, actors, units):
    case = new_case()
    run(case, Action.DISPATCH, actors["dispatcher"], unit=units.kecheng_police)
    run(case, Action.ESCALATE, actors["dispatcher"], note="复杂矛盾，县级处理")
    assert case.tier == Tier.COUNTY and case.status == Status.REGISTERED and case.unit is None
    run(case, Action.ESCALATE, actors["dispatcher"], note="疑难，市级包案")
    assert case.tier == Tier.CITY
    with pytest.raises(ValidationError):
        run(case, Action.ESCALATE, actors["dispatcher"], note="再提级")


def test_transfer_and_cohandlers(new_case, actors, units):
    case = new_case()
    run(case, Action.DISPATCH, actors["dispatcher"], unit=units.kecheng_police)
    run(case, Action.ADD_COHANDLER, actors["dispatcher"], units=[units.kecheng_platform])
    # A co-handling unit's handler may act on the case too.
    run(case, Action.ACCEPT, actors["other_handler"])
    run(case, Action.TRANSFER, actors["dispatcher"], unit=units.kecheng_platform, note="属综治职责")
    assert case.unit == units.kecheng_platform and case.status == Status.DISPATCHED
    assert list(case.cohandlers.all()) == [units.kecheng_platform]


def test_manual_supervision_by_supervisor_only(new_case, actors, units):
    case = new_case()
    run(case, Action.DISPATCH, actors["dispatcher"], unit=units.kecheng_police)
    with pytest.raises(PermissionDenied):
        run(case, Action.SUPERVISE, actors["dispatcher"], note="请加快")
    run(case, Action.SUPERVISE, actors["supervisor"], note="请加快")
    assert case.supervision == Supervision.NORMAL


def test_evaluation_is_one_to_five(new_case, actors, units):
    case = new_case(solved_on_spot=True)
    assert case.status == Status.CLOSED
    with pytest.raises(ValidationError):
        run(case, Action.EVALUATE, actors["dispatcher"], satisfaction=6)


def test_system_actions_cannot_be_taken_by_people(new_case, actors, units):
    case = new_case()
    run(case, Action.DISPATCH, actors["dispatcher"], unit=units.kecheng_police)
    with pytest.raises(PermissionDenied):
        run(case, Action.RED_CARD, actors["supervisor"])


def test_merge_cancels_the_duplicate_and_links_it(new_case, actors):
    first, second = new_case(), new_case()
    run(second, Action.MERGE, actors["dispatcher"], target=first)
    assert second.status == Status.CANCELLED and second.merged_into == first
    with pytest.raises(ValidationError):
        run(new_case(), Action.MERGE, actors["dispatcher"], target=second)


def test_numbers_are_sequential_per_county_and_day(new_case):
    numbers = [new_case().number for _ in range(3)]
    assert [n[-5:] for n in numbers] == ["00001", "00002", "00003"]
    assert new_case(at=local(2026, 11, 24, 8, 0)).number == "330802-20261124-00001"
