"""A synthetic city with 10 million cases on PostgreSQL, shared by the benchmarks in bench/.

    PINGAN_DATABASE_URL=postgres://postgres@127.0.0.1:5432/pingan_bench_big \\
        .venv/bin/python bench/bigcity.py [--cases 10000000]

builds the database the list and sweep benchmarks measure (bench_lists.py, bench_sweep.py);
the database named in PINGAN_DATABASE_URL is DROPPED and re-created (its name must contain
"bench"). Steps, each in SQL (generate_series, INSERT … SELECT, UPDATE … FROM):

1. ``build_city``: 6 counties × 20 townships × 10 villages, one department per county and one
   platform per township (126 units), a city leader (bench_leader);
2. ``generate``: the closed-loop cases over three years (99 % closed, 1 % parked, 0.05 % open
   and long overdue), each with a category (1–120) in ``data``;
3. ``add_events``: an Event row per case (the default catalogue's 小类), so that the desk's
   category filter and the list's 事件类型 column read real rows;
4. ``add_backlog``: the open backlog (待办) — the cases of the last 22 days up to ``now`` get
   new times and about 0.5 % of all cases stay open, the younger the likelier:
   registered/returned/reported for the desk, dispatched/handling for the units, with
   deadlines of 3–15 days so that some are past 预警, some overdue, some past 红牌; every due
   card is raised (``supervision``), as if the sweep had run at ``now``;
5. ``add_users``: the people who open the lists, scoped like the demo's (pingan.demo.loader):
   a county dispatcher (county scope, the county's 社会治理中心), a county supervisor, the
   city leader (city scope, the city's 社会治理中心), a handler of one busy township platform
   (county scope + the platform) and a grid worker (one grid); a fifth of the county's open
   unit cases go to the busy platform; and a dispatcher of the last county (330807), whose
   codes sort after every other county's;
6. ``add_steps``: their step log, so that 已办 (``done_q``) has real work: the grid worker
   registered 5,000 cases (moved into the grid), the handler accepted and reported on 50,000
   of the platform's cases, the dispatcher dispatched and closed 200,000 of the county's.
   No step log for the other cases (10 million timelines are not needed by any list).

bench_indicators.py uses steps 1–2 (plus its roll-ups).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
START = date(2023, 12, 1)
DAYS = 3 * 365
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pingan_bench_big"

# The people of the lists (usernames), and the places they work in.
FAR_DISPATCHER = "bench_dispatcher_far"  # a dispatcher of the last county: its codes sort last
FAR_COUNTY = "330807"
DISPATCHER, SUPERVISOR, LEADER, HANDLER, GRID_WORKER = (
    "bench_dispatcher",
    "bench_supervisor",
    "bench_leader",
    "bench_handler",
    "bench_grid",
)
COUNTY = "330802"  # 县0: the dispatcher's, supervisor's and handler's county
BUSY_TOWNSHIP = "330802001"  # 县0镇0: its platform is the handler's (busy) unit
GRID_VILLAGE = "330802001001"
GRID = "330802001001001"
BACKLOG_DAYS = 22
BACKLOG_WINDOW = 0.02  # share of all cases in the last BACKLOG_DAYS (about a quarter stay open)
GRID_CASES, HANDLER_CASES, DISPATCHER_CASES = 5_000, 50_000, 200_000


def database_url() -> str:
    url = os.environ.get("PINGAN_DATABASE_URL") or DEFAULT_URL
    if not url.startswith("postgres"):
        raise SystemExit("set PINGAN_DATABASE_URL to a PostgreSQL database whose name contains 'bench'")
    return url


def setup(url: str, drop: bool = True) -> None:
    """Django against ``url`` (dropped and re-created when ``drop``), migrated."""
    import psycopg

    name = urlparse(url).path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing to use {name!r}: the database name must contain 'bench'")
    if drop:
        admin = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["PINGAN_DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "pingan.settings"
    os.environ.setdefault("PINGAN_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_city() -> tuple[list[int], dict[str, int]]:
    """Jurisdictions and units; returns unit ids and {township code: platform id}."""
    from pingan.accounts.choices import Role, UnitKind
    from pingan.accounts.models import Unit, User
    from pingan.geo.choices import Level
    from pingan.geo.models import Jurisdiction

    city = Jurisdiction.objects.create(code="330800", name="衢州市", level=Level.CITY)
    units, platforms = [], {}
    for c in range(6):
        county = Jurisdiction.objects.create(
            code=f"3308{c + 2:02d}", name=f"县{c}", level=Level.COUNTY, parent=city
        )
        units.append(
            Unit.objects.create(name=f"县{c}综合行政执法局", kind=UnitKind.DEPARTMENT, jurisdiction=county).pk
        )
        for t in range(20):
            township = Jurisdiction.objects.create(
                code=f"{county.code}{t + 1:03d}", name=f"县{c}镇{t}", level=Level.TOWNSHIP, parent=county
            )
            unit = Unit.objects.create(
                name=f"县{c}镇{t}综治工作平台", kind=UnitKind.PLATFORM, jurisdiction=township
            )
            units.append(unit.pk)
            platforms[township.code] = unit.pk
            villages = [
                Jurisdiction(
                    code=f"{township.code}{v + 1:03d}", name=f"村{v}", level=Level.VILLAGE, parent=township
                )
                for v in range(10)
            ]
            Jurisdiction.objects.bulk_create(villages)
    leader = User.objects.create_user(username=LEADER, password="x", role=Role.LEADER)
    leader.scope_jurisdictions.add(city)
    return units, platforms


CASES_SQL = """
INSERT INTO cases_case (uuid, number, kind, title, description, channel, status, version, jurisdiction_id,
    area_code, address, tier, unit_id, deadline_unit, deadline_amount, registered_at, dispatched_at, deadline_at,
    warn_at, red_at, handled_at, closed_at, supervision, extension_count, extension_pending, rework_count,
    return_count, satisfaction, data)
