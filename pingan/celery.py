"""The Celery app: background jobs (ARCHITECTURE: Celery with Redis; no broker → in-process).

Configured from Django settings (``CELERY_*`` in pingan/settings.py):

- ``PINGAN_REDIS_URL`` set: tasks go through Redis; ``pingan worker`` runs them on as many machines
  as wanted, and exactly one ``pingan beat`` (or one ``pingan worker --beat``) sends the periodic ones.
- unset: ``task_always_eager`` — ``task.delay()`` runs the task in the calling process, and
  ``pingan serve`` runs the periodic deadline sweep itself (pingan/jobs.py).

Tasks are written to be safe to run twice (at-least-once delivery: ``acks_late`` with
``reject_on_worker_lost`` re-delivers a task whose worker died mid-run). Queue a task from inside a
transaction with ``transaction.on_commit(lambda: task.delay(...))`` so a worker never looks for rows
that are not committed yet. Call tasks through their objects (``task.delay()``), never
``app.send_task(name)``, which bypasses eager mode.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.settings")

app = Celery("pingan")
# Lazy: Django settings are read when the app is first used, not when pingan is imported.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

SWEEP_TASK = "pingan.cases.tasks.sweep_deadlines"


def beat_schedule(sweep_seconds: int) -> dict[str, dict[str, Any]]:
    """What beat sends: the deadline sweep (DOMAIN §2 督办) every ``sweep_seconds``.

    A sweep still queued when the next one is due is dropped (``expires``): after an outage the
    workers run one sweep, not a backlog of them.
    """
    return {
        "sweep-deadlines": {
            "task": SWEEP_TASK,
            "schedule": float(sweep_seconds),
            "options": {"expires": float(sweep_seconds)},
        }
    }


@app.on_after_configure.connect
def _schedule(sender: Celery, **kwargs: Any) -> None:
    from django.conf import settings

    sender.conf.beat_schedule = beat_schedule(settings.SWEEP_SECONDS)
