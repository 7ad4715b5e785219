"""Benchmark the work lists at 10 million cases on PostgreSQL: the dispatch desk, my work, the case API.

    PINGAN_DATABASE_URL=postgres://postgres@127.0.0.1:5432/pingan_bench_big \\
        .venv/bin/python bench/bench_lists.py --reuse [--runs 50] [--only desk] [--explain-all]

Without ``--reuse`` the database (name must contain "bench"; default pingan_bench_big) is
DROPPED and built by bench/bigcity.py (``--cases``, 10 million by default: 30–60 minutes).

Each list is requested through Django's test Client, signed in as one of bigcity's users
(a county dispatcher, the city leader, a handler of a busy platform, a grid worker), against
the real views and APIs: middleware, session, scope, queries, template. After ``--warmup``
requests, ``--runs`` are timed (p50/p95/max, ms). One more request runs under
CaptureQueriesContext: its query count, total SQL time and slowest query are reported, and
the slowest query is EXPLAIN (ANALYZE, BUFFERS)-ed for every list at or over the target (all
lists with ``--explain-all``).

Target (issue 3): p95 < 50 ms at 10 million cases.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bigcity

TARGET_MS = 50.0
SLOW_MS = 1000.0  # a list slower than this on warm-up is timed with --slow-runs only


@dataclass(frozen=True)
class Scenario:
    name: str
    username: str
    url: str


def scenarios(category: str) -> list[Scenario]:
    """What the dispatchers, the city leader, a handler and a grid worker open in a working day."""
    d, lead, h, g = bigcity.DISPATCHER, bigcity.LEADER, bigcity.HANDLER, bigcity.GRID_WORKER
    far = bigcity.FAR_DISPATCHER
    township = bigcity.BUSY_TOWNSHIP
    return [
        Scenario("desk 待办 (default), county dispatcher", d, "/cases/desk/"),
        Scenario("desk 全部 (tab=all)", d, "/cases/desk/?tab=all"),
        Scenario("desk 已结案 (tab=closed)", d, "/cases/desk/?tab=closed"),
        Scenario("desk 在办 + 已超期 (tab=open&overdue=yes)", d, "/cases/desk/?tab=open&overdue=yes"),
        Scenario("desk 全部, one township (area=)", d, f"/cases/desk/?tab=all&area={township}"),
        Scenario("desk 全部, one 大类 (category=)", d, f"/cases/desk/?tab=all&category={category}"),
        Scenario("desk 全部, page 2", d, "/cases/desk/?tab=all&page=2"),
        Scenario("desk 全部, page 100", d, "/cases/desk/?tab=all&page=100"),
        Scenario("desk 全部, by deadline (sort=deadline_at)", d, "/cases/desk/?tab=all&sort=deadline_at"),
        Scenario("desk 待办, dispatcher of the last county", far, "/cases/desk/"),
        Scenario("desk 已结案, dispatcher of the last county", far, "/cases/desk/?tab=closed"),
        Scenario("desk 待办, city leader", lead, "/cases/desk/"),
        Scenario("desk 全部, city leader", lead, "/cases/desk/?tab=all"),
        Scenario("desk 在办 + 已超期, city leader", lead, "/cases/desk/?tab=open&overdue=yes"),
        Scenario("mine 待办, handler (busy platform)", h, "/cases/mine/?tab=todo"),
        Scenario("mine 已办, handler", h, "/cases/mine/?tab=done"),
        Scenario("mine 待办, county dispatcher", d, "/cases/mine/?tab=todo"),
        Scenario("mine 已办, county dispatcher", d, "/cases/mine/?tab=done"),
        Scenario("mine 已办 (default), grid worker", g, "/cases/mine/"),
        Scenario("API list, dispatcher", d, "/api/cases/"),
        Scenario("API list mine=todo, dispatcher", d, "/api/cases/?mine=todo"),
        Scenario("API list mine=done, dispatcher", d, "/api/cases/?mine=done"),
        Scenario("API list mine=todo by deadline, handler", h, "/api/cases/?mine=todo&ordering=deadline_at"),
        Scenario("API list status=closed, city leader", lead, "/api/cases/?status=closed"),
        Scenario("API counts, dispatcher", d, "/api/cases/counts"),
        Scenario("API counts, dispatcher of the last county", far, "/api/cases/counts"),
        Scenario("API counts, city leader", lead, "/api/cases/counts"),
        Scenario("API counts overdue=true, city leader", lead, "/api/cases/counts?overdue=true"),
        Scenario("API counts mine=todo, handler", h, "/api/cases/counts?mine=todo"),
    ]


@dataclass
class Result:
    scenario: Scenario
    p50: float
    p95: float
    worst: float
    runs: int
    queries: int
    sql_ms: float
    slowest_ms: float
    slowest_sql: str


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def _get(client, url: str) -> float:
    t0 = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - t0) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    return elapsed


def measure(scenario: Scenario, client, runs: int, warmup: int, slow_runs: int) -> Result:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    warm = [_get(client, scenario.url) for _ in range(warmup)]
    if warm and min(warm) > SLOW_MS:
        runs = slow_runs
    timings = [_get(client, scenario.url) for _ in range(runs)]
    with CaptureQueriesContext(connection) as captured:
        _get(client, scenario.url)
    queries = [(float(q["time"]) * 1000, q["sql"]) for q in captured.captured_queries]
    slowest = max(queries, default=(0.0, ""))
    return Result(
        scenario,
        statistics.median(timings),
        percentile(timings, 0.95),
        max(timings),
        runs,
        len(queries),
        sum(ms for ms, _sql in queries),
        slowest[0],
        slowest[1],
    )


def explain(sql: str) -> str:
    """The plan of one captured query, run again with EXPLAIN (ANALYZE, BUFFERS)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cur.fetchall())


