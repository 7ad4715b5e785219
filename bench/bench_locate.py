"""Benchmark point → grid: bulk throughput, and API latency under concurrent load.

    .venv/bin/python bench/bench_locate.py [--points 1000000] [--requests 2000] [--threads 8]

Builds the Quzhou demo geography into a fresh SQLite database in a temporary directory
(PINGAN_DATABASE_URL is ignored on purpose: this never touches a real database), then

1. times ``locate_many`` on random points within the city's bounding box and checks a
   sample against the exact STRtree answer;
2. counts the SQL queries of one locate request, in process;
3. starts gunicorn on 127.0.0.1 (a free port, one worker per CPU) with the arguments of
   `pingan serve` (gthread workers, HTTP keep-alive) against that database, logs in a
   dispatcher scoped to the whole city through a session cookie, fires requests at
   /api/geo/locate from several client threads, each keeping one connection alive as a
   browser or an app does, and reports latency percentiles;
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


class KeepAliveClient:
    """One client thread's HTTP/1.1 connection, reused from request to request; reopened
    (and counted) when the server closes it."""

    def __init__(self, port: int, cookie: str) -> None:
        self.port, self.cookie = port, cookie
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
            if response.will_close:
                self.close()
            return response.status
        raise AssertionError("not reached")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def start_server(port: int, workers: int, var_dir: Path) -> subprocess.Popen:
    from pingan.cli import gunicorn_args

    env = {**os.environ, "PINGAN_VAR_DIR": str(var_dir), "PINGAN_LOG_LEVEL": "WARNING"}
    env.pop("PINGAN_DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *gunicorn_args(f"127.0.0.1:{port}", workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,  # the access log
        stderr=subprocess.DEVNULL,
    )


def wait_ready(port: int, cookie: str) -> None:
    for _ in range(200):  # up to 20 s
        try:
            get(port, "/api/geo/locate?lat=0&lon=0", cookie)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def bench_api(
    points: list[tuple[float, float]], n_requests: int, threads: int, var_dir: Path, user: Any
) -> dict:
    cookie = session_cookie(user)
    port = free_port()
    workers = os.cpu_count() or 1
    server = start_server(port, workers, var_dir)
    try:
        wait_ready(port, cookie)
        paths = [f"/api/geo/locate?lat={lat:.6f}&lon={lon:.6f}" for lat, lon in points]
        # Every worker builds its index before timing: new connections spread over the workers.
        for path in paths[: 20 * workers]:
            get(port, path, cookie)
        sequential = fire(port, cookie, paths, min(300, n_requests), 1)
        concurrent = fire(port, cookie, paths, n_requests, threads)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return {"workers": workers, "sequential": sequential, "concurrent": concurrent}


def fire(port: int, cookie: str, paths: list[str], n_requests: int, threads: int) -> dict:
    """``n_requests`` GETs spread over ``threads`` client threads; latency percentiles in ms."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    counter = iter(range(n_requests))

    clients = [KeepAliveClient(port, cookie) for _ in range(threads)]

    def run(client: KeepAliveClient) -> None:
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

    started = time.perf_counter()
    pool = [threading.Thread(target=run, args=(client,)) for client in clients]
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
    seq, con = api["sequential"], api["concurrent"]
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(con["statuses"].items()))
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
| SQL queries of one `GET /api/geo/locate` (city dispatcher) | {queries} (session, user, the user's scope prefixes) |
| `GET /api/geo/locate`, {seq["requests"]:,} requests, 1 client thread | p50 {seq["p50"]:.1f} ms, p95 {seq["p95"]:.1f} ms, p99 {seq["p99"]:.1f} ms |
| `GET /api/geo/locate`, {con["requests"]:,} requests, {con["threads"]} client threads, gunicorn {api["workers"]} gthread workers × 4 threads | p50 {con["p50"]:.1f} ms, **p95 {con["p95"]:.1f} ms**, p99 {con["p99"]:.1f} ms (max {con["max"]:.1f} ms) |
| API throughput under that load | {con["rps"]:.0f} requests/s (status {statuses}; {con["connections"]} connections opened) |

How it is fast: an STRtree over the grid polygons gives the exact answer; a raster over the
grids' bounding box stores, for each cell that no boundary crosses, the one grid containing
it, so most points are answered by an array lookup and only points in boundary cells are
tested against polygons. The bench checks that both paths agree on every point.
A locate request answers from memory: the index keeps each grid's code, name, level and
chain of ancestors (built and invalidated with it), and the scope check applies the scoping
rule to the grid's code in Python (`in_scope`); its only queries are the session, the user and
the user's scope prefixes (read once per request; none for a superuser). A test holds the count
(tests/geo/test_geo_locate_queries.py).
The server runs as `pingan serve` runs it (gthread workers, HTTP keep-alive); each client
thread keeps one connection open, as a browser or an app does. API latency includes the
client threads, which share the same CPUs as the server.

HISTORY_PLACEHOLDER
"""


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
        api = bench_api(points, args.requests, args.threads, var_dir, user)
        for phase in ("sequential", "concurrent"):
            r = api[phase]
            print(
                f"API {phase} ({r['threads']} threads): p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, "
                f"p99 {r['p99']:.1f} ms, {r['rps']:.0f} req/s, statuses {r['statuses']}, "
                f"{r['connections']} connections"
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