SELECT md5(g::text)::uuid, 'B' || g, 'event', '', '', 'grid', s.status, 3, %(village)s,
    s.area, '', 2, s.unit, 'working_days', 5, s.reg, s.reg + interval '1 hour', s.reg + interval '5 days',
    s.reg + interval '4 days', s.reg + interval '7 days',
    CASE WHEN s.status IN ('closed', 'reported') THEN s.reg + (CASE WHEN s.r < 0.80 THEN interval '2 days'
         ELSE interval '6 days' END) END,
    CASE WHEN s.status = 'closed' THEN s.reg + interval '7 days' END,
    0, (s.r2 < 0.03)::int, false, (s.r2 < 0.05)::int, 0, CASE WHEN s.r2 < 0.6 THEN 3 + (s.r2 * 10)::int %% 3 END,
    jsonb_build_object('category_id', 1 + ((g / 3) %% 120))
FROM generate_series(1, %(n)s) g
CROSS JOIN LATERAL (
    SELECT r, r2, reg, area, unit,
        CASE WHEN r < 0.96 THEN 'closed' WHEN r < 0.97 THEN 'parked' WHEN r < 0.9705 THEN 'handling'
            ELSE 'closed' END AS status
    FROM (
        SELECT random() AS r, random() AS r2,
            %(start)s::timestamptz + (%(days)s * (g::float / %(n)s)) * interval '1 day' AS reg,
            tw.code || lpad((1 + ((g / 7) %% 10))::text, 3, '0') AS area, tw.unit AS unit
        FROM (SELECT code, unit FROM bench_townships WHERE idx = g %% %(townships)s) tw
    ) x
) s
"""


def generate(n: int, platforms: dict[str, int]) -> float:
    """The cases, in one INSERT … SELECT; returns seconds."""
    from django.db import connection

    from pingan.geo.models import Jurisdiction

    village = Jurisdiction.objects.filter(level="village").values_list("pk", flat=True).first()
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE bench_townships (idx int PRIMARY KEY, code text, unit int)")
        for i, (code, unit) in enumerate(sorted(platforms.items())):
            cur.execute("INSERT INTO bench_townships VALUES (%s, %s, %s)", [i, code, unit])
        cur.execute("ANALYZE bench_townships")
        t0 = time.perf_counter()
        cur.execute(
            CASES_SQL,
            {"village": village, "n": n, "start": datetime.combine(START, datetime.min.time()).isoformat() + "+08",
             "days": DAYS, "townships": len(platforms)},
        )  # fmt: skip
        return time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------
# What the lists need besides: events, an open backlog, users and their step log


EVENTS_SQL = """
INSERT INTO events_event (case_id, category_id, channel_ref, on_spot)
SELECT id, (%(leaves)s::bigint[])[1 + ((data->>'category_id')::int %% %(count)s)], '', false FROM cases_case
"""


def add_events() -> int:
    """One Event per case, its 小类 from the default catalogue by the case's category number."""
    from django.db import connection

    from pingan.events.catalogue import load_default_catalogue
    from pingan.events.models import Category

    load_default_catalogue()
    leaves = list(Category.objects.filter(parent__isnull=False).order_by("code").values_list("pk", flat=True))
    with connection.cursor() as cur:
        cur.execute(EVENTS_SQL, {"leaves": leaves, "count": len(leaves)})
        return cur.rowcount