def clients() -> dict[str, Any]:
    """A signed-in test Client per bigcity user (a real session in the database)."""
    from django.test import Client

    from pingan.accounts.models import User

    found: dict[str, Any] = {}
    names = (bigcity.DISPATCHER, bigcity.FAR_DISPATCHER, bigcity.LEADER, bigcity.HANDLER, bigcity.GRID_WORKER)
    for username in names:
        client = Client()
        client.force_login(User.objects.get(username=username))
        found[username] = client
    return found


def big_category() -> str:
    """The code of the 大类 with the most 小类 (so the most events)."""
    from django.db.models import Count

    from pingan.events.models import Category

    top = (
        Category.objects.filter(parent__isnull=True)
        .annotate(n=Count("children"))
        .order_by("-n", "code")
        .values_list("code", flat=True)
        .first()
    )
    if top is None:
        raise SystemExit("no event categories: build the database with bench/bigcity.py")
    return top


def report(results: list[Result], explain_all: bool) -> None:
    print(
        f"{'list':52} {'runs':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'SQL':>4} {'SQL ms':>7} {'slowest':>8}"
    )
    for r in results:
        mark = "" if r.p95 < TARGET_MS else "  <-- over target"
        print(
            f"{r.scenario.name:52} {r.runs:4d} {r.p50:8.1f} {r.p95:8.1f} {r.worst:8.1f} {r.queries:4d} "
            f"{r.sql_ms:7.1f} {r.slowest_ms:8.1f}{mark}"
        )
    for r in results:
        if not (explain_all or r.p95 >= TARGET_MS) or not r.slowest_sql:
            continue
        print(f"\n### {r.scenario.name} ({r.scenario.username} GET {r.scenario.url})")
        print(f"slowest query ({r.slowest_ms:.1f} ms of {r.sql_ms:.1f} ms SQL, {r.queries} queries):")
        print(r.slowest_sql)
        print(explain(r.slowest_sql))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reuse", action="store_true", help="measure the database already built")
    parser.add_argument("--cases", type=int, default=10_000_000, help="cases to build (without --reuse)")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--slow-runs", type=int, default=5, help=f"runs of a list slower than {SLOW_MS:.0f} ms"
    )
    parser.add_argument("--only", default="", help="only the lists whose name contains this")
    parser.add_argument("--explain-all", action="store_true", help="EXPLAIN the slowest query of every list")
    args = parser.parse_args()
    bigcity.setup(bigcity.database_url(), drop=not args.reuse)
    if not args.reuse:
        from django.utils import timezone

        bigcity.build(args.cases, timezone.now())
    signed_in = clients()
    chosen = [s for s in scenarios(big_category()) if args.only in s.name]
    results = [measure(s, signed_in[s.username], args.runs, args.warmup, args.slow_runs) for s in chosen]
    report(results, args.explain_all)


if __name__ == "__main__":
    main()
