"""The "event" case kind (事件): the common loop, deadline from the category."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from pingan.cases import kinds
from pingan.cases.choices import DeadlineUnit

EVENT = kinds.register(
    kinds.CaseKind(
        key="event",
        label=_("事件"),
        transitions=kinds.COMMON_LOOP,
        default_policy=kinds.DeadlinePolicy(DeadlineUnit.WORKING_DAYS, Decimal(5)),
    )
)