# The window: the cases of the last BACKLOG_DAYS, re-timed to end at ``now``; ``open`` with a
# probability falling with age (0.9·e^(−age/6): a quarter of the window on average).
WINDOW_SQL = """
CREATE TEMP TABLE bench_window AS
SELECT id, reg, r, r2, r3, r4, area_code,
    r < 0.9 * exp(-extract(epoch FROM %(now)s::timestamptz - reg) / 86400 / 6) AS open,
    extract(epoch FROM %(now)s::timestamptz - reg) / 86400 AS age
FROM (
    SELECT id, area_code, random() r, random() r2, random() r3, random() r4,
        %(now)s::timestamptz - ((%(maxid)s - id) + random()) * (%(days)s * interval '1 day' / %(width)s) AS reg
    FROM cases_case WHERE id > %(maxid)s - %(width)s
) x
"""

CLOSED_SQL = """
UPDATE cases_case c SET status = 'closed', registered_at = w.reg, dispatched_at = w.reg + interval '1 hour',
    deadline_at = w.reg + interval '5 days', warn_at = w.reg + interval '4 days', red_at = w.reg + interval '7 days',
    handled_at = w.reg + least(interval '2 days', (%(now)s::timestamptz - w.reg) * 0.5),
    closed_at = w.reg + least(interval '3 days', (%(now)s::timestamptz - w.reg) * 0.8), supervision = 0
FROM bench_window w WHERE c.id = w.id AND NOT w.open
"""

# Open: new ones are mostly waiting for dispatch or just dispatched; older ones are being
# handled, reported (待核查) or were returned (退回). Deadlines of 3, 5, 10 or 15 days.
OPEN_SQL = """
CREATE TEMP TABLE bench_open AS
SELECT id, reg, status, dispatched, amount, area_code, r4,
    dispatched + amount * interval '1 day' AS deadline,
    dispatched + amount * 0.8 * interval '1 day' AS warn,
    dispatched + amount * 1.5 * interval '1 day' AS red,
    CASE WHEN status = 'reported' THEN dispatched + (%(now)s::timestamptz - dispatched) * r3 END AS handled
FROM (
    SELECT id, reg, r3, r4, area_code, status, (ARRAY[3, 5, 10, 15])[1 + floor(r3 * 4)::int] AS amount,
        CASE WHEN status IN ('registered', 'returned') THEN NULL
             ELSE reg + least(interval '1 hour', (%(now)s::timestamptz - reg) / 2) END AS dispatched
    FROM (
        SELECT *, CASE
            WHEN age < 0.25 THEN CASE WHEN r2 < 0.5 THEN 'registered' WHEN r2 < 0.85 THEN 'dispatched'
                ELSE 'handling' END
            ELSE CASE WHEN r2 < 0.05 THEN 'registered' WHEN r2 < 0.09 THEN 'returned'
                WHEN r2 < 0.22 THEN 'reported' WHEN r2 < 0.32 THEN 'dispatched' ELSE 'handling' END
            END AS status
        FROM bench_window WHERE open
    ) s
) t
"""

