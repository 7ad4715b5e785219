"""The deadline sweep (督办扫描): 预警 before the deadline, 黄牌 when overdue, 红牌 beyond the margin.

Each is raised exactly once per case: a case is claimed with a conditional UPDATE
(``supervision < level``), so two sweeps running at once never raise the same card twice
(STYLE §4). Each raise appends a step and notifies the unit and the area's supervisors.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.accounts.choices import Role
from pingan.accounts.models import User
from pingan.cases import kinds, rollups
from pingan.cases.choices import CLOCK_STATUSES, Action, Supervision
from pingan.cases.models import Case, Step
from pingan.core.notify import notify
from pingan.core.scoping import covering_codes

# (action, level, the moment field that makes it due), in order of severity.
STAGES = (
    (Action.WARN, Supervision.WARNING, "warn_at"),
    (Action.YELLOW_CARD, Supervision.YELLOW, "deadline_at"),
    (Action.RED_CARD, Supervision.RED, "red_at"),
)
BATCH = 1000

# Other periodic deadline work of the domain apps (e.g. judicial-confirmation windows that
# lapse), run by the same job right after the cards: name → function(now) → how many it changed.
# An app adds its own in AppConfig.ready() with ``also_sweep``; each must be safe to run twice.
PeriodicSweep = Callable[[datetime], int]
_also: dict[str, PeriodicSweep] = {}


def also_sweep(name: str, run: PeriodicSweep) -> None:
    _also[name] = run


def sweep_all(now: datetime | None = None) -> dict[str, int]:
    """The cards (``sweep``) and then every registered domain sweep."""
    now = now or timezone.now()
    return {**sweep(now), **{name: run(now) for name, run in _also.items()}}


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Raise every due warning and card; returns how many of each this run raised."""
    now = now or timezone.now()
    raised = {}
    for action, level, moment in STAGES:
        due = Case.objects.filter(
            status__in=CLOCK_STATUSES, supervision__lt=level, **{f"{moment}__lte": now}
        ).values_list("pk", flat=True)
        count = 0
        # Raised cases leave the query (their level rises), so each batch is the next one.
        while batch := list(due.order_by(moment)[:BATCH]):
            count += sum(_raise(pk, action, level, now) for pk in batch)
        raised[str(action)] = count
    return raised


def _raise(pk: int, action: Action, level: Supervision, now: datetime) -> int:
    with transaction.atomic():
        claimed = Case.objects.filter(pk=pk, status__in=CLOCK_STATUSES, supervision__lt=level).update(
            supervision=level, version=F("version") + 1
        )
        if not claimed:
            return 0  # another sweep (or a transition) got there first
        case = Case.objects.select_related("unit").get(pk=pk)
        step = Step.objects.create(
            case=case,
            action=action,
            from_status=case.status,
            to_status=case.status,
            at=now,
            unit=case.unit,
            data={
                "level": int(level),
                "deadline": case.deadline_at.isoformat() if case.deadline_at else None,
            },
        )
        rollups.apply(case, step, previous=None)
        kinds.run_hooks(case, step)
        text = _("%(level)s %(number)s：%(title)s（期限 %(deadline)s）") % {
            "level": Supervision(level).label,
            "number": case.number,
            "title": case.title[:60],
            "deadline": timezone.localtime(case.deadline_at).strftime("%Y-%m-%d %H:%M"),
        }
        notify(text, units=[case.unit], users=supervisors_of(case), link=f"/cases/{case.pk}/", source=case)
    return 1


def supervisors_of(case: Case) -> list[User]:
    """督办员 whose scope covers the case's area."""
    return list(
        User.objects.filter(
            role=Role.SUPERVISOR, is_active=True, scope_jurisdictions__code__in=covering_codes(case.area_code)
        ).distinct()
    )
