"""`manage.py rebuild_dispatch_choices`: recompute the routing roll-up from the step log."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from pingan.events.routing import rebuild_choices


class Command(BaseCommand):
    help = "Recompute the dispatch-choice roll-up that routing suggestions learn from (after bulk loads)."

    def handle(self, *args, **options):
        rows = rebuild_choices()
        self.stdout.write(self.style.SUCCESS(f"dispatch choices: {rows} rows"))
