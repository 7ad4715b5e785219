"""Benchmark point → grid: bulk throughput, and API latency under concurrent load.

    .venv/bin/python bench/bench_locate.py [--points 1000000] [--requests 2000] [--threads 8] [--repeats 3]

Builds the Quzhou demo geography into a fresh SQLite database in a temporary directory
(PINGAN_DATABASE_URL is ignored on purpose: this never touches a real database), then

1. times ``locate_many`` on random points within the city's bounding box and checks a
   sample against the exact STRtree answer;
2. counts the SQL queries of one locate request, in process;
3. starts gunicorn on 127.0.0.1 (a free port, one worker per CPU) with the arguments of
   `pingan serve` (gthread workers, HTTP keep-alive) against that database, logs in a
   dispatcher scoped to the whole city through a session cookie, fires requests at
   /api/geo/locate from several client threads, each keeping one connection alive as a
   browser or an app does, and reports latency percentiles (the median of --repeats runs);
   then the same load against sync workers (--threads 1), one connection per request;
4. writes the figures into the "Locate" section of docs/performance.md (--no-write to skip).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
# A record of earlier figures, kept in the section when the bench rewrites it.
HISTORY = """Before (2026-11-29): the locate code of commit 6605dbc, measured with this bench on the
same machine, two runs: 7 queries per request for a scoped user (5 for a superuser: session,
user, the grid row with its outline, scope prefixes, scope units, an EXISTS for the scope
check, the chain) and a new SQLite connection per request. 1 client thread: p50 6.0–7.1 ms.
8 client threads: gthread workers with keep-alive p95 41–54 ms, sync workers p95 33–36 ms,
300–340 requests/s. (The earlier figure in this file, p95 22.0 ms at 463 requests/s, was
for a superuser, sync workers and one connection per request.)"""


def setup_django(var_dir: Path) -> None:
    os.environ["PINGAN_VAR_DIR"] = str(var_dir)
    os.environ.pop("PINGAN_DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "pingan.settings"
    os.environ.setdefault("PINGAN_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def load_geography() -> dict:
    from pingan.demo.geography import build_quzhou_rows, load_rows

    started = time.perf_counter()
    rows = build_quzhou_rows()
    built = time.perf_counter()
    load_rows(rows)
    loaded = time.perf_counter()
    return {
        "rows": len(rows),
        "grids": sum(1 for r in rows if r["level"] == "grid"),
        "build_s": built - started,
        "load_s": loaded - built,
    }


def bench_bulk(n_points: int, repeats: int = 5) -> dict:
    import shapely

    from pingan.geo import locate
    from pingan.geo.models import Jurisdiction

    started = time.perf_counter()
    index = locate.current_index()
    index_s = time.perf_counter() - started
    city = Jurisdiction.objects.get(code="330800")
    minx, miny, maxx, maxy = shapely.from_geojson(json.dumps(city.geometry)).bounds
    rng = np.random.default_rng(2026)
    lats = rng.uniform(miny, maxy, n_points)
    lons = rng.uniform(minx, maxx, n_points)
    timings = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        ids = locate.locate_many(lats, lons)
        timings.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    exact = locate.exact_positions(index, lons, lats)
    exact_s = time.perf_counter() - t0
    expected = np.where(exact >= 0, index.ids[np.maximum(exact, 0)], -1)
    if not np.array_equal(ids, expected):
        raise SystemExit("locate_many disagrees with the exact STRtree answer")
    edge_share = float((index.raster == locate.EDGE).mean()) if index.raster is not None else 1.0
    best, median = min(timings), float(np.median(timings))
    return {
        "points": n_points,
        "index_s": index_s,
        "raster": "×".join(map(str, index.raster.shape)) if index.raster is not None else "-",
        "edge_share": edge_share,
        "best_pps": n_points / best,
        "median_pps": n_points / median,
        "exact_pps": n_points / exact_s,
        "in_grid_share": float((ids >= 0).mean()),
        "grid_points": [(float(lat), float(lon)) for lat, lon in _inside_points(rng, lats, lons, ids)],
        "box_points": list(zip(lats[:5000].tolist(), lons[:5000].tolist(), strict=True)),
    }


def _inside_points(rng: np.random.Generator, lats: np.ndarray, lons: np.ndarray, ids: np.ndarray):
    inside = np.flatnonzero(ids >= 0)
    pick = rng.choice(inside, size=min(5000, len(inside)), replace=False)
    return zip(lats[pick], lons[pick], strict=True)


def bench_outlines() -> dict:
    """In-process timing of the map's outline request: first (serialising) and cached."""
    from django.test import Client

    from pingan.accounts.models import User

    client = Client()
    client.force_login(
        User.objects.create_superuser(username="bench-outlines", password=os.urandom(16).hex())
    )
    url = "/api/geo/outlines?level=grid"
    client.get("/api/geo/outlines?level=city")  # first request of the process: imports, URL conf
    t0 = time.perf_counter()
    response = client.get(url)
    first = time.perf_counter() - t0
    runs = []
    for _ in range(10):
        t0 = time.perf_counter()
        client.get(url)
        runs.append(time.perf_counter() - t0)
    features = len(json.loads(response.content)["features"])
    return {
        "features": features,
        "bytes": len(response.content),
        "first_ms": first * 1000,
        "cached_ms": float(np.median(runs)) * 1000,
    }


