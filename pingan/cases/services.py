"""The only code that changes cases (ARCHITECTURE principle 2).

`register` opens a case; `transition` applies any action of the case's kind: it checks the
action against the kind's table, the actor's role, unit and scope, and the version the
client saw (optimistic locking), then changes the case, appends a step, updates the
roll-ups and queues notifications — all in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError  # noqa: F401  PermissionDenied: raised via permissions
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.accounts.models import Unit
from pingan.cases import deadlines, kinds, permissions, rollups
from pingan.cases.choices import Action, Channel, Status, Supervision, Tier
from pingan.cases.models import Case, CaseSequence, Step
from pingan.core import calendar
from pingan.core.notify import notify
from pingan.geo.models import Jurisdiction

# The fields a transition may change; written together under the version check.
MUTABLE_FIELDS = (
    "status",
    "unit",
    "tier",
    "dispatched_at",
    "deadline_at",
    "warn_at",
    "red_at",
    "handled_at",
    "closed_at",
    "supervision",
    "extension_count",
    "extension_pending",
    "rework_count",
    "return_count",
    "satisfaction",
    "merged_into",
    "data",
)


class CaseError(Exception):
    """A refused change, with a message for the user."""

    status_code = 409

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IllegalTransition(CaseError):
    """The action is not allowed from the case's current status."""


class VersionConflict(CaseError):
    """Someone else changed the case since the client read it."""


@dataclass
class Change:
    """What one action does, gathered before anything is written."""

    note: str = ""
    unit: Unit | None = None
    data: dict[str, Any] = field(default_factory=dict)
    notify_units: list[Unit] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Numbers


def next_number(area_code: str, at: datetime) -> str:
    """County code + local date + daily sequence: 330881-20261128-00012 (一事一编码).

    One statement takes the next number, also for the first case of a day and under
    concurrent registrations; the counter row stays locked until the registration commits,
    so numbers have no gaps.
    """
    prefix = f"{area_code[:6]}-{timezone.localtime(at):%Y%m%d}"
    table = connection.ops.quote_name(CaseSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (prefix, last) VALUES (%s, 1) "
            f"ON CONFLICT (prefix) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [prefix],
        )
        (last,) = cursor.fetchone()
    return f"{prefix}-{last:05d}"


# ---------------------------------------------------------------------------------------------
# Register


def register(
    kind: str,
    *,
    actor: Any,
    title: str,
    jurisdiction: Jurisdiction,
    channel: Channel | str,
    description: str = "",
    lat: float | None = None,
    lon: float | None = None,
    address: str = "",
    requester: Any = None,
    policy: kinds.DeadlinePolicy | None = None,
    tier: Tier | int = Tier.TOWNSHIP,
    data: dict | None = None,
    at: datetime | None = None,
    solved_on_spot: bool = False,
) -> Case:
    """Open a case (登记). ``solved_on_spot`` registers and closes in one step (就地解决)."""
    case_kind = kinds.get(kind)
    policy = policy or case_kind.default_policy
    at = at or timezone.now()
    if not title.strip():
        raise ValidationError({"title": [_("标题不能为空")]})
    # No savepoint: a failure anywhere in a registration fails the caller's whole transaction.
    with transaction.atomic(savepoint=False):
        case = Case(
            kind=kind,
            title=title.strip()[:200],
            description=description,
            channel=channel,
            jurisdiction=jurisdiction,
            area_code=jurisdiction.code,
            lat=lat,
            lon=lon,
            address=address[:200],
            requester=requester,
            reporter=actor if getattr(actor, "is_authenticated", False) else None,
            deadline_unit=policy.unit,
            deadline_amount=policy.amount,
            registered_at=at,
            tier=tier,
            data=data or {},
        )
        case.number = next_number(jurisdiction.code, at)
        action = Action.REGISTER
        if solved_on_spot:
            case.status, case.handled_at, case.closed_at = Status.CLOSED, at, at
            action = Action.SOLVE_ON_SPOT
        case.save()
        step = _append_step(case, action, "", case.status, actor, at, Change())
        rollups.apply(case, step, previous=None)
        kinds.run_hooks(case, step)
    return case


