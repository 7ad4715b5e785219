"""The "event" case kind (事件): the common loop, deadline from the category.

Each event's deadline policy comes from its category (pingan.events.services.intake passes
it to register); ``default_policy`` only serves an event registered without one.
"""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from pingan.cases import kinds
from pingan.cases.choices import Action, DeadlineUnit

EVENT = kinds.register(
    kinds.CaseKind(
        key="event",
        label=_("事件"),
        transitions=kinds.COMMON_LOOP,
        default_policy=kinds.DeadlinePolicy(DeadlineUnit.WORKING_DAYS, Decimal(5)),
    )
)


def _inform_merged(case, step) -> None:  # type: ignore[no-untyped-def]
    from pingan.events.services import inform_merged

    inform_merged(case, step)


def _record_choice(case, step) -> None:  # type: ignore[no-untyped-def]
    from pingan.events.routing import record_choice

    record_choice(case, step)


# A merged case keeps its requester informed: when the case it was merged into closes.
EVENT.on(Action.CLOSE, _inform_merged)
# Every dispatch is a choice the routing suggestion learns from (pingan.events.routing).
EVENT.on(Action.DISPATCH, _record_choice)
