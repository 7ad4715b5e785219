"""Merging a duplicate into its original; closing the original informs every merged requester."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from pingan.cases.choices import Action, Status
from pingan.cases.models import Case, Step
from pingan.cases.services import IllegalTransition, transition
from pingan.core.models import Notification
from pingan.events import services
from tests.events.conftest import JS_POINT, local


def _close(case: Case, personas, units, day: int = 24) -> None:
    seat, handler = personas.kecheng_dispatcher, personas.kecheng_handler
    services.dispatch(case, units.kecheng_police, actor=seat, at=local(2026, 11, day, 9, 0))
    transition(case, Action.ACCEPT, actor=handler, at=local(2026, 11, day, 9, 30))
    transition(case, Action.REPORT, actor=handler, note="垃圾已清运", at=local(2026, 11, day, 15, 0))
    transition(case, Action.CLOSE, actor=seat, note="现场核查已清理干净", at=local(2026, 11, day, 16, 0))


def _informed(case: Case) -> list[Step]:
    return list(Step.objects.filter(case=case, action=Action.COMMENT, data__informed=True))


def test_closing_the_target_informs_the_merged_cases_requester(
    report, personas, units, django_capture_on_commit_callbacks
):
    original = report(requester_name="王芳", requester_phone="13812345678")
    grid_report = report(
        actor=personas.kecheng_grid_worker,
        channel="grid",
        title="小区门口垃圾没人清理",
        requester_name="李强",
        requester_phone="13900001111",
        at=local(2026, 11, 23, 10, 0),
    )
    merged = services.merge(grid_report, original, actor=personas.kecheng_dispatcher, note="同一处垃圾")
    assert merged.status == Status.CANCELLED and merged.merged_into == original
    assert _informed(merged) == []  # not yet: the original is still open

    with django_capture_on_commit_callbacks(execute=True):
        _close(original, personas, units)

    [notice] = _informed(merged)
    assert notice.note.startswith(
        f"您反映的「小区门口垃圾没人清理」（{merged.number}）已并入案件 {original.number}"
    )
    assert "已于 2026-11-24 16:00 结案" in notice.note and "现场核查已清理干净" in notice.note
    assert notice.data == {"informed": True, "target": original.number, "requester_id": merged.requester_id}
    assert notice.from_status == notice.to_status == Status.CANCELLED
    assert "13900001111" not in notice.note and "李强" not in notice.note
    # The grid worker who took the report is told, to pass it on to the requester.
    notification = Notification.objects.get(user=personas.kecheng_grid_worker)
    assert original.number in notification.text and notification.link == f"/cases/{merged.pk}/"
    assert _informed(original) == []


def test_cases_merged_in_a_chain_are_all_informed(report, personas, units):
    first, second, third = (report(title="暴露垃圾", at=local(2026, 11, 23, h, 0)) for h in (9, 10, 11))
    services.merge(third, second, actor=personas.kecheng_dispatcher)
    services.merge(second, first, actor=personas.kecheng_dispatcher)
    _close(first, personas, units)
    assert len(_informed(second)) == 1 and len(_informed(third)) == 1


def test_merging_into_a_closed_case_informs_at_once(report, personas, units):
    original = report()
    _close(original, personas, units)
    late = report(title="暴露垃圾", at=local(2026, 11, 24, 17, 0))
    services.merge(late, original, actor=personas.kecheng_dispatcher, at=local(2026, 11, 24, 17, 5))
    [notice] = _informed(late)
    assert original.number in notice.note


def test_a_dispatched_case_cannot_be_merged(report, personas, units):
    original, duplicate = report(), report(title="暴露垃圾")
    services.dispatch(duplicate, units.kecheng_police, actor=personas.kecheng_dispatcher)
    with pytest.raises(IllegalTransition, match="待签收"):
        services.merge(duplicate, original, actor=personas.kecheng_dispatcher)


def test_merge_target_outside_the_scope_is_unknown(report, personas):
    kc = report()
    js = report(actor=personas.jiangshan_dispatcher, lat=JS_POINT[0], lon=JS_POINT[1])
    with pytest.raises(ValidationError) as caught:
        services.merge(kc, js, actor=personas.kecheng_dispatcher)
    assert set(caught.value.error_dict) == {"target"}
    assert Case.objects.get(pk=kc.pk).status == Status.REGISTERED
