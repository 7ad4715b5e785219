"""Which unit the dispatch desk suggests for an event (分拨建议), and how it learns from dispatchers.

The rule, exactly:

1. **Base suggestion**, the first that gives a unit:
   a. the most specific active RoutingRule that matches: its category is the event's 小类 or
      that 小类's 大类, and the case's area code starts with the rule's area prefix. Most
      specific = the longest prefix; then a 小类 rule before a 大类 rule; then the higher
      priority; then the older rule;
   b. the category's default unit: the fixed unit if set, else the active unit whose name
      ends with ``default_unit_name`` and whose jurisdiction covers the case, the deepest
      one ("派出所" → the township's police station, "综合行政执法局" → the county's bureau);
   c. the case's township platform for the category's platform (基层治理四平台).
2. **Learning** (issue 3: "the suggestion learns from overrides: the unit most often chosen
   for that category and area"). A *choice* is a DISPATCH step of an event of the same 小类,
   to the unit it dispatched to, whatever was suggested then: an override counts against the
   base unit, and accepting a learned suggestion reinforces it. Choices are counted from the
   month ``LEARN_WINDOW_DAYS`` days before the case was registered, in the case's township
   (9-digit prefix); if that township has no choice at all, in its county (6-digit prefix).
   They are read from a roll-up (DispatchChoice) kept current by a hook on every dispatch. The unit
   chosen most often (ties: the most recent choice) replaces the base when it was chosen at
   least ``LEARN_MIN_CHOICES`` times and strictly more often than the base unit.

   Example: the rule says 综合行政执法局; in this township dispatchers chose 街道综治工作平台
   3 times and 综合行政执法局 once → the suggestion is 街道综治工作平台. At 2 against 2 it
   stays with the rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, DateTimeField, F, Max, Q, Sum, Value
from django.db.models.functions import Greatest, Substr, TruncMonth
from django.utils import timezone

from pingan.accounts.choices import UnitKind
from pingan.accounts.models import Unit
from pingan.cases.choices import Action
from pingan.cases.models import Case, Step
from pingan.core.scoping import code_prefix
from pingan.events.choices import SuggestionSource
from pingan.events.models import Category, DispatchChoice, Event, RoutingRule

LEARN_WINDOW_DAYS = 365
LEARN_MIN_CHOICES = 2
TOWNSHIP_DIGITS = 9
COUNTY_DIGITS = 6


@dataclass
class Suggestion:
    """The suggested unit, why, and the choice counts behind a learned suggestion."""

    unit: Unit | None
    source: SuggestionSource
    base: Unit | None = None
    rule: RoutingRule | None = None
    area: str = ""  # the prefix whose choices were counted
    choices: dict[int, int] = field(default_factory=dict)  # unit id → times chosen


def suggest_unit(case: Case) -> Unit | None:
    """The unit the dispatch desk proposes for an event case, or None."""
    return suggest(case).unit


def suggest(case: Case, event: Event | None = None, data: RoutingData | None = None) -> Suggestion:
    """The suggestion with its reasons (see the module docstring for the rule).

    ``event``: the case's Event when the caller has it (with category, parent, default unit).
    ``data``: reference data read once for many cases (``suggest_many``); default: queried.
    """
    data = data or RoutingData()
    if event is None:
        event = (
            Event.objects.select_related("category__parent", "category__default_unit")
            .filter(case=case)
            .first()
        )
    if event is None:
        return Suggestion(None, SuggestionSource.NONE)
    category = event.category
    rule = matching_rule(category, case.area_code, data)
    base: Unit | None
    if rule is not None:
        base, source = rule.unit, SuggestionSource.RULE
    else:
        base, source = default_unit(category, case.area_code, data)
    area, choices, latest = count_choices(case, category, data)
    suggestion = Suggestion(base, source, base=base, rule=rule, area=area, choices=choices)
    winner = max(choices, key=lambda unit_id: (choices[unit_id], latest[unit_id]), default=None)
    if winner is None or (base is not None and winner == base.pk):
        return suggestion
    base_count = choices.get(base.pk, 0) if base is not None else 0
    if choices[winner] >= LEARN_MIN_CHOICES and choices[winner] > base_count:
        suggestion.unit = data.unit(winner)
        suggestion.source = SuggestionSource.LEARNED
    return suggestion


def suggest_many(pairs: list[tuple[Case, Event]]) -> dict[int, Suggestion]:
    """``suggest`` for a page of cases, reading the reference data in a few queries."""
    data = PreloadedRoutingData(pairs)
    return {case.pk: suggest(case, event, data) for case, event in pairs}


class RoutingData:
    """Where the rule reads rules, units and dispatch choices: the database, one question each."""

    def rules(self, category_ids: list[int], prefixes: set[str]) -> list[RoutingRule]:
        return list(
            RoutingRule.objects.filter(
                category_id__in=category_ids, area_prefix__in=prefixes, active=True, unit__is_active=True
            ).select_related("unit")
        )

    def units_in(self, area_codes: set[str]) -> list[Unit]:
        return list(Unit.objects.filter(is_active=True, area_code__in=area_codes))

    def platform_unit(self, township: str, platform: str) -> Unit | None:
        return (
            Unit.objects.filter(area_code=township, kind=UnitKind.PLATFORM, platform=platform, is_active=True)
            .order_by("pk")
            .first()
        )

    def choices(self, category: Category, start: date, area: str, exact: bool) -> list[dict]:
        rows = DispatchChoice.objects.filter(category=category, month__gte=start, unit__is_active=True)
        here = rows.filter(area=area) if exact else rows.filter(area__under=area)
        return [dict(r) for r in here.values("unit").annotate(n=Sum("count"), latest=Max("last_at"))]

    def unit(self, pk: int) -> Unit:
        return Unit.objects.get(pk=pk)


class PreloadedRoutingData(RoutingData):
    """The same answers for a page of cases, from data read once (three queries in all)."""

    def __init__(self, pairs: list[tuple[Case, Event]]) -> None:
        categories = {e.category_id for _, e in pairs}
        categories |= {e.category.parent_id for _, e in pairs if e.category.parent_id}
        areas = {case.area_code for case, _ in pairs}
        self._rules = list(
            RoutingRule.objects.filter(
                category_id__in=categories, active=True, unit__is_active=True
            ).select_related("unit")
        )
        codes: set[str] = set().union(*(_covering_codes(a) for a in areas))
        self._units = list(Unit.objects.filter(is_active=True, area_code__in=codes))
        counties = Q(pk__in=[])
        for county in {a[:COUNTY_DIGITS] for a in areas if len(a) >= COUNTY_DIGITS}:
            counties |= Q(area__under=county)
        self._choices = list(
            DispatchChoice.objects.filter(counties, category_id__in=categories, unit__is_active=True).values(
                "category_id", "area", "unit", "month", "count", "last_at"
            )
        )
        self._by_pk = {u.pk: u for u in self._units} | {r.unit.pk: r.unit for r in self._rules}

    def rules(self, category_ids: list[int], prefixes: set[str]) -> list[RoutingRule]:
        return [r for r in self._rules if r.category_id in category_ids and r.area_prefix in prefixes]

    def units_in(self, area_codes: set[str]) -> list[Unit]:
        return [u for u in self._units if u.area_code in area_codes]

    def platform_unit(self, township: str, platform: str) -> Unit | None:
        found = [
            u
            for u in self._units
            if u.area_code == township and u.kind == UnitKind.PLATFORM and u.platform == platform
        ]
        return min(found, key=lambda u: u.pk, default=None)

    def choices(self, category: Category, start: date, area: str, exact: bool) -> list[dict]:
        counted: dict[int, dict] = {}
        for row in self._choices:
            if row["category_id"] != category.pk or row["month"] < start:
                continue
            if (row["area"] != area) if exact else not row["area"].startswith(area):
                continue
            found = counted.setdefault(row["unit"], {"unit": row["unit"], "n": 0, "latest": row["last_at"]})
            found["n"] += row["count"]
            found["latest"] = max(found["latest"], row["last_at"])
        return list(counted.values())

    def unit(self, pk: int) -> Unit:
        return self._by_pk.get(pk) or super().unit(pk)


def matching_rule(category: Category, area_code: str, data: RoutingData | None = None) -> RoutingRule | None:
    """The most specific active rule for ``category`` (or its 大类) covering ``area_code``."""
    categories = [category.pk] + ([category.parent_id] if category.parent_id else [])
    prefixes = {area_code[:n] for n in range(1, len(area_code) + 1)}
    rules = (data or RoutingData()).rules(categories, prefixes)
    return min(
        rules,
        key=lambda r: (-len(r.area_prefix), r.category_id != category.pk, -r.priority, r.pk),
        default=None,
    )


def default_unit(
    category: Category, area_code: str, data: RoutingData | None = None
) -> tuple[Unit | None, SuggestionSource]:
    """The category's default unit in ``area_code`` (rule 1b), else the township platform (1c)."""
    data = data or RoutingData()
    for cat in (category, category.parent):
        if cat is None:
            continue
        if cat.default_unit is not None and cat.default_unit.is_active:
            return cat.default_unit, SuggestionSource.DEFAULT_UNIT
        if cat.default_unit_name:
            covering = [u for u in _covering_units(area_code, data) if u.name.endswith(cat.default_unit_name)]
            if covering:
                return covering[0], SuggestionSource.DEFAULT_UNIT
    platform = category.platform or (category.parent.platform if category.parent else "")
    if platform and len(area_code) >= TOWNSHIP_DIGITS:
        unit = data.platform_unit(area_code[:TOWNSHIP_DIGITS], platform)
        if unit is not None:
            return unit, SuggestionSource.PLATFORM
    return None, SuggestionSource.NONE


