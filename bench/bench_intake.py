"""Benchmark event intake (事件登记) through the HTTP API on PostgreSQL, beside raw PostgreSQL inserts.

    PINGAN_DATABASE_URL=postgres://postgres@127.0.0.1:5432/pingan_bench_intake \\
        .venv/bin/python bench/bench_intake.py [--clients 8] [--seconds 30] [--warmup 5]

``--clients 4,8,16`` runs one load per client count. The database named in
PINGAN_DATABASE_URL is DROPPED and re-created (its name must contain "bench"); var files
(demo keys, static, media) go to a temporary directory. The script then

1. migrates and loads the Quzhou demo geography, units and users (``load_demo`` with no
   historical events) and the default category catalogue with its routing rules, so that
   locate, routing and deadlines work as in a real installation;
2. counts the SQL queries of one intake request and times it in process (no HTTP, one
   thread: Python and PostgreSQL CPU of a request); ``--show-queries`` prints the SQL;
3. starts gunicorn on a free port of 127.0.0.1 as `pingan serve` runs it (pingan.cli
   gunicorn_args, the server hooks of pingan/gunicorn_conf.py, ``--workers`` default 2 as
   ``pingan serve``) against the bench database;
4. per client count: that many client threads each log in as the demo city dispatcher
   through the login page (session and CSRF cookies, as a browser does), keep their
   connection alive and POST /api/events/ back to back, each request with its own
   Idempotency-Key and a realistic body (a random 小类 of the catalogue, a random point inside
   a random grid, a short Chinese title and description, a non-grid channel). A warm-up
   (--warmup s) is followed by the measured run (--seconds s). Every answer must be 201;
   afterwards the cases and idempotency keys in the database must have grown by exactly the
   number of 201s (warm-up included);
5. stops the server and runs pgbench against a scratch table of the same database: one
   single-row INSERT of a row about as wide as an event case per transaction, the same client
   count, ``-T --seconds``, ``-n``, ``-j`` one thread per CPU at most;
6. prints, per client count, intake requests/s, latency percentiles and status counts beside
   pgbench's TPS, and their ratio against the target; then the CPU milliseconds that one
   intake costs gunicorn and PostgreSQL (and one pgbench insert PostgreSQL), what the busy
   PostgreSQL backends waited for, and how much CPU other processes took meanwhile (the
   machine may be shared: the figures are only as good as it was quiet).

Target (the issue): intake/s ≥ 15 % of raw single-row insert TPS.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode, urlparse

import numpy as np
from bench_locate import OtherCpu, free_port, machine, stop_server

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.15
USERNAME = "city_dispatcher"  # demo persona: a dispatcher (坐席) scoped to the whole city
CHANNELS = ("hotline", "hotline", "hotline", "citizen", "police_110", "inspection", "window")
PLACES = ("小区门口", "菜市场旁", "学校东侧", "公交站台", "河道边", "工地围挡外", "商铺门前", "村口路边")
WHEN = ("今天上午", "昨晚开始", "已持续三天", "刚刚", "连续一周")
POINTS = 4000
SCRATCH = "bench_pgbench_insert"


# --- database and demo data ----------------------------------------------------------------------


def setup(url: str, var_dir: Path) -> None:
    """Drop and re-create the bench database, then migrate it."""
    import psycopg

    name = urlparse(url).path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing to drop {name!r}: the database name must contain 'bench'")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["PINGAN_VAR_DIR"] = str(var_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "pingan.settings"
    os.environ.setdefault("PINGAN_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def load_city() -> float:
    """The demo geography, units, users and people, no history; the catalogue and routing rules."""
    from pingan.demo.events import ensure_catalogue_and_rules
    from pingan.demo.loader import load_demo

    started = time.perf_counter()
    load_demo(stdout=io.StringIO(), events=0)
    ensure_catalogue_and_rules()
    return time.perf_counter() - started


def usable_categories() -> list[tuple[str, str]]:
    """(code, name) of every 小类 new events may be filed under."""
    from pingan.events.models import Category

    rows = Category.objects.select_related("parent").filter(active=True, parent__isnull=False)
    return [(c.code, c.name) for c in rows.order_by("code") if c.usable]


def grid_points(rng: np.random.Generator, count: int) -> list[tuple[float, float]]:
    """``count`` (lat, lon): a random grid each, a random point inside its outline."""
    import shapely

    from pingan.geo.choices import Level
    from pingan.geo.locate import locate_many
    from pingan.geo.models import Jurisdiction

    outlines = [
        shapely.from_geojson(json.dumps(g))
        for g in Jurisdiction.objects.filter(level=Level.GRID).values_list("geometry", flat=True)
    ]
    points = []
    for index in rng.integers(0, len(outlines), count):
        outline = outlines[index]
        minx, miny, maxx, maxy = outline.bounds
        while True:
            lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if shapely.contains_xy(outline, lon, lat):
                points.append((round(float(lat), 6), round(float(lon), 6)))
                break
    located = locate_many(np.array([p[0] for p in points]), np.array([p[1] for p in points]))
    if (located < 0).any():
        raise SystemExit("a generated point lies in no grid")
    return points


class Bodies:
    """Realistic intake bodies: random category, grid point, title and description."""

    def __init__(self, categories: list[tuple[str, str]], points: list[tuple[float, float]]) -> None:
        self.categories, self.points = categories, points

    def make(self, rng: random.Random) -> dict[str, Any]:
        code, name = rng.choice(self.categories)
        lat, lon = rng.choice(self.points)
        place = rng.choice(PLACES)
        channel = rng.choice(CHANNELS)
        return {
            "channel": channel,
            "category": code,
            "title": f"{place}{name}",
            "description": f"群众反映{place}{name}，{rng.choice(WHEN)}，影响周边居民出行和生活，请尽快核实处理。",
            "lat": lat,
            "lon": lon,
            "channel_ref": f"12345-{rng.randrange(10**8):08d}" if channel == "hotline" else "",
        }


def case_counts() -> tuple[int, int]:
    """(event cases, idempotency keys) in the database."""
    from pingan.cases.models import Case
    from pingan.events.models import IdempotencyKey

    return Case.objects.filter(kind="event").count(), IdempotencyKey.objects.count()


# --- in process: queries and CPU of one request ------------------------------------------------


def profile_in_process(bodies: Bodies, runs: int) -> dict[str, Any]:
    """One thread, no HTTP: time, Python CPU and PostgreSQL backend CPU of an intake request
    (means over ``runs``), then the SQL of one request (the fewest of 10: the first request of
    a county and day also creates its number counter)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from pingan.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=USERNAME))
    rng = random.Random(7)

    def post() -> Any:
        response = client.post(
            "/api/events/",
            data=json.dumps(bodies.make(rng), ensure_ascii=False),
            content_type="application/json",
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        if response.status_code != 201:
            raise SystemExit(f"intake answered {response.status_code}: {response.content[:300]!r}")
        return response

    for _ in range(10):  # imports, URL conf, locate index; most counties' counters of the day
        post()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = [cursor.fetchone()[0]]
    wall, cpu, pg = time.perf_counter(), time.thread_time(), cpu_seconds(backend)
    for _ in range(runs):
        post()
    measured = {
        "ms": (time.perf_counter() - wall) * 1000 / runs,
        "cpu_ms": (time.thread_time() - cpu) * 1000 / runs,
        "pg_ms": (cpu_seconds(backend) - pg) * 1000 / runs,
        "runs": runs,
    }
    captured = []
    for _ in range(10):
        with CaptureQueriesContext(connection) as ctx:
            post()
        captured.append([q["sql"] for q in ctx.captured_queries])  # now: the next request empties the log
    return {**measured, "queries": min(captured, key=len), "most": max(len(q) for q in captured)}


# --- the server --------------------------------------------------------------------------------


def start_server(port: int, workers: int, url: str, var_dir: Path) -> subprocess.Popen:
    """gunicorn as `pingan serve` starts it (same arguments, same server hooks)."""
    from pingan.cli import gunicorn_args

    env = {
        **os.environ,
        "PINGAN_DATABASE_URL": url,
        "PINGAN_VAR_DIR": str(var_dir),
        "PINGAN_LOG_LEVEL": "WARNING",
    }
    hooks = ["--config", "python:pingan.gunicorn_conf"]
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *gunicorn_args(f"127.0.0.1:{port}", workers), *hooks],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,  # the access log
        stderr=subprocess.DEVNULL,
    )


