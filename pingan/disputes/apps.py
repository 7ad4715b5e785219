from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisputesConfig(AppConfig):
    name = "pingan.disputes"
    label = "disputes"
    verbose_name = _("矛盾纠纷")

    def ready(self) -> None:
        from pingan.cases.sweep import also_sweep
        from pingan.core.calendar import local_zone
        from pingan.disputes import (
            confirmation,
            kind,  # noqa: F401  registers the "dispute" case kind
        )

        # 司法确认: agreements whose 30-day window passed without a joint application lapse.
        also_sweep(
            "confirmations_lapsed", lambda now: confirmation.lapse_due(now.astimezone(local_zone()).date())
        )