OPEN_UPDATE_SQL = """
UPDATE cases_case c SET status = o.status, registered_at = o.reg, dispatched_at = o.dispatched,
    deadline_unit = 'calendar_days', deadline_amount = o.amount,
    deadline_at = CASE WHEN o.dispatched IS NOT NULL THEN o.deadline END,
    warn_at = CASE WHEN o.dispatched IS NOT NULL THEN o.warn END,
    red_at = CASE WHEN o.dispatched IS NOT NULL THEN o.red END,
    handled_at = o.handled, closed_at = NULL, satisfaction = NULL, extension_count = 0,
    return_count = (o.status = 'returned')::int,
    unit_id = CASE WHEN o.dispatched IS NULL THEN NULL
        WHEN o.area_code LIKE %(county)s AND o.r4 < 0.2 THEN %(busy)s ELSE c.unit_id END,
    supervision = CASE WHEN o.dispatched IS NULL THEN 0
        WHEN o.red <= coalesce(o.handled, %(now)s) THEN 4 WHEN o.deadline <= coalesce(o.handled, %(now)s) THEN 3
        WHEN o.warn <= coalesce(o.handled, %(now)s) THEN 1 ELSE 0 END
FROM bench_open o WHERE c.id = o.id
"""

# The sweep's state at ``now`` for every running clock (the generator's old open cases too).
CARDS_SQL = """
UPDATE cases_case SET supervision = CASE WHEN red_at <= %(now)s THEN 4 WHEN deadline_at <= %(now)s THEN 3
    ELSE 1 END
WHERE status IN ('dispatched', 'handling') AND warn_at <= %(now)s AND supervision < CASE
    WHEN red_at <= %(now)s THEN 4 WHEN deadline_at <= %(now)s THEN 3 ELSE 1 END
"""


def add_backlog(now: datetime, busy_unit: int) -> dict[str, int]:
    """Re-time the last BACKLOG_DAYS to end at ``now`` and leave ~0.5 % of all cases open."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT max(id), count(*) FROM cases_case")
        maxid, n = cur.fetchone()
        width = max(1, round(n * BACKLOG_WINDOW))
        params = {"now": now, "maxid": maxid, "width": width, "days": BACKLOG_DAYS}
        cur.execute(WINDOW_SQL, params)
        cur.execute(CLOSED_SQL, params)
        cur.execute(OPEN_SQL, params)
        cur.execute(OPEN_UPDATE_SQL, {"now": now, "county": COUNTY + "%", "busy": busy_unit})
        cur.execute(CARDS_SQL, {"now": now})
        cur.execute("DROP TABLE bench_window, bench_open")
    return backlog_summary(now)


def backlog_summary(now: datetime) -> dict[str, int]:
    """Open cases by status, and the running clocks past 预警, overdue and past 红牌 at ``now``."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT status, count(*) FROM cases_case WHERE status IN "
            "('registered', 'returned', 'reported', 'dispatched', 'handling') GROUP BY status"
        )
        found = dict(cur.fetchall())
        cur.execute(
            "SELECT count(*) FILTER (WHERE warn_at <= %(now)s AND deadline_at > %(now)s), "
            "count(*) FILTER (WHERE deadline_at <= %(now)s AND red_at > %(now)s), "
            "count(*) FILTER (WHERE red_at <= %(now)s) "
            "FROM cases_case WHERE status IN ('dispatched', 'handling')",
            {"now": now},
        )
        found["past_warn"], found["overdue"], found["past_red"] = cur.fetchone()
    return found


