"""The "dispute" case kind (矛盾纠纷): the common loop, with mediation as the handling.

派遣 assigns the dispute to a mediation organisation (the case's unit); 签收 is the
organisation taking it; 处置反馈 records the outcome (success with an agreement, failure
or refusal with the legal routes told); 核查/结案 is the centre checking the outcome.
The deadline depends on where the dispute came from (``policy_for``).
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from pingan.cases import kinds
from pingan.cases.choices import Action, DeadlineUnit
from pingan.disputes.choices import Procedure, Referral, Source

# Time to mediate, counted from dispatch (DOMAIN §4): court referral by law; a 110 call's
# dispute "complex ones done in 5 days"; other disputes 30 days (local practice).
DEFAULT_POLICY = kinds.DeadlinePolicy(DeadlineUnit.CALENDAR_DAYS, Decimal(30))
POLICE_POLICY = kinds.DeadlinePolicy(DeadlineUnit.CALENDAR_DAYS, Decimal(5))
REFERRAL_DAYS = {
    (Referral.ASSIGNED, ""): 30,  # 诉前委派
    (Referral.ASSIGNED, Procedure.ORDINARY): 30,
    (Referral.ASSIGNED, Procedure.SUMMARY): 30,
    (Referral.ENTRUSTED, Procedure.ORDINARY): 15,  # 诉中委托，普通程序
    (Referral.ENTRUSTED, Procedure.SUMMARY): 7,  # 诉中委托，简易程序
}

DISPUTE = kinds.register(
    kinds.CaseKind(
        key="dispute",
        label=_("矛盾纠纷"),
        transitions=kinds.COMMON_LOOP,
        default_policy=DEFAULT_POLICY,
        # Assigned to a mediation organisation that takes the type, the outcome recorded with
        # its agreement or the legal routes told, escalated to a higher organisation: on the
        # dispute pages (pingan.disputes.services), not as bare steps of the case page.
        own_actions=frozenset({Action.DISPATCH, Action.REPORT, Action.ESCALATE, Action.TRANSFER}),
        own_page="disputes:detail",
    )
)


def referral_days(referral: str, procedure: str) -> int | None:
    """Days a court gives for a referred mediation, or None when the pair is not valid."""
    return REFERRAL_DAYS.get((Referral(referral), procedure))


def policy_for(source: str, referral: str = "", procedure: str = "") -> kinds.DeadlinePolicy:
    if referral:
        days = referral_days(referral, procedure)
        if days is not None:
            return kinds.DeadlinePolicy(DeadlineUnit.CALENDAR_DAYS, Decimal(days))
    if source == Source.POLICE_110:
        return POLICE_POLICY
    return DEFAULT_POLICY


def _call_fed_back(case, step) -> None:  # type: ignore[no-untyped-def]
    from pingan.disputes.linkage import on_dispute_reported

    on_dispute_reported(case, step)


def _result_to_court(case, step) -> None:  # type: ignore[no-untyped-def]
    from pingan.disputes.confirmation import on_dispute_closed

    on_dispute_closed(case, step)


# The mediation outcome (处置反馈) is the feedback of the 110 call it came from (警调联动).
DISPUTE.on(Action.REPORT, _call_fed_back)
# A court-referred dispute's result goes back to the court when it closes (诉调对接).
DISPUTE.on(Action.CLOSE, _result_to_court)
