"""Background tasks of the case engine (run by `pingan worker`, or in-process without Redis)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import DatabaseError

from pingan.cases.sweep import sweep_all

log = logging.getLogger(__name__)


@shared_task(
    # Safe to repeat: sweep() claims each case with a conditional UPDATE, so a retry, a re-delivery
    # after a lost worker or two sweeps at once never raise a card twice (DOMAIN §2, STYLE §4).
    autoretry_for=(DatabaseError,),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def sweep_deadlines() -> dict[str, int]:
    """The deadline sweep (督办扫描): raise every due 预警, 黄牌 and 红牌 once, then the domain
    apps' own deadline sweeps; returns the counts."""
    raised = sweep_all()
    # Counts only (no case titles or names: logs carry no personal data). Quiet when nothing was due.
    log.log(
        logging.INFO if any(raised.values()) else logging.DEBUG,
        "deadline sweep: %s",
        ", ".join(f"{action}={count}" for action, count in raised.items()),
    )
    return raised