def bench_user() -> Any:
    """A city dispatcher: scoped to the whole city (every point in a grid answers 200), but
    through the scoping rule, as every real user but the superuser."""
    from pingan.accounts.choices import Role
    from pingan.accounts.models import User
    from pingan.geo.models import Jurisdiction

    user = User.objects.create_user(username="bench", password=os.urandom(16).hex(), role=Role.DISPATCHER)
    user.scope_jurisdictions.add(Jurisdiction.objects.get(code="330800"))
    return user


def count_queries(user: Any, lat: float, lon: float) -> int:
    """SQL queries of one locate request (session, user, scope, …), in process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    path = f"/api/geo/locate?lat={lat:.6f}&lon={lon:.6f}"
    client.get(path)  # the index is fresh: no freshness check in the request counted below
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"locate answered {response.status_code} for {path}")
    return len(ctx.captured_queries)


def session_cookie(user: Any) -> str:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, cookie: str) -> int:
    """One GET on a connection of its own."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


class Client:
    """One client thread's HTTP/1.1 connection. With ``keep_alive`` it is reused from request
    to request, as a browser or an app does, and reopened when the server closes it; without,
    every request opens its own. ``opened`` counts the connections."""

    def __init__(self, port: int, cookie: str, keep_alive: bool) -> None:
        self.port, self.cookie, self.keep_alive = port, cookie, keep_alive
        self.conn: http.client.HTTPConnection | None = None
        self.opened = 0

    def get(self, path: str) -> int:
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.opened += 1
            try:
                self.conn.request("GET", path, headers={"Cookie": self.cookie, "Host": "127.0.0.1"})
                response = self.conn.getresponse()
                response.read()
            except (http.client.RemoteDisconnected, ConnectionError):
                # The server closed an idle connection: open a new one, as a browser does.
                self.close()
                if attempt:
                    raise
                continue
            if response.will_close or not self.keep_alive:
                self.close()
            return response.status
        raise AssertionError("not reached")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# The server as `pingan serve` runs it (gthread workers, 4 threads, keep-alive), and, for
# comparison, with sync workers (--threads 1), one request per connection.
SERVERS = {"serve": [], "sync": ["--threads", "1"]}


def start_server(port: int, workers: int, var_dir: Path, mode: str) -> subprocess.Popen:
    from pingan.cli import gunicorn_args

    env = {**os.environ, "PINGAN_VAR_DIR": str(var_dir), "PINGAN_LOG_LEVEL": "WARNING"}
    env.pop("PINGAN_DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *gunicorn_args(f"127.0.0.1:{port}", workers), *SERVERS[mode]],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,  # the access log
        stderr=subprocess.DEVNULL,
    )


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def wait_ready(port: int, cookie: str) -> None:
    for _ in range(200):  # up to 20 s
        try:
            get(port, "/api/geo/locate?lat=0&lon=0", cookie)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


class OtherCpu:
    """Share of the machine's CPU time that processes other than this bench and its server
    used during a timed phase (Linux /proc; None elsewhere): other jobs skew the figures."""

    def __init__(self, server: subprocess.Popen) -> None:
        self.pids = [server.pid, *self._children(server.pid)]
        self.share: float | None = None

    @staticmethod
    def _children(pid: int) -> list[int]:
        try:
            return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    def _sample(self) -> tuple[int, int, float] | None:
        try:
            fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
            ours = 0
            for pid in self.pids:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ours += int(stat[11]) + int(stat[12])  # utime + stime, in clock ticks
        except (OSError, ValueError, IndexError):
            return None
        own = os.times()
        ours_s = ours / os.sysconf("SC_CLK_TCK") + own.user + own.system
        return sum(fields), sum(fields) - fields[3] - fields[4], ours_s  # total, busy, ours

    def __enter__(self) -> OtherCpu:
        self.start = self._sample()
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._sample()
        if self.start is None or end is None or end[0] == self.start[0]:
            return
        ticks = os.sysconf("SC_CLK_TCK")
        total, busy = end[0] - self.start[0], end[1] - self.start[1]
        ours = (end[2] - self.start[2]) * ticks
        self.share = max(0.0, (busy - ours) / total)