# ---------------------------------------------------------------------------------------------
# Transition


def transition(
    case: Case,
    action: Action | str,
    *,
    actor: Any,
    version: int | None = None,
    note: str = "",
    at: datetime | None = None,
    step_data: dict[str, Any] | None = None,
    **params: Any,
) -> Case:
    """Apply ``action`` to ``case``; see the module docstring. Returns the updated case.

    ``version`` is the version the client saw; a mismatch raises VersionConflict.
    ``params`` are the action's inputs (unit, units, amount, satisfaction, tier, target …).
    ``step_data`` are facts a kind keeps on the step (e.g. a dispute's mediation outcome).
    """
    action = Action(action)
    at = at or timezone.now()
    rule = kinds.get(case.kind).transition_for(action)
    if rule is None:
        raise IllegalTransition(_("该类事项没有「%(action)s」这一步") % {"action": action.label})
    _check_actor(case, rule, actor)
    if case.status not in rule.sources:
        raise IllegalTransition(
            _("案件当前为「%(status)s」，不能「%(action)s」")
            % {"status": Status(case.status).label, "action": action.label}
        )
    if version is not None and version != case.version:
        raise VersionConflict(_("该案件已被他人修改，请刷新后重试"))
    if rule.note_required and not note.strip():
        raise ValidationError({"note": [_("「%(action)s」须填写意见或理由") % {"action": action.label}]})
    change = Change(note=note.strip(), data=dict(step_data or {}))
    with transaction.atomic():
        previous = _snapshot(case)
        EFFECTS.get(action, _no_effect)(case, change, at, params)
        if rule.target is not None:
            case.status = rule.target
        _save_versioned(case, previous["version"])
        step = _append_step(case, action, previous["status"], case.status, actor, at, change)
        _save_cohandlers(case, params.get("units") if action == Action.ADD_COHANDLER else None)
        rollups.apply(case, step, previous=previous)
        kinds.run_hooks(case, step)
        _notify(case, step, change)
    return case


def check_generic_action(case: Case, action: Action | str) -> None:
    """Refuse, on the generic case page and API, an action the case's kind takes on its own pages."""
    kind = kinds.get(case.kind)
    if action in kind.own_actions:
        raise IllegalTransition(
            _("「%(action)s」请在%(kind)s页面办理") % {"action": Action(action).label, "kind": kind.label}
        )


def _check_actor(case: Case, rule: kinds.Transition, actor: Any) -> None:
    # The same predicate decides which actions the API and pages offer (permissions.allowed_actions).
    permissions.check_actor(case, rule, actor)


def _snapshot(case: Case) -> dict[str, Any]:
    return {
        "version": case.version,
        "status": case.status,
        "unit_id": case.unit_id,
        "supervision": case.supervision,
        "deadline_at": case.deadline_at,
    }


def _save_versioned(case: Case, expected: int) -> None:
    values = {name: getattr(case, name) for name in MUTABLE_FIELDS}
    if not Case.objects.filter(pk=case.pk, version=expected).update(**values, version=expected + 1):
        raise VersionConflict(_("该案件已被他人修改，请刷新后重试"))
    case.version = expected + 1


def _append_step(
    case: Case, action: str, source: str, target: str, actor: Any, at: datetime, change: Change
) -> Step:
    return Step.objects.create(
        case=case,
        action=action,
        from_status=source,
        to_status=target,
        at=at,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        unit=change.unit or case.unit,
        note=change.note,
        data=change.data,
    )


def _save_cohandlers(case: Case, units: Iterable[Unit] | None) -> None:
    if units:
        case.cohandlers.add(*units)


def _notify(case: Case, step: Step, change: Change) -> None:
    if not change.notify_units:
        return
    text = _("%(number)s %(action)s：%(title)s") % {
        "number": case.number,
        "action": step.get_action_display(),
        "title": case.title[:60],
    }
    notify(text, units=change.notify_units, link=f"/cases/{case.pk}/", source=case)


