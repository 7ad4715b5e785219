"""The Quzhou demo (衢州演示数据): jurisdictions and grids, units, users for every role, people.

`pingan demo` loads it once; `pingan demo --reset` starts over. Everything here is made up
except the county outlines (see pingan/demo/geography.py) and the names of real bodies.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.db import transaction

from pingan.accounts.choices import Platform, Role, UnitKind
from pingan.accounts.models import Unit, User
from pingan.geo.choices import Level
from pingan.geo.models import Jurisdiction

CITY_CODE = "330800"
DEMO_PASSWORD = "Pingan@2026"
DEMO_PEOPLE = 5000
DEMO_EVENTS = 200_000  # three years of a working city (issue 3, item 8)
DEMO_DISPUTES = 15_000  # a year of disputes and twice as many 110 dispute calls (issue 4, item 7)

# County-level government departments (县级部门); the city has the same set.
DEPARTMENTS = [
    "公安局",
    "司法局",
    "信访局",
    "应急管理局",
    "市场监督管理局",
    "综合行政执法局",
    "人力资源和社会保障局",
    "卫生健康委员会",
    "自然资源和规划局",
    "住房和城乡建设局",
    "交通运输局",
    "人民法院",
]
# Mediation organisations at city level: branded rooms, industry committees, volunteer teams.
CITY_MEDIATION = [
    "王宁调解工作室",
    "兰花热线调解室",
    "三衢和姐调解志愿队",
    "6070老兵调解队",
    "劳动人事争议调解委员会",
    "医疗纠纷人民调解委员会",
    "交通事故纠纷调解委员会",
]
PLATFORMS = [
    (Platform.ZONGZHI, "综治工作平台"),
    (Platform.JIANGUAN, "监管执法平台"),
    (Platform.YINGJI, "应急管理平台"),
    (Platform.GONGGONG, "公共服务平台"),
]
# Two counties get a full set of demo users; every county gets a dispatcher.
DEMO_COUNTIES = {"330802": "kc", "330881": "js"}
# A mediator (调解员) of each city mediation organisation: login name → organisation.
CITY_MEDIATORS = {
    "wangning_mediator": "王宁调解工作室",
    "lanhua_mediator": "兰花热线调解室",
    "hejie_mediator": "三衢和姐调解志愿队",
    "laobing_mediator": "6070老兵调解队",
    "labour_mediator": "劳动人事争议调解委员会",
    "medical_mediator": "医疗纠纷人民调解委员会",
    "traffic_mediator": "交通事故纠纷调解委员会",
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林郑"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: Role
    where: str


def reset_database() -> None:
    """Drop every table's data: the SQLite file is removed; other databases are flushed."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        from django.db import connections

        connections.close_all()
        from pathlib import Path

        for suffix in ("", "-wal", "-shm"):
            path = Path(str(db["NAME"]) + suffix)
            if path.exists():
                path.unlink()
    else:
        from django.core.management import call_command

        call_command("migrate", "--no-input", verbosity=0)
        call_command("flush", "--no-input", verbosity=0)
        # flush also empties the working-day calendar that a migration seeded.
        from pingan.core.calendar import seed_default

        seed_default()


def is_loaded() -> bool:
    return Unit.objects.filter(jurisdiction__code=CITY_CODE).exists()


def ensure_demo(
    stdout: IO[str] = sys.stdout, events: int = DEMO_EVENTS, disputes: int = DEMO_DISPUTES
) -> bool:
    """Load the demo unless it is there already; returns True when it loaded."""
    if is_loaded():
        stdout.write("演示数据已存在，直接使用 (pingan demo --reset 重新生成)\n")
        return False
    load_demo(stdout=stdout, events=events, disputes=disputes)
    return True


