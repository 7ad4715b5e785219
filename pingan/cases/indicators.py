"""Indicators of the closed loop (DOMAIN §2), per unit or area, for any period, from the roll-ups.

Definitions. A period P is a range of whole local days (Asia/Shanghai) [start, end]: a day, a
month, a quarter, a year or any range. ``t`` = the end of P (00:00 of the day after ``end``),
or now if that is earlier. A matter is counted for the unit that held it at the step (the
step's unit) and for the area of the case (its jurisdiction code: any prefix — county 6,
township 9, village 12 digits).

- 处置数 (handled): handling reports (处置反馈) made in P. A report sent back by 返工 (or taken
  away by 提级) no longer counts; the next report counts on its own day.
- 按期处置数: those made no later than the deadline in force (``handled_at ≤ deadline_at``;
  an approved extension moves the deadline).
- 就地解决数: matters registered and solved on the spot in P (no unit; areas only).
- 超期待处置数 (overdue, not yet handled): matters at ``t`` in status 待签收/处置中 whose
  deadline is before ``t`` — a point-in-time count, whatever the dispatch date. Parked
  matters (挂账) are in neither status, so they are excluded. It is read from the case
  table through the partial index ``case_sweep_yellow`` (deadline_at WHERE status IN
  dispatched/handling): an index range over the open, overdue matters only, never a scan of
  all cases. For a past period it is "still overdue now, and already overdue at ``t``":
  a matter handled since then counts as handled (late) in the period it was handled in.
- 应处置数 = 处置数 + 超期待处置数: the unit's dispatched matters that were handled in P or
  that should have been and are not. 挂账 excluded; 就地解决 not included (never dispatched).
- 应结案数 = 处置数 + 就地解决数 + 超期待处置数 (DOMAIN §2: matters handled + matters overdue
  and not yet handled, 挂账 excluded). For a unit it equals its 应处置数; for an area it also
  holds the matters solved on the spot.
- 结案数: matters closed in P (核查通过结案, and 就地解决). 按期结案数: closed, and handled on
  time (``handled_at ≤ deadline_at``); a matter solved on the spot is on time.
- 返工数: 返工 in P, counted in times (返工案件数, cases reworked for the first time, is shown
  beside it). 延期数: extensions approved in P. 挂账数, 退回数: parked / returned in P.
- 结案率 = 结案数 / 应结案数; 按期结案率 = 按期结案数 / 应结案数; 处置率 = 处置数 / 应处置数;
  按期处置率 = 按期处置数 / 应处置数; 返工率 = 返工数 / 应结案数; 超期待处置率 =
  超期待处置数 / 应处置数; 延期率 = 延期数 / 应处置数. A rate with a zero denominator is
  "no data" (None), never 0 or 100 %.
- Satisfaction: the latest evaluation of each matter evaluated in P: mean score (1–5) and
  the share of 4–5.

Note: with these definitions 超期待处置率 = 1 − 处置率 for any unit; the published scorecard
still lists both (DOMAIN §2) and ``ScoringRule`` keeps their weights as local data.

Scorecard (``ScoringRule``, default 处置率×30 + 按期处置率×20 + (1−返工率)×20 +
(1−超期待处置率)×20 + (1−延期率)×10): each rate is clamped to [0, 1]; the score is rounded to
two decimals (half up) and the grade read from the rounded score: A ≥ 90, B ≥ 75, C ≥ 60,
D ≥ 40, E below. A unit with 应处置数 = 0 has no score.

Scope: unit rows only for units the user may see (their area or their units); area rows
only for cases inside the user's area prefixes. Everything is read from ``CaseRollup``
(pingan.cases.rollups) except 超期待处置数.
"""

from __future__ import annotations

