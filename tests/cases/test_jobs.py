"""Background jobs: in-process without Redis; a real Redis and a real `pingan worker` with it.

The worker test needs a Redis at 127.0.0.1:6379 (or PINGAN_TEST_REDIS_URL) and a test database that
another process can open (PostgreSQL, or SQLite with PINGAN_TEST_DB_NAME=/path/file.sqlite3). It is
skipped without Redis, unless PINGAN_REQUIRE_REDIS=1 (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from pingan import gunicorn_conf, jobs
from pingan.cases.choices import Action, Channel, Supervision
from pingan.cases.models import Step
from pingan.cases.services import register, transition
from pingan.cases.tasks import sweep_deadlines
from pingan.celery import SWEEP_TASK, app, beat_schedule
from pingan.cli import main
from tests.cases.conftest import local

PINGAN = Path(sys.executable).with_name("pingan")
WORKER_TIMEOUT = 60  # seconds for the worker to start and run one sweep


def _overdue(register_case, actors, units):
    """Registered and dispatched Monday 2026-11-02 09:00: long past 预警, 黄牌 and 红牌 by now."""
    case = register_case(at=local(2026, 11, 2, 9, 0))
    transition(
        case,
        Action.DISPATCH,
        actor=actors["dispatcher"],
        unit=units.kecheng_police,
        at=local(2026, 11, 2, 9, 0),
    )
    return case


def cards(raised: dict[str, int]) -> dict[str, int]:
    """The card counts of a sweep's result (domain apps add counts of their own sweeps)."""
    return {k: raised[k] for k in ("warn", "yellow_card", "red_card")}


# --- without Redis: tasks run in-process ---------------------------------------------------------


@pytest.mark.skipif(bool(os.environ.get("PINGAN_REDIS_URL")), reason="PINGAN_REDIS_URL is set")
def test_without_redis_the_sweep_task_runs_in_process_and_raises_the_cards(new_case, actors, units):
    case = _overdue(new_case, actors, units)
    assert app.conf.task_always_eager is True
    result = sweep_deadlines.delay()
    assert cards(result.get(timeout=1)) == {"warn": 1, "yellow_card": 1, "red_card": 1}
    case.refresh_from_db()
    assert case.supervision == Supervision.RED
    assert Step.objects.filter(case=case, action=Action.RED_CARD).count() == 1
    # Run again (beat twice, or two sweepers): nothing is raised a second time.
    assert cards(sweep_deadlines.delay().get(timeout=1)) == {"warn": 0, "yellow_card": 0, "red_card": 0}


def test_beat_sends_the_sweep_every_configured_seconds_and_drops_stale_ones(settings):
    assert int(os.environ.get("PINGAN_SWEEP_SECONDS", "60")) == settings.SWEEP_SECONDS
    entry = app.conf.beat_schedule["sweep-deadlines"]
    assert entry["task"] == SWEEP_TASK == "pingan.cases.tasks.sweep_deadlines"
    assert entry["schedule"] == float(settings.SWEEP_SECONDS)
    assert beat_schedule(90)["sweep-deadlines"] == {
        "task": SWEEP_TASK,
        "schedule": 90.0,
        "options": {"expires": 90.0},
    }


def test_tasks_are_acknowledged_late_and_retried_with_backoff():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    task = sweep_deadlines
    assert task.name == SWEEP_TASK
    assert task.max_retries == 5
    assert task.retry_backoff == 5
    assert task.retry_backoff_max == 300


@pytest.mark.parametrize("command", ["worker", "beat"])
def test_worker_and_beat_refuse_to_start_without_redis(command, settings, capsys):
    settings.REDIS_URL = ""
    assert main([command]) == 2
    err = capsys.readouterr().err
    assert "PINGAN_REDIS_URL" in err
    assert f"pingan {command}" in err