def load_demo(
    stdout: IO[str] = sys.stdout,
    seed: int = 2026,
    people: int = DEMO_PEOPLE,
    events: int = DEMO_EVENTS,
    disputes: int = 0,
) -> None:
    """Geography, units and mediation organisations, users, people, then ``events`` historical
    events (pingan.demo.events) and ``disputes`` disputes of the last year with twice as many
    110 dispute calls (pingan.demo.disputes; `pingan demo` asks for DEMO_DISPUTES)."""
    from pingan.demo.disputes import create_mediation_orgs, load_disputes
    from pingan.demo.events import load_events
    from pingan.demo.geography import build_quzhou_rows, load_rows

    started = time.monotonic()
    rng = random.Random(seed)
    rows = build_quzhou_rows(seed=seed)
    with transaction.atomic():
        load_rows(rows)
        stdout.write(f"区划与网格: {len(rows)} 个 ({time.monotonic() - started:.1f}s)\n")
        units = create_units()
        orgs = create_mediation_orgs()
        stdout.write(f"单位: {len(units)} 个 (调解组织 {orgs} 个)\n")
        users = create_users(rng)
        stdout.write(f"用户: {len(users)} 个\n")
    create_people(people, seed)
    stdout.write(f"人员: {people} 人; 用时 {time.monotonic() - started:.1f}s\n")
    if events > 0:
        load_events(events, seed=seed, stdout=stdout)
    if disputes > 0:
        load_disputes(disputes, seed=seed, stdout=stdout)
    if events > 0 or disputes > 0:
        stdout.write(f"演示数据载入完毕, 共用时 {time.monotonic() - started:.1f}s\n")


def _by_level(level: Level) -> list[Jurisdiction]:
    return list(Jurisdiction.objects.filter(level=level).order_by("code"))


def create_units() -> list[Unit]:
    """Departments per county and city, four platforms and a police station per township,
    a people's mediation committee per township and village, city mediation organisations."""
    city = Jurisdiction.objects.get(code=CITY_CODE)
    counties = _by_level(Level.COUNTY)
    units: list[Unit] = [Unit(name="衢州市社会治理中心", kind=UnitKind.CENTRE, jurisdiction=city)]
    units += [Unit(name=f"衢州市{d}", kind=_department_kind(d), jurisdiction=city) for d in DEPARTMENTS]
    units += [Unit(name=name, kind=UnitKind.MEDIATION, jurisdiction=city) for name in CITY_MEDIATION]
    for county in counties:
        units.append(Unit(name=f"{county.name}社会治理中心", kind=UnitKind.CENTRE, jurisdiction=county))
        units += [
            Unit(
                name=f"{county.name}{_county_department(county, d)}",
                kind=_department_kind(d),
                jurisdiction=county,
            )
            for d in DEPARTMENTS
        ]
        units.append(Unit(name=f"{county.name}人民调解委员会", kind=UnitKind.MEDIATION, jurisdiction=county))
    for township in _by_level(Level.TOWNSHIP):
        units += [
            Unit(
                name=f"{township.name}{label}",
                kind=UnitKind.PLATFORM,
                platform=platform,
                jurisdiction=township,
            )
            for platform, label in PLATFORMS
        ]
        units.append(Unit(name=f"{township.name}派出所", kind=UnitKind.POLICE_STATION, jurisdiction=township))
        units.append(
            Unit(name=f"{township.name}人民调解委员会", kind=UnitKind.MEDIATION, jurisdiction=township)
        )
    for village in _by_level(Level.VILLAGE):
        units.append(
            Unit(name=f"{village.name}人民调解委员会", kind=UnitKind.MEDIATION, jurisdiction=village)
        )
    for unit in units:
        unit.area_code = unit.jurisdiction.code
    return Unit.objects.bulk_create(units, batch_size=500)


def _department_kind(name: str) -> UnitKind:
    return UnitKind.COURT if name == "人民法院" else UnitKind.DEPARTMENT


def _county_department(county: Jurisdiction, department: str) -> str:
    # A district (区) has a public-security branch bureau (公安分局), a county its own bureau.
    if department == "公安局" and county.name.endswith("区"):
        return "公安分局"
    return department


def _person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def create_users(rng: random.Random) -> list[User]:
    """Demo users: every role in 柯城区 and 江山市, a dispatcher in every county, city leader and admin."""
    from django.contrib.auth.hashers import make_password

    password_hash = make_password(DEMO_PASSWORD)
    plans = _user_plans()
    users = []
    for username, role, scope, unit, grid in plans:
        user = User(
            username=username,
            password=password_hash,
            role=role,
            unit=unit,
            grid=grid,
            full_name=_person_name(rng),
            is_superuser=username == "admin",
            is_staff=username == "admin",
        )
        users.append((user, scope))
    created = User.objects.bulk_create([u for u, _ in users])
    through = User.scope_jurisdictions.through
    through.objects.bulk_create(
        [
            through(user_id=user.id, jurisdiction_id=scope.id)
            for user, (_, scope) in zip(created, users, strict=True)
        ]
    )
    _grant_reveal(created)
    return created


