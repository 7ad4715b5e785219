"""`pingan manage rebuild_rollups [--since YYYY-MM-DD]`: recompute the indicator roll-ups from the step log.

The roll-ups are kept current by every transition (pingan.cases.rollups.apply); run this after
loading history in bulk, after restoring a backup, or if a check finds them out of step. It
deletes the rows (all, or from the month of --since on) and re-inserts them with one
INSERT … SELECT … GROUP BY per grain, in one transaction.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pingan.cases import rollups


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--since: expected a date YYYY-MM-DD, got {value!r}") from exc


class Command(BaseCommand):
    help = "Recompute the indicator roll-ups (cases_caserollup) from the case step log."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since",
            type=str,
            default=None,
            help="only months from this date's month on (YYYY-MM-DD, Asia/Shanghai); default: everything",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        since = _date(options["since"]) if options["since"] else None
        started = time.monotonic()
        written = rollups.rebuild(since)
        scope = f"from {since.replace(day=1)}" if since else "all"
        self.stdout.write(f"rebuilt roll-ups ({scope}): {written} rows in {time.monotonic() - started:.1f} s")
