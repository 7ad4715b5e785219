"""Dispute statistics API (/api/disputes/stats/): the figures of the 纠纷统计 page as JSON.

Counts by type, by area and by month, the success rate (调解成功率) and the police-linked
share (警调联动占比), limited to the caller's scope (pingan.disputes.stats reads through
``visible_to``). Bad input is a 422 naming the parameter. No postponed annotations: ninja
needs real ones.
"""

from datetime import date

from django.utils import timezone
from ninja import Field, Query, Router, Schema

from pingan.core.types import AuthedRequest
from pingan.disputes import stats
from pingan.disputes.choices import DisputeType

router = Router(tags=["disputes 矛盾纠纷"])


class StatsQuery(Schema):
    """Which disputes: registered from start to end (local days, both included)."""

    start: date | None = Field(
        None, description="开始日期（含），YYYY-MM-DD，Asia/Shanghai；默认为近 12 个月的第一天"
    )
    end: date | None = Field(None, description="结束日期（含），默认今天")
    area: str | None = Field(None, max_length=24, description="区划代码：只统计该区划（县、乡镇或村社）")
    dispute_type: DisputeType | None = Field(None, description="纠纷类型")


class CountsOut(Schema):
    total: int = Field(description="受理数")
    key_types: int = Field(description="五类重点纠纷数")
    outcomes: int = Field(description="有调解结果数")
    success: int = Field(description="调解成功数")
    flagged: int = Field(description="有民转刑风险标记数")
    police: int = Field(description="警调联动数（110 推送）")
    success_rate: float | None = Field(description="调解成功率 = 调解成功 ÷ 有调解结果（小数，无结果时为空）")
    police_share: float | None = Field(description="警调联动占比 = 警调联动 ÷ 受理数")


class GroupOut(CountsOut):
    key: str = Field(description="纠纷类型值、区划代码或月份（YYYY-MM）")
    name: str
    is_key_type: bool = Field(description="是否五类重点纠纷（按类型统计时）")


class PeriodOut(Schema):
    start: date
    end: date


class TrendOut(Schema):
    month: str
    previous_month: str
    total: int
    previous: int
    change: float | None = Field(description="环比变化（小数），上月为 0 时为空")


class StatsOut(Schema):
    period: PeriodOut
    area: str | None
    dispute_type: str | None
    summary: CountsOut
    by_type: list[GroupOut]
    area_level: str = Field(description="按地区统计的层级：county / township / village")
    by_area: list[GroupOut]
    by_month: list[GroupOut] = Field(description="截至结束日期所在月的近 12 个月")
    trend: TrendOut | None


def filters_from(q: StatsQuery) -> stats.StatsFilters:
    default = stats.default_filters(timezone.localdate())
    end = q.end or default.end
    start = q.start or (default.start if q.end is None else stats.default_filters(end).start)
    area = (q.area or "").strip() or None
    return stats.StatsFilters(start, end, area, q.dispute_type.value if q.dispute_type else None)


@router.get("/", response=StatsOut, summary="纠纷统计：按类型、地区、月份")
def dispute_stats(request: AuthedRequest, q: Query[StatsQuery]):
    return stats.report(request.user, filters_from(q))
