"""Roll-ups kept current on each transition (ARCHITECTURE principle 7: no dashboard scans cases).

Every step that counts adds to one row of counters in each of three grains of
``CaseRollup`` (one statement, one round trip):

    detail  local day   × unit × village (12-digit code) × kind × category
    day     local day   × unit × township (9 digits)     × kind
    month   local month × unit × township (9 digits)     × kind      (day = the 1st)

Indicator queries read whole months from ``month``, the days at either end of a range from
``day``, and ``detail`` only when a filter needs a village or a category
(pingan.cases.indicators). At 10 million cases a year of a whole city is a few tens of
thousands of ``month`` rows instead of a scan of the case table.

What each step counts (the row: the step's local day, ``step.unit`` or 0, the case's area,
kind and category ``case.data["category_id"]`` or 0):

    登记 register                 registered
    就地解决 solve_on_spot        registered, on_spot, closed, closed_on_time (no unit: 0)
    注销 cancel / 合并 merge      cancelled
    派遣 dispatch / 转办 transfer dispatched (the receiving unit)
    退回 return                   returned (the returning unit)
    处置反馈 report               handled; handled_on_time when at ≤ deadline_at
    核查通过结案 close            closed; closed_on_time when the step says on_time
                                  (handled by the deadline, pingan.cases.services._close)
    返工 rework                   reworks (times); reworked on a case's first rework
    批准延期 approve_extension    extensions
    挂账 park                     parked
    黄牌 / 红牌                   yellow_cards / red_cards
    评价 evaluate                 satisfaction_sum += score, satisfaction_count, satisfied (4–5)

Two counts are taken back when a later step undoes them, on the row they were added to:
a report (反馈) is taken back when the case leaves 待核查 by 返工 or 提级 (the matter was not
handled after all; the next report counts on its own day), and a case's earlier evaluation
is taken back when it is evaluated again (only the latest score counts).

Writes are ``INSERT … ON CONFLICT (key) DO UPDATE SET n = n + excluded.n`` (SQLite ≥ 3.24
and PostgreSQL): insert-if-missing and increment in one atomic statement, safe under
concurrent transitions, inside the transition's transaction so a rolled-back transition
leaves no count behind.

``rebuild`` recomputes every row from the step log with one INSERT … SELECT … GROUP BY per
grain (aggregated in SQL, never row by row), applying exactly the rules above, so that a
rebuild equals the incremental result (tests/cases/test_rollups.py proves it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.db import models as dj
from django.db.models import (
    DateField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Substr, TruncDate, TruncMonth

from pingan.cases.choices import Action, Grain, Status
from pingan.cases.models import ROLLUP_COUNTERS, ROLLUP_KEY, Case, CaseRollup, Step
from pingan.core.calendar import local_zone

# Where a case keeps its category (set by the kind at registration, e.g. events).
CATEGORY_KEY = "category_id"
VILLAGE_DIGITS = 12
TOWNSHIP_DIGITS = 9
# Leaving 待核查 by these takes the report back (the matter goes back to be handled).
RETRACTING = (Action.REWORK, Action.ESCALATE)
SATISFIED_FROM = 4  # scores 4–5 count as satisfied

Deltas = dict[str, int]


def local_day(moment: datetime) -> date:
    return moment.astimezone(local_zone()).date()


def category_of(case: Case) -> int:
    value = (case.data or {}).get(CATEGORY_KEY)
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        return 0


def _close_on_time(step: Step, case: Case) -> bool:
    if "on_time" in (step.data or {}):
        return bool(step.data["on_time"])
    return case.deadline_at is None or (case.handled_at is not None and case.handled_at <= case.deadline_at)


def _report_on_time(at: datetime, case: Case) -> bool:
    # A report that stands is never followed by a deadline change (from 待核查 only 结案 keeps
    # it), so the case's deadline now is the one in force when it was made.
    return case.deadline_at is None or at <= case.deadline_at


# ---------------------------------------------------------------------------------------------
# Incremental


def deltas_for(case: Case, step: Step) -> Deltas:
    """The counters one step adds to its own row (see the module docstring)."""
    action = step.action
    if action == Action.REGISTER:
        return {"registered": 1}
    if action == Action.SOLVE_ON_SPOT:
        return {"registered": 1, "on_spot": 1, "closed": 1, "closed_on_time": 1}
    if action in (Action.CANCEL, Action.MERGE):
        return {"cancelled": 1}
    if action in (Action.DISPATCH, Action.TRANSFER):
        return {"dispatched": 1}
    if action == Action.RETURN:
        return {"returned": 1}
    if action == Action.REPORT:
        return {"handled": 1, "handled_on_time": int(_report_on_time(step.at, case))}
    if action == Action.CLOSE:
        return {"closed": 1, "closed_on_time": int(_close_on_time(step, case))}
    if action == Action.REWORK:
        return {"reworks": 1, "reworked": int(case.rework_count == 1)}
    if action == Action.APPROVE_EXTENSION:
        return {"extensions": 1}
    if action == Action.PARK:
        return {"parked": 1}
    if action == Action.YELLOW_CARD:
        return {"yellow_cards": 1}
    if action == Action.RED_CARD:
        return {"red_cards": 1}
    if action == Action.EVALUATE:
        return _evaluation(case.satisfaction or step.data.get("satisfaction") or 0, 1)
    return {}


def _evaluation(score: int, sign: int) -> Deltas:
    return {
        "satisfaction_sum": sign * int(score),
        "satisfaction_count": sign,
        "satisfied": sign * int(int(score) >= SATISFIED_FROM),
    }


def apply(case: Case, step: Step, previous: dict | None) -> None:
    """Update the roll-up rows for one step (called inside the transition's transaction)."""
    deltas = deltas_for(case, step)
    if deltas:
        bump(case, step.unit_id, local_day(step.at), deltas)
    previous_status = (previous or {}).get("status")
    if step.action in RETRACTING and previous_status == Status.REPORTED:
        report = _last(case, step, Action.REPORT)
        if report is not None:
            # Take back what the report added: its deadline is the one before this step
            # (提级 clears it; nothing changes it between the report and this step).
            deadline = (previous or {}).get("deadline_at")
            on_time = deadline is None or report.at <= deadline
            bump(
                case, report.unit_id, local_day(report.at), {"handled": -1, "handled_on_time": -int(on_time)}
            )
    if step.action == Action.EVALUATE:
        earlier = _last(case, step, Action.EVALUATE)
        if earlier is not None:
            bump(
                case,
                earlier.unit_id,
                local_day(earlier.at),
                _evaluation(earlier.data.get("satisfaction", 0), -1),
            )


def _last(case: Case, step: Step, action: str) -> Step | None:
    return Step.objects.filter(case_id=case.pk, action=action, id__lt=step.pk).order_by("-id").first()


def bump(case: Case, unit_id: int | None, day: date, deltas: Deltas) -> None:
    """Add ``deltas`` to the case's rows of the three grains for ``day`` and ``unit_id``."""
    deltas = {name: n for name, n in deltas.items() if n}
    if not deltas:
        return
    area = case.area_code or ""
    keys = [
        (Grain.DETAIL, day, unit_id or 0, area[:VILLAGE_DIGITS], case.kind, category_of(case)),
        (Grain.DAY, day, unit_id or 0, area[:TOWNSHIP_DIGITS], case.kind, 0),
        (Grain.MONTH, day.replace(day=1), unit_id or 0, area[:TOWNSHIP_DIGITS], case.kind, 0),
    ]
    _upsert(keys, deltas)


def _upsert(keys: Iterable[tuple], deltas: Deltas) -> None:
    if connection.vendor not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"roll-ups need SQLite or PostgreSQL, not {connection.vendor}")
    qn = connection.ops.quote_name
    table = qn(CaseRollup._meta.db_table)
    names = list(deltas)
    columns = ", ".join(qn(c) for c in (*ROLLUP_KEY, *names))
    placeholders = "(" + ", ".join(["%s"] * (len(ROLLUP_KEY) + len(names))) + ")"
    params: list[Any] = []
    rows = []
    for grain, day, unit_id, area, kind, category in keys:
        rows.append(placeholders)
        params += [str(grain), connection.ops.adapt_datefield_value(day), unit_id, area, kind, category]
        params += [deltas[n] for n in names]
    updates = ", ".join(f"{qn(n)} = {table}.{qn(n)} + excluded.{qn(n)}" for n in names)
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES {', '.join(rows)} "
        f"ON CONFLICT ({', '.join(qn(c) for c in ROLLUP_KEY)}) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# ---------------------------------------------------------------------------------------------