import calendar as _stdcal
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pingan.accounts.models import Unit
from pingan.cases.choices import CLOCK_STATUSES, Grain
from pingan.cases.models import ROLLUP_COUNTERS, Case, CaseRollup, ScoringRule
from pingan.cases.rollups import CATEGORY_KEY, TOWNSHIP_DIGITS, VILLAGE_DIGITS
from pingan.core.calendar import local_zone
from pingan.core.scoping import code_prefix, in_scope, scope_prefixes, visible_to
from pingan.geo.choices import Level
from pingan.geo.models import Jurisdiction

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
MAX_DAYS = 366 * 10


class Group(models.TextChoices):
    """What one row of the indicator table is."""

    UNIT = "unit", gettext_lazy("按单位")
    AREA = "area", gettext_lazy("按地区")


class AreaLevel(models.TextChoices):
    """Levels an indicator table can be drawn at (code length in brackets)."""

    COUNTY = "county", gettext_lazy("县(市、区)")  # 6
    TOWNSHIP = "township", gettext_lazy("乡镇(街道)")  # 9


LEVEL_DIGITS = {AreaLevel.COUNTY: 6, AreaLevel.TOWNSHIP: TOWNSHIP_DIGITS}


class Grade(models.TextChoices):
    """Scorecard grades (DOMAIN §2; bounds are local data in ScoringRule)."""

    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"
    E = "E", "E"


# ---------------------------------------------------------------------------------------------
# Periods


