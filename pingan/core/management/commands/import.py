"""`pingan import KIND FILE`: validate the whole file, report every bad row, write all or nothing."""

from __future__ import annotations

import importlib

from django.core.management.base import BaseCommand, CommandError

from pingan.core.importing import ImportFailed

# kind → "module:function"; each function takes (path) and returns a one-line summary.
IMPORTERS = {
    "jurisdictions": "pingan.geo.importer:import_jurisdictions",
    "calendar": "pingan.core.calendar:import_calendar",
    "events": "pingan.events.catalogue:import_catalogue",
}


class Command(BaseCommand):
    help = "Import reference data: " + ", ".join(IMPORTERS)

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(IMPORTERS))
        parser.add_argument("file")

    def handle(self, *args, kind: str, file: str, **options):
        module_name, func_name = IMPORTERS[kind].split(":")
        importer = getattr(importlib.import_module(module_name), func_name)
        try:
            summary = importer(file)
        except FileNotFoundError as exc:
            raise CommandError(f"file not found: {file}") from exc
        except ImportFailed as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(exc.errors)} error(s); nothing was imported") from exc
        self.stdout.write(self.style.SUCCESS(summary))
