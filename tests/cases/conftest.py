"""A case kind on the common loop for engine tests, and people to act on cases."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from pingan.accounts.choices import Role
from pingan.cases import kinds
from pingan.cases.choices import Channel, DeadlineUnit
from pingan.cases.services import register
from tests.conftest import make_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
TEST_KIND = "test_matter"


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True, scope="session")
def test_kind():
    return kinds.register(
        kinds.CaseKind(
            key=TEST_KIND,
            label="测试事项",
            transitions=kinds.COMMON_LOOP,
            default_policy=kinds.DeadlinePolicy(DeadlineUnit.WORKING_DAYS, Decimal(3)),
        )
    )


@pytest.fixture
def actors(tree, units, personas):
    """The 柯城 dispatcher, a handler and a supervisor in 柯城区公安分局, and a handler elsewhere."""
    return {
        "dispatcher": personas.kecheng_dispatcher,
        "handler": personas.kecheng_handler,
        "supervisor": make_user("kc_supervisor", Role.SUPERVISOR, tree.kecheng, units.kecheng_police),
        "other_handler": make_user("kc_platform_handler", Role.HANDLER, tree.kecheng, units.kecheng_platform),
    }


@pytest.fixture
def new_case(tree, actors):
    def make(at: datetime | None = None, **kwargs):
        return register(
            TEST_KIND,
            actor=actors["dispatcher"],
            title="占道经营",
            jurisdiction=tree.kecheng_grid,
            channel=Channel.GRID,
            at=at or local(2026, 11, 23, 9, 0),
            **kwargs,
        )

    return make