@dataclass(frozen=True)
class Period:
    """Whole local days [start, end], both included."""

    start: date
    end: date

    @classmethod
    def day(cls, d: date) -> Period:
        return cls(d, d)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(date(year, month, 1), date(year, month, _stdcal.monthrange(year, month)[1]))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        first = 3 * (quarter - 1) + 1
        return cls(date(year, first, 1), cls.month(year, first + 2).end)

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def between(cls, start: date, end: date) -> Period:
        """An arbitrary range; ValidationError naming the field when it is not a range."""
        if end < start:
            raise ValidationError({"end": [_("结束日期不能早于开始日期")]})
        if (end - start).days >= MAX_DAYS:
            raise ValidationError({"start": [_("统计区间不能超过十年")]})
        return cls(start, end)

    @classmethod
    def containing(cls, kind: str, on: date) -> Period:
        """The day, month, quarter or year that holds ``on``."""
        if kind == "day":
            return cls.day(on)
        if kind == "month":
            return cls.month(on.year, on.month)
        if kind == "quarter":
            return cls.quarter(on.year, (on.month - 1) // 3 + 1)
        if kind == "year":
            return cls.year(on.year)
        raise ValidationError({"period": [_("统计周期须为 day、month、quarter 或 year")]})

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=local_zone())

    @property
    def end_at(self) -> datetime:
        """The first moment after the period (exclusive)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=local_zone())

    def label(self) -> str:
        if self.start == self.end:
            return self.start.isoformat()
        return _("%(start)s 至 %(end)s") % {"start": self.start.isoformat(), "end": self.end.isoformat()}

    def month_starts(self) -> list[date]:
        """First days of the months the period touches."""
        out, cursor = [], self.start.replace(day=1)
        while cursor <= self.end:
            out.append(cursor)
            cursor = _next_month(cursor)
        return out


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def rollup_q(period: Period, detail: bool = False) -> Q:
    """Which roll-up rows cover ``period``: whole months from the month grain, the days at
    either end from the day grain (or everything from the detail grain when asked)."""
    if detail:
        return Q(grain=Grain.DETAIL, day__range=(period.start, period.end))
    first_full = period.start if period.start.day == 1 else _next_month(period.start)
    ends_a_month = period.end == Period.month(period.end.year, period.end.month).end
    after_full = _next_month(period.end) if ends_a_month else period.end.replace(day=1)
    if first_full >= after_full:  # no whole month inside
        return Q(grain=Grain.DAY, day__range=(period.start, period.end))
    q = Q(grain=Grain.MONTH, day__gte=first_full, day__lt=after_full)
    if period.start < first_full:
        q |= Q(grain=Grain.DAY, day__gte=period.start, day__lt=first_full)
    if after_full <= period.end:
        q |= Q(grain=Grain.DAY, day__gte=after_full, day__lte=period.end)
    return q


# ---------------------------------------------------------------------------------------------
# Formulas (DOMAIN §2)


@dataclass
class Counts:
    """The counters of one row over a period, plus the point-in-time overdue count."""

    registered: int = 0
    cancelled: int = 0
    on_spot: int = 0
    dispatched: int = 0
    returned: int = 0
    handled: int = 0
    handled_on_time: int = 0
    closed: int = 0
    closed_on_time: int = 0
    reworks: int = 0
    reworked: int = 0
    extensions: int = 0
    parked: int = 0
    yellow_cards: int = 0
    red_cards: int = 0
    satisfaction_sum: int = 0
    satisfaction_count: int = 0
    satisfied: int = 0
    overdue: int = 0  # 超期待处置数, at the period's end (or now)

    def __add__(self, other: Counts) -> Counts:
        return Counts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


def due_to_close(c: Counts) -> int:
    """应结案数 = 处置数 + 就地解决数 + 超期未处置数 (挂账 excluded)."""
    return c.handled + c.on_spot + c.overdue


def due_to_handle(c: Counts) -> int:
    """应处置数 = 处置数 + 超期待处置数 (the unit's dispatched matters; 挂账 excluded)."""
    return c.handled + c.overdue


def rate(numerator: int, denominator: int) -> Decimal | None:
    """A rate as an exact fraction; None (no data) when the denominator is zero."""
    if denominator <= 0:
        return None
    return Decimal(numerator) / Decimal(denominator)


def percent(value: Decimal | None, places: int = 2) -> str:
    """0.937242… → "93.72%"; None → "—"."""
    if value is None:
        return "—"
    step = Decimal(1).scaleb(-places)
    return f"{(value * HUNDRED).quantize(step, ROUND_HALF_UP)}%"


@dataclass
class Indicators:
    """Every indicator of one row (rates are fractions, None when there is no denominator)."""

    due_to_close: int
    due_to_handle: int
    closing_rate: Decimal | None
    closing_on_time_rate: Decimal | None
    handling_rate: Decimal | None
    handling_on_time_rate: Decimal | None
    rework_rate: Decimal | None
    overdue_rate: Decimal | None
    extension_rate: Decimal | None
    satisfaction_mean: Decimal | None
    satisfied_share: Decimal | None
    score: Decimal | None = None
    grade: str = ""


RATE_NAMES = (
    "closing_rate",
    "closing_on_time_rate",
    "handling_rate",
    "handling_on_time_rate",
    "rework_rate",
    "overdue_rate",
    "extension_rate",
    "satisfied_share",
)


def compute(c: Counts, rule: ScoringRule | None = None) -> Indicators:
    """All indicators of ``c``; with a rule, the score and grade too."""
    close_due, handle_due = due_to_close(c), due_to_handle(c)
    mean = None
    if c.satisfaction_count > 0:
        mean = (Decimal(c.satisfaction_sum) / c.satisfaction_count).quantize(CENT, ROUND_HALF_UP)
    result = Indicators(
        due_to_close=close_due,
        due_to_handle=handle_due,
        closing_rate=rate(c.closed, close_due),
        closing_on_time_rate=rate(c.closed_on_time, close_due),
        handling_rate=rate(c.handled, handle_due),
        handling_on_time_rate=rate(c.handled_on_time, handle_due),
        rework_rate=rate(c.reworks, close_due),
        overdue_rate=rate(c.overdue, handle_due),
        extension_rate=rate(c.extensions, handle_due),
        satisfaction_mean=mean,
        satisfied_share=rate(c.satisfied, c.satisfaction_count),
    )
    if rule is not None:
        result.score = score(result, rule)
        result.grade = grade(result.score, rule)
    return result


def _clamp(value: Decimal | None) -> Decimal:
    return min(max(value or Decimal(0), Decimal(0)), Decimal(1))


def score(ind: Indicators, rule: ScoringRule) -> Decimal | None:
    """The unit scorecard (DOMAIN §2, weights from ``rule``), 0–100, two decimals; None without data."""
    if ind.due_to_handle <= 0:
        return None
    total = (
        _clamp(ind.handling_rate) * rule.weight_handled
        + _clamp(ind.handling_on_time_rate) * rule.weight_handled_on_time
        + (1 - _clamp(ind.rework_rate)) * rule.weight_rework
        + (1 - _clamp(ind.overdue_rate)) * rule.weight_overdue
        + (1 - _clamp(ind.extension_rate)) * rule.weight_extension
    )
    return Decimal(total).quantize(CENT, ROUND_HALF_UP)


def grade(value: Decimal | None, rule: ScoringRule) -> str:
    """A ≥ grade_a, B ≥ grade_b, C ≥ grade_c, D ≥ grade_d, else E; "" without a score."""
    if value is None:
        return ""
    for letter, bound in (
        (Grade.A, rule.grade_a),
        (Grade.B, rule.grade_b),
        (Grade.C, rule.grade_c),
        (Grade.D, rule.grade_d),
    ):
        if value >= bound:
            return str(letter)
    return str(Grade.E)


# ---------------------------------------------------------------------------------------------
# Queries


@dataclass(frozen=True)
class Filters:
    """What the user asked for. ``area`` is a jurisdiction code (narrows, never widens the scope)."""

    period: Period
    group: str = Group.UNIT
    level: str | None = None
    kind: str | None = None
    area: str | None = None
    category: int | None = None


@dataclass
class Row:
    """One line of the indicator table."""

    key: str
    code: str
    name: str
    counts: Counts = field(default_factory=Counts)
    indicators: Indicators = field(default_factory=lambda: compute(Counts()))


def _area_prefix(user: Any, code: str | None) -> str | None:
    if not code:
        return None
    node = visible_to(Jurisdiction.objects.all(), user).filter(code=code).first()
    if node is None or not in_scope(user, node.code):
        raise ValidationError({"area": [_("区划代码不存在或不在您的数据范围内")]})
    prefix = code_prefix(node.code)
    if len(prefix) > VILLAGE_DIGITS:
        raise ValidationError({"area": [_("统计最细到村(社区)，请选择村(社区)或以上的区划")]})
    return prefix


def _prefix_q(field_name: str, prefixes: Iterable[str]) -> Q:
    q = Q(pk__in=[])
    for prefix in prefixes:
        q |= Q(**{f"{field_name}__under": prefix})
    return q


@dataclass
class _Plan:
    """How one request reads: the roll-up rows, the overdue cases, the group key, the listed rows."""

    rollups: QuerySet
    overdue: QuerySet
    key: Any
    case_key: Any
    rows: dict[str, Row]


def _plan(user: Any, f: Filters, now: datetime) -> _Plan:
    prefix = _area_prefix(user, f.area)
    detail = f.category is not None or (prefix is not None and len(prefix) > TOWNSHIP_DIGITS)
    rollups = CaseRollup.objects.filter(rollup_q(f.period, detail))
    t = min(f.period.end_at, now)
    overdue = Case.objects.filter(status__in=CLOCK_STATUSES, deadline_at__lt=t)
    if f.kind:
        rollups, overdue = rollups.filter(kind=f.kind), overdue.filter(kind=f.kind)
    if f.category is not None:
        rollups = rollups.filter(category_id=f.category)
        overdue = overdue.filter(**{f"data__{CATEGORY_KEY}": f.category})
    if prefix:
        rollups = rollups.filter(area_code__under=prefix)
        overdue = overdue.filter(area_code__under=prefix)
    listed: dict[str, Row] = {}
    key: Any
    if f.group == Group.AREA:
        digits = LEVEL_DIGITS[AreaLevel(f.level or AreaLevel.COUNTY)]
        prefixes = scope_prefixes(user)
        if prefixes is not None:  # None: a superuser sees everything
            rollups = rollups.filter(_prefix_q("area_code", prefixes))
            overdue = overdue.filter(_prefix_q("area_code", prefixes))
        areas = visible_to(Jurisdiction.objects.filter(level=f.level or Level.COUNTY), user)
        if prefix:
            areas = areas.filter(code__under=prefix)
        for j in areas.order_by("code"):
            listed[j.code] = Row(key=j.code, code=j.code, name=j.name)
        key = Substr("area_code", 1, digits)
    else:
        units = visible_to(Unit.objects.all(), user)
        if f.level:
            units = units.filter(jurisdiction__level=f.level)
        # One query: every visible unit counts; the active ones (in the chosen area) are listed.
        found = list(units.order_by("area_code", "name").values_list("pk", "name", "area_code", "is_active"))
        unit_ids = [pk for pk, *_rest in found]
        rollups, overdue = rollups.filter(unit_id__in=unit_ids), overdue.filter(unit_id__in=unit_ids)
        for pk, name, code, active in found:
            if active and (not prefix or code.startswith(prefix)):
                listed[str(pk)] = Row(key=str(pk), code=code, name=name)
        key = F("unit_id")
    # Roll-ups and cases name the unit and the area code alike, so one key groups both.
    return _Plan(rollups, overdue, key, key, listed)


def _sums() -> dict[str, Sum]:
    return {name: Sum(name) for name in ROLLUP_COUNTERS}


def rows(user: Any, f: Filters, *, now: datetime | None = None, rule: ScoringRule | None = None) -> list[Row]:
    """The indicator table: one row per unit (or area) in the user's scope, in code order.

    Units and areas with no matters are listed too (with no rates): a ranking must show who
    had nothing to do. Areas of cases filed above the chosen level (a county's own matters
    in a township table) get a row of their own, named "… 本级".
    """
    now = now or timezone.now()
    rule = rule or ScoringRule.current()
    plan = _plan(user, f, now)
    table = dict(plan.rows)
    found = plan.rollups.annotate(k=plan.key).values("k").annotate(**_sums()).order_by()
    for item in found:
        key = str(item.pop("k"))
        row = table.get(key) or table.setdefault(key, Row(key=key, code=key, name=""))
        row.counts = row.counts + Counts(**{k: v or 0 for k, v in item.items()})
    for item in plan.overdue.annotate(k=plan.case_key).values("k").annotate(n=Count("pk")).order_by():
        key = str(item["k"])
        row = table.get(key) or table.setdefault(key, Row(key=key, code=key, name=""))
        row.counts.overdue += item["n"]
    _name_unlisted(table, f)
    result = [r for r in table.values() if not (f.group == Group.UNIT and r.key == "0")]
    for r in result:
        r.indicators = compute(r.counts, rule)
    return sorted(result, key=lambda r: (r.code, r.name))


def _name_unlisted(table: dict[str, Row], f: Filters) -> None:
    """Rows that had data but were not listed: inactive units, areas above the level."""
    missing = [r for r in table.values() if not r.name]
    if not missing:
        return
    if f.group == Group.UNIT:
        ids = [int(r.key) for r in missing if r.key.isdigit()]
        units = {
            pk: (name, code)
            for pk, name, code in Unit.objects.filter(pk__in=ids).values_list("pk", "name", "area_code")
        }
        for r in missing:
            name, code = (
                units.get(int(r.key), (_("（已删除单位）"), "")) if r.key.isdigit() else (r.key, r.key)
            )
            r.name, r.code = name, code
        return
    digits = LEVEL_DIGITS[AreaLevel(f.level or AreaLevel.COUNTY)]
    areas: dict[str, str] = dict(
        Jurisdiction.objects.filter(code__in=[r.key for r in missing]).values_list("code", "name")
    )
    for r in missing:
        name = areas.get(r.key, r.key)
        # A shorter key holds the matters filed at a higher level (a county's own matters).
        r.name = _("%(name)s本级") % {"name": name} if len(r.key) < digits else name


def total(table: list[Row], *, rule: ScoringRule | None = None) -> Row:
    """The 合计 row (sums of the rows' counters; its rates from the sums)."""
    counts = sum((r.counts for r in table), Counts())
    return Row(key="total", code="", name=_("合计"), counts=counts, indicators=compute(counts, rule))


def trend(
    user: Any, f: Filters, *, months: int = 12, now: datetime | None = None
) -> list[tuple[date, Counts, Indicators]]:
    """Month by month, the ``months`` months ending with the period's last month (totals)."""
    now = now or timezone.now()
    last = f.period.end.replace(day=1)
    starts = [last]
    while len(starts) < months:
        starts.insert(0, date(starts[0].year - (starts[0].month == 1), (starts[0].month - 2) % 12 + 1, 1))
    span = Period(starts[0], Period.month(last.year, last.month).end)
    plan = _plan(user, Filters(span, f.group, f.level, f.kind, f.area, f.category), now)
    by_month: dict[date, Counts] = defaultdict(Counts)
    # Whole months: month rows (or detail rows when a category is asked for), summed per month.
    for item in plan.rollups.values("day").annotate(**_sums()).order_by():
        by_month[item.pop("day").replace(day=1)] += Counts(**{k: v or 0 for k, v in item.items()})
    ends = {m: min(Period.month(m.year, m.month).end_at, now) for m in starts}
    overdue = plan.overdue.aggregate(
        **{f"m{i}": Count("pk", filter=Q(deadline_at__lt=ends[m])) for i, m in enumerate(starts)}
    )
    out = []
    for i, m in enumerate(starts):
        counts = by_month[m]
        counts.overdue = overdue[f"m{i}"]
        out.append((m, counts, compute(counts)))
    return out


# ---------------------------------------------------------------------------------------------
# Columns: one list drives the API fields, the page table and the Excel sheet.


@dataclass(frozen=True)
class Column:
    """One indicator column: its key on Counts/Indicators, Chinese header and how to show it."""

    key: str
    label: Any
    kind: str  # "count" | "rate" | "mean" | "score" | "grade"


COLUMNS: tuple[Column, ...] = (
    Column("due_to_close", gettext_lazy("应结案数"), "count"),
    Column("closed", gettext_lazy("结案数"), "count"),
    Column("closed_on_time", gettext_lazy("按期结案数"), "count"),
    Column("closing_rate", gettext_lazy("结案率"), "rate"),
    Column("closing_on_time_rate", gettext_lazy("按期结案率"), "rate"),
    Column("due_to_handle", gettext_lazy("应处置数"), "count"),
    Column("handled", gettext_lazy("处置数"), "count"),
    Column("handled_on_time", gettext_lazy("按期处置数"), "count"),
    Column("overdue", gettext_lazy("超期待处置数"), "count"),
    Column("handling_rate", gettext_lazy("处置率"), "rate"),
    Column("handling_on_time_rate", gettext_lazy("按期处置率"), "rate"),
    Column("reworks", gettext_lazy("返工数"), "count"),
    Column("rework_rate", gettext_lazy("返工率"), "rate"),
    Column("overdue_rate", gettext_lazy("超期待处置率"), "rate"),
    Column("extensions", gettext_lazy("延期数"), "count"),
    Column("extension_rate", gettext_lazy("延期率"), "rate"),
    Column("on_spot", gettext_lazy("就地解决数"), "count"),
    Column("dispatched", gettext_lazy("派遣数"), "count"),
    Column("returned", gettext_lazy("退回数"), "count"),
    Column("parked", gettext_lazy("挂账数"), "count"),
    Column("reworked", gettext_lazy("返工案件数"), "count"),
    Column("satisfaction_count", gettext_lazy("评价数"), "count"),
    Column("satisfaction_mean", gettext_lazy("平均满意度"), "mean"),
    Column("satisfied_share", gettext_lazy("满意率(4–5分)"), "rate"),
    Column("score", gettext_lazy("得分"), "score"),
    Column("grade", gettext_lazy("等级"), "grade"),
)


def value(row: Row, column: Column) -> Any:
    """The raw value of ``column`` for ``row`` (int, Decimal, str or None)."""
    if hasattr(row.counts, column.key):
        return getattr(row.counts, column.key)
    return getattr(row.indicators, column.key)


# ---------------------------------------------------------------------------------------------
# Excel (what government offices open): Chinese headers, rates as percentage cells.

GRADE_COLOURS = {  # UI.md: grades A–E green, blue, yellow, red, black (the letter is always shown)
    "A": ("#1e7b34", "#ffffff"),
    "B": ("#1f5fbf", "#ffffff"),
    "C": ("#f2c200", "#222222"),
    "D": ("#c8102e", "#ffffff"),
    "E": ("#111111", "#ffffff"),
}


def workbook(table: list[Row], summary: Row, f: Filters, now: datetime) -> bytes:
    """An .xlsx of ``table`` and its 合计 row: a title, the period and data time, then one header
    row (名称, 区划代码 and every column of COLUMNS) and one row per unit or area."""
    import io

    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet(_("指标统计"))
    title = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format(
        {"bold": True, "bg_color": "#e6eef9", "border": 1, "text_wrap": True, "valign": "vcenter"}
    )
    text = book.add_format({"border": 1})
    formats = {
        "count": book.add_format({"num_format": "#,##0", "border": 1}),
        "rate": book.add_format({"num_format": "0.00%", "border": 1}),
        "mean": book.add_format({"num_format": "0.00", "border": 1}),
        "score": book.add_format({"num_format": "0.00", "border": 1}),
        "grade": book.add_format({"border": 1, "align": "center", "bold": True}),
    }
    grade_formats = {
        letter: book.add_format(
            {"border": 1, "align": "center", "bold": True, "bg_color": bg, "font_color": fg}
        )
        for letter, (bg, fg) in GRADE_COLOURS.items()
    }
    bold = {
        kind: book.add_format({**props, "bold": True})
        for kind, props in (
            ("count", {"num_format": "#,##0", "border": 1}),
            ("rate", {"num_format": "0.00%", "border": 1}),
            ("mean", {"num_format": "0.00", "border": 1}),
            ("score", {"num_format": "0.00", "border": 1}),
            ("grade", {"border": 1}),
            ("text", {"border": 1}),
        )
    }
    group_label = Group(f.group).label
    sheet.write(0, 0, _("平安建设·闭环处置指标统计（%(group)s）") % {"group": group_label}, title)
    sheet.write(
        1,
        0,
        _("统计区间：%(period)s　数据时间：%(time)s　计量单位：件、%%")
        % {
            "period": f.period.label(),
            "time": timezone.localtime(now).strftime("%Y-%m-%d %H:%M"),
        },
    )
    headers = [_("名称"), _("区划代码"), *[str(c.label) for c in COLUMNS]]
    sheet.write_row(2, 0, headers, head)
    sheet.set_row(2, 32)
    for n, row in enumerate([*table, summary], start=3):
        last = row is summary
        sheet.write_string(n, 0, row.name, bold["text"] if last else text)
        sheet.write_string(n, 1, row.code, bold["text"] if last else text)
        for i, column in enumerate(COLUMNS, start=2):
            raw = value(row, column)
            fmt = bold[column.kind] if last else formats[column.kind]
            if column.kind == "grade":
                sheet.write_string(n, i, raw or "—", grade_formats.get(raw, fmt))
            elif raw is None:
                sheet.write_string(n, i, "—", fmt)
            else:
                sheet.write_number(n, i, float(raw), fmt)
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 14)
    sheet.set_column(2, len(headers) - 1, 11)
    sheet.freeze_panes(3, 1)
    sheet.autofilter(2, 0, 2 + len(table), len(headers) - 1)
    book.close()
    return buffer.getvalue()
