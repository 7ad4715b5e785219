"""Benchmark the deadline sweep (pingan.cases.sweep) over 10 million cases on PostgreSQL.

    PINGAN_DATABASE_URL=postgres://postgres@127.0.0.1:5432/pingan_bench_big \\
        .venv/bin/python bench/bench_sweep.py --reuse [--runs 20] [--due 1000,10000]

Without ``--reuse`` the database (name must contain "bench"; default pingan_bench_big) is
DROPPED and built by bench/bigcity.py first (``--cases``).

(a) Steady state, the common case (the sweep runs every minute): one catch-up sweep raises
    what fell due since the database was built (reported), then ``--runs`` sweeps at the
    same moment are timed; each must raise nothing. The plan of each stage's "due" query is
    EXPLAIN (ANALYZE, BUFFERS)-ed.
(b) K cases newly due at once, for each K of ``--due``: K running clocks (a third each) are
    made due for 预警, 黄牌 and 红牌 one minute ago; one sweep is timed (seconds, cards
    raised — each case exactly one), then a second sweep right after must raise nothing.
    Afterwards the cases, steps, notifications and today's roll-up rows are put back as
    they were (and the case table vacuumed), so the database can be measured again.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bigcity

SAVED = "bench_sweep_saved"
SAVED_ROLLUPS = "bench_sweep_rollups"

# One group per stage: (supervision before, warn_at, deadline_at, red_at) relative to now.
MINUTE, DAY = timedelta(minutes=1), timedelta(days=1)
GROUPS = (
    ("预警", 0, -MINUTE, DAY, 2 * DAY),
    ("黄牌", 1, -DAY, -MINUTE, DAY),
    ("红牌", 3, -2 * DAY, -DAY, -MINUTE),
)


def timed_sweep(now: datetime) -> tuple[float, dict[str, int]]:
    from pingan.cases.sweep import sweep

    t0 = time.perf_counter()
    raised = sweep(now)
    return time.perf_counter() - t0, raised


def due_plans(now: datetime) -> list[str]:
    """EXPLAIN ANALYZE of each stage's first "due" batch, as the sweep builds it."""
    from django.db import connection

    from pingan.cases.choices import CLOCK_STATUSES
    from pingan.cases.models import Case
    from pingan.cases.sweep import BATCH, STAGES

    plans = []
    for action, level, moment in STAGES:
        due = Case.objects.filter(status__in=CLOCK_STATUSES, supervision__lt=level, **{f"{moment}__lte": now})
        sql, params = due.values_list("pk", flat=True).order_by(moment)[:BATCH].query.sql_with_params()
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plans.append(f"-- {action} ({moment})\n" + "\n".join(row[0] for row in cur.fetchall()))
    return plans


def steady(now: datetime, runs: int) -> None:
    seconds, raised = timed_sweep(now)
    print(f"(a) catch-up sweep (what fell due since the build): {seconds:.2f} s, raised {raised}")
    timings, extra = [], 0
    for _ in range(runs):
        seconds, raised = timed_sweep(now)
        timings.append(seconds * 1000)
        extra += sum(raised.values())
    worst = max(timings)
    p95 = sorted(timings)[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    print(
        f"(a) steady state, nothing due, {runs} runs: p50 {statistics.median(timings):.1f} ms, "
        f"p95 {p95:.1f} ms, max {worst:.1f} ms; raised {extra}"
    )
    for plan in due_plans(now):
        print(plan)


def make_due(k: int, now: datetime) -> dict[str, int]:
    """K running clocks made due (a third per stage); their old values saved in SAVED."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {SAVED}")
        cur.execute(
            f"CREATE TABLE {SAVED} AS SELECT id, supervision, warn_at, deadline_at, red_at, version, "
            "ntile(3) OVER (ORDER BY id) AS grp FROM (SELECT * FROM cases_case "
            "WHERE status IN ('dispatched', 'handling') ORDER BY random() LIMIT %s) x",
            [k],
        )
        for grp, (_label, level, warn, deadline, red) in enumerate(GROUPS, start=1):
            cur.execute(
                f"UPDATE cases_case c SET supervision = %s, warn_at = %s, deadline_at = %s, red_at = %s "
                f"FROM {SAVED} s WHERE c.id = s.id AND s.grp = %s",
                [level, now + warn, now + deadline, now + red, grp],
            )
        cur.execute(f"SELECT grp, count(*) FROM {SAVED} GROUP BY grp ORDER BY grp")
        return {GROUPS[grp - 1][0]: n for grp, n in cur.fetchall()}


def marks(now: datetime) -> tuple[int, int]:
    """The last step and notification ids; today's and this month's roll-up rows saved."""
    from django.db import connection

    from pingan.cases.rollups import local_day

    today = local_day(now)
    with connection.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM cases_step")
        step = cur.fetchone()[0]
        cur.execute("SELECT coalesce(max(id), 0) FROM core_notification")
        notification = cur.fetchone()[0]
        cur.execute(f"DROP TABLE IF EXISTS {SAVED_ROLLUPS}")
        cur.execute(
            f"CREATE TABLE {SAVED_ROLLUPS} AS SELECT * FROM cases_caserollup WHERE day IN (%s, %s)",
            [today, today.replace(day=1)],
        )
    return step, notification


def restore(now: datetime, step: int, notification: int) -> None:
    """Put the cases, steps, notifications and roll-ups back as before make_due."""
    from django.db import connection

    from pingan.cases.rollups import local_day

    today = local_day(now)
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE cases_case c SET supervision = s.supervision, warn_at = s.warn_at, "
            f"deadline_at = s.deadline_at, red_at = s.red_at, version = s.version FROM {SAVED} s WHERE c.id = s.id"
        )
        cur.execute("DELETE FROM cases_step WHERE id > %s", [step])
        cur.execute("DELETE FROM core_notification WHERE id > %s", [notification])
        cur.execute("DELETE FROM cases_caserollup WHERE day IN (%s, %s)", [today, today.replace(day=1)])
        cur.execute(f"INSERT INTO cases_caserollup SELECT * FROM {SAVED_ROLLUPS}")
        cur.execute(f"DROP TABLE {SAVED}, {SAVED_ROLLUPS}")
        # The updates left dead index entries that every later sweep would step over.
        cur.execute("VACUUM ANALYZE cases_case")


def burst(k: int, now: datetime) -> None:
    step, notification = marks(now)
    made = make_due(k, now)
    try:
        seconds, raised = timed_sweep(now)
        again_seconds, again = timed_sweep(now)
        print(
            f"(b) K={k:,} newly due {made}: {seconds:.2f} s ({seconds / max(1, k) * 1000:.2f} ms a case), "
            f"raised {raised} = {sum(raised.values()):,}; second run {again_seconds * 1000:.0f} ms, "
            f"raised {sum(again.values())}"
        )
    finally:
        restore(now, step, notification)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reuse", action="store_true", help="measure the database already built")
    parser.add_argument("--cases", type=int, default=10_000_000, help="cases to build (without --reuse)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--due", default="1000,10000", help="K values for (b), comma-separated")
    args = parser.parse_args()
    bigcity.setup(bigcity.database_url(), drop=not args.reuse)
    from django.utils import timezone

    if not args.reuse:
        bigcity.build(args.cases, timezone.now())
    now = timezone.now()
    print(f"now {now.isoformat()}; open clocks: {bigcity.backlog_summary(now)}")
    steady(now, args.runs)
    for k in (int(v) for v in args.due.split(",") if v.strip()):
        burst(k, now)


if __name__ == "__main__":
    main()
