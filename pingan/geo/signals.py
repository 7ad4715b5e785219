"""Keep the in-process locate index in step with the jurisdiction table."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from pingan.geo.models import Jurisdiction


@receiver([post_save, post_delete], sender=Jurisdiction)
def _jurisdictions_changed(sender, **kwargs) -> None:
    from pingan.geo import locate

    locate.invalidate()
