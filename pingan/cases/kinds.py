"""Case kinds: each kind of matter declares its transitions as data (ARCHITECTURE principle 2).

A domain app registers its kind in its AppConfig.ready():

    register(CaseKind(key="event", label=_("事件"), transitions=COMMON_LOOP, policy=...))

pingan.cases.services.transition checks every state change against the kind's table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pingan.accounts.choices import Role
from pingan.cases.choices import Action, DeadlineUnit, Status

if TYPE_CHECKING:
    from pingan.cases.models import Case, Step

S = Status
R = Role
OFFICE = (R.DISPATCHER, R.SUPERVISOR, R.LEADER, R.ADMIN)
UNIT = (R.HANDLER, R.MEDIATOR)
ANYONE = tuple(Role)
SYSTEM = ()  # raised by the sweep or by rules, never by a person


@dataclass(frozen=True)
class Transition:
    """``action`` may be taken from any of ``sources``; ``target`` None keeps the status."""

    action: Action
    sources: tuple[str, ...]
    target: str | None
    roles: tuple[str, ...]
    # The actor must belong to the case's unit (or a co-handling unit): 签收, 退回, 反馈 …
    by_unit: bool = False
    note_required: bool = False


@dataclass(frozen=True)
class DeadlinePolicy:
    """How long the responsible unit has, from dispatch (DOMAIN §2)."""

    unit: DeadlineUnit
    amount: Decimal


Hook = Callable[["Case", "Step"], None]


@dataclass
class CaseKind:
    """A kind of matter: its label, transitions, default deadline and hooks per action."""

    key: str
    label: Any
    transitions: dict[str, Transition]
    default_policy: DeadlinePolicy
    hooks: dict[str, list[Hook]] = field(default_factory=dict)
    # Actions the kind's own pages take through its own services (a dispute's outcome is
    # recorded with its agreement, not as a bare 处置反馈): the generic case page and API do
    # not offer them, and refuse them with a pointer to ``own_page`` (a URL name taking pk).
    own_actions: frozenset[str] = frozenset()
    own_page: str = ""

    def transition_for(self, action: str) -> Transition | None:
        return self.transitions.get(action)

    def on(self, action: str, hook: Hook) -> None:
        self.hooks.setdefault(action, []).append(hook)


def table(transitions: Iterable[Transition]) -> dict[str, Transition]:
    return {t.action: t for t in transitions}


# The common loop (GB/T 30428 / CJJ/T 106): register → dispatch → accept | return → handle
# → report back → verify → close | rework → evaluate; with extension, parking, transfer,
# co-handling, escalation and supervision.
OPEN = (S.REGISTERED, S.DISPATCHED, S.RETURNED, S.HANDLING, S.REPORTED)
COMMON_LOOP = table(
    [
        Transition(Action.CANCEL, (S.REGISTERED, S.RETURNED), S.CANCELLED, OFFICE, note_required=True),
        Transition(Action.DISPATCH, (S.REGISTERED, S.RETURNED), S.DISPATCHED, OFFICE),
        Transition(Action.ACCEPT, (S.DISPATCHED,), S.HANDLING, UNIT, by_unit=True),
        # 退回: a unit that does not own the matter returns it with reasons.
        Transition(
            Action.RETURN, (S.DISPATCHED, S.HANDLING), S.RETURNED, UNIT, by_unit=True, note_required=True
        ),
        Transition(Action.REPORT, (S.HANDLING,), S.REPORTED, UNIT, by_unit=True, note_required=True),
        Transition(Action.CLOSE, (S.REPORTED,), S.CLOSED, OFFICE),
        # 返工: verification failed; back to the same unit, its clock keeps running.
        Transition(Action.REWORK, (S.REPORTED,), S.HANDLING, OFFICE, note_required=True),
        Transition(Action.EVALUATE, (S.CLOSED,), None, ANYONE),
        Transition(
            Action.REQUEST_EXTENSION, (S.DISPATCHED, S.HANDLING), None, UNIT, by_unit=True, note_required=True
        ),
        Transition(Action.APPROVE_EXTENSION, (S.DISPATCHED, S.HANDLING), None, OFFICE),
        Transition(Action.REJECT_EXTENSION, (S.DISPATCHED, S.HANDLING), None, OFFICE, note_required=True),
        # 挂账: cannot be solved in time even extended; needs a written reason.
        Transition(Action.PARK, (S.DISPATCHED, S.HANDLING, S.RETURNED), S.PARKED, OFFICE, note_required=True),
        Transition(Action.UNPARK, (S.PARKED,), S.HANDLING, OFFICE, note_required=True),
        Transition(Action.TRANSFER, (S.DISPATCHED, S.HANDLING), S.DISPATCHED, OFFICE, note_required=True),
        Transition(Action.ADD_COHANDLER, (S.DISPATCHED, S.HANDLING), None, OFFICE),
        Transition(Action.ESCALATE, OPEN, None, OFFICE, note_required=True),
        Transition(
            Action.SUPERVISE,
            (S.DISPATCHED, S.HANDLING, S.RETURNED, S.REPORTED),
            None,
            (R.SUPERVISOR, R.LEADER, R.ADMIN),
            note_required=True,
        ),
        Transition(Action.WARN, (S.DISPATCHED, S.HANDLING), None, SYSTEM),
        Transition(Action.YELLOW_CARD, (S.DISPATCHED, S.HANDLING), None, SYSTEM),
        Transition(Action.RED_CARD, (S.DISPATCHED, S.HANDLING), None, SYSTEM),
        Transition(Action.MERGE, (S.REGISTERED, S.RETURNED), S.CANCELLED, OFFICE),
        Transition(Action.COMMENT, tuple(Status), None, ANYONE),
    ]
)

_registry: dict[str, CaseKind] = {}


def register(kind: CaseKind) -> CaseKind:
    _registry[kind.key] = kind
    return kind


def get(key: str) -> CaseKind:
    try:
        return _registry[key]
    except KeyError:
        raise LookupError(f"unknown case kind {key!r}; registered: {sorted(_registry)}") from None


def all_kinds() -> list[CaseKind]:
    return list(_registry.values())


def run_hooks(case: Case, step: Step) -> None:
    for hook in get(case.kind).hooks.get(step.action, []):
        hook(case, step)