def add_users() -> dict[str, int]:
    """The list users (usernames above), scoped like the demo's; returns {username: id}."""
    from pingan.accounts.choices import Role, UnitKind
    from pingan.accounts.models import Unit, User
    from pingan.geo.choices import Level
    from pingan.geo.models import Jurisdiction

    county = Jurisdiction.objects.get(code=COUNTY)
    village = Jurisdiction.objects.get(code=GRID_VILLAGE)
    grid = Jurisdiction.objects.create(code=GRID, name="村0第1网格", level=Level.GRID, parent=village)
    centre = Unit.objects.create(name=f"{county.name}社会治理中心", kind=UnitKind.CENTRE, jurisdiction=county)
    platform = Unit.objects.get(jurisdiction__code=BUSY_TOWNSHIP, kind=UnitKind.PLATFORM)
    plans = (
        (DISPATCHER, Role.DISPATCHER, county, centre, None),
        (SUPERVISOR, Role.SUPERVISOR, county, centre, None),
        (HANDLER, Role.HANDLER, county, platform, None),
        (GRID_WORKER, Role.GRID_WORKER, grid, platform, grid),
    )
    # The city leader works in the city's 社会治理中心, like the demo's city_leader.
    city = Jurisdiction.objects.get(level=Level.CITY)
    city_centre = Unit.objects.create(name="衢州市社会治理中心", kind=UnitKind.CENTRE, jurisdiction=city)
    leader = User.objects.get(username=LEADER)
    leader.unit = city_centre
    leader.save(update_fields=["unit"])
    ids = {LEADER: leader.pk}
    for username, role, scope, unit, own_grid in plans:
        user = User.objects.create_user(username=username, password="x", role=role, unit=unit, grid=own_grid)
        user.scope_jurisdictions.add(scope)
        ids[username] = user.pk
    return ids


def add_far_dispatcher() -> int:
    """A dispatcher of the county whose codes sort last (an index walked in code order from the
    start meets every other county's rows first); returns the user's id."""
    from pingan.accounts.choices import Role, UnitKind
    from pingan.accounts.models import Unit, User
    from pingan.geo.models import Jurisdiction

    county = Jurisdiction.objects.get(code=FAR_COUNTY)
    centre = Unit.objects.create(name=f"{county.name}社会治理中心", kind=UnitKind.CENTRE, jurisdiction=county)
    user = User.objects.create_user(username=FAR_DISPATCHER, password="x", role=Role.DISPATCHER, unit=centre)
    user.scope_jurisdictions.add(county)
    return user.pk


def busy_unit_id() -> int:
    from pingan.accounts.choices import UnitKind
    from pingan.accounts.models import Unit

    return Unit.objects.get(jurisdiction__code=BUSY_TOWNSHIP, kind=UnitKind.PLATFORM).pk


STEP_COLUMNS = "case_id, action, from_status, to_status, at, actor_id, unit_id, note, data"

# The grid worker's cases: the newest of one village, moved into the grid.
GRID_SQL = """
WITH moved AS (
    UPDATE cases_case SET area_code = %(grid_code)s, jurisdiction_id = %(grid)s
    WHERE id IN (SELECT id FROM cases_case WHERE area_code = %(village)s ORDER BY id DESC LIMIT %(n)s)
    RETURNING id, registered_at, unit_id
)
INSERT INTO cases_step ({columns})
SELECT id, 'register', '', 'registered', registered_at, %(actor)s, %(unit)s, '', '{{}}'::jsonb FROM moved
"""

# The handler accepted (签收) and reported on (处置反馈) a share of the platform's cases.
HANDLER_SQL = """
WITH chosen AS (
    SELECT id, dispatched_at, handled_at FROM cases_case
    WHERE unit_id = %(unit)s AND status IN ('handling', 'reported', 'closed', 'parked')
        AND random() < %(share)s
)
INSERT INTO cases_step ({columns})
SELECT id, 'accept', 'dispatched', 'handling', dispatched_at + interval '30 minutes', %(actor)s, %(unit)s, '', '{{}}'::jsonb
FROM chosen
UNION ALL
SELECT id, 'report', 'handling', 'reported', handled_at, %(actor)s, %(unit)s, '', '{{}}'::jsonb
FROM chosen WHERE handled_at IS NOT NULL
"""

# The dispatcher dispatched (派遣) and closed (结案) a share of the county's cases.
DISPATCHER_SQL = """
WITH chosen AS (
    SELECT id, dispatched_at, closed_at, unit_id FROM cases_case
    WHERE area_code LIKE %(county)s AND dispatched_at IS NOT NULL AND random() < %(share)s
)
INSERT INTO cases_step ({columns})
SELECT id, 'dispatch', 'registered', 'dispatched', dispatched_at, %(actor)s, unit_id, '', '{{}}'::jsonb FROM chosen
UNION ALL
SELECT id, 'close', 'reported', 'closed', closed_at, %(actor)s, NULL, '', '{{}}'::jsonb
FROM chosen WHERE closed_at IS NOT NULL
"""