def wait_ready(port: int) -> None:
    for _ in range(300):  # up to 30 s
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/login/")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


class Session:
    """One client thread: logs in through the login page, then POSTs on one kept-alive connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}
        self.opened = 0

    def _request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers = {"Host": "127.0.0.1", **({"Cookie": cookie} if cookie else {}), **headers}
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self.opened += 1
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                content = response.read()
            except (http.client.RemoteDisconnected, ConnectionError):
                # The server closed an idle kept-alive connection before reading the request:
                # reopen and send again (the Idempotency-Key would make even a replay harmless).
                self.close()
                if attempt:
                    raise
                continue
            for header in response.msg.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            if response.will_close:
                self.close()
            return response.status, content
        raise AssertionError("not reached")

    def login(self, username: str, password: str) -> None:
        self._request("GET", "/login/", None, {})
        form = {"username": username, "password": password, "csrfmiddlewaretoken": self.cookies["csrftoken"]}
        status, _ = self._request(
            "POST",
            "/login/",
            urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"login as {username} failed: HTTP {status}")

    def intake(self, body: dict[str, Any]) -> tuple[int, bytes]:
        headers = {
            "Content-Type": "application/json",
            "X-CSRFToken": unquote(self.cookies["csrftoken"]),  # the rotated token of the login
            "Idempotency-Key": uuid.uuid4().hex,
        }
        return self._request("POST", "/api/events/", json.dumps(body, ensure_ascii=False).encode(), headers)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def fire(sessions: list[Session], bodies: Bodies, seconds: float) -> dict[str, Any]:
    """Every session POSTs back to back for ``seconds``; latencies and status counts."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[bytes] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def run(session: Session, seed: int) -> None:
        rng = random.Random(seed)
        mine: list[float] = []
        while time.perf_counter() < deadline:
            body = bodies.make(rng)
            t0 = time.perf_counter()
            status, content = session.intake(body)
            mine.append(time.perf_counter() - t0)
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status != 201 and len(errors) < 5:
                    errors.append(content[:300])
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=run, args=(s, random.randrange(2**32))) for s in sessions]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    return {
        "requests": len(latencies),
        "wall": wall,
        "rps": len(latencies) / wall,
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "p99": float(np.percentile(ms, 99)),
        "statuses": statuses,
        "errors": errors,
    }


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of ``pids`` (Linux /proc; processes gone meanwhile count 0)."""
    ticks = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        ticks += int(stat[11]) + int(stat[12])
    return ticks / os.sysconf("SC_CLK_TCK")


class Watch:
    """During a timed phase, sampled every 50 ms: CPU seconds of the gunicorn processes and of
    the PostgreSQL backends serving the bench database (a backend that Django reopens after
    PINGAN_DB_CONN_MAX_AGE is followed), and what the active backends wait for (a row lock
    held by another transaction shows as Lock:transactionid with the waiting statement)."""

    BACKENDS = (
        "SELECT pid, state, wait_event_type, wait_event, left(query, 60) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    )

    def __init__(self, url: str, server: subprocess.Popen) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)
        self.server = [server.pid, *OtherCpu._children(server.pid)]
        self.first: dict[int, float] = {}  # backend pid → its CPU seconds when first seen
        self.last: dict[int, float] = {}
        self.active = 0
        self.waits: dict[str, int] = {}
        self.stop = threading.Event()

    def _sample(self, starting: bool = False) -> None:
        for pid, state, kind, event, query in self.conn.execute(self.BACKENDS).fetchall():
            self.last[pid] = cpu_seconds([pid])
            # A backend first seen after the start began during the phase: all its CPU counts.
            self.first.setdefault(pid, self.last[pid] if starting else 0.0)
            if state != "active":
                continue
            self.active += 1
            if kind is not None:
                what = f"{kind}:{event}" + (f" in {query.split(' (')[0]}" if kind == "Lock" else "")
                self.waits[what] = self.waits.get(what, 0) + 1

    def _run(self) -> None:
        while not self.stop.wait(0.05):
            self._sample()

    def __enter__(self) -> Watch:
        self.server_start = cpu_seconds(self.server)
        self._sample(starting=True)
        self.active, self.waits = 0, {}
        self.thread = threading.Thread(target=self._run)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server_s = cpu_seconds(self.server) - self.server_start
        self.stop.set()
        self.thread.join()
        self._sample()
        self.pg_s = sum(self.last[pid] - self.first[pid] for pid in self.last)
        self.conn.close()

    def lock_share(self) -> float:
        return sum(n for w, n in self.waits.items() if w.startswith("Lock:")) / max(self.active, 1)

    def top_waits(self) -> str:
        top = sorted(self.waits.items(), key=lambda kv: -kv[1])[:4]
        return "; ".join(f"{what} {n / max(self.active, 1):.0%}" for what, n in top) or "none"


def bench_intake(
    url: str, port: int, server: subprocess.Popen, bodies: Bodies, clients: int, warmup: float, seconds: float
) -> dict[str, Any]:
    from pingan.demo.loader import DEMO_PASSWORD

    sessions = [Session(port) for _ in range(clients)]
    for session in sessions:
        session.login(USERNAME, DEMO_PASSWORD)
    before = case_counts()
    warm = fire(sessions, bodies, warmup)  # also opens every worker thread's database connection
    for session in sessions:
        session.opened = 0  # connections reopened after the logins (gunicorn keep-alive: 2 s) not counted
    with OtherCpu(server) as other, Watch(url, server) as watch:
        result = fire(sessions, bodies, seconds)
    for session in sessions:
        session.close()
    after = case_counts()
    created = warm["statuses"].get(201, 0) + result["statuses"].get(201, 0)
    result.update(
        clients=clients,
        other_cpu=other.share,
        server_ms=watch.server_s * 1000 / max(result["requests"], 1),
        pg_ms=watch.pg_s * 1000 / max(result["requests"], 1),
        lock_share=watch.lock_share(),
        waits=watch.top_waits(),
        connections=sum(s.opened for s in sessions),
        created_in_db=(after[0] - before[0], after[1] - before[1]),
        created_201=created,
        warm_errors=warm["errors"],
        warm_statuses=warm["statuses"],
    )
    return result


# --- raw PostgreSQL: pgbench -------------------------------------------------------------------


SCRATCH_TABLE = f"""
DROP TABLE IF EXISTS {SCRATCH};
CREATE TABLE {SCRATCH} (
    id bigserial PRIMARY KEY,
    uuid uuid NOT NULL UNIQUE,
    number varchar(40) NOT NULL,
    kind varchar(20) NOT NULL,
    title varchar(200) NOT NULL,
    description text NOT NULL,
    channel varchar(20) NOT NULL,
    status varchar(20) NOT NULL,
    area_code varchar(24) NOT NULL,
    lat double precision,
    lon double precision,
    registered_at timestamptz NOT NULL,
    deadline_at timestamptz,
    data jsonb NOT NULL
)
"""

# One transaction = one single-row INSERT of a row about as wide as an event case.
PGBENCH_SCRIPT = f"""\\set n random(1, 99999)
\\set cat random(1, 60)
INSERT INTO {SCRATCH} (uuid, number, kind, title, description, channel, status, area_code, lat, lon,
    registered_at, deadline_at, data)
