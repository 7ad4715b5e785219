from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisputesConfig(AppConfig):
    name = "pingan.disputes"
    label = "disputes"
    verbose_name = _("矛盾纠纷")

    def ready(self) -> None:
        from pingan.disputes import kind  # noqa: F401  registers the "dispute" case kind