def bench_api(
    points: list[tuple[float, float]], n_requests: int, threads: int, repeats: int, var_dir: Path, user: Any
) -> dict:
    cookie = session_cookie(user)
    workers = os.cpu_count() or 1
    paths = [f"/api/geo/locate?lat={lat:.6f}&lon={lon:.6f}" for lat, lon in points]
    result: dict[str, Any] = {"workers": workers}
    for mode in SERVERS:
        port = free_port()
        server = start_server(port, workers, var_dir, mode)
        try:
            wait_ready(port, cookie)
            # Every worker builds its index before timing: new connections spread over the workers.
            for path in paths[: 20 * workers]:
                get(port, path, cookie)
            keep_alive = mode == "serve"
            if keep_alive:
                result["sequential"] = fire(port, cookie, paths, min(300, n_requests), 1, True, server)
            runs = [
                fire(port, cookie, paths, n_requests, threads, keep_alive, server) for _ in range(repeats)
            ]
            result[mode] = median_run(runs)
        finally:
            stop_server(server)
    return result


def median_run(runs: list[dict]) -> dict:
    """The run with the median p95, with the range of p95 over all runs (the machine is shared)."""
    ordered = sorted(runs, key=lambda r: r["p95"])
    return {
        **ordered[len(ordered) // 2],
        "runs": len(runs),
        "p95_range": (ordered[0]["p95"], ordered[-1]["p95"]),
    }


def fire(
    port: int,
    cookie: str,
    paths: list[str],
    n_requests: int,
    threads: int,
    keep_alive: bool,
    server: subprocess.Popen,
) -> dict:
    """``n_requests`` GETs spread over ``threads`` client threads; latency percentiles in ms."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    counter = iter(range(n_requests))
    clients = [Client(port, cookie, keep_alive) for _ in range(threads)]

    def run(client: Client) -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            t0 = time.perf_counter()
            status = client.get(paths[i % len(paths)])
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    pool = [threading.Thread(target=run, args=(client,)) for client in clients]
    with OtherCpu(server) as other:
        started = time.perf_counter()
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        wall = time.perf_counter() - started
    for client in clients:
        client.close()
    ms = np.array(latencies) * 1000
    return {
        "requests": n_requests,
        "threads": threads,
        "statuses": statuses,
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "p99": float(np.percentile(ms, 99)),
        "max": float(ms.max()),
        "rps": n_requests / wall,
        "connections": sum(c.opened for c in clients),
        "other_cpu": other.share,
    }


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPU ({model}), Python {platform.python_version()}, {platform.system()}"


def render(
    geo: dict, bulk: dict, outl: dict, api: dict, queries: int, load: tuple[float, float, float]
) -> str:
    seq, serve, sync = api["sequential"], api["serve"], api["sync"]
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(serve["statuses"].items()))

    def latency(r: dict) -> str:
        low, high = r["p95_range"]
        return (
            f"p50 {r['p50']:.1f} ms, **p95 {r['p95']:.1f} ms** ({low:.1f}–{high:.1f} over {r['runs']} runs), "
            f"p99 {r['p99']:.1f} ms; {r['rps']:.0f} requests/s; other processes {_share(r['other_cpu'])} of the CPUs"
        )

    return f"""## Locate

Point → grid over the Quzhou demo geography ({geo["grids"]:,} synthetic grids inside the real
outlines of the six counties; {geo["rows"]:,} jurisdictions in all).
Measured {time.strftime("%Y-%m-%d")} on {machine()}; load average before the run
{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (other jobs on the machine skew the API figures). Reproduce:

    .venv/bin/python bench/bench_locate.py

| what | result |
|---|---|
| build demo rows / bulk load | {geo["build_s"]:.2f} s / {geo["load_s"]:.2f} s |
| build locate index (STRtree + raster {bulk["raster"]}, {bulk["edge_share"]:.1%} edge cells) | {bulk["index_s"]:.2f} s |
| `locate_many`, {bulk["points"]:,} random points in the city bbox ({bulk["in_grid_share"]:.0%} inside a grid) | **{bulk["median_pps"] / 1e6:.2f} M points/s** median of 5, {bulk["best_pps"] / 1e6:.2f} M best |
| same points, exact STRtree query only (no raster) | {bulk["exact_pps"] / 1e6:.2f} M points/s |
| `GET /api/geo/outlines?level=grid` ({outl["features"]:,} features, {outl["bytes"] / 1e6:.1f} MB), in-process | first {outl["first_ms"]:.0f} ms, then {outl["cached_ms"]:.0f} ms (per-process feature cache) |
| SQL queries of one `GET /api/geo/locate` (a dispatcher scoped to the city) | {queries}: session, user, the user's scope prefixes |
| `GET /api/geo/locate`, {seq["requests"]:,} requests, 1 client thread | p50 {seq["p50"]:.1f} ms, p95 {seq["p95"]:.1f} ms, p99 {seq["p99"]:.1f} ms |
| same, {serve["requests"]:,} requests from {serve["threads"]} client threads, each keeping its connection alive; gunicorn {api["workers"]} gthread workers × 4 threads, as `pingan serve` | {latency(serve)} |
| same load, gunicorn {api["workers"]} sync workers (`--threads 1`), a new connection per request | {latency(sync)} |

Status codes under load: {statuses} (half the points lie in a grid, half are drawn from the
city's bounding box); {serve["connections"]} connections opened by {serve["threads"]} clients.

How it is fast: an STRtree over the grid polygons gives the exact answer; a raster over the
grids' bounding box stores, for each cell that no boundary crosses, the one grid containing
it, so most points are answered by an array lookup and only points in boundary cells are
tested against polygons. The bench checks that both paths agree on every point.
A locate request answers from memory: the index keeps each grid's code, name, level and
chain of ancestors (built and invalidated with it), and the scope check applies the scoping
rule to the grid's code in Python (`in_scope`). Its only queries are the session, the user and
the user's scope prefixes, read once per request (a superuser needs no scope query);
tests/geo/test_geo_locate_queries.py holds that count. Database connections persist between
requests (`PINGAN_DB_CONN_MAX_AGE`, SQLite included): opening one cost about 1 ms of CPU.

Reading the concurrent rows: the {serve["threads"]} clients send back to back on the same
{os.cpu_count()} CPUs as the server, so latency is mostly queueing: p50 ≈ clients ÷ throughput.
A p95 under 10 ms at this load needs about 1,000 requests/s, i.e. well under 2 ms of CPU per
request for Django, the session, the user and the scope query together. gthread workers (the
threads of a worker share one interpreter lock) give a longer tail than sync workers here.

{HISTORY}
"""


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def write_section(section: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Performance\n"
    pattern = re.compile(r"^## Locate\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3, help="concurrent runs per server mode")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    args = parser.parse_args()
    load = os.getloadavg()
    var_dir = Path(tempfile.mkdtemp(prefix="pingan-bench-"))
    try:
        setup_django(var_dir)
        geo = load_geography()
        print(
            f"geography: {geo['rows']} rows, {geo['grids']} grids "
            f"(built {geo['build_s']:.2f}s, loaded {geo['load_s']:.2f}s)"
        )
        bulk = bench_bulk(args.points)
        print(
            f"locate_many: {bulk['median_pps']:,.0f} points/s median ({bulk['best_pps']:,.0f} best), "
            f"exact only {bulk['exact_pps']:,.0f}/s, index {bulk['index_s']:.2f}s"
        )
        outl = bench_outlines()
        print(
            f"outlines: {outl['features']} features, first {outl['first_ms']:.0f} ms, cached {outl['cached_ms']:.0f} ms"
        )
        points = [p for pair in zip(bulk["grid_points"], bulk["box_points"], strict=False) for p in pair]
        user = bench_user()
        queries = count_queries(user, *bulk["grid_points"][0])
        print(f"locate request: {queries} SQL queries")
        api = bench_api(points, args.requests, args.threads, args.repeats, var_dir, user)
        for phase in ("sequential", "serve", "sync"):
            r = api[phase]
            print(
                f"API {phase} ({r['threads']} threads): p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, "
                f"p99 {r['p99']:.1f} ms, {r['rps']:.0f} req/s, statuses {r['statuses']}, "
                f"{r['connections']} connections, other processes {_share(r['other_cpu'])} CPU"
            )
        section = render(geo, bulk, outl, api, queries, load)
        if args.no_write:
            print(section)
        else:
            write_section(section)
            print(f"wrote the Locate section of {DOC.relative_to(ROOT)}")
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
