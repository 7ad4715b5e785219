"""Who may take which action on a case: one predicate for the write gate and for the offer.

``services.transition`` refuses an action through ``check_actor``; the API and pages offer
the actions that ``allowed_actions`` lists. Both ask ``refusal``, so a button is shown
exactly when the service would accept the actor (ARCHITECTURE principle 2: checked in one place).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from pingan.cases import kinds
from pingan.cases.choices import Action
from pingan.cases.models import Case
from pingan.core.scoping import in_scope, scope_unit_ids, visible_to


class ActorFacts:
    """What the check needs to know about one case and one actor, each looked up at most once."""

    def __init__(self, case: Case, actor: Any) -> None:
        self.case = case
        self.actor = actor

    @cached_property
    def case_unit_ids(self) -> set[int | None]:
        """The responsible unit and the co-handling units (协办)."""
        return {self.case.unit_id, *self.case.cohandlers.values_list("id", flat=True)}

    @cached_property
    def sees_case(self) -> bool:
        """Whether the case lies in the actor's scope: the scoping rule answered in Python for
        the area and the responsible unit; only a co-handled case asks the database."""
        if in_scope(self.actor, self.case.area_code) or self.case.unit_id in scope_unit_ids(self.actor):
            return True
        return visible_to(Case.objects.filter(pk=self.case.pk), self.actor).exists()


def refusal(case: Case, rule: kinds.Transition, actor: Any, facts: ActorFacts | None = None) -> str | None:
    """Why ``actor`` may not take ``rule`` on ``case`` (a message for the user), or None if allowed.

    ``actor`` None is the system (the sweep and rules). The case's status is not checked here:
    that is an illegal transition, not a permission question.
    """
    if actor is None:  # the sweep and rules act as the system
        return _("该操作须由用户执行") if rule.roles else None
    if not rule.roles:
        return _("该操作只能由系统执行")
    if actor.is_superuser:
        return None
    if actor.role not in rule.roles:
        return _("您的角色不能执行该操作")
    facts = facts or ActorFacts(case, actor)
    if rule.by_unit:
        # 签收, 退回, 反馈 …: only the responsible unit or a co-handling unit.
        if actor.unit_id is None or actor.unit_id not in facts.case_unit_ids:
            return _("该案件不在您单位的待办中")
    elif not facts.sees_case:
        return _("该案件不在您的管辖范围内")
    return None


def check_actor(case: Case, rule: kinds.Transition, actor: Any) -> None:
    """Raise PermissionDenied when ``refusal`` names a reason (used by services.transition)."""
    reason = refusal(case, rule, actor)
    if reason is not None:
        raise PermissionDenied(reason)


def _state_allows(case: Case, action: str) -> bool:
    """Preconditions that services enforce as validation errors, so the offer hides them too."""
    if action == Action.REQUEST_EXTENSION:
        return not case.extension_pending
    if action in (Action.APPROVE_EXTENSION, Action.REJECT_EXTENSION):
        return case.extension_pending
    return True


def allowed_actions(case: Case, user: Any) -> list[Action]:
    """The actions ``user`` may take on ``case`` now, in the order of the kind's table.

    From the kind's transition table: the case's status must be a source, ``refusal`` must
    find nothing (role, unit membership, scope), and a pending extension decides between
    requesting one and approving/rejecting it. System actions (预警, 黄牌, 红牌) never appear.
    """
    try:
        table = kinds.get(case.kind).transitions
    except LookupError:
        return []
    facts = ActorFacts(case, user)
    return [
        Action(rule.action)
        for rule in table.values()
        if case.status in rule.sources
        and _state_allows(case, rule.action)
        and user is not None
        and refusal(case, rule, user, facts) is None
    ]
