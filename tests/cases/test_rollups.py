"""Roll-ups: kept current by every transition, equal to a rebuild from the step log."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from pingan.cases import kinds, rollups
from pingan.cases.choices import Action, Channel, DeadlineUnit, Grain
from pingan.cases.models import ROLLUP_COUNTERS, Case, CaseRollup
from pingan.cases.services import register, transition
from tests.cases.indicator_history import build, local


def snapshot() -> dict[tuple, dict[str, int]]:
    """Every roll-up row with a non-zero counter, by key (a row taken back to zero is no row)."""
    out = {}
    for row in CaseRollup.objects.all():
        values = {name: getattr(row, name) for name in ROLLUP_COUNTERS if getattr(row, name)}
        if values:
            out[(row.grain, row.day, row.unit_id, row.area_code, row.kind, row.category_id)] = values
    return out


def counters(grain: Grain, day: date, unit_id: int = 0, **filters) -> dict[str, int]:
    rows = CaseRollup.objects.filter(grain=grain, day=day, unit_id=unit_id, **filters)
    return {
        name: sum(getattr(r, name) for r in rows)
        for name in ROLLUP_COUNTERS
        if sum(getattr(r, name) for r in rows)
    }


@pytest.fixture
def history(tree, units, personas):
    return build(tree, units, personas)


def test_rebuild_equals_incremental_on_the_hand_built_history(history):
    incremental = snapshot()
    assert len(incremental) > 20
    written = rollups.rebuild()
    assert snapshot() == incremental
    assert written == CaseRollup.objects.count()


def test_month_rows_of_march(history):
    a = history.unit_a.pk
    assert counters(Grain.MONTH, date(2026, 3, 1), a) == {
        "dispatched": 5, "handled": 3, "handled_on_time": 2, "closed": 3, "closed_on_time": 2, "reworks": 1,
        "reworked": 1, "extensions": 1, "parked": 1, "yellow_cards": 3, "satisfaction_sum": 8,
        "satisfaction_count": 2, "satisfied": 1,
    }  # fmt: skip
    # Registrations and the matter solved on the spot have no unit.
    assert counters(Grain.MONTH, date(2026, 3, 1), 0, area_code="330802001") == {
        "registered": 6, "on_spot": 1, "closed": 1, "closed_on_time": 1,
    }  # fmt: skip


def test_rework_takes_back_the_report_on_its_own_day(history):
    a = history.unit_a.pk
    # 03-04: c2 reported and sent back the same day; c3's extension approved.
    assert counters(Grain.DAY, date(2026, 3, 4), a) == {"reworks": 1, "reworked": 1, "extensions": 1}
    # 03-09: c2's second report (late) and c3's report (on time, extended deadline).
    assert counters(Grain.DAY, date(2026, 3, 9), a) == {"handled": 2, "handled_on_time": 1, "closed": 1}


def test_reevaluation_counts_only_the_latest_score(history):
    a = history.unit_a.pk
    # c1 evaluated 4 on 03-04 and 5 on 03-05: the 03-04 row is taken back, 03-05 holds the 5.
    assert "satisfaction_count" not in counters(Grain.DAY, date(2026, 3, 4), a)
    assert counters(Grain.DAY, date(2026, 3, 5), a)["satisfaction_sum"] == 5


def test_detail_rows_are_per_village_and_category(history, tree):
    case = history.cases["c1"]
    assert case.area_code == tree.kecheng_grid.code
    row = CaseRollup.objects.get(grain=Grain.DETAIL, day=date(2026, 3, 3), unit_id=history.unit_a.pk)
    assert (row.area_code, row.category_id) == (tree.kecheng_village.code, 0)


def test_category_comes_from_the_case_data(new_case, actors, units):
    case = new_case(data={"category_id": 17})
    transition(
        case, Action.DISPATCH, actor=actors["dispatcher"], unit=units.kecheng_police, at=local(2026, 3, 2, 9)
    )
    row = CaseRollup.objects.get(grain=Grain.DETAIL, unit_id=units.kecheng_police.pk)
    assert (row.category_id, row.dispatched) == (17, 1)
    assert CaseRollup.objects.get(grain=Grain.DAY, unit_id=units.kecheng_police.pk).category_id == 0
    before = snapshot()
    rollups.rebuild()
    assert snapshot() == before


def test_escalating_a_reported_case_takes_the_report_back(new_case, actors, units):
    case = new_case(at=local(2026, 3, 2, 8))
    handler, desk = actors["handler"], actors["dispatcher"]
    transition(case, Action.DISPATCH, actor=desk, unit=units.kecheng_police, at=local(2026, 3, 2, 9))
    transition(case, Action.ACCEPT, actor=handler, at=local(2026, 3, 2, 10))
    transition(case, Action.REPORT, actor=handler, note="已处理", at=local(2026, 3, 3, 10))
    transition(case, Action.ESCALATE, actor=desk, note="需县级协调", at=local(2026, 3, 4, 10))
    assert "handled" not in counters(Grain.DAY, date(2026, 3, 3), units.kecheng_police.pk)
    before = snapshot()
    rollups.rebuild()
    assert snapshot() == before


def test_a_rolled_back_transition_leaves_no_count(tree, actors, units):
    def refuse(case, step):
        raise RuntimeError("hook failed")

    kind = kinds.register(
        kinds.CaseKind(
            key="test_refusing",
            label="测试（钩子失败）",
            transitions=kinds.COMMON_LOOP,
            default_policy=kinds.DeadlinePolicy(DeadlineUnit.WORKING_DAYS, Decimal(3)),
        )
    )
    kind.on(Action.DISPATCH, refuse)
    try:
        case = register("test_refusing", actor=actors["dispatcher"], title="占道", jurisdiction=tree.kecheng_grid,
                        channel=Channel.GRID, at=local(2026, 3, 2, 8))  # fmt: skip
        with pytest.raises(RuntimeError):
            transition(case, Action.DISPATCH, actor=actors["dispatcher"], unit=units.kecheng_police,
                       at=local(2026, 3, 2, 9))  # fmt: skip
    finally:
        kinds._registry.pop("test_refusing", None)
    assert not CaseRollup.objects.filter(unit_id=units.kecheng_police.pk).exists()
    assert Case.objects.get(pk=case.pk).status == "registered"


def test_rebuild_since_keeps_earlier_months_and_recomputes_later_ones(history):
    good = snapshot()
    # Damage February (outside --since) and March (inside).
    feb = date(2026, 2, 1)
    CaseRollup.objects.create(
        grain=Grain.MONTH, day=feb, unit_id=99, area_code="330802001", kind="x", handled=7
    )
    CaseRollup.objects.filter(grain=Grain.MONTH, day=date(2026, 3, 1)).update(handled=0)
    call_command("rebuild_rollups", "--since", "2026-03-15", stdout=open("/dev/null", "w"))  # noqa: SIM115
    after = snapshot()
    assert after[(Grain.MONTH, feb, 99, "330802001", "x", 0)] == {"handled": 7}
    del after[(Grain.MONTH, feb, 99, "330802001", "x", 0)]
    assert after == good


def test_rebuild_command_refuses_a_bad_date(db):
    with pytest.raises(CommandError, match="--since"):
        call_command("rebuild_rollups", "--since", "15.03.2026")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_counts_of_one_row_both_land(new_case):
    case = new_case(at=local(2026, 3, 2, 8))
    day = date(2026, 5, 20)
    barrier = threading.Barrier(4)

    def bump():
        barrier.wait()
        rollups.bump(case, 42, day, {"dispatched": 1})
        connection.close()

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert CaseRollup.objects.get(grain=Grain.DAY, day=day, unit_id=42).dispatched == 4