# ---------------------------------------------------------------------------------------------
# What each action does to the case (validated inputs; nothing written here)

Effect = Callable[[Case, Change, datetime, dict[str, Any]], None]


def _no_effect(case: Case, change: Change, at: datetime, params: dict[str, Any]) -> None:
    return None


def _unit_param(params: dict[str, Any], field_name: str = "unit") -> Unit:
    unit = params.get(field_name)
    if not isinstance(unit, Unit):
        raise ValidationError({field_name: [_("请选择责任单位")]})
    return unit


def _start_clock(case: Case, unit: Unit, at: datetime) -> None:
    """The clock starts at dispatch (DOMAIN §2) and restarts when a new unit receives the case."""
    try:
        clock = deadlines.clock(at, case.deadline_unit, case.deadline_amount)
    except calendar.CalendarUnknownYear as exc:
        raise ValidationError({"deadline": [str(exc)]}) from exc
    case.unit, case.dispatched_at = unit, at
    case.deadline_at, case.warn_at, case.red_at = clock.deadline, clock.warn_at, clock.red_at
    case.supervision = Supervision.NONE
    case.extension_pending = False


def _dispatch(case: Case, change: Change, at: datetime, params: dict[str, Any]) -> None:
    unit = _unit_param(params)
    _start_clock(case, unit, at)
    change.unit, change.notify_units = unit, [unit]
    if params.get("suggested_unit_id"):
        change.data["suggested_unit_id"] = params["suggested_unit_id"]


def _transfer(case: Case, change: Change, at: datetime, params: dict[str, Any]) -> None:
    unit = _unit_param(params)
    if unit.pk == case.unit_id:
        raise ValidationError({"unit": [_("转办单位不能是当前责任单位")]})
    change.data["from_unit_id"] = case.unit_id
    _dispatch(case, change, at, params)


def _return(case: Case, change: Change, at: datetime, params: dict[str, Any]) -> None:
    """退回: the unit does not own the matter; the dispatcher re-routes it, the clock stops."""
    change.unit = case.unit
    case.return_count += 1
    case.unit = None
    case.deadline_at = case.warn_at = case.red_at = None
    case.supervision = Supervision.NONE


def _report(case: Case, change: Change, at: datetime, params: dict[str, Any]) -> None:
    case.handled_at = at


def _close(case: Case, change: Change, at: datetime, params: dict[str, Any]) -> None:
    case.closed_at = at
    change.data["on_time"] = case.deadline_at is None or (case.handled_at or at) <= case.deadline_at


def _rework(case: Case, change: Change, at: datetime, params: dict[str, Any]) -> None:
    """返工: verification failed; back to the same unit, counted as a case and as a time."""
    case.rework_count += 1
    case.handled_at = None
    change.notify_units = [case.unit] if case.unit else []


def _evaluate(case: Case, change: Change, at: datetime, params: dict[str, Any]) -> None:
    score = params.get("satisfaction")
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationError({"satisfaction": [_("满意度须为 1–5 的整数")]})
    case.satisfaction = score
    change.data.update(satisfaction=score, by=params.get("by", "requester"))


def _amount(params: dict[str, Any]) -> Decimal:
    try:
        amount = Decimal(str(params.get("amount")))
    except (InvalidOperation, TypeError):
        amount = Decimal(0)
    if amount <= 0 or amount > 365:
        raise ValidationError({"amount": [_("延期时长须为大于 0 的数")]})
    return amount


def _request_extension(case: Case, change: Change, at: datetime, params: dict[str, Any]) -> None:
    if case.extension_pending:
        raise ValidationError({"amount": [_("已有待批的延期申请")]})
    case.extension_pending = True
    case.data = {**case.data, "extension_request": str(_amount(params))}
    change.data["amount"] = case.data["extension_request"]