def test_the_pingan_worker_command_exits_non_zero_without_redis():
    env = {k: v for k, v in os.environ.items() if k != "PINGAN_REDIS_URL"}
    done = subprocess.run(
        [str(PINGAN), "worker", "--concurrency", "1"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "needs PINGAN_REDIS_URL" in done.stderr
    assert "Traceback" not in done.stderr


def test_pingan_sweep_runs_the_sweep_once(new_case, actors, units, capsys):
    _overdue(new_case, actors, units)
    assert main(["sweep"]) == 0
    assert "'red_card': 1" in capsys.readouterr().out


# --- the one in-process sweeper beside the web server --------------------------------------------


class FakeProcess:
    started: list[list[str]] = []

    def __init__(self, argv: list[str]) -> None:
        self.argv, self.pid, self.returncode = argv, 4242 + len(self.started), None
        self.started.append(argv)

    def poll(self):
        return self.returncode

    def terminate(self):
        self.returncode = -signal.SIGTERM

    def wait(self, timeout=None):
        return self.returncode

    def kill(self):
        self.returncode = -signal.SIGKILL


@pytest.fixture
def fake_popen(monkeypatch):
    monkeypatch.delenv("PINGAN_REDIS_URL", raising=False)
    monkeypatch.setenv("PINGAN_SWEEP_SECONDS", "45")
    monkeypatch.setattr(jobs, "_sweeper", None)
    FakeProcess.started = []
    monkeypatch.setattr(jobs.subprocess, "Popen", FakeProcess)
    return FakeProcess


class FakeServer:
    class log:
        @staticmethod
        def info(*args):
            pass


def test_the_gunicorn_master_starts_exactly_one_sweeper_and_stops_it_on_exit(fake_popen):
    gunicorn_conf.when_ready(FakeServer())
    gunicorn_conf.when_ready(FakeServer())  # a second call (e.g. a reload) starts no second sweeper
    assert fake_popen.started == [
        [sys.executable, "-m", "pingan.cli", "sweep", "--every", "45", "--parent", str(os.getpid())]
    ]
    sweeper = jobs._sweeper
    gunicorn_conf.on_exit(FakeServer())
    assert sweeper.returncode == -signal.SIGTERM
    assert jobs._sweeper is None


def test_a_dead_sweeper_is_replaced_by_the_next_start(fake_popen):
    first = jobs.start_sweeper(popen=FakeProcess)
    first.returncode = 1
    second = jobs.start_sweeper(popen=FakeProcess)
    assert second is not first
    assert len(fake_popen.started) == 2


def test_with_redis_the_web_server_starts_no_sweeper(fake_popen, monkeypatch):
    monkeypatch.setenv("PINGAN_REDIS_URL", "redis://127.0.0.1:6379/0")
    gunicorn_conf.when_ready(FakeServer())
    assert jobs.start_sweeper(popen=FakeProcess) is None
    assert fake_popen.started == []
    jobs.stop_sweeper()  # nothing to stop: no error


@pytest.mark.parametrize(("run_main", "started"), [(None, 1), ("true", 0)])
def test_serve_dev_starts_one_sweeper_outside_the_autoreloader_child(
    fake_popen, monkeypatch, run_main, started
):
    """runserver's autoreloader runs `pingan serve --dev` again with RUN_MAIN=true: that one starts none."""
    import pingan.cli

    calls = []
    monkeypatch.setattr(pingan.cli, "_call", lambda *args: calls.append(args))
    if run_main:
        monkeypatch.setenv("RUN_MAIN", run_main)
    else:
        monkeypatch.delenv("RUN_MAIN", raising=False)
    assert main(["serve", "--dev", "--bind", "127.0.0.1:9"]) == 0
    assert calls[-1][0] == "runserver"
    assert len(fake_popen.started) == started
    assert jobs._sweeper is None  # stopped when runserver returns


def test_run_every_repeats_the_job_and_survives_a_failing_run():
    calls: list[float] = []
    stop = threading.Event()

    def job():
        calls.append(time.monotonic())
        if len(calls) == 2:
            raise RuntimeError("database went away")
        if len(calls) == 4:
            stop.set()

    thread = threading.Thread(target=jobs.run_every, args=(0.05, job), kwargs={"stop": stop, "tick": 0.01})
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert len(calls) == 4
    assert all(b - a >= 0.04 for a, b in itertools.pairwise(calls))


def test_run_every_stops_when_its_parent_is_gone():
    calls = []
    thread = threading.Thread(
        target=jobs.run_every, args=(3600, lambda: calls.append(1)), kwargs={"parent": -1, "tick": 0.01}
    )
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert calls == [1]


@pytest.mark.slow
def test_pingan_serve_with_two_workers_runs_one_sweeper_and_takes_it_down_on_exit(tmp_path):
    """A real gunicorn: exactly one `pingan sweep` child of the master, gone when the master stops."""
    env = {k: v for k, v in os.environ.items() if k not in ("PINGAN_REDIS_URL", "PINGAN_DATABASE_URL")}
    env.update(PINGAN_VAR_DIR=str(tmp_path), PINGAN_SWEEP_SECONDS="3600")
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [str(PINGAN), "serve", "--workers", "2", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        children: list[list[str]] = []
        while time.monotonic() < deadline:
            children = [_cmdline(pid) for pid in _children(proc.pid)]
            if len(children) >= 3 or proc.poll() is not None:
                break
            time.sleep(0.2)
        time.sleep(1)  # a second sweeper, if any, would have started by now
        children = [_cmdline(pid) for pid in _children(proc.pid)]
        sweepers = [argv for argv in children if argv[-5:-3] == ["sweep", "--every"]]
        assert len(sweepers) == 1, (children, (tmp_path / "serve.log").read_text(errors="replace")[-3000:])
        assert sweepers[0][-3:] == ["3600", "--parent", str(proc.pid)]
        assert len(children) == 3  # two gunicorn workers and the sweeper
        sweeper_pid = next(pid for pid in _children(proc.pid) if _cmdline(pid)[-5:-3] == ["sweep", "--every"])
        proc.terminate()
        proc.wait(timeout=30)
        for _ in range(100):
            if not Path(f"/proc/{sweeper_pid}").exists() or _is_zombie(sweeper_pid):
                break
            time.sleep(0.1)
        assert not Path(f"/proc/{sweeper_pid}").exists() or _is_zombie(sweeper_pid)
    finally:
        _stop(proc)
        log.close()


# --- a real Redis and a real `pingan worker` ------------------------------------------------------


def _redis_url() -> str:
    """The test Redis; skipped when it does not answer, failed instead with PINGAN_REQUIRE_REDIS=1."""
    import redis

    url = os.environ.get("PINGAN_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"no Redis at {url}: {exc}"
        if os.environ.get("PINGAN_REQUIRE_REDIS") == "1":
            pytest.fail(message + " (PINGAN_REQUIRE_REDIS=1)")
        pytest.skip(message)
    return url


def _shared_database_url() -> str:
    """A URL of the test database that a worker process can open, or skip."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = quote(db["USER"] or "", safe="")
        if db.get("PASSWORD"):
            auth += ":" + quote(db["PASSWORD"], safe="")
        return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    name = str(db["NAME"])
    if connection.vendor == "sqlite" and ":memory:" not in name and "mode=memory" not in name:
        return f"sqlite:///{Path(name).resolve()}"
    pytest.skip("the test database is in memory: set PINGAN_TEST_DB_NAME=/tmp/x.sqlite3 or use PostgreSQL")


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_sweep_sent_through_redis(tree, units, actors, tmp_path):
    url = _redis_url()
    database_url = _shared_database_url()
    case = _overdue(
        lambda at: register(
            "event",
            actor=actors["dispatcher"],
            title="占道经营",
            jurisdiction=tree.kecheng_grid,
            channel=Channel.GRID,
            at=at,
        ),
        actors,
        units,
    )
    queue = f"pingan-test-{uuid.uuid4().hex}"  # no other worker on this Redis takes our task
    env = dict(os.environ, PINGAN_REDIS_URL=url, PINGAN_DATABASE_URL=database_url, PINGAN_LOG_LEVEL="INFO")
    env.pop("PINGAN_TEST_DB_NAME", None)
    log_path = tmp_path / "worker.log"
    log = log_path.open("wb")
    worker = subprocess.Popen(
        [str(PINGAN), "worker", "--concurrency", "1", "--queues", queue],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    client = _client(url)
    result = None
    try:
        result = client.send_task(SWEEP_TASK, queue=queue)
        raised = _wait(result, worker, log_path)
        assert cards(raised) == {"warn": 1, "yellow_card": 1, "red_card": 1}
        case.refresh_from_db()
        assert case.supervision == Supervision.RED
        assert list(
            Step.objects.filter(case=case, action__in=[Action.WARN, Action.YELLOW_CARD, Action.RED_CARD])
            .order_by("pk")
            .values_list("action", flat=True)
        ) == ["warn", "yellow_card", "red_card"]
        assert "deadline sweep: warn=1, yellow_card=1, red_card=1" in log_path.read_text(errors="replace")
    finally:
        _stop(worker)
        log.close()
        _clean_redis(url, queue, result)
        client.close()


def _client(url: str):
    """A Celery client of its own: the test process itself stays eager (no PINGAN_REDIS_URL)."""
    from celery import Celery

    client = Celery("pingan-test-client", broker=url, backend=url)
    client.conf.broker_connection_timeout = 5
    client.conf.broker_connection_max_retries = 3
    return client


def _wait(result, worker: subprocess.Popen, log_path: Path):
    import celery.exceptions

    deadline = time.monotonic() + WORKER_TIMEOUT
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            pytest.fail(f"the worker exited with {worker.returncode}:\n{_tail(log_path)}")
        try:
            return result.get(timeout=1, propagate=True)
        except celery.exceptions.TimeoutError:
            continue
    pytest.fail(f"no result from the worker within {WORKER_TIMEOUT} s:\n{_tail(log_path)}")


def _clean_redis(url: str, queue: str, result) -> None:
    import redis

    try:
        r = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        r.delete(queue, *r.scan_iter(match=f"_kombu.binding*{queue}", count=1000))
        if result is not None:
            r.delete(f"celery-task-meta-{result.id}")
    except redis.RedisError:
        pass


# --- process helpers --------------------------------------------------------------------------------


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process group we started, then SIGKILL it if it lingers."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # any child left in the group
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:]
