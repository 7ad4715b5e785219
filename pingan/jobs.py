"""Periodic jobs without Redis: ONE sweeper process next to the web server.

With ``PINGAN_REDIS_URL`` set, beat sends the periodic tasks to the workers (pingan/celery.py) and
nothing here runs. Without it, ``pingan serve`` / ``pingan demo`` start one small subprocess,
``python -m pingan.cli sweep --every N``, that runs the deadline sweep every ``PINGAN_SWEEP_SECONDS``:

- under gunicorn from the master's ``when_ready`` hook (pingan/gunicorn_conf.py), which runs once
  per server however many workers it forks, and stopped by ``on_exit``;
- under ``pingan serve --dev`` by the CLI itself, around runserver.

A subprocess, not a thread in the gunicorn master: the master forks (and re-forks) workers all its
life, and a thread holding a database connection or a lock at fork time hands a broken copy to the
child (SQLite connections must never cross a fork); the master also has to stay light and
responsive to supervise its workers. Not one per worker either: N workers would sweep N times.
The sweeper exits by itself when its parent goes away (checked every second), so a killed master
leaves no orphan behind.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from pingan.core.env import env_int, env_str

log = logging.getLogger(__name__)

_sweeper: subprocess.Popen | None = None
_lock = threading.Lock()


def sweeper_wanted() -> bool:
    """Without a broker the web server sweeps itself; with one, beat and the workers do."""
    return not env_str("REDIS_URL")


def sweeper_argv(every: int | None = None) -> list[str]:
    every = every or env_int("SWEEP_SECONDS", 60)
    return [sys.executable, "-m", "pingan.cli", "sweep", "--every", str(every), "--parent", str(os.getpid())]


def start_sweeper(popen: Callable[..., subprocess.Popen] | None = None) -> subprocess.Popen | None:
    """Start the one in-process sweeper unless a broker is configured or it is already running.

    Returns the running sweeper (None with Redis). Calling it again while the sweeper lives starts
    no second one.
    """
    global _sweeper
    if not sweeper_wanted():
        return None
    with _lock:
        if _sweeper is not None and _sweeper.poll() is None:
            return _sweeper
        _sweeper = (popen or subprocess.Popen)(sweeper_argv())
        log.info(
            "deadline sweeper started (pid %s, every %s s; no PINGAN_REDIS_URL)",
            _sweeper.pid,
            env_int("SWEEP_SECONDS", 60),
        )
        return _sweeper


def stop_sweeper(timeout: float = 10.0) -> None:
    """Stop the sweeper started by start_sweeper, if any (SIGTERM, then SIGKILL after ``timeout``)."""
    global _sweeper
    with _lock:
        proc, _sweeper = _sweeper, None
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


def run_every(
    seconds: float,
    job: Callable[[], object],
    *,
    stop: threading.Event | None = None,
    parent: int | None = None,
    tick: float = 1.0,
) -> None:
    """Run ``job`` now and then every ``seconds`` until ``stop`` is set or ``parent`` is gone.

    A failing run is logged and the next one comes on schedule (the sweep is idempotent).
    """
    stop = stop or threading.Event()
    while not stop.is_set():
        started = time.monotonic()
        try:
            job()
        except Exception:
            log.exception(
                "periodic job %s failed; trying again in %s s", getattr(job, "__name__", job), seconds
            )
        while not stop.is_set():
            if parent is not None and os.getppid() != parent:
                log.info("parent process %s is gone; sweeper exits", parent)
                return
            left = seconds - (time.monotonic() - started)
            if left <= 0:
                break
            stop.wait(min(tick, left))
