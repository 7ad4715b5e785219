"""The deadline sweep raises 预警, 黄牌 and 红牌 exactly once, and is safe to run twice or at once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from pingan.cases.choices import Action, Supervision
from pingan.cases.models import Step
from pingan.cases.services import transition
from pingan.cases.sweep import sweep
from pingan.core.models import Notification
from tests.cases.conftest import local


@pytest.fixture
def dispatched(new_case, actors, units):
    """Dispatched Monday 2026-11-23 09:00 with 3 working days: due Thursday 26th 23:59:59.

    Allowed time 86 h 59 m 59 s: warning at 80 % (Wed 25th 22:35), red at +50 % (Sat 28th 19:30).
    """
    case = new_case()
    transition(
        case,
        Action.DISPATCH,
        actor=actors["dispatcher"],
        unit=units.kecheng_police,
        at=local(2026, 11, 23, 9, 0),
    )
    return case


def steps(case, action):
    return Step.objects.filter(case=case, action=action).count()


def test_nothing_is_raised_before_the_warning(dispatched):
    assert sweep(now=local(2026, 11, 25, 12, 0)) == {"warn": 0, "yellow_card": 0, "red_card": 0}


def test_warning_then_yellow_then_red_each_once(dispatched, django_capture_on_commit_callbacks, actors):
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep(now=local(2026, 11, 26, 8, 0))["warn"] == 1
        assert sweep(now=local(2026, 11, 26, 9, 0))["warn"] == 0
        assert sweep(now=local(2026, 11, 27, 9, 0))["yellow_card"] == 1
        assert sweep(now=local(2026, 11, 28, 12, 0))["red_card"] == 0
        assert sweep(now=local(2026, 11, 28, 20, 0))["red_card"] == 1
        assert sweep(now=local(2026, 11, 29, 20, 0)) == {"warn": 0, "yellow_card": 0, "red_card": 0}
    dispatched.refresh_from_db()
    assert dispatched.supervision == Supervision.RED
    assert [steps(dispatched, a) for a in (Action.WARN, Action.YELLOW_CARD, Action.RED_CARD)] == [1, 1, 1]
    # The unit and the area's supervisor are told of each.
    assert Notification.objects.filter(unit=dispatched.unit).count() == 3
    assert Notification.objects.filter(user=actors["supervisor"]).count() == 3


def test_a_late_sweep_raises_all_three_once(dispatched):
    assert sweep(now=local(2026, 12, 5, 9, 0)) == {"warn": 1, "yellow_card": 1, "red_card": 1}
    assert sweep(now=local(2026, 12, 5, 9, 0)) == {"warn": 0, "yellow_card": 0, "red_card": 0}


def test_handled_cases_are_not_swept(dispatched, actors):
    transition(dispatched, Action.ACCEPT, actor=actors["handler"])
    transition(dispatched, Action.REPORT, actor=actors["handler"], note="已处理")
    assert sweep(now=local(2026, 12, 5, 9, 0))["yellow_card"] == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_raise_each_card_once(tree, units, personas, new_case, actors):
    for _ in range(20):
        case = new_case()
        transition(
            case,
            Action.DISPATCH,
            actor=actors["dispatcher"],
            unit=units.kecheng_police,
            at=local(2026, 11, 23, 9, 0),
        )
    results = []

    def run():
        results.append(sweep(now=local(2026, 12, 5, 9, 0)))
        connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["red_card"] for r in results) == 20
    assert Step.objects.filter(action=Action.RED_CARD).count() == 20