def _covering_units(area_code: str, data: RoutingData) -> list[Unit]:
    """Active units whose jurisdiction holds ``area_code``, the deepest first."""
    units = [
        u for u in data.units_in(_covering_codes(area_code)) if area_code.startswith(code_prefix(u.area_code))
    ]
    return sorted(units, key=lambda u: (-len(code_prefix(u.area_code)), u.pk))


def _covering_codes(area_code: str) -> set[str]:
    codes = {area_code[:n] for n in range(2, len(area_code) + 1)}
    codes |= {area_code[:2].ljust(6, "0"), area_code[:4].ljust(6, "0")}
    return codes


def count_choices(
    case: Case, category: Category, data: RoutingData | None = None
) -> tuple[str, dict[int, int], dict[int, datetime]]:
    """Dispatch choices for ``category`` in the township, else the county (rule 2), from the roll-up.

    Returns (prefix counted, {unit id: times chosen}, {unit id: latest choice}).
    """
    data = data or RoutingData()
    # Counted from the month a year before the case's registration (not from now): the same
    # case gets the same answer later, and history can be replayed.
    start = month_of(case.registered_at - timedelta(days=LEARN_WINDOW_DAYS))
    for digits in (TOWNSHIP_DIGITS, COUNTY_DIGITS):
        if len(case.area_code) < digits:
            continue
        prefix = case.area_code[:digits]
        found = data.choices(category, start, prefix, exact=digits == TOWNSHIP_DIGITS)
        if found:
            return prefix, {r["unit"]: r["n"] for r in found}, {r["unit"]: r["latest"] for r in found}
    return "", {}, {}