VALUES (gen_random_uuid(), '330802-20261129-' || lpad(:n::text, 5, '0'), 'event', '小区门口暴露垃圾',
    '群众反映小区门口暴露垃圾，今天上午，影响周边居民出行和生活，请尽快核实处理。', 'hotline', 'registered',
    '330802001001001', 28.9 + random() * 0.1, 118.8 + random() * 0.1, now(), now() + interval '1 day',
    jsonb_build_object('category_id', :cat));
"""


def pgbench_binary() -> str:
    found = shutil.which("pgbench") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))), None
    )
    if not found:
        raise SystemExit(
            "pgbench not found: install postgresql-client (Debian: apt-get install postgresql-client)"
        )
    return str(found)


def _pgbench_backend_cpu(conn: Any, seconds: int) -> tuple[float, float] | None:
    """(CPU seconds, wall seconds) of pgbench's backends over the middle of its run."""
    if seconds < 3:
        return None
    time.sleep(1)
    pids = [
        pid
        for (pid,) in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pgbench'"
        )
    ]
    start, t0 = cpu_seconds(pids), time.perf_counter()
    time.sleep(seconds - 2)
    return cpu_seconds(pids) - start, time.perf_counter() - t0


def bench_pgbench(url: str, clients: int, seconds: int, work: Path) -> dict[str, Any]:
    """pgbench's TPS for single-row INSERTs from ``clients`` connections, and the rows it wrote."""
    import psycopg

    parts = urlparse(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCRATCH_TABLE)
    script = work / "insert.sql"
    script.write_text(PGBENCH_SCRIPT, encoding="utf-8")
    threads = max(1, min(clients, os.cpu_count() or 1))
    command = [
        pgbench_binary(),
        *("-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432)),
        *("-U", parts.username or "postgres"),
        *("-n", "-c", str(clients), "-j", str(threads), "-T", str(seconds), "-f", str(script)),
        parts.path.lstrip("/"),
    ]
    env = {**os.environ, **({"PGPASSWORD": unquote(parts.password)} if parts.password else {})}
    with psycopg.connect(url, autocommit=True) as conn:
        run = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        pg_cpu = _pgbench_backend_cpu(conn, seconds)
        stdout, stderr = run.communicate()
    found = re.search(r"^tps = ([\d.]+)", stdout, re.MULTILINE)
    if run.returncode or not found:
        raise SystemExit(f"pgbench failed ({run.returncode}):\n{stdout}\n{stderr}")
    tps = float(found.group(1))
    latency = re.search(r"^latency average = ([\d.]+) ms", stdout, re.MULTILINE)
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(f"SELECT count(*) FROM {SCRATCH}").fetchone()
        conn.execute(f"DROP TABLE {SCRATCH}")
    return {
        "tps": tps,
        "pg_ms": pg_cpu[0] * 1000 / (tps * pg_cpu[1]) if pg_cpu and tps else None,
        "latency_ms": float(latency.group(1)) if latency else None,
        "threads": threads,
        "rows": rows[0] if rows else 0,
    }


# --- report ------------------------------------------------------------------------------------


def _statuses(statuses: dict[int, int]) -> str:
    return ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def report(
    runs: list[dict[str, Any]],
    raw: dict[int, dict[str, Any]],
    profile: dict[str, Any],
    args: argparse.Namespace,
) -> bool:
    """Print the table; True when every answer was 201 and the database agrees."""
    load = os.getloadavg()
    print()
    print(f"Measured {time.strftime('%Y-%m-%d %H:%M %Z')} on {machine()}; PostgreSQL at {args.pg_host}.")
    print(
        f"Load average before the run {args.load[0]:.2f} / {args.load[1]:.2f} / {args.load[2]:.2f}, after {load[0]:.2f}."
    )
    print(
        f"gunicorn {args.workers} gthread workers × 4 threads (as `pingan serve`); warm-up {args.warmup:g} s, "
        f"measured {args.seconds} s per client count; pgbench -T {args.seconds} -n."
    )
    print(
        f"One intake request in process (one thread, no HTTP, mean of {profile['runs']}): "
        f"{len(profile['queries'])} SQL statements (fewest of 10 requests; most {profile['most']}: the first "
        "of a county and day creates its number counter), "
        f"{profile['ms']:.1f} ms, of which Python CPU {profile['cpu_ms']:.1f} ms and "
        f"PostgreSQL backend CPU {profile['pg_ms']:.1f} ms."
    )
    print()
    print(
        "| clients | intake requests | intake/s | p50 ms | p95 ms | p99 ms | statuses | "
        "pgbench TPS | intake ÷ pgbench | target ≥ 15 % |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    ok = True
    for run in runs:
        tps = raw[run["clients"]]["tps"]
        ratio = run["rps"] / tps if tps else 0.0
        print(
            f"| {run['clients']} | {run['requests']:,} | {run['rps']:.1f} | {run['p50']:.1f} | {run['p95']:.1f} | "
            f"{run['p99']:.1f} | {_statuses(run['statuses'])} | {tps:,.0f} | {ratio:.1%} | "
            f"{'met' if ratio >= TARGET else 'NOT met'} |"
        )
    print()
    print(
        "| clients | gunicorn CPU ms / intake | PostgreSQL CPU ms / intake | PostgreSQL CPU ms / pgbench insert "
        "| active backends waiting on a lock |"
    )
    print("|---|---|---|---|---|")
    for run in runs:
        raw_ms = raw[run["clients"]]["pg_ms"]
        print(
            f"| {run['clients']} | {run['server_ms']:.1f} | {run['pg_ms']:.1f} | "
            f"{'n/a' if raw_ms is None else f'{raw_ms:.2f}'} | {run['lock_share']:.0%} |"
        )
    print()
    for run in runs:
        cases, keys = run["created_in_db"]
        agree = cases == keys == run["created_201"]
        bad = {c: n for c, n in {**run["warm_statuses"], **run["statuses"]}.items() if c != 201}
        line = (
            f"{run['clients']} clients: {run['created_201']:,} answers 201 (warm-up included), "
            f"{cases:,} new event cases and {keys:,} idempotency keys in the database "
            f"({'agree' if agree else 'DISAGREE'}); {run['connections']} connections opened while measured; "
            f"other processes (PostgreSQL included) {_share(run['other_cpu'])} of the CPUs; "
            f"waits of active backends: {run['waits']}; "
            f"pgbench {raw[run['clients']]['rows']:,} rows, latency average "
            f"{raw[run['clients']]['latency_ms']} ms, -j {raw[run['clients']]['threads']}"
        )
        print(line)
        if bad or not agree:
            ok = False
            print(f"  FAILURE: non-201 answers {_statuses(bad) or 'none'}")
            for content in run["errors"] + run["warm_errors"]:
                print(f"  {content.decode(errors='replace')}")
    if args.show_queries:
        print()
        print(f"SQL of one intake request ({len(profile['queries'])} queries):")
        for i, sql in enumerate(profile["queries"], 1):
            print(f"{i:3}. {sql[:220]}")
    return ok


def _client_counts(value: str) -> list[int]:
    try:
        counts = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected client counts like 4,8,16, got {value!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"expected client counts ≥ 1, got {value!r}")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=_client_counts, default=[8], help="client threads, e.g. 4,8,16")
    parser.add_argument(
        "--seconds", type=int, default=30, help="measured seconds per run (intake and pgbench)"
    )
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before each measured run")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("PINGAN_WEB_WORKERS", "2")))
    parser.add_argument("--profile-runs", type=int, default=100, help="in-process intake requests to time")
    parser.add_argument("--show-queries", action="store_true", help="print the SQL of one intake request")
    args = parser.parse_args()
    url = os.environ.get("PINGAN_DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("set PINGAN_DATABASE_URL to a PostgreSQL database whose name contains 'bench'")
    args.load, args.pg_host = os.getloadavg(), urlparse(url).hostname
    work = Path(tempfile.mkdtemp(prefix="pingan-bench-intake-"))
    try:
        setup(url, work)
        print(f"demo city (no history) loaded in {load_city():.1f} s")
        bodies = Bodies(usable_categories(), grid_points(np.random.default_rng(2026), POINTS))
        print(f"{len(bodies.categories)} categories, {len(bodies.points):,} points inside grids")
        profile = profile_in_process(bodies, args.profile_runs)
        print(f"in process: {len(profile['queries'])} queries, {profile['ms']:.1f} ms per intake")
        from django.db import connections

        connections.close_all()  # the bench process holds no connection during the load
        port = free_port()
        server = start_server(port, args.workers, url, work)
        runs = []
        try:
            wait_ready(port)
            for clients in args.clients:
                runs.append(bench_intake(url, port, server, bodies, clients, args.warmup, args.seconds))
                print(f"intake, {clients} clients: {runs[-1]['rps']:.1f} requests/s")
                connections.close_all()
        finally:
            stop_server(server)
        raw = {}
        for clients in args.clients:
            raw[clients] = bench_pgbench(url, clients, args.seconds, work)
            print(f"pgbench, {clients} clients: {raw[clients]['tps']:,.0f} tps")
        ok = report(runs, raw, profile, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
