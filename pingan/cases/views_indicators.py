"""Indicator pages (统计 → 指标): the indicator table with its charts, and the unit scorecard.

The numbers come from pingan.cases.indicators (roll-ups, scoped to the user); the Excel
export is the API's /api/indicators/export.xlsx with the same filters.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pingan.cases import indicators, kinds
from pingan.cases.indicators import COLUMNS, AreaLevel, Column, Filters, Group, Period, Row
from pingan.cases.models import ScoringRule
from pingan.core.scoping import code_prefix
from pingan.web.context import current_jurisdiction

# The page table shows the main indicators; the Excel sheet has every column.
PAGE_COLUMNS = (
    "due_to_close",
    "closed",
    "closing_rate",
    "closing_on_time_rate",
    "due_to_handle",
    "handling_rate",
    "handling_on_time_rate",
    "rework_rate",
    "overdue",
    "overdue_rate",
    "extension_rate",
    "satisfaction_mean",
    "score",
    "grade",
)
SCORE_COLUMNS = (
    "due_to_handle",
    "handled",
    "handling_rate",
    "handling_on_time_rate",
    "rework_rate",
    "overdue_rate",
    "extension_rate",
    "score",
    "grade",
)
BY_KEY = {c.key: c for c in COLUMNS}
TREND_MONTHS = 12


class IndicatorFilterForm(forms.Form):
    """The page filters (GET). Dates are local (Asia/Shanghai) days, both ends included."""

    start = forms.DateField(
        label=gettext_lazy("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    group = forms.ChoiceField(label=gettext_lazy("统计对象"), choices=Group.choices, required=False)
    level = forms.ChoiceField(
        label=gettext_lazy("层级"),
        required=False,
        choices=[("", gettext_lazy("全部层级")), *AreaLevel.choices],
    )
    kind = forms.ChoiceField(label=gettext_lazy("事项类型"), required=False)

    def __init__(self, *args: Any, fixed_group: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind_field = self.fields["kind"]
        assert isinstance(kind_field, forms.ChoiceField)
        kind_field.choices = [("", _("全部类型")), *((k.key, k.label) for k in kinds.all_kinds())]
        if fixed_group:
            del self.fields["group"]
        self.fixed_group = fixed_group

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or end.replace(day=1)
        if end < start:
            self.add_error("end", _("结束日期不能早于开始日期"))
        elif (end - start).days >= indicators.MAX_DAYS:
            self.add_error("start", _("统计区间不能超过十年"))
        data["start"], data["end"] = start, end
        return data

    def filters(self, area: str | None) -> Filters:
        """The Filters asked for; this month to today when the form is empty or invalid."""
        today = timezone.localdate()
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        end = data.get("end") or today
        start = data.get("start") or end.replace(day=1)
        return Filters(
            period=Period(start, end),
            group=self.fixed_group or data.get("group") or Group.UNIT,
            level=data.get("level") or None,
            kind=data.get("kind") or None,
            area=area,
        )


def _area(request: HttpRequest) -> str | None:
    """The top-bar switcher narrows the statistics (never below a village: roll-ups stop there)."""
    chosen = current_jurisdiction(request)
    if chosen is None or len(code_prefix(chosen.code)) > indicators.VILLAGE_DIGITS:
        return None
    return chosen.code


def _quick_periods(f: Filters, today: date) -> list[dict[str, Any]]:
    """Links for the usual periods (今日, 本月, 上月, 本季度, 本年, 上年), keeping the other filters."""
    last_month_end = today.replace(day=1) - timedelta(days=1)
    options = [
        (_("今日"), Period.day(today)),
        (_("本月"), Period(today.replace(day=1), today)),
        (_("上月"), Period.month(last_month_end.year, last_month_end.month)),
        (_("本季度"), Period(Period.containing("quarter", today).start, today)),
        (_("本年"), Period(date(today.year, 1, 1), today)),
        (_("上年"), Period.year(today.year - 1)),
    ]
    out = []
    for label, period in options:
        query = _query(Filters(period, f.group, f.level, f.kind))
        out.append({"label": label, "url": f"?{query}", "active": period == f.period})
    return out


def _query(f: Filters, *, with_area: bool = False) -> str:
    params = {"start": f.period.start.isoformat(), "end": f.period.end.isoformat(), "group": f.group}
    if f.level:
        params["level"] = f.level
    if f.kind:
        params["kind"] = f.kind
    if with_area and f.area:
        params["area"] = f.area
    return urlencode(params)


def _cell(row: Row, column: Column) -> dict[str, Any]:
    raw = indicators.value(row, column)
    if column.kind == "rate":
        text, sort = indicators.percent(raw, 1), (None if raw is None else float(raw))
    elif column.kind in ("mean", "score"):
        text, sort = ("—" if raw is None else f"{raw:.2f}"), (None if raw is None else float(raw))
    elif column.kind == "grade":
        text, sort = raw or "—", ("ABCDE".index(raw) if raw else None)
    else:
        text, sort = f"{raw:,}", raw
    return {"key": column.key, "kind": column.kind, "text": text, "sort": "" if sort is None else sort}


def _table(rows: list[Row], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{"row": r, "cells": [_cell(r, BY_KEY[k]) for k in keys]} for r in rows]


def _data_time(now: datetime) -> str:
    return timezone.localtime(now).strftime("%Y-%m-%d %H:%M")


def _charts(request: HttpRequest, f: Filters, table: list[Row], now: datetime) -> dict[str, Any]:
    stamp = _("单位：%%　数据时间：%(time)s") % {"time": _data_time(now)}
    ranked = sorted(
        (r for r in table if r.indicators.closing_on_time_rate is not None),
        key=lambda r: (-(r.indicators.closing_on_time_rate or 0), r.code),
    )
    months = indicators.trend(request.user, f, months=TREND_MONTHS, now=now)

    def pct(value: Any) -> float | None:
        return None if value is None else round(float(value) * 100, 1)

    who = Group(f.group).label
    return {
        "ranking": {
            "title": _("按期结案率排名（%(who)s）") % {"who": who},
            "subtitle": f"{f.period.label()}　{stamp}",
            "names": [r.name for r in ranked],
            "values": [pct(r.indicators.closing_on_time_rate) for r in ranked],
            "grades": [r.indicators.grade for r in ranked],
        },
        "trend": {
            "title": _("结案率逐月趋势（近 %(n)d 个月）") % {"n": TREND_MONTHS},
            "subtitle": stamp,
            "months": [f"{m:%Y-%m}" for m, _counts, _ind in months],
            "series": [
                {"name": _("结案率"), "data": [pct(i.closing_rate) for _m, _c, i in months]},
                {"name": _("按期结案率"), "data": [pct(i.closing_on_time_rate) for _m, _c, i in months]},
                {"name": _("处置率"), "data": [pct(i.handling_rate) for _m, _c, i in months]},
            ],
        },
    }


def _area_name(request: HttpRequest, f: Filters) -> str:
    chosen = current_jurisdiction(request) if f.area else None
    return chosen.name if chosen is not None else ""


@login_required
def indicator_page(request: HttpRequest) -> HttpResponse:
    """/cases/indicators/: filters, the ranking and trend charts, the sortable table, Excel."""
    form = IndicatorFilterForm(request.GET or None)
    f = form.filters(_area(request))
    now, rule = timezone.now(), ScoringRule.current()
    table = indicators.rows(request.user, f, now=now, rule=rule)
    summary = indicators.total(table)
    context = {
        "form": form,
        "filters": f,
        "group_label": Group(f.group).label,
        "columns": [BY_KEY[k] for k in PAGE_COLUMNS],
        "rows": _table(table, PAGE_COLUMNS),
        "total": _table([summary], PAGE_COLUMNS)[0],
        "has_data": any(r.indicators.due_to_close for r in table),
        "charts": _charts(request, f, table, now),
        "quick": _quick_periods(f, timezone.localdate()),
        "export_url": f"/api/indicators/export.xlsx?{_query(f, with_area=True)}",
        "data_time": _data_time(now),
        "area_name": _area_name(request, f),
    }
    return render(request, "cases/indicators.html", context)


@login_required
def scorecard_page(request: HttpRequest) -> HttpResponse:
    """/cases/indicators/scorecard/: units ranked by the scorecard, grades coloured A–E."""
    form = IndicatorFilterForm(request.GET or None, fixed_group=Group.UNIT)
    f = form.filters(_area(request))
    now, rule = timezone.now(), ScoringRule.current()
    table = sorted(
        indicators.rows(request.user, f, now=now, rule=rule),
        key=lambda r: (r.indicators.score is None, -(r.indicators.score or 0), r.code, r.name),
    )
    rows = _table(table, SCORE_COLUMNS)
    rank = 0
    for item in rows:
        if item["row"].indicators.score is not None:
            rank += 1
            item["rank"] = rank
    context = {
        "form": form,
        "filters": f,
        "columns": [BY_KEY[k] for k in SCORE_COLUMNS],
        "rows": rows,
        "rule": rule,
        "grades": [
            ("A", rule.grade_a, None),
            ("B", rule.grade_b, rule.grade_a),
            ("C", rule.grade_c, rule.grade_b),
            ("D", rule.grade_d, rule.grade_c),
            ("E", None, rule.grade_d),
        ],
        "quick": _quick_periods(f, timezone.localdate()),
        "export_url": f"/api/indicators/export.xlsx?{_query(f, with_area=True)}",
        "data_time": _data_time(now),
    }
    return render(request, "cases/indicators_scorecard.html", context)
