"""gunicorn server hooks (``pingan serve`` / ``pingan demo`` pass ``-c python:pingan.gunicorn_conf``).

Without PINGAN_REDIS_URL the master starts exactly one deadline sweeper subprocess when it is
ready and stops it on exit, however many workers it runs (pingan/jobs.py says why a subprocess).
"""

from __future__ import annotations

from typing import Any

from pingan import jobs


def when_ready(server: Any) -> None:
    sweeper = jobs.start_sweeper()
    if sweeper is not None:
        server.log.info("deadline sweeper pid %s (no PINGAN_REDIS_URL: sweeping in-process)", sweeper.pid)


def on_exit(server: Any) -> None:
    jobs.stop_sweeper()