# Rebuild from the step log


def _one(action: Any, condition: Q | None = None, value: Any = 1) -> Sum:
    """SUM of ``value`` over the steps of ``action`` (one or several) meeting ``condition``."""
    actions = list(action) if isinstance(action, tuple | list) else [action]
    q = Q(action__in=actions)
    if condition is not None:
        q &= condition
    return Sum(dj.Case(When(q, then=value), default=Value(0), output_field=IntegerField()))


def _counter_expressions() -> tuple[dict[str, Any], QuerySet]:
    """The SUM of each counter over the steps, and the subquery naming the step that took a
    report out of 待核查 (the rules of the module docstring, in SQL)."""
    same_case = {"case_id": OuterRef("case_id")}
    # The step that takes a report out of 待核查: 结案 keeps it, 返工/提级 take it back.
    leaves = (
        Step.objects.filter(**same_case, id__gt=OuterRef("id"), from_status=Status.REPORTED)
        .exclude(to_status=Status.REPORTED)
        .order_by("id")
        .values("action")[:1]
    )
    report_stands = Q(left_by__isnull=True) | ~Q(left_by__in=[str(a) for a in RETRACTING])
    report_on_time = Q(case__deadline_at__isnull=True) | Q(at__lte=F("case__deadline_at"))
    close_on_time = Q(data__on_time=True) | (
        ~Q(data__has_key="on_time")
        & (Q(case__deadline_at__isnull=True) | Q(case__handled_at__lte=F("case__deadline_at")))
    )
    first_rework = ~Exists(Step.objects.filter(**same_case, action=Action.REWORK, id__lt=OuterRef("id")))
    latest_evaluation = ~Exists(
        Step.objects.filter(**same_case, action=Action.EVALUATE, id__gt=OuterRef("id"))
    )
    score = Coalesce(F("case__satisfaction"), Value(0))
    return {
        "registered": _one((Action.REGISTER, Action.SOLVE_ON_SPOT)),
        "cancelled": _one((Action.CANCEL, Action.MERGE)),
        "on_spot": _one(Action.SOLVE_ON_SPOT),
        "dispatched": _one((Action.DISPATCH, Action.TRANSFER)),
        "returned": _one(Action.RETURN),
        "handled": _one(Action.REPORT, report_stands),
        "handled_on_time": _one(Action.REPORT, report_stands & report_on_time),
        "closed": _one((Action.CLOSE, Action.SOLVE_ON_SPOT)),
        "closed_on_time": _one(Action.SOLVE_ON_SPOT) + _one(Action.CLOSE, close_on_time),
        "reworks": _one(Action.REWORK),
        "reworked": _one(Action.REWORK, Q(first_rework)),
        "extensions": _one(Action.APPROVE_EXTENSION),
        "parked": _one(Action.PARK),
        "yellow_cards": _one(Action.YELLOW_CARD),
        "red_cards": _one(Action.RED_CARD),
        "satisfaction_sum": _one(Action.EVALUATE, Q(latest_evaluation), score),
        "satisfaction_count": _one(Action.EVALUATE, Q(latest_evaluation)),
        "satisfied": _one(Action.EVALUATE, Q(latest_evaluation) & Q(case__satisfaction__gte=SATISFIED_FROM)),
    }, leaves


