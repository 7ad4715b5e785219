"""A hand-built history of nine matters in March 2026 for the indicator and roll-up tests.

Two units: 柯城区公安分局 (A, cases in 柯城区) and 江山市公安局 (B, cases in 江山市).
The test kind has a 3-working-day deadline from dispatch:
dispatched Mon 2026-03-02 → due end of Thu 03-05; dispatched Tue 03-03 → due end of Fri 03-06.

    c1 A  report 03-03 (on time), close 03-03; evaluated 4 on 03-04, re-evaluated 5 on 03-05
    c2 A  report 03-04, 返工 03-04, report again 03-09 (late), close 03-09 (late); evaluated 3
    c3 A  延期 approved 03-04 (+2 working days → 03-09), report 03-09 (on time), close 03-10
    c4 A  挂账 03-06 (leaves the statistics)
    c5 A  accepted, never reported: overdue and not yet handled
    c6 —  就地解决 by the 柯城 grid worker on 03-03 (no unit)
    c7 B  report 03-05 (on time), close 03-05
    c8 B  report 03-10 (late), close 03-10 (late)
    c9 B  退回 by B on 03-03, 注销 on 03-04
    + the sweep at 03-06 01:00 (黄牌 for c2, c4, c5)

Expected for March 2026 (see tests/cases/test_indicators.py):
    A: 派遣 5, 处置 3 (2 on time), 结案 3 (2 on time), 超期未处置 1, 返工 1, 延期 1, 挂账 1
       → 应处置数 = 应结案数 = 4; 处置率 75 %, 按期 50 %, 返工率 25 %, 超期待处置率 25 %,
         延期率 25 %; score 70.00 → C
    B: 派遣 3, 退回 1, 处置 2 (1 on time), 结案 2 (1 on time) → 处置率 100 %, score 90.00 → A
    柯城区: 应结案数 = 处置 3 + 就地解决 1 + 超期 1 = 5; 结案 4 (3 on time) → 80 %, 60 %
    江山市: 应结案数 2; 结案 2 (1 on time) → 100 %, 50 %
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from pingan.accounts.choices import Role
from pingan.accounts.models import Unit, User
from pingan.cases import kinds
from pingan.cases.choices import Action, Channel, DeadlineUnit
from pingan.cases.models import Case
from pingan.cases.services import register, transition
from pingan.cases.sweep import sweep
from tests.conftest import make_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
KIND = "test_matter"


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def ensure_kind() -> None:
    """The engine tests' kind (tests/cases/conftest.py), for test packages that lack that fixture."""
    kinds.register(
        kinds.CaseKind(
            key=KIND,
            label="测试事项",
            transitions=kinds.COMMON_LOOP,
            default_policy=kinds.DeadlinePolicy(DeadlineUnit.WORKING_DAYS, Decimal(3)),
        )
    )


@dataclass
class History:
    cases: dict[str, Case]
    unit_a: Unit
    unit_b: Unit
    jiangshan_handler: User


def build(tree, units, personas) -> History:
    ensure_kind()
    kd, jd, kh = personas.kecheng_dispatcher, personas.jiangshan_dispatcher, personas.kecheng_handler
    jh = make_user("js_handler", Role.HANDLER, tree.jiangshan, units.jiangshan_police)
    a, b = units.kecheng_police, units.jiangshan_police
    c: dict[str, Case] = {}

    def new(name: str, grid, actor, at: datetime, **kw) -> None:
        c[name] = register(
            KIND, actor=actor, title=f"事项{name}", jurisdiction=grid, channel=Channel.GRID, at=at, **kw
        )

    def go(name: str, action: Action, actor, at: datetime, **kw) -> None:
        transition(c[name], action, actor=actor, at=at, **kw)

    # Monday 03-02: five 柯城 matters to unit A.
    for name in ("c1", "c2", "c3", "c4", "c5"):
        new(name, tree.kecheng_grid, kd, local(2026, 3, 2, 8, 0))
        go(name, Action.DISPATCH, kd, local(2026, 3, 2, 9, 0), unit=a)
        go(name, Action.ACCEPT, kh, local(2026, 3, 2, 9, 30))
    # Tuesday 03-03: three 江山 matters to unit B; one is not B's.
    for name in ("c7", "c8", "c9"):
        new(name, tree.jiangshan_grid, jd, local(2026, 3, 3, 8, 0))
        go(name, Action.DISPATCH, jd, local(2026, 3, 3, 9, 0), unit=b)
    go("c7", Action.ACCEPT, jh, local(2026, 3, 3, 9, 30))
    go("c8", Action.ACCEPT, jh, local(2026, 3, 3, 9, 30))
    go("c9", Action.RETURN, jh, local(2026, 3, 3, 10, 0), note="不属于本单位职责")
    go("c1", Action.REPORT, kh, local(2026, 3, 3, 10, 0), note="已处理")
    new("c6", tree.kecheng_grid, personas.kecheng_grid_worker, local(2026, 3, 3, 11, 0), solved_on_spot=True)
    go("c1", Action.CLOSE, kd, local(2026, 3, 3, 15, 0))
    # Wednesday 03-04
    go("c1", Action.EVALUATE, kd, local(2026, 3, 4, 9, 0), satisfaction=4)
    go("c9", Action.CANCEL, jd, local(2026, 3, 4, 9, 0), note="非本平台受理范围")
    go("c2", Action.REPORT, kh, local(2026, 3, 4, 10, 0), note="已处理")
    go("c3", Action.REQUEST_EXTENSION, kh, local(2026, 3, 4, 11, 0), amount=2, note="需协调产权单位")
    go("c3", Action.APPROVE_EXTENSION, kd, local(2026, 3, 4, 14, 0))
    go("c2", Action.REWORK, kd, local(2026, 3, 4, 16, 0), note="现场仍未清理")
    # Thursday 03-05
    go("c1", Action.EVALUATE, kd, local(2026, 3, 5, 9, 0), satisfaction=5)
    go("c7", Action.REPORT, jh, local(2026, 3, 5, 10, 0), note="已处理")
    go("c7", Action.CLOSE, jd, local(2026, 3, 5, 15, 0))
    # Friday 03-06: the sweep finds c2, c4, c5 past their deadline; c4 is parked.
    sweep(local(2026, 3, 6, 1, 0))
    for case in c.values():
        case.refresh_from_db()  # the sweep changed their supervision and version
    go("c4", Action.PARK, kd, local(2026, 3, 6, 10, 0), note="涉及历史遗留问题，需专项解决")
    # Monday 03-09
    go("c3", Action.REPORT, kh, local(2026, 3, 9, 9, 0), note="已处理")
    go("c2", Action.REPORT, kh, local(2026, 3, 9, 10, 0), note="已彻底清理")
    go("c2", Action.CLOSE, kd, local(2026, 3, 9, 14, 0))
    # Tuesday 03-10
    go("c3", Action.CLOSE, kd, local(2026, 3, 10, 9, 0))
    go("c8", Action.REPORT, jh, local(2026, 3, 10, 10, 0), note="已处理")
    go("c8", Action.CLOSE, jd, local(2026, 3, 10, 11, 0))
    go("c2", Action.EVALUATE, kd, local(2026, 3, 10, 12, 0), satisfaction=3)
    for case in c.values():
        case.refresh_from_db()
    return History(cases=c, unit_a=a, unit_b=b, jiangshan_handler=jh)
