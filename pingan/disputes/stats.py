"""Dispute statistics (纠纷统计): counts by type, by area and by month, the mediation success
rate (调解成功率) and the share of disputes linked to the police (警调联动).

Every figure reads Dispute joined to its Case through the read gate (``visible_to``) and is
one GROUP BY in the database; nothing is counted in Python. Days and months are local
(Asia/Shanghai); the period's ends are both included.

Definitions (shown on the page under 统计口径):
- 受理数: disputes registered in the period.
- 调解成功率 = 调解成功 ÷ 有调解结果 (success, failure, refusal, withdrawal).
- 警调联动: disputes that came from a 110 call (source 110, or linked to a PoliceCall).
- 风险预警: disputes with at least one 民转刑 risk flag.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr, TruncMonth
from django.utils.translation import gettext as _

from pingan.core import calendar
from pingan.core.scoping import code_prefix, scope_prefixes, visible_to
from pingan.disputes.choices import KEY_TYPES, DisputeType, Outcome, Source
from pingan.disputes.models import Dispute
from pingan.geo.choices import Level
from pingan.geo.models import Jurisdiction

TREND_MONTHS = 12
MAX_DAYS = 366 * 10
# Code length of each level a table can be grouped by (GB/T 2260 paths).
LEVEL_DIGITS = {Level.COUNTY: 6, Level.TOWNSHIP: 9, Level.VILLAGE: 12}
CHILD_LEVEL = {Level.COUNTY: Level.TOWNSHIP, Level.TOWNSHIP: Level.VILLAGE}


@dataclass(frozen=True)
class StatsFilters:
    """What is counted: disputes registered from ``start`` to ``end`` (local days, both included)."""

    start: date
    end: date
    area: str | None = None  # a jurisdiction code: only disputes in it
    dispute_type: str | None = None

    def validate(self) -> None:
        """Raise ValidationError naming the parameter (the API answers 422, the page shows it)."""
        if self.end < self.start:
            raise ValidationError({"end": [_("结束日期不能早于开始日期")]})
        if (self.end - self.start).days > MAX_DAYS:
            raise ValidationError({"start": [_("统计区间不能超过十年")]})
        if self.area is not None and not self.area.isdigit():
            raise ValidationError({"area": [_("区划代码只能是数字")]})
        if self.dispute_type and self.dispute_type not in DisputeType.values:
            raise ValidationError({"dispute_type": [_("未知的纠纷类型")]})


def default_filters(today: date) -> StatsFilters:
    """The last twelve months up to today (the same months as the trend)."""
    return StatsFilters(start=_month_start(today, -(TREND_MONTHS - 1)), end=today)


@dataclass(frozen=True)
class Counts:
    """The counters of one group (a type, an area, a month, or everything)."""

    total: int = 0
    key_types: int = 0  # 五类重点纠纷
    outcomes: int = 0  # with a mediation result
    success: int = 0
    flagged: int = 0  # 民转刑 risk flags
    police: int = 0  # 警调联动

    @property
    def success_rate(self) -> Decimal | None:
        """调解成功率 = 调解成功 ÷ 有调解结果; None without any result."""
        return _ratio(self.success, self.outcomes)

    @property
    def police_share(self) -> Decimal | None:
        """警调联动占比 = 警调联动 ÷ 受理数."""
        return _ratio(self.police, self.total)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "success_rate": self.success_rate, "police_share": self.police_share}


@dataclass(frozen=True)
class Group:
    """One row of a table: its key (type value, area code or month), its name and counts."""

    key: str
    name: str
    counts: Counts
    is_key_type: bool = False


def _ratio(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def percent(value: Decimal | None) -> str:
    """0.9512 → "95.1%" (UI.md: one decimal and the %); None → "—"."""
    if value is None:
        return "—"
    return f"{(value * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


# The counters as aggregates: one pass over the joined rows per GROUP BY.
AGGREGATES = {
    "total": Count("pk"),
    "key_types": Count("pk", filter=Q(dispute_type__in=KEY_TYPES)),
    "outcomes": Count("pk", filter=~Q(outcome="")),
    "success": Count("pk", filter=Q(outcome=Outcome.SUCCESS)),
    "flagged": Count("pk", filter=~Q(risk_flags=[])),
    "police": Count("pk", filter=Q(source=Source.POLICE_110) | Q(police_call__isnull=False)),
}


def _counts(row: Mapping[str, Any]) -> Counts:
    return Counts(**{name: row.get(name) or 0 for name in AGGREGATES})


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=calendar.local_zone())


def _month_start(day: date, shift: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + shift
    return date(index // 12, index % 12 + 1, 1)


def disputes(user: Any, f: StatsFilters, *, period: bool = True) -> QuerySet[Dispute]:
    """The disputes ``user`` may see that ``f`` selects (THE read gate, then the filters)."""
    qs = visible_to(Dispute.objects.all(), user)
    if period:
        qs = qs.filter(
            case__registered_at__gte=_day_start(f.start),
            case__registered_at__lt=_day_start(f.end + timedelta(days=1)),
        )
    if f.area:
        qs = qs.filter(case__area_code__under=code_prefix(f.area))
    if f.dispute_type:
        qs = qs.filter(dispute_type=f.dispute_type)
    return qs


def summary(user: Any, f: StatsFilters) -> Counts:
    return _counts(disputes(user, f).aggregate(**AGGREGATES))


def by_type(user: Any, f: StatsFilters) -> list[Group]:
    """Every dispute type (the five key types first), zeros included."""
    rows = disputes(user, f).values("dispute_type").order_by().annotate(**AGGREGATES)
    found = {r["dispute_type"]: _counts(r) for r in rows}
    return [
        Group(t.value, str(t.label), found.get(t.value, Counts()), is_key_type=t in KEY_TYPES)
        for t in DisputeType
    ]


def area_level(user: Any, f: StatsFilters) -> Level:
    """The level the area table is grouped by: below the chosen area, or below the user's
    scope when it is one county (or township); counties otherwise."""
    root = f.area
    if root is None:
        prefixes = scope_prefixes(user)
        if prefixes is not None and len(prefixes) == 1:
            root = prefixes[0]
    digits = len(code_prefix(root)) if root else 0
    if digits >= LEVEL_DIGITS[Level.TOWNSHIP]:
        return Level.VILLAGE
    if digits >= LEVEL_DIGITS[Level.COUNTY]:
        return Level.TOWNSHIP
    return Level.COUNTY


def by_area(user: Any, f: StatsFilters, level: Level | None = None) -> list[Group]:
    """Counts per county, township or village (``area_level``): every place of that level in
    the user's scope (and the chosen area), zeros included, by code."""
    level = level or area_level(user, f)
    digits = LEVEL_DIGITS[level]
    rows = (
        disputes(user, f)
        .annotate(place=Substr("case__area_code", 1, digits))
        .values("place")
        .order_by()
        .annotate(**AGGREGATES)
    )
    found = {r["place"]: _counts(r) for r in rows}
    places = visible_to(Jurisdiction.objects.filter(level=level), user)
    if f.area:
        places = places.filter(code__under=code_prefix(f.area))
    names = dict(places.values_list("code", "name"))
    # Disputes registered on a place the user sees only through a unit: named from the tree.
    missing = set(found) - set(names)
    if missing:
        names.update(Jurisdiction.objects.filter(code__in=missing).values_list("code", "name"))
    return [Group(code, names.get(code, code), found.get(code, Counts())) for code in sorted(names)]