def _grant_reveal(users: list[User]) -> None:
    """Dispatchers, mediators and supervisors may reveal personal data (each reveal is audited)."""
    from django.contrib.auth.models import Permission

    permission = Permission.objects.get(codename="reveal_person", content_type__app_label="people")
    for user in users:
        if user.role in (Role.DISPATCHER, Role.MEDIATOR, Role.SUPERVISOR):
            user.user_permissions.add(permission)


def _user_plans() -> list[tuple[str, Role, Jurisdiction, Unit | None, Jurisdiction | None]]:
    city = Jurisdiction.objects.get(code=CITY_CODE)
    plans: list[tuple[str, Role, Jurisdiction, Unit | None, Jurisdiction | None]] = [
        ("admin", Role.ADMIN, city, None, None),
        ("city_leader", Role.LEADER, city, Unit.objects.get(name="衢州市社会治理中心"), None),
        ("city_dispatcher", Role.DISPATCHER, city, Unit.objects.get(name="衢州市社会治理中心"), None),
    ]
    plans += [
        (username, Role.MEDIATOR, city, Unit.objects.get(jurisdiction=city, name=name), None)
        for username, name in CITY_MEDIATORS.items()
    ]
    for county in _by_level(Level.COUNTY):
        centre = Unit.objects.get(name=f"{county.name}社会治理中心")
        prefix = DEMO_COUNTIES.get(county.code)
        if prefix is None:
            plans.append((f"dispatcher_{county.code}", Role.DISPATCHER, county, centre, None))
            continue
        # The demo geography gives every demo county townships with grids; an imported one may not.
        township = Jurisdiction.objects.filter(parent=county).order_by("code").first()
        if township is None:
            raise RuntimeError(f"demo users: {county.name} ({county.code}) has no township")
        grids = Jurisdiction.objects.filter(level=Level.GRID, code__under=township.code)
        grid = grids.order_by("code").first()
        if grid is None:
            raise RuntimeError(f"demo users: {township.name} ({township.code}) has no grid")
        platform = Unit.objects.get(jurisdiction=township, platform=Platform.ZONGZHI)
        police = Unit.objects.get(jurisdiction=county, name__endswith=_county_department(county, "公安局"))
        mediation = Unit.objects.get(name=f"{township.name}人民调解委员会")
        plans += [
            (f"{prefix}_grid", Role.GRID_WORKER, grid, platform, grid),
            (f"{prefix}_dispatcher", Role.DISPATCHER, county, centre, None),
            (f"{prefix}_handler", Role.HANDLER, county, police, None),
            (f"{prefix}_mediator", Role.MEDIATOR, township, mediation, None),
            (f"{prefix}_supervisor", Role.SUPERVISOR, county, centre, None),
            (f"{prefix}_leader", Role.LEADER, county, centre, None),
            (f"{prefix}_admin", Role.ADMIN, county, centre, None),
        ]
        plans += _mediator_plans(county, prefix, first=township)
    return plans


def _mediator_plans(
    county: Jurisdiction, prefix: str, first: Jurisdiction
) -> list[tuple[str, Role, Jurisdiction, Unit | None, Jurisdiction | None]]:
    """A mediator for the county's people's mediation committee and for each township's but the
    first (whose mediator is ``<prefix>_mediator``): the demo's disputes have someone to sign."""
    committee = f"{county.name}人民调解委员会"
    plans: list[tuple[str, Role, Jurisdiction, Unit | None, Jurisdiction | None]] = [
        (
            f"{prefix}_county_mediator",
            Role.MEDIATOR,
            county,
            Unit.objects.get(jurisdiction=county, name=committee),
            None,
        )
    ]
    for township in Jurisdiction.objects.filter(parent=county).exclude(pk=first.pk).order_by("code"):
        unit = Unit.objects.get(jurisdiction=township, name=f"{township.name}人民调解委员会")
        plans.append((f"{prefix}_mediator_{township.code[-3:]}", Role.MEDIATOR, township, unit, None))
    return plans


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role label, where) for every demo user, for `pingan demo` to print."""
    rows = []
    for user in User.objects.select_related("unit").prefetch_related("scope_jurisdictions").order_by("id"):
        where = "、".join(j.name for j in user.scope_jurisdictions.all())
        if user.unit:
            where += f" · {user.unit.name}"
        rows.append((user.username, str(user.get_role_display()), where))
    return rows


def create_people(count: int, seed: int) -> None:
    from pingan.people.synthetic import bulk_create_people, fake_people

    villages = _by_level(Level.VILLAGE)
    bulk_create_people(fake_people(count, villages, seed))