def _approve_extension(case: Case, change: Change, at: datetime, params: dict[str, Any]) -> None:
    if not case.extension_pending or case.deadline_at is None:
        raise ValidationError({"amount": [_("没有待批的延期申请")]})
    amount = Decimal(params.get("amount") or case.data.get("extension_request", "0"))
    start = case.dispatched_at or at
    try:
        case.deadline_at = deadlines.extended(case.deadline_at, case.deadline_unit, amount)
    except calendar.CalendarUnknownYear as exc:
        raise ValidationError({"amount": [str(exc)]}) from exc
    allowed = case.deadline_at - start
    from django.conf import settings

    case.warn_at = start + allowed * settings.CASE_WARN_SHARE
    case.red_at = case.deadline_at + allowed * settings.CASE_RED_SHARE
    case.extension_count += 1
    case.extension_pending = False
    case.data = {k: v for k, v in case.data.items() if k != "extension_request"}
    change.data.update(amount=str(amount), deadline=case.deadline_at.isoformat())
    change.notify_units = [case.unit] if case.unit else []


def _reject_extension(case: Case, change: Change, at: datetime, params: dict[str, Any]) -> None:
    if not case.extension_pending:
        raise ValidationError({"note": [_("没有待批的延期申请")]})
    case.extension_pending = False
    case.data = {k: v for k, v in case.data.items() if k != "extension_request"}
    change.notify_units = [case.unit] if case.unit else []


def _add_cohandler(case: Case, change: Change, at: datetime, params: dict[str, Any]) -> None:
    units = params.get("units") or []
    if not units or not all(isinstance(u, Unit) for u in units):
        raise ValidationError({"units": [_("请选择协办单位")]})
    change.data["unit_ids"] = [u.pk for u in units]
    change.notify_units = list(units)


def _escalate(case: Case, change: Change, at: datetime, params: dict[str, Any]) -> None:
    """提级 (DOMAIN §1 tiering): the next tier takes the matter back to its desk."""
    target = int(params.get("tier") or case.tier + 1)
    if target <= case.tier or target > Tier.CITY:
        raise ValidationError({"tier": [_("只能提级到更高的层级")]})
    change.data.update(from_tier=case.tier, to_tier=target)
    case.tier = target
    change.unit = case.unit
    case.status = Status.REGISTERED
    case.unit = None
    case.deadline_at = case.warn_at = case.red_at = None


def _raise_supervision(level: Supervision) -> Effect:
    def effect(case: Case, change: Change, at: datetime, params: dict[str, Any]) -> None:
        case.supervision = max(case.supervision, level)
        change.notify_units = [case.unit] if case.unit else []
        change.data["level"] = int(level)

    return effect


def _merge(case: Case, change: Change, at: datetime, params: dict[str, Any]) -> None:
    target = params.get("target")
    if not isinstance(target, Case) or target.pk == case.pk or target.kind != case.kind:
        raise ValidationError({"target": [_("请选择要并入的同类案件")]})
    if target.merged_into_id is not None or target.status == Status.CANCELLED:
        raise ValidationError({"target": [_("不能并入已注销或已合并的案件")]})
    case.merged_into = target
    change.data["target"] = target.number


EFFECTS: dict[str, Effect] = {
    Action.DISPATCH: _dispatch,
    Action.TRANSFER: _transfer,
    Action.RETURN: _return,
    Action.REPORT: _report,
    Action.CLOSE: _close,
    Action.REWORK: _rework,
    Action.EVALUATE: _evaluate,
    Action.REQUEST_EXTENSION: _request_extension,
    Action.APPROVE_EXTENSION: _approve_extension,
    Action.REJECT_EXTENSION: _reject_extension,
    Action.ADD_COHANDLER: _add_cohandler,
    Action.ESCALATE: _escalate,
    Action.SUPERVISE: _raise_supervision(Supervision.NORMAL),
    Action.WARN: _raise_supervision(Supervision.WARNING),
    Action.YELLOW_CARD: _raise_supervision(Supervision.YELLOW),
    Action.RED_CARD: _raise_supervision(Supervision.RED),
    Action.MERGE: _merge,
}
