"""Indicator API (/api/indicators/): the table, the unit scorecard, the monthly trend, Excel.

Everything is read from the roll-ups (pingan.cases.indicators) and limited to the caller's
scope: unit rows for units they may see, area rows for their areas. Bad input is a 422
naming the parameter. No postponed annotations: ninja needs real ones.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from pingan.cases import indicators, kinds
from pingan.cases.indicators import AreaLevel, Filters, Group, Period, Row
from pingan.cases.models import ScoringRule
from pingan.core.types import AuthedRequest

router = Router(tags=["indicators 指标"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class IndicatorQuery(Schema):
    """Which rows and which period. Default period: this month up to today."""

    group: Group = Field(Group.UNIT, description="unit 按单位 / area 按地区")
    level: AreaLevel | None = Field(
        None, description="按地区：county 县级（默认）/ township 乡镇级；按单位：只列该级区划的单位"
    )
    start: date | None = Field(None, description="开始日期（含），YYYY-MM-DD，Asia/Shanghai")
    end: date | None = Field(None, description="结束日期（含），默认今天")
    period: Literal["day", "month", "quarter", "year"] | None = Field(
        None, description="按自然周期统计（与 start/end 二选一）：包含 on 日期的日、月、季、年"
    )
    on: date | None = Field(None, description="与 period 同用，默认今天")
    kind: str | None = Field(None, max_length=20, description="案件类型，如 event")
    area: str | None = Field(None, max_length=24, description="区划代码：只统计该区划（最细到村社）")
    category: int | None = Field(None, ge=1, description="事件类型 id")


def filters_from(q: IndicatorQuery, today: date | None = None) -> Filters:
    """Validated Filters from the query; ValidationError names the parameter."""
    today = today or timezone.localdate()
    if q.period is not None:
        if q.start is not None or q.end is not None:
            raise ValidationError({"period": [_("period 不能与 start、end 同时使用")]})
        period = Period.containing(q.period, q.on or today)
    else:
        end = q.end or today
        period = Period.between(q.start or end.replace(day=1), end)
    if q.kind and q.kind not in {k.key for k in kinds.all_kinds()}:
        raise ValidationError({"kind": [_("未知的案件类型")]})
    return Filters(
        period=period,
        group=Group(q.group),
        level=AreaLevel(q.level) if q.level else None,
        kind=q.kind or None,
        area=(q.area or "").strip() or None,
        category=q.category,
    )


class RowOut(Schema):
    """One unit or area: counts, rates (fractions, and formatted with two decimals), score."""

    key: str = Field(description="单位 id 或区划代码")
    code: str = Field(description="区划代码")
    name: str
    registered: int = Field(description="登记数")
    cancelled: int = Field(description="注销数")
    on_spot: int = Field(description="就地解决数")
    dispatched: int = Field(description="派遣数")
    returned: int = Field(description="退回数")
    handled: int = Field(description="处置数")
    handled_on_time: int = Field(description="按期处置数")
    closed: int = Field(description="结案数")
    closed_on_time: int = Field(description="按期结案数")
    reworks: int = Field(description="返工数（次）")
    reworked: int = Field(description="返工案件数")
    extensions: int = Field(description="延期数")
    parked: int = Field(description="挂账数")
    yellow_cards: int = Field(description="黄牌数")
    red_cards: int = Field(description="红牌数")
    satisfaction_count: int = Field(description="评价数")
    overdue: int = Field(description="超期待处置数（统计截止时）")
    due_to_close: int = Field(description="应结案数")
    due_to_handle: int = Field(description="应处置数")
    closing_rate: float | None = Field(description="结案率（小数）")
    closing_rate_text: str
    closing_on_time_rate: float | None = Field(description="按期结案率")
    closing_on_time_rate_text: str
    handling_rate: float | None = Field(description="处置率")
    handling_rate_text: str
    handling_on_time_rate: float | None = Field(description="按期处置率")
    handling_on_time_rate_text: str
    rework_rate: float | None = Field(description="返工率")
    rework_rate_text: str
    overdue_rate: float | None = Field(description="超期待处置率")
    overdue_rate_text: str
    extension_rate: float | None = Field(description="延期率")
    extension_rate_text: str
    satisfied_share: float | None = Field(description="满意率（4–5 分占比）")
    satisfied_share_text: str
    satisfaction_mean: float | None = Field(description="平均满意度（1–5）")
    score: float | None = Field(description="考评得分（0–100）")
    grade: str = Field(description="等级 A–E；无数据为空")


class IndicatorsOut(Schema):
    start: date
    end: date
    group: str
    level: str | None
    data_time: datetime = Field(description="数据时间：计数截至此刻")
    rows: list[RowOut]
    total: RowOut


class RuleOut(Schema):
    weight_handled: float
    weight_handled_on_time: float
    weight_rework: float
    weight_overdue: float
    weight_extension: float
    grade_a: float
    grade_b: float
    grade_c: float
    grade_d: float


class ScoreRowOut(RowOut):
    rank: int | None = Field(description="按得分排名；无得分为空")


class ScorecardOut(Schema):
    start: date
    end: date
    data_time: datetime
    rule: RuleOut
    rows: list[ScoreRowOut]


class MonthOut(Schema):
    month: str = Field(description="YYYY-MM")
    due_to_close: int
    closed: int
    closed_on_time: int
    handled: int
    overdue: int
    closing_rate: float | None
    closing_on_time_rate: float | None
    handling_rate: float | None


class TrendOut(Schema):
    months: list[MonthOut]
    data_time: datetime


def _number(value: Decimal | None, places: int = 4) -> float | None:
    return None if value is None else round(float(value), places)


def row_out(row: Row) -> dict[str, Any]:
    """A Row as the API (and the page's chart data) shows it."""
    ind = row.indicators
    out: dict[str, Any] = {"key": row.key, "code": row.code, "name": row.name, **vars(row.counts)}
    out.update(due_to_close=ind.due_to_close, due_to_handle=ind.due_to_handle)
    for name in indicators.RATE_NAMES:
        out[name] = _number(getattr(ind, name))
        out[f"{name}_text"] = indicators.percent(getattr(ind, name))
    out["satisfaction_mean"] = _number(ind.satisfaction_mean, 2)
    out["score"] = _number(ind.score, 2)
    out["grade"] = ind.grade
    return out


def ranked(table: list[Row]) -> list[Row]:
    """Rows by score, best first (ties by name); rows without a score last."""
    return sorted(
        table, key=lambda r: (r.indicators.score is None, -(r.indicators.score or 0), r.code, r.name)
    )


@router.get("/", response=IndicatorsOut, summary="指标统计（按单位或地区）")
def indicator_table(request: AuthedRequest, q: Query[IndicatorQuery]):
    """应结案数, 结案率, 按期结案率, 处置率, 按期处置率, 返工率, 超期待处置率, 延期率, 满意度 per row."""
    f = filters_from(q)
    now = timezone.now()
    table = indicators.rows(request.user, f, now=now)
    return {
        "start": f.period.start,
        "end": f.period.end,
        "group": f.group,
        "level": f.level,
        "data_time": now,
        "rows": [row_out(r) for r in table],
        "total": row_out(indicators.total(table)),
    }


@router.get("/scorecard", response=ScorecardOut, summary="单位考评（得分与等级）")
def scorecard(request: AuthedRequest, q: Query[IndicatorQuery]):
    """Units ranked by score (处置率×30 + 按期处置率×20 + (1−返工率)×20 + (1−超期待处置率)×20 +
    (1−延期率)×10 by default; the weights and grade bounds are the active ScoringRule)."""
    f = filters_from(q)
    f = Filters(f.period, Group.UNIT, f.level, f.kind, f.area, f.category)
    now, rule = timezone.now(), ScoringRule.current()
    table = ranked(indicators.rows(request.user, f, now=now, rule=rule))
    out_rows = []
    for n, r in enumerate(table, start=1):
        out_rows.append({**row_out(r), "rank": n if r.indicators.score is not None else None})
    return {
        "start": f.period.start,
        "end": f.period.end,
        "data_time": now,
        "rule": {name: float(getattr(rule, name)) for name in RuleOut.model_fields},
        "rows": out_rows,
    }


@router.get("/trend", response=TrendOut, summary="逐月趋势（近 12 个月）")
def monthly_trend(request: AuthedRequest, q: Query[IndicatorQuery]):
    """The twelve months ending with the period's last month, totals over the caller's scope."""
    f = filters_from(q)
    now = timezone.now()
    months = []
    for month, counts, ind in indicators.trend(request.user, f, now=now):
        months.append(
            {
                "month": f"{month:%Y-%m}",
                "due_to_close": ind.due_to_close,
                "closed": counts.closed,
                "closed_on_time": counts.closed_on_time,
                "handled": counts.handled,
                "overdue": counts.overdue,
                "closing_rate": _number(ind.closing_rate),
                "closing_on_time_rate": _number(ind.closing_on_time_rate),
                "handling_rate": _number(ind.handling_rate),
            }
        )
    return {"months": months, "data_time": now}


@router.get("/export.xlsx", summary="导出 Excel", response={200: None})
def export_xlsx(request: AuthedRequest, q: Query[IndicatorQuery]):
    """The same rows as GET /api/indicators/ (with score and grade) as an Excel workbook."""
    f = filters_from(q)
    now, rule = timezone.now(), ScoringRule.current()
    table = indicators.rows(request.user, f, now=now, rule=rule)
    content = indicators.workbook(table, indicators.total(table), f, now)
    name = _("指标统计_%(start)s_%(end)s.xlsx") % {"start": f.period.start, "end": f.period.end}
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = (
        f"attachment; filename=\"indicators.xlsx\"; filename*=UTF-8''{quote(name)}"
    )
    return response