def by_month(user: Any, f: StatsFilters, months: int = TREND_MONTHS) -> list[Group]:
    """The ``months`` months ending with the month of ``f.end`` (the period's start is not used:
    a trend always shows a whole year), zeros included."""
    first = _month_start(f.end, -(months - 1))
    window = StatsFilters(first, f.end, f.area, f.dispute_type)
    rows = (
        disputes(user, window)
        .annotate(month=TruncMonth("case__registered_at", tzinfo=calendar.local_zone()))
        .values("month")
        .order_by()
        .annotate(**AGGREGATES)
    )
    found = {_as_date(r["month"]): _counts(r) for r in rows}
    out = []
    for shift in range(months):
        month = _month_start(first, shift)
        out.append(Group(f"{month:%Y-%m}", f"{month:%Y-%m}", found.get(month, Counts())))
    return out


def _as_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return value.astimezone(calendar.local_zone()).date() if value.tzinfo else value.date()
    return value


@dataclass(frozen=True)
class Trend:
    """The last month against the month before (环比): ↑ / ↓ and the change in percent."""

    month: str
    previous_month: str
    total: int
    previous: int

    @property
    def change(self) -> Decimal | None:
        if not self.previous:
            return None
        return _ratio(self.total - self.previous, self.previous)

    @property
    def arrow(self) -> str:
        return "↑" if self.total > self.previous else "↓" if self.total < self.previous else "→"


def month_trend(months: list[Group]) -> Trend | None:
    if len(months) < 2:
        return None
    last, before = months[-1], months[-2]
    return Trend(last.key, before.key, last.counts.total, before.counts.total)


def report(user: Any, f: StatsFilters) -> dict[str, Any]:
    """Everything the page and the API show, as plain data (rates as fractions)."""
    f.validate()
    level = area_level(user, f)
    months = by_month(user, f)
    trend = month_trend(months)
    return {
        "period": {"start": f.start, "end": f.end},
        "area": f.area,
        "dispute_type": f.dispute_type,
        "summary": summary(user, f).as_dict(),
        "by_type": [_group_dict(g) for g in by_type(user, f)],
        "area_level": level.value,
        "by_area": [_group_dict(g) for g in by_area(user, f, level)],
        "by_month": [_group_dict(g) for g in months],
        "trend": None
        if trend is None
        else {
            "month": trend.month,
            "previous_month": trend.previous_month,
            "total": trend.total,
            "previous": trend.previous,
            "change": trend.change,
        },
    }


def _group_dict(group: Group) -> dict[str, Any]:
    return {"key": group.key, "name": group.name, "is_key_type": group.is_key_type, **group.counts.as_dict()}
