"""Benchmark the indicator queries at 10 million cases on PostgreSQL (roll-ups + the overdue index).

    PINGAN_DATABASE_URL=postgres://postgres@127.0.0.1:5432/pingan_bench_indicators \\
        .venv/bin/python bench/bench_indicators.py [--cases 10000000] [--runs 40]

The database named in PINGAN_DATABASE_URL is DROPPED and re-created (its name must contain
"bench"). The script then

1. migrates and builds a synthetic city: 6 counties × 20 townships × 10 villages × 3 grids,
   one department per county and one platform per township (126 units);
2. generates ``--cases`` closed-loop cases over three years in SQL (generate_series): 99 %
   handled (80 % of them on time) and closed, 1 % parked, 0.05 % open and overdue (a
   backlog of 5,000 at 10 million); each with a category (1–120) in ``data``;
3. fills the roll-up table the way ``rollups.apply`` would (registrations on the
   registration day with no unit; dispatch, handling, closing, rework and evaluation
   counters on their own days for the case's unit), aggregated in SQL per grain;
4. times ``indicators.rows`` (and ``trend``) as a city leader would call them — a year by
   unit, a year by county, a quarter by township, a 45-day range by unit (days + a month),
   one county's month by unit, a month for one category by unit (detail grain), the 12-month
   trend — and prints p50/p95 per query, beside a raw GROUP BY over the case table.

Target (issue 3): p95 < 50 ms at 10 million cases.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bigcity import build_city, generate, setup

# The counters of one grain, as rollups.apply would have written them (each on its own day).
ROLLUP_SQL = """
INSERT INTO cases_caserollup (grain, day, unit_id, area_code, kind, category_id, registered, dispatched,
    handled, handled_on_time, closed, closed_on_time, reworks, reworked, extensions, parked,
    satisfaction_sum, satisfaction_count, satisfied)
SELECT %(grain)s, d, u, a, 'event', cat, SUM(reg), SUM(dis), SUM(han), SUM(hot), SUM(clo), SUM(cot),
    SUM(rw), SUM(rw), SUM(ext), SUM(prk), SUM(ss), SUM(sc), SUM(sat)
