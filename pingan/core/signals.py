"""Keep the in-process calendar cache in step with the working-day table."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from pingan.core.models import WorkingDay


@receiver([post_save, post_delete], sender=WorkingDay)
def _calendar_changed(sender, **kwargs) -> None:
    from pingan.core import calendar

    calendar.invalidate()