COUNTED_ACTIONS = [
    Action.REGISTER,
    Action.SOLVE_ON_SPOT,
    Action.CANCEL,
    Action.MERGE,
    Action.DISPATCH,
    Action.TRANSFER,
    Action.RETURN,
    Action.REPORT,
    Action.CLOSE,
    Action.REWORK,
    Action.APPROVE_EXTENSION,
    Action.PARK,
    Action.YELLOW_CARD,
    Action.RED_CARD,
    Action.EVALUATE,
]


def grain_queryset(grain: Grain, since: datetime | None = None) -> QuerySet:
    """One grain's rows, aggregated from the step log in SQL (the SELECT of the rebuild)."""
    zone = local_zone()
    counters, leaves = _counter_expressions()
    steps = Step.objects.filter(action__in=COUNTED_ACTIONS)
    if since is not None:
        steps = steps.filter(at__gte=since)
    day: Any
    if grain == Grain.MONTH:
        day = TruncMonth("at", tzinfo=zone, output_field=DateField())
    else:
        day = TruncDate("at", tzinfo=zone)
    digits = VILLAGE_DIGITS if grain == Grain.DETAIL else TOWNSHIP_DIGITS
    category = (
        Coalesce(Cast(KeyTextTransform(CATEGORY_KEY, "case__data"), IntegerField()), Value(0))
        if grain == Grain.DETAIL
        else Value(0)
    )
    return (
        steps.annotate(left_by=Subquery(leaves))
        .annotate(
            r_grain=Value(str(grain)),
            r_day=day,
            r_unit=Coalesce(F("unit_id"), Value(0)),
            r_area=Substr("case__area_code", 1, digits),
            r_kind=F("case__kind"),
            r_category=category,
        )
        .values("r_grain", "r_day", "r_unit", "r_area", "r_kind", "r_category")
        .annotate(**counters)
        .order_by()
    )


def rebuild(since: date | None = None) -> int:
    """Recompute the roll-ups from the step log (all, or from the month of ``since`` on).

    Delete and re-insert in one transaction. On PostgreSQL the table is locked first
    (EXCLUSIVE: reads go on, transitions wait at their roll-up update until the rebuild
    commits, then add to the rebuilt rows); SQLite has a single writer anyway.
    Returns the number of rows written.
    """
    start: datetime | None = None
    rows = CaseRollup.objects.all()
    if since is not None:
        since = since.replace(day=1)  # month rows are recomputed whole
        start = datetime.combine(since, datetime.min.time(), tzinfo=local_zone())
        rows = rows.filter(day__gte=since)
    qn = connection.ops.quote_name
    table = qn(CaseRollup._meta.db_table)
    columns = ", ".join(qn(c) for c in (*ROLLUP_KEY, *ROLLUP_COUNTERS))
    aliases = ["r_grain", "r_day", "r_unit", "r_area", "r_kind", "r_category", *ROLLUP_COUNTERS]
    written = 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        rows.delete()
        for grain in Grain:
            select, params = grain_queryset(grain, start).query.sql_with_params()
            outer = ", ".join(f"sub.{qn(a)}" for a in aliases)
            with connection.cursor() as cursor:
                cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {outer} FROM ({select}) sub", params)
                written += max(cursor.rowcount, 0)
    return written