FROM (
    SELECT {day}(registered_at) d, 0 u, {area} a, {cat} cat, 1 reg, 0 dis, 0 han, 0 hot, 0 clo, 0 cot,
        0 rw, 0 ext, 0 prk, 0 ss, 0 sc, 0 sat FROM cases_case
    UNION ALL
    SELECT {day}(dispatched_at), unit_id, {area}, {cat}, 0, 1, 0, 0, 0, 0, rework_count, extension_count,
        (status = 'parked')::int, 0, 0, 0 FROM cases_case
    UNION ALL
    SELECT {day}(handled_at), unit_id, {area}, {cat}, 0, 0, 1, (handled_at <= deadline_at)::int, 0, 0, 0, 0, 0,
        0, 0, 0 FROM cases_case WHERE handled_at IS NOT NULL
    UNION ALL
    SELECT {day}(closed_at), unit_id, {area}, {cat}, 0, 0, 0, 0, 1, (handled_at <= deadline_at)::int, 0, 0, 0,
        coalesce(satisfaction, 0), (satisfaction IS NOT NULL)::int, coalesce(satisfaction >= 4, false)::int
    FROM cases_case WHERE closed_at IS NOT NULL
) e
GROUP BY d, u, a, cat
"""


def fill_rollups() -> dict[str, object]:
    """The roll-up rows of every grain from the cases, in SQL; returns seconds and row counts."""
    from django.db import connection

    timings: dict[str, object] = {}
    with connection.cursor() as cur:
        cur.execute("DELETE FROM cases_caserollup")
        t0 = time.perf_counter()
        local = "((%s) AT TIME ZONE 'Asia/Shanghai')::date"
        month = "date_trunc('month', (%s) AT TIME ZONE 'Asia/Shanghai')::date"
        grains = (
            ("detail", local, "area_code", "(data->>'category_id')::int"),
            ("day", local, "left(area_code, 9)", "0"),
            ("month", month, "left(area_code, 9)", "0"),
        )
        for grain, day, area, cat in grains:
            sql = ROLLUP_SQL.replace("{area}", area).replace("{cat}", cat)
            sql = sql.replace("{day}(registered_at)", day % "registered_at")
            for column in ("dispatched_at", "handled_at", "closed_at"):
                sql = sql.replace(f"{{day}}({column})", day % column)
            cur.execute(sql, {"grain": grain})
        timings["rollups_s"] = time.perf_counter() - t0
        cur.execute("VACUUM ANALYZE")
        cur.execute("SELECT grain, count(*) FROM cases_caserollup GROUP BY grain ORDER BY grain")
        timings["rows"] = dict(cur.fetchall())
    return timings


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def measure(runs: int) -> list[tuple[str, float, float]]:
    from django.db import connection

    from pingan.accounts.models import User
    from pingan.cases import indicators
    from pingan.cases.indicators import Filters, Period

    leader = User.objects.get(username="bench_leader")
    now = datetime.fromisoformat("2026-12-01T00:00:00+08:00")
    queries = {
        "year 2025 by unit (126 rows)": lambda: indicators.rows(leader, Filters(Period.year(2025)), now=now),
        "year 2025 by county": lambda: indicators.rows(
            leader, Filters(Period.year(2025), group="area", level="county"), now=now
        ),
        "Q3 2025 by township (120 rows)": lambda: indicators.rows(
            leader, Filters(Period.quarter(2025, 3), group="area", level="township"), now=now
        ),
        "2025-05-17..06-30 by unit (days + month)": lambda: indicators.rows(
            leader, Filters(Period(date(2025, 5, 17), date(2025, 6, 30))), now=now
        ),
        "one county, 2025-06, by unit": lambda: indicators.rows(
            leader, Filters(Period.month(2025, 6), area="330803"), now=now
        ),
        "2025-06, one category, by unit (detail)": lambda: indicators.rows(
            leader, Filters(Period.month(2025, 6), category=7), now=now
        ),
        "12-month trend": lambda: indicators.trend(leader, Filters(Period.month(2025, 12)), now=now),
    }
    out = []
    for name, run in queries.items():
        run()  # warm
        timings = []
        for _ in range(runs):
            leader._pingan_scope_prefixes = None  # a fresh request: the scope is read again
            t0 = time.perf_counter()
            run()
            timings.append((time.perf_counter() - t0) * 1000)
        out.append((name, statistics.median(timings), percentile(timings, 0.95)))
    with connection.cursor() as cur:
        timings = []
        for _ in range(3):
            t0 = time.perf_counter()
            cur.execute(
                "SELECT unit_id, count(*), count(handled_at), count(closed_at) FROM cases_case "
                "WHERE registered_at >= '2025-01-01' AND registered_at < '2026-01-01' GROUP BY unit_id"
            )
            cur.fetchall()
            timings.append((time.perf_counter() - t0) * 1000)
        out.append(("(raw GROUP BY over the case table, a year)", statistics.median(timings), max(timings)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database and its cases from an earlier run (roll-ups redone)",
    )
    parser.add_argument(
        "--measure-only", action="store_true", help="keep cases and roll-ups; only time the queries"
    )
    args = parser.parse_args()
    url = os.environ.get("PINGAN_DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("set PINGAN_DATABASE_URL to a PostgreSQL database whose name contains 'bench'")
    setup(url, drop=not (args.reuse or args.measure_only))
    if not (args.reuse or args.measure_only):
        _units, platforms = build_city()
        print(f"cases: {args.cases:,} in {generate(args.cases, platforms):.0f} s")
    if not args.measure_only:
        generated = fill_rollups()
        print(f"roll-ups in {generated['rollups_s']:.0f} s")
        print("roll-up rows: " + ", ".join(f"{g} {n:,}" for g, n in generated["rows"].items()))
    print(f"{'query':48} {'p50 ms':>8} {'p95 ms':>8}")
    for name, p50, p95 in measure(args.runs):
        print(f"{name:48} {p50:8.1f} {p95:8.1f}")


if __name__ == "__main__":
    main()
