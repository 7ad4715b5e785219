from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "pingan.events"
    label = "events"
    verbose_name = _("事件")

    def ready(self) -> None:
        from pingan.events import kind  # noqa: F401  registers the "event" case kind
