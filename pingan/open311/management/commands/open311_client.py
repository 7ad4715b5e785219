"""`pingan manage open311_client NAME --jurisdiction CODE`: register an Open311 client, print its key.

The key is printed once and stored only as a keyed hash. ``--rotate`` gives an existing client
a new key (the old one stops working at once), e.g. after PINGAN_BLIND_INDEX_KEY changed.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pingan.geo.models import Jurisdiction
from pingan.open311 import services
from pingan.open311.models import ApiClient


class Command(BaseCommand):
    help = "Register an Open311 GeoReport v2 client (or re-issue its key) and print the api_key once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the client's name, e.g. 衢州城市通")
        parser.add_argument(
            "--jurisdiction",
            help="code of the jurisdiction it may file into (default: this installation's own)",
        )
        parser.add_argument("--rotate", action="store_true", help="issue a new key for an existing client")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"].strip()
        try:
            if options["rotate"]:
                client = ApiClient.objects.filter(name=name).first()
                if client is None:
                    raise CommandError(f"no Open311 client named {name!r}")
                key = services.issue_key(client)
            else:
                client, key = services.create_client(name=name, jurisdiction=self._jurisdiction(options))
        except ValidationError as exc:
            problems = "; ".join(f"{f}: {', '.join(m)}" for f, m in exc.message_dict.items())
            raise CommandError(problems) from exc
        self.stderr.write(
            f"Open311 client {client.name!r} (jurisdiction {client.jurisdiction.code}); "
            "the api_key below is shown this once:"
        )
        self.stdout.write(key)

    def _jurisdiction(self, options: dict[str, Any]) -> Jurisdiction:
        from django.conf import settings

        code = (options["jurisdiction"] or settings.INSTANCE_CODE).strip()
        found = Jurisdiction.objects.filter(code=code).first()
        if found is None:
            raise CommandError(f"--jurisdiction: no jurisdiction with code {code!r}")
        return found