# --- the roll-up of choices (ARCHITECTURE principle 7: kept current on each transition) ----------


def month_of(at: datetime) -> date:
    return timezone.localtime(at).date().replace(day=1)


def area_of(code: str) -> str:
    """The roll-up's area for a case: its township, or its own code above the township."""
    return code[:TOWNSHIP_DIGITS]


def record_choice(case: Case, step: Step) -> None:
    """Hook on DISPATCH of an event: count the choice (inside the transition's transaction)."""
    if step.unit_id is None:
        return
    category_id = Event.objects.filter(case=case).values_list("category_id", flat=True).first()
    if category_id is None:
        return
    key = {"category_id": category_id, "area": area_of(case.area_code), "unit_id": step.unit_id,
           "month": month_of(step.at)}  # fmt: skip
    later = Greatest("last_at", Value(step.at, output_field=DateTimeField()))
    if DispatchChoice.objects.filter(**key).update(count=F("count") + 1, last_at=later):
        return
    try:
        with transaction.atomic():
            DispatchChoice.objects.create(**key, count=1, last_at=step.at)
    except IntegrityError:  # created by a concurrent dispatch in between
        DispatchChoice.objects.filter(**key).update(count=F("count") + 1, last_at=later)


def rebuild_choices() -> int:
    """Recompute the roll-up from the step log (after bulk loads); returns the number of rows."""
    rows = (
        Step.objects.filter(
            action=Action.DISPATCH, case__kind="event", unit__isnull=False, case__event__isnull=False
        )
        .values(
            category_id=F("case__event__category_id"),
            area_code=Substr("case__area_code", 1, TOWNSHIP_DIGITS),
            month_at=TruncMonth("at", tzinfo=timezone.get_current_timezone()),
            unit_ref=F("unit_id"),
        )
        .annotate(n=Count("id"), latest=Max("at"))
        .order_by()
    )
    choices = [
        DispatchChoice(
            category_id=r["category_id"],
            area=r["area_code"],
            unit_id=r["unit_ref"],
            month=timezone.localtime(r["month_at"]).date(),
            count=r["n"],
            last_at=r["latest"],
        )
        for r in rows.iterator()
    ]
    with transaction.atomic():
        DispatchChoice.objects.all().delete()
        DispatchChoice.objects.bulk_create(choices, batch_size=1000)
    return len(choices)