def add_steps(users: dict[str, int]) -> dict[str, int]:
    """The list users' step log; returns {username: cases they took a step on}."""
    from django.db import connection

    from pingan.geo.models import Jurisdiction

    busy = busy_unit_id()
    grid = Jurisdiction.objects.get(code=GRID).pk
    with connection.cursor() as cur:
        cur.execute(
            GRID_SQL.format(columns=STEP_COLUMNS),
            {"grid_code": GRID, "grid": grid, "village": GRID_VILLAGE, "n": GRID_CASES,
             "actor": users[GRID_WORKER], "unit": busy},
        )  # fmt: skip
        cur.execute("SELECT count(*) FROM cases_case WHERE unit_id = %s", [busy])
        share = HANDLER_CASES / max(1, cur.fetchone()[0])
        cur.execute(
            HANDLER_SQL.format(columns=STEP_COLUMNS), {"unit": busy, "share": share, "actor": users[HANDLER]}
        )
        cur.execute("SELECT count(*) FROM cases_case WHERE area_code LIKE %s", [COUNTY + "%"])
        share = DISPATCHER_CASES / max(1, cur.fetchone()[0])
        cur.execute(
            DISPATCHER_SQL.format(columns=STEP_COLUMNS),
            {"county": COUNTY + "%", "share": share, "actor": users[DISPATCHER]},
        )
        cur.execute("SELECT actor_id, count(DISTINCT case_id) FROM cases_step GROUP BY actor_id")
        by_id = dict(cur.fetchall())
    return {name: by_id.get(pk, 0) for name, pk in users.items()}


def _exists(sql: str) -> bool:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"SELECT EXISTS ({sql})")
        return bool(cur.fetchone()[0])


def _platforms() -> dict[str, int]:
    from pingan.accounts.choices import UnitKind
    from pingan.accounts.models import Unit

    found = Unit.objects.filter(kind=UnitKind.PLATFORM).values_list("jurisdiction__code", "pk")
    return dict(found)


def build(n: int, now: datetime, log=print) -> None:
    """Steps 1–6 of the module docstring, then VACUUM ANALYZE. A step already done (an
    interrupted build) is skipped: each leaves a mark (rows, an open 'registered' case, a user)."""
    from django.db import connection

    t0 = time.perf_counter()
    if not _exists("SELECT 1 FROM geo_jurisdiction"):
        build_city()
    if not _exists("SELECT 1 FROM cases_case"):
        log(f"cases: {n:,} in {generate(n, _platforms()):.0f} s")
    t = time.perf_counter()
    if not _exists("SELECT 1 FROM events_event"):
        log(f"events: {add_events():,} in {time.perf_counter() - t:.0f} s")
    t = time.perf_counter()
    if not _exists("SELECT 1 FROM cases_case WHERE status = 'registered'"):
        backlog = add_backlog(now, busy_unit_id())
        log(f"backlog at {now.isoformat()} in {time.perf_counter() - t:.0f} s: {backlog}")
    t = time.perf_counter()
    if not _exists(f"SELECT 1 FROM accounts_user WHERE username = '{DISPATCHER}'"):
        done = add_steps(add_users())
        log(f"users and steps in {time.perf_counter() - t:.0f} s; cases with a step of: {done}")
    if not _exists(f"SELECT 1 FROM accounts_user WHERE username = '{FAR_DISPATCHER}'"):
        add_far_dispatcher()
    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    log(f"VACUUM ANALYZE in {time.perf_counter() - t:.0f} s; built in {time.perf_counter() - t0:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=10_000_000)
    parser.add_argument(
        "--resume", action="store_true", help="finish an interrupted build (keep the database and its rows)"
    )
    args = parser.parse_args()
    setup(database_url(), drop=not args.resume)
    from django.utils import timezone

    build(args.cases, timezone.now(), log=lambda text: print(text, flush=True))


if __name__ == "__main__":
    main()
