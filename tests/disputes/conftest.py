"""Mediation organisations, their mediators, a police station and a dispute factory.

Shared by every dispute test module (services, API, confirmation, linkage, pages). Keep the
names stable: ``orgs``, ``mediators``, ``police_station``, ``new_dispute``.

The organisations sit on the small tree of tests/conftest.py:

    village   府山社区人民调解委员会        330802001001  村(社区)   all types
    township  信安街道人民调解委员会        330802001     乡镇(街道) all types
    wangning  王宁调解工作室                330802        品牌调解室 all types
    labour    柯城区劳动争议人民调解委员会  330802        行业性     labour only
    county    柯城区矛盾纠纷调处化解中心    330802        县级中心   all types
    jiangshan 虎山街道人民调解委员会        330881001     乡镇(街道) all types (江山)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pingan.accounts.choices import Role, UnitKind
from pingan.accounts.models import Unit, User
from pingan.core.idnumber import make_id_number
from pingan.disputes.choices import DisputeType, OrgKind, PartyRole, Source
from pingan.disputes.models import Dispute, MediationOrg
from pingan.geo.models import Jurisdiction
from tests.conftest import make_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The default registration time of ``new_dispute`` (a Monday).
REGISTERED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@dataclass
class Orgs:
    village: MediationOrg
    township: MediationOrg
    wangning: MediationOrg
    labour: MediationOrg
    county: MediationOrg
    jiangshan: MediationOrg


@dataclass
class Mediators:
    village: User
    township: User
    wangning: User
    labour: User
    county: User
    jiangshan: User


def _org(
    name: str, kind: OrgKind, jurisdiction: Jurisdiction, brand: str = "", types: list[str] | None = None
) -> MediationOrg:
    unit = Unit.objects.create(name=name, kind=UnitKind.MEDIATION, jurisdiction=jurisdiction)
    return MediationOrg.objects.create(
        unit=unit, org_kind=kind, brand=brand, dispute_types=types or [], room=f"{name}调解室"
    )


@pytest.fixture
def orgs(tree) -> Orgs:
    return Orgs(
        village=_org("府山社区人民调解委员会", OrgKind.VILLAGE_COMMITTEE, tree.kecheng_village),
        township=_org("信安街道人民调解委员会", OrgKind.TOWNSHIP_COMMITTEE, tree.kecheng_township),
        wangning=_org("王宁调解工作室", OrgKind.BRANDED_ROOM, tree.kecheng, brand="王宁调解"),
        labour=_org(
            "柯城区劳动争议人民调解委员会", OrgKind.INDUSTRY, tree.kecheng, types=[DisputeType.LABOUR.value]
        ),
        county=_org("柯城区矛盾纠纷调处化解中心", OrgKind.COUNTY_CENTRE, tree.kecheng),
        jiangshan=_org("虎山街道人民调解委员会", OrgKind.TOWNSHIP_COMMITTEE, tree.jiangshan_township),
    )


@pytest.fixture
def mediators(orgs: Orgs) -> Mediators:
    """One mediator (调解员) per organisation, scoped to the organisation's area."""

    def mediator(username: str, org: MediationOrg, full_name: str) -> User:
        return make_user(username, Role.MEDIATOR, org.unit.jurisdiction, org.unit, full_name=full_name)

    return Mediators(
        village=mediator("med_village", orgs.village, "府山调解员"),
        township=mediator("med_township", orgs.township, "信安调解员"),
        wangning=mediator("med_wangning", orgs.wangning, "王宁"),
        labour=mediator("med_labour", orgs.labour, "劳动调解员"),
        county=mediator("med_county", orgs.county, "县中心调解员"),
        jiangshan=mediator("med_jiangshan", orgs.jiangshan, "虎山调解员"),
    )


@pytest.fixture
def police_station(tree) -> Unit:
    """信安派出所: covers 信安街道 (330802001), so every 柯城 test dispute lies in its area."""
    return Unit.objects.create(
        name="信安派出所", kind=UnitKind.POLICE_STATION, jurisdiction=tree.kecheng_township
    )


_serial = itertools.count(1)


def new_id_number(area6: str = "330802") -> str:
    """A checksum-valid ID number that nobody in the register has yet."""
    from pingan.people.models import Person
    from pingan.people.services import id_index

    while True:
        n = next(_serial)
        number = make_id_number(area6, date(1970, 1, 1) + timedelta(days=n * 37 % 12000), n % 1000)
        if not Person.objects.filter(id_number_index=id_index(number)).exists():
            return number


def two_parties() -> list[Any]:
    """One applicant and one respondent, new to the register (fresh ID numbers)."""
    from pingan.disputes.services import PartyIn

    return [
        PartyIn(role=PartyRole.APPLICANT, name="张三", id_number=new_id_number(), phone="13800000001"),
        PartyIn(role=PartyRole.RESPONDENT, name="李四", id_number=new_id_number(), phone="13800000002"),
    ]


@pytest.fixture
def new_dispute(tree, personas, orgs):
    """Register a dispute with two new parties; any keyword of register_dispute overrides a default.

    Default: a 邻里 dispute at the 府山社区 window, registered 2026-03-02 09:00 by the 柯城 dispatcher,
    no risk flags (each call has new parties, so no REPEAT).
    """
    from pingan.disputes.services import register_dispute

    def make(**overrides: Any) -> Dispute:
        values: dict[str, Any] = {
            "actor": personas.kecheng_dispatcher,
            "dispute_type": DisputeType.NEIGHBOUR,
            "source": Source.WINDOW,
            "jurisdiction": tree.kecheng_village,
            "title": "楼上漏水邻里纠纷",
            "facts": "楼上卫生间漏水致楼下天花板受损，双方就赔偿发生争执。",
            "at": REGISTERED_AT,
        }
        values.update(overrides)
        if "parties" not in values:
            values["parties"] = two_parties()
        return register_dispute(**values)

    return make
