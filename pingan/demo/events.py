"""Three years of event history for the Quzhou demo (演示历史事件): a working city's step log.

``load_events(count)`` writes ``count`` event cases over the 36 months up to now (from the
1st of the month three years back), each with the steps it would have gone through, so that
indicators, the desk, my work and the supervision board look like a city at work:

- **Where.** Counties in proportion to their resident population, grids within a county
  evenly, urban street grids (街道) denser; a random point inside the grid polygon.
- **When.** A slight growth over the three years; fewer reports on rest days and far fewer
  during the Spring Festival (春节, from the working-day calendar); daytime peaks per channel;
  seasons per category (市容环境 in summer, 燃气/消防/电动车充电 in winter, 排水/地质灾害 in
  the plum-rain season 梅雨 June–July, 劳资纠纷 before the Spring Festival).
- **Channels.** grid ~55 % (35 % of those solved on the spot 就地解决), 12345 ~25 %,
  citizen web ~8 %, 110 non-emergency ~7 %, inspection ~5 %.
- **Outcomes**, exact quotas of the events not solved on the spot (minimum 2 each):
  cancelled 1 %, returned and re-dispatched 3 %, reworked once 4 %, extended 2 %, parked
  0.5 %, handled late 8 %, stalled 0.1 % (taken in hand, never reported: overdue, carded);
  the rest handled and closed on time. Lateness, rework and stalling fall more often on some
  units than on others, so the scorecard ranks them. A history that reaches past now stops
  there: recent cases are still open. Evaluations (mostly 4–5) on ~60 % of the closed ones.
- **Units** from the routing rules, else the category's default unit, else the township
  platform (pingan.events.routing); a returned case goes to another platform of its
  township. **Deadlines** from the calendar (pingan.cases.deadlines), exactly.
- **Supervision** as the sweep (pingan.cases.sweep) would have raised it: 预警/黄牌/红牌
  steps at their moments while the clock ran, so a sweep right after the load raises nothing.

Speed (docs/performance.md "Demo load"): nothing goes through the per-case services. Each
case's history is played in memory with the effects of pingan.cases.services (tests/demo
replays samples through the services and compares), rows are written in one transaction per
chunk (SQLite: executemany; PostgreSQL: COPY), and the roll-ups and routing choices are
counted on the way by the rules of their rebuilds (tests/demo compares with a rebuild) —
the rebuild queries alone would take longer than all the rest. Numbers follow
services.next_number (county-date-sequence) and CaseSequence is moved past them.
"""

from __future__ import annotations

import bisect
import gc
import json
import random
import sys
import time
import uuid
from array import array
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import IO, Any, Protocol

import numpy as np
import shapely
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from pingan.accounts.choices import Platform, Role, UnitKind
from pingan.accounts.models import Unit, User
from pingan.cases import deadlines, rollups
from pingan.cases.choices import (
    CLOCK_STATUSES,
    Action,
    Channel,
    DeadlineUnit,
    Grain,
    Status,
    Supervision,
    Tier,
)
from pingan.cases.models import ROLLUP_COUNTERS, ROLLUP_KEY, Case, CaseRollup, CaseSequence, Step
from pingan.cases.sweep import STAGES
from pingan.core import calendar
from pingan.core.scoping import code_prefix
from pingan.events import routing
from pingan.events.models import Category, DispatchChoice, Event, RoutingRule
from pingan.geo.choices import Level
from pingan.geo.models import Jurisdiction

KIND = "event"
EVENTS = 200_000
SEED = 2026
HISTORY_MONTHS = 36
CHUNK = 20_000
PARAMETERS_PER_STATEMENT = 20_000  # PostgreSQL takes at most 65,535 parameters per statement
# Keep the history this far inside the working-day calendar, so that the last cases'
# deadlines do not run into a year it does not know (DOMAIN §3: never guessed). A dispatch
# or extension that would still do so is refused, as services refuse it.
CALENDAR_MARGIN = timedelta(days=31)

# Approximate resident population (万人, 2020 census, rounded) when the geography has none.
COUNTY_POPULATION = {
    "330802": 53,  # 柯城区
    "330803": 40,  # 衢江区
    "330822": 26,  # 常山县
    "330824": 26,  # 开化县
    "330825": 36,  # 龙游县
    "330881": 50,  # 江山市
}
URBAN_GRID_WEIGHT = 2.0  # a street (街道) grid sees twice the reports of a rural one

CHANNELS = (Channel.GRID, Channel.HOTLINE, Channel.CITIZEN, Channel.POLICE_110, Channel.INSPECTION)
CHANNEL_SHARE = (0.55, 0.25, 0.08, 0.07, 0.05)
ON_SPOT_SHARE = 0.35  # of grid reports (就地解决)
# Outcome quotas, shares of all registered events that were not solved on the spot.
QUOTAS = {
    "cancel": 0.01,
    "park": 0.005,
    "stall": 0.001,
    "return": 0.03,
    "rework": 0.04,
    "extend": 0.02,
    "late": 0.08,
}
QUOTA_MINIMUM = 2
STALL_RECENT_DAYS = 120  # stalled matters are recent ones
UNIT_SPREAD = 0.9  # σ of ln(unit quality): some units are late or reworked far more often
EVALUATED_SHARE = 0.60
REQUESTER_SHARE = 0.45  # 12345 and web reports linked to a resident of the people register
SCORES = (5, 4, 3, 2, 1)
SCORE_WEIGHTS_ON_TIME = (62, 27, 7, 2, 2)
SCORE_WEIGHTS_LATE = (33, 30, 20, 10, 7)

# Hour-of-day profiles (local time) per channel: grid and inspection work office hours,
# the 12345 hotline answers 24 h with daytime peaks, web reports peak in the evening, 110 at night.
_OFFICE_HOURS = (0, 0, 0, 0, 0, 0, 0.2, 0.8, 3, 4, 4, 3, 1, 1.5, 3.5, 4, 3.5, 2, 0.6, 0.3, 0.2, 0.1, 0, 0)
HOURS = {
    Channel.GRID: _OFFICE_HOURS,
    Channel.INSPECTION: _OFFICE_HOURS,
    Channel.HOTLINE: (.3, .2, .1, .1, .1, .3, .8, 2, 3.5, 4, 3.8, 3, 2, 2.5, 3.5, 3.5, 3.2, 2.8, 2.2, 2.2, 2, 1.5, 1, .6),
    Channel.CITIZEN: (.5, .3, .2, .1, .1, .2, .6, 1.2, 2, 2.5, 2.5, 2.2, 2, 2, 2.2, 2.2, 2, 2, 2.3, 2.8, 3, 3, 2.4, 1.2),
    Channel.POLICE_110: (1.6, 1.2, .9, .6, .5, .5, .7, 1.2, 1.8, 2, 2, 2, 2, 1.8, 1.8, 1.9, 2, 2.2, 2.6, 3, 3.2, 3, 2.6, 2.1),
}  # fmt: skip
# Day weights: (working day, rest day, Spring Festival) per channel.
DAY_FACTORS = {
    Channel.GRID: (1.0, 0.35, 0.12),
    Channel.INSPECTION: (1.0, 0.1, 0.02),
    Channel.HOTLINE: (1.0, 0.8, 0.45),
    Channel.CITIZEN: (1.0, 0.9, 0.5),
    Channel.POLICE_110: (1.0, 1.1, 0.8),
}
GROWTH = (0.85, 1.15)  # volume at the start and the end of the history (the platform took hold)

# Month multipliers (January … December) of the seasonal profiles.
SEASONS = {
    "flat": (1,) * 12,
    "summer": (0.8, 0.8, 0.9, 1.0, 1.1, 1.3, 1.45, 1.45, 1.25, 1.0, 0.9, 0.8),
    "winter": (1.7, 1.5, 1.1, 0.8, 0.7, 0.6, 0.6, 0.6, 0.7, 0.9, 1.3, 1.7),
    "plum": (0.5, 0.5, 0.8, 1.0, 1.6, 3.2, 3.0, 1.4, 0.9, 0.7, 0.5, 0.5),  # 梅雨 June–July
    "year_end": (1.9, 1.3, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.9, 1.0, 1.3, 2.2),  # wages before 春节
}


@dataclass(frozen=True)
class Mix:
    """How often a category comes in through each channel, its season and its wording."""

    season: str
    weights: tuple[float, float, float, float, float]  # grid, 12345, web, 110, inspection
    titles: tuple[str, ...]
    description: str


# The default catalogue's 小类 (pingan/events/data/default_catalogue.csv). A category of an
# imported catalogue that is not here gets GENERIC.
MIXES: dict[str, Mix] = {
    "0101": Mix("summer", (10, 3, 3, 0, 3), ("{place}暴露垃圾未清运", "{place}生活垃圾散落"),
                "{place}有垃圾堆放，约{n}平方米，天热有异味，请尽快清运。"),
    "0102": Mix("summer", (4, 1, 1, 0, 1), ("{place}路面清扫不及时", "{place}落叶泥沙未清扫"),
                "{place}路面有成片垃圾和泥沙，已有{n}天未清扫。"),
    "0103": Mix("summer", (4, 1, 1, 0, 1), ("{place}渣土积存", "{place}建筑垃圾堆积"),
                "{place}积存建筑垃圾和渣土约{n}立方米，超过24小时未清运。"),
    "0104": Mix("flat", (5, 0.5, 1, 0, 1), ("{place}墙面小广告", "{place}乱张贴乱涂写"),
                "{place}墙面、电线杆上张贴小广告{n}处，影响市容。"),
    "0105": Mix("flat", (2, 1, 1, 0, 2), ("{place}违规设置户外广告", "{place}广告牌破损有坠落风险"),
                "{place}一处店招广告牌破损松动，下方为人行道，存在坠落风险。"),
    "0106": Mix("summer", (6, 2, 2, 1, 1), ("{place}占道经营", "{place}流动摊贩占道"),
                "{place}有{n}个流动摊点占用道路经营，影响通行。"),
    "0107": Mix("summer", (5, 1, 1, 0, 1), ("{place}店外经营", "{place}商铺出店摆卖"),
                "{place}沿街商铺将货物摆出店外约{n}米，占用人行道。"),
    "0108": Mix("summer", (6, 1, 1, 0, 1), ("{place}乱堆物堆料", "{place}杂物堆放影响通行"),
                "{place}公共区域堆放杂物、建材，影响居民通行。"),
    "0109": Mix("summer", (2, 2, 2, 0.5, 0), ("{place}露天烧烤油烟扰民", "{place}夜间露天烧烤"),
                "{place}有商户夜间在门前露天烧烤，油烟影响楼上居民。"),
    "0201": Mix("plum", (4, 3, 2, 0, 1), ("{place}路面坑槽", "{place}道路破损影响通行"),
                "{place}路面出现坑槽，面积约{n}平方米，雨天积水，电动车通行危险。"),
    "0202": Mix("flat", (1.5, 1, 0.5, 0.5, 0), ("{place}井盖缺失", "{place}窨井盖丢失"),
                "{place}一处窨井盖缺失，已临时放置警示物，请尽快补装。"),
    "0203": Mix("flat", (2, 1, 0.5, 0, 0.5), ("{place}井盖破损松动", "{place}井盖异响"),
                "{place}井盖破损松动，车辆经过有异响。"),
    "0204": Mix("flat", (4, 4, 2, 0, 0), ("{place}路灯不亮", "{place}多盏路灯熄灭"),
                "{place}连续{n}盏路灯夜间不亮，居民夜间出行不便。"),
    "0205": Mix("flat", (3, 1, 1, 0, 0.5), ("{place}公共设施损坏", "{place}健身器材损坏"),
                "{place}健身器材、座椅等公共设施损坏{n}处。"),
    "0206": Mix("winter", (1, 2, 0.5, 0, 0), ("{place}供水管道破裂", "{place}路面冒水"),
                "{place}供水管道爆裂，路面冒水，周边居民停水。"),
    "0207": Mix("plum", (2, 2, 1, 0, 0.5), ("{place}雨水井堵塞", "{place}排水不畅积水"),
                "{place}雨水井堵塞，雨后积水深约{n}0厘米，影响通行。"),
    "0301": Mix("flat", (3, 3, 2, 6, 1), ("{place}机动车乱停放", "{place}车辆占用消防通道"),
                "{place}有{n}辆机动车占用人行道和消防通道停放。"),
    "0302": Mix("flat", (3, 1, 1, 0, 0.5), ("{place}共享单车乱停放", "{place}非机动车堆积占道"),
                "{place}共享单车、电动车堆积{n}十余辆，占用盲道。"),
    "0401": Mix("flat", (2, 2, 1, 0, 3), ("{place}疑似违法建设", "{place}未批先建"),
                "{place}有人未经审批新建建筑物，已建至{n}层。"),
    "0402": Mix("flat", (0.5, 2, 1, 0, 0.5), ("{place}装修拆改承重墙", "{place}违规装修"),
                "{place}有住户装修中疑似拆改承重墙，楼上楼下反映墙体开裂。"),
    "0403": Mix("flat", (3, 1, 1, 0, 2), ("{place}乱搭乱建", "{place}私搭棚架"),
                "{place}有住户在屋顶、庭院私搭棚架约{n}0平方米。"),
    "0501": Mix("summer", (1, 8, 4, 8, 0), ("{place}噪声扰民", "{place}夜间噪声影响休息"),
                "{place}夜间有噪声持续{n}小时以上，影响周边居民休息。"),
    "0502": Mix("flat", (0.5, 5, 3, 1, 0), ("{place}夜间施工噪声", "{place}工地夜间施工扰民"),
                "{place}工地夜间22时后仍在施工，噪声很大。"),
    "0503": Mix("summer", (1, 4, 2, 0, 2), ("{place}餐饮油烟直排", "{place}油烟污染"),
                "{place}餐馆油烟未经净化直排，周边居民窗户不敢开。"),
    "0504": Mix("plum", (2, 1, 1, 0, 0.5), ("{place}河道漂浮物", "{place}水面漂浮垃圾"),
                "{place}附近河道有成片漂浮垃圾，约{n}0平方米。"),
    "0505": Mix("winter", (2, 1, 0.5, 1, 0.5), ("{place}露天焚烧秸秆", "{place}焚烧垃圾冒烟"),
                "{place}有人露天焚烧垃圾和秸秆，烟雾较大。"),
    "0601": Mix("flat", (5, 2, 1, 0, 6), ("{place}安全隐患", "{place}经营场所安全隐患"),
                "{place}一处经营场所存在安全隐患，灭火器过期、电线私拉。"),
    "0602": Mix("winter", (4, 2, 1, 0, 5), ("{place}消防通道堵塞", "{place}楼道堆物堵塞安全出口"),
                "{place}消防通道被杂物和车辆堵塞，消防车无法通行。"),
    "0603": Mix("winter", (0.5, 1, 0.5, 1, 0.5), ("{place}燃气异味", "{place}疑似燃气泄漏"),
                "{place}闻到明显燃气异味，请尽快派人检查。"),
    "0604": Mix("winter", (4, 1, 1, 0, 4), ("{place}电动车楼道充电", "{place}飞线充电"),
                "{place}有电动车停放在楼道内充电，并有飞线充电{n}处。"),
    "0605": Mix("flat", (0.5, 0.5, 0.5, 0, 2), ("{place}危化品违规存放", "{place}商铺违规存放液化气"),
                "{place}一商铺违规存放液化气钢瓶{n}只。"),
    "0606": Mix("flat", (1.5, 1, 0.5, 0, 4), ("{place}工地围挡破损", "{place}建筑工地安全隐患"),
                "{place}建筑工地围挡破损，脚手架不稳，存在高空坠物风险。"),
    "0607": Mix("plum", (1, 0.3, 0.2, 0, 1), ("{place}山体开裂", "{place}滑坡隐患"),
                "{place}后山出现开裂，雨后有碎石滑落，下方有{n}户居民。"),
    "0701": Mix("flat", (3, 1, 0.5, 3, 2), ("{place}治安隐患", "{place}出租房屋治安隐患"),
                "{place}一处出租房屋人员混杂，进出频繁，存在治安隐患。"),
    "0702": Mix("flat", (5, 0.5, 0.5, 0, 2), ("{place}出租房屋未登记", "{place}流动人口未登记"),
                "{place}新入住流动人口{n}人，出租房屋未按规定登记。"),
    "0703": Mix("flat", (1, 0.5, 0.5, 3, 0), ("{place}发现可疑人员", "{place}可疑物品"),
                "{place}有陌生人员多次徘徊，形迹可疑。"),
    "0704": Mix("flat", (1, 2, 1, 3, 0), ("{place}群众反映涉诈线索", "{place}疑似电信诈骗"),
                "{place}有居民接到冒充客服的电话，要求转账，疑似电信网络诈骗。"),
    "0801": Mix("flat", (3, 3, 1, 6, 0), ("{place}邻里纠纷", "{place}漏水引发邻里矛盾"),
                "{place}两户邻居因漏水、噪声等问题多次发生争执。"),
    "0802": Mix("year_end", (1, 1, 0.5, 5, 0), ("{place}家庭纠纷", "{place}婚姻家庭矛盾"),
                "{place}一户家庭成员之间因赡养问题发生纠纷。"),
    "0803": Mix("year_end", (0.5, 5, 2, 2, 0), ("{place}拖欠工资", "{place}工人讨薪"),
                "{place}一工地拖欠{n}名工人工资，工人多次讨要未果。"),
    "0804": Mix("flat", (1.5, 1, 0.5, 1, 0), ("{place}土地山林纠纷", "{place}宅基地界址纠纷"),
                "{place}两户村民因宅基地、山林界址发生争执。"),
    "0805": Mix("flat", (0.5, 5, 3, 0.5, 0), ("{place}物业纠纷", "{place}物业服务不到位"),
                "{place}小区业主反映物业服务不到位，与物业公司发生纠纷。"),
    "0806": Mix("flat", (0.2, 4, 3, 1, 0), ("{place}消费纠纷", "{place}预付卡退费纠纷"),
                "{place}一商家停业，{n}名消费者预付卡无法退费。"),
    "0901": Mix("flat", (1, 3, 2, 0, 4), ("{place}食品安全隐患", "{place}无证餐饮"),
                "{place}一餐饮店无证经营，后厨卫生条件差。"),
    "0902": Mix("flat", (1.5, 2, 1, 0, 3), ("{place}无证无照经营", "{place}无照经营"),
                "{place}有商户未取得营业执照从事经营。"),
    "1001": Mix("winter", (3, 2, 1, 0, 0), ("{place}困难群众需帮扶", "{place}独居老人需关心"),
                "{place}有独居老人生活困难，需要落实帮扶措施。"),
    "1002": Mix("summer", (0.5, 5, 2, 0, 0), ("{place}停水停电", "{place}非计划停电"),
                "{place}停水停电已超过{n}小时，未见通知。"),
    "1003": Mix("flat", (0.5, 6, 4, 0, 0), ("{place}居民咨询政策", "{place}社保医保政策咨询"),
                "{place}居民咨询社保、医保、户籍办理政策。"),
}  # fmt: skip
GENERIC = Mix("flat", (1, 1, 1, 0.2, 0.2), ("{place}{name}",), "{place}群众反映{name}问题，请核实处理。")

COMMUNITY_SPOTS = ("小区东门", "小区北门", "菜市场门口", "公交站旁", "沿街商铺前", "背街小巷", "3幢楼下",
                   "农贸市场", "学校门口", "十字路口", "公园入口", "停车场")  # fmt: skip
VILLAGE_SPOTS = ("村口", "文化礼堂旁", "村委会门前", "溪边", "老街", "祠堂前", "村道边", "菜地旁", "桥头",
                 "山脚", "晒谷场", "小学旁")  # fmt: skip
NOTES: dict[str, tuple[str, ...]] = {
    Action.SOLVE_ON_SPOT: ("网格员现场劝导，已处置完毕", "现场处置完毕，拍照留存"),
    Action.CANCEL: ("经核实不符合立案条件", "重复反映，已有案件在办理", "经现场核实，反映情况不属实"),
    Action.RETURN: ("该事项不属于本单位职责范围，请重新派遣", "经核实属其他平台职责，退回重新分拨"),
    Action.REPORT: ("已处置完毕：{close}", "已按要求整改：{close}"),
    Action.CLOSE: ("核查属实，予以结案", "现场核查通过"),
    Action.REWORK: ("现场核查未达到结案条件：{close}", "反映人不满意，问题仍然存在，请重新处置"),
    Action.REQUEST_EXTENSION: ("需协调多个部门联合处置，申请延期", "受天气影响无法施工，申请延期"),
    Action.APPROVE_EXTENSION: ("同意延期",),
    Action.PARK: ("涉及历史遗留问题，需纳入年度计划解决，挂账处理", "需上级安排资金，近期无法解决，挂账处理"),
}
# A returned case goes to another platform of its township (基层治理四平台).
OTHER_PLATFORM: dict[str, Platform] = {
    Platform.ZONGZHI: Platform.GONGGONG,
    Platform.GONGGONG: Platform.ZONGZHI,
    Platform.JIANGUAN: Platform.ZONGZHI,
    Platform.YINGJI: Platform.JIANGUAN,
}


# ---------------------------------------------------------------------------------------------
# Reference data


@dataclass(slots=True)
class Cat:
    """A 小类 as the generator needs it."""

    category: Category
    mix: Mix
    unit: str
    amount: Decimal
    urgent: bool
    close_note: str


@dataclass(slots=True)
class Grid:
    """A grid with its place names and outline."""

    id: int
    code: str
    county: str
    township: str
    place: str  # county + township + village names
    village: str
    urban: bool
    shape: Any


@dataclass(slots=True)
class Head:
    """One event case before its history is played."""

    registered_at: datetime
    channel: str
    cat: Cat
    grid: Grid
    on_spot: bool = False
    fate: str = ""  # cancel, park or stall (exclusive), or ""
    returned: bool = False
    rework: bool = False
    extend: bool = False
    late: bool = False
    case_id: int = 0
    number: str = ""
    lat: float = 0.0
    lon: float = 0.0
    spot: str = ""


class Context:
    """Reference data loaded once: categories, grids, units, users, people, the calendar."""

    def __init__(self, now: datetime, rng: random.Random, seed: int = SEED) -> None:
        self.now = now
        self.rng = rng
        self.seed = seed
        self._quality: dict[int | None, float] = {}
        self.zone = calendar.local_zone()
        self.windows = calendar.office_windows()
        self.cats = self._categories()
        self.grids = self._grids()
        self.units = {u.pk: u for u in Unit.objects.filter(is_active=True)}
        self.platforms: dict[tuple[str, str], int] = {}
        for unit in sorted(self.units.values(), key=lambda u: u.pk, reverse=True):
            if unit.kind == UnitKind.PLATFORM:
                self.platforms[(unit.area_code, unit.platform)] = unit.pk  # the oldest wins
        self.dispatchers = self._office_users(Role.DISPATCHER)
        self.supervisors = self._office_users(Role.SUPERVISOR)
        self.grid_workers = dict(
            User.objects.filter(role=Role.GRID_WORKER, is_active=True, grid__isnull=False)
            .order_by("-id")
            .values_list("grid_id", "id")
        )
        self.unit_members = dict(
            User.objects.filter(role__in=(Role.HANDLER, Role.MEDIATOR), is_active=True, unit__isnull=False)
            .order_by("-id")
            .values_list("unit_id", "id")
        )
        self.people: dict[str, list[int]] = defaultdict(list)
        from pingan.people.models import Person

        for pk, code in Person.objects.order_by("id").values_list("id", "area_code"):
            self.people[code[:9]].append(pk)
            self.people[code[:6]].append(pk)
        self._routes: dict[tuple[int, str], tuple[int | None, int | None]] = {}
        self._covering_cache: dict[str, list[Unit]] = {}
        self._rules: dict[int, list[RoutingRule]] = defaultdict(list)
        for rule in RoutingRule.objects.filter(active=True, unit__is_active=True):
            self._rules[rule.category_id].append(rule)
        self._deadlines: dict[tuple[date, str, Decimal], datetime] = {}
        self._workdays: dict[date, bool] = {}

    def _categories(self) -> list[Cat]:
        cats = []
        for category in Category.objects.select_related("parent", "default_unit").order_by("order", "code"):
            if not category.usable:
                continue
            cats.append(
                Cat(
                    category=category,
                    mix=MIXES.get(category.code, GENERIC),
                    unit=category.deadline_unit,
                    amount=category.deadline_amount or Decimal(1),
                    urgent=category.deadline_unit == DeadlineUnit.URGENT_HOURS,
                    close_note=category.close_condition or "问题已解决",
                )
            )
        if not cats:
            raise RuntimeError("demo events: the event category catalogue is empty")
        return cats

    def _grids(self) -> dict[str, list[Grid]]:
        names = dict(Jurisdiction.objects.exclude(level=Level.GRID).values_list("code", "name"))
        by_county: dict[str, list[Grid]] = defaultdict(list)
        for pk, code, geometry in (
            Jurisdiction.objects.filter(level=Level.GRID)
            .order_by("code")
            .values_list("id", "code", "geometry")
        ):
            county, township, village = code[:6], code[:9], code[:12]
            if county not in names or geometry is None:
                continue
            township_name = names.get(township, "")
            by_county[county].append(
                Grid(
                    id=pk,
                    code=code,
                    county=county,
                    township=township,
                    place=names[county] + township_name + names.get(village, ""),
                    village=names.get(village, ""),
                    urban=township_name.endswith(("街道", "办事处")),
                    shape=shapely.from_geojson(json.dumps(geometry)),
                )
            )
        if not by_county:
            raise RuntimeError("demo events: no grids with outlines (load the demo geography first)")
        return by_county

    def _office_users(self, role: Role) -> dict[str, int]:
        """county code → a user of ``role`` whose scope is that county (else the city's)."""
        found: dict[str, int] = {}
        rows = User.objects.filter(role=role, is_active=True).order_by("id")
        for user_id, code in rows.values_list("id", "scope_jurisdictions__code"):
            if code and (len(code) == 6 or code not in found):
                found.setdefault(code, user_id)
        city = next((uid for code, uid in found.items() if code.endswith("00")), None)
        return defaultdict(lambda: city, found)  # type: ignore[arg-type,return-value]

    # --- routing (pingan.events.routing, cached per 小类 and township) ------------------------

    def route(self, cat: Cat, township: str) -> tuple[int | None, int | None]:
        """(suggested unit, the unit a returned case goes to next) for a 小类 in a township.

        The base suggestion of pingan.events.routing (rule, else default unit, else the
        township platform), evaluated in memory over rules and units read once: asking the
        database per 小类 and township costs seconds per thousand. tests/demo compares it
        with routing.matching_rule / routing.default_unit for every pair.
        """
        key = (cat.category.pk, township)
        found = self._routes.get(key)
        if found is None:
            unit = self._rule_unit(cat.category, township) or self._default_unit(cat.category, township)
            found = (unit.pk if unit else None, self._other_unit(cat, township, unit))
            self._routes[key] = found
        return found

    def _rule_unit(self, category: Category, area: str) -> Unit | None:
        """routing.matching_rule: the longest prefix, a 小类 rule first, higher priority, older."""
        candidates = [
            r
            for category_id in (category.pk, category.parent_id)
            if category_id is not None
            for r in self._rules.get(category_id, ())
            if area.startswith(r.area_prefix)
        ]
        best = min(
            candidates,
            key=lambda r: (-len(r.area_prefix), r.category_id != category.pk, -r.priority, r.pk),
            default=None,
        )
        return self.units.get(best.unit_id) if best is not None else None

    def _default_unit(self, category: Category, area: str) -> Unit | None:
        """routing.default_unit: a fixed unit, else the deepest covering unit by name, else the
        township platform of the category's platform."""
        for cat in (category, category.parent):
            if cat is None:
                continue
            if cat.default_unit_id is not None and cat.default_unit_id in self.units:
                return self.units[cat.default_unit_id]
            if cat.default_unit_name:
                for unit in self._covering(area):
                    if unit.name.endswith(cat.default_unit_name):
                        return unit
        platform = category.platform or (category.parent.platform if category.parent else "")
        if platform:
            pk = self.platforms.get((area[:9], platform))
            return self.units[pk] if pk is not None else None
        return None

    def _covering(self, area: str) -> list[Unit]:
        units = self._covering_cache.get(area)
        if units is None:
            units = [u for u in self.units.values() if area.startswith(code_prefix(u.area_code))]
            units.sort(key=lambda u: (-len(code_prefix(u.area_code)), u.pk))
            self._covering_cache[area] = units
        return units

    def _other_unit(self, cat: Cat, township: str, unit: Unit | None) -> int | None:
        category = cat.category
        platform = category.platform or (category.parent.platform if category.parent else "")
        if unit is not None and unit.kind == UnitKind.PLATFORM:
            platform = OTHER_PLATFORM.get(unit.platform, Platform.ZONGZHI)
        other = self.platforms.get((township, platform or Platform.ZONGZHI))
        if other is None or (unit is not None and other == unit.pk):
            other = self.platforms.get((township, Platform.ZONGZHI))
        return other

    # --- time ------------------------------------------------------------------------------

    def clock(self, start: datetime, cat: Cat) -> deadlines.Clock:
        return self.policy_clock(start, cat.unit, cat.amount)

    def policy_clock(self, start: datetime, unit: str, amount: Decimal) -> deadlines.Clock:
        """deadlines.clock, with day-based deadlines cached per local day (they end at 23:59:59)."""
        if unit in (DeadlineUnit.WORKING_DAYS, DeadlineUnit.CALENDAR_DAYS):
            key = (start.astimezone(self.zone).date(), unit, amount)
            deadline = self._deadlines.get(key)
            if deadline is None:
                deadline = self._deadlines[key] = deadlines.deadline_after(start, unit, amount)
            allowed = deadline - start
            # The same formula as deadlines.clock (tests/demo compares every case with it).
            return deadlines.Clock(
                deadline=deadline,
                warn_at=start + allowed * settings.CASE_WARN_SHARE,
                red_at=deadline + allowed * settings.CASE_RED_SHARE,
            )
        return deadlines.clock(start, unit, amount)

    def quality(self, unit_id: int | None) -> float:
        """How prone a unit is to lateness and rework (1 = average), fixed per unit and seed."""
        found = self._quality.get(unit_id)
        if found is None:
            found = self._quality[unit_id] = random.Random(
                self.seed * 100_003 + (unit_id or 0)
            ).lognormvariate(0, UNIT_SPREAD)
        return found

    def is_workday(self, day: date) -> bool:
        known = self._workdays.get(day)
        if known is None:
            known = self._workdays[day] = calendar.is_workday(day)
        return known

    def office_after(self, start: datetime, minutes: float) -> datetime:
        """About ``minutes`` of office time after ``start`` (a delay, not a deadline: the lunch
        break is ignored; deadlines come from ``clock``)."""
        opening, closing = self.windows[0][0], self.windows[-1][1]
        local = start.astimezone(self.zone)
        day = local.date()
        if not (self.is_workday(day) and opening <= local.time() < closing):
            if local.time() >= closing or not self.is_workday(day):
                day += timedelta(days=1)
                while not self.is_workday(day):
                    day += timedelta(days=1)
            local = datetime.combine(day, opening, tzinfo=self.zone)
        end = local + timedelta(minutes=minutes)
        day_end = datetime.combine(day, closing, tzinfo=self.zone)
        if end > day_end:  # carry the rest over to the next working day
            return self.office_after(day_end + timedelta(hours=12), (end - day_end).total_seconds() / 60)
        return end

    def daytime(self, at: datetime, after: datetime) -> datetime:
        """``at`` moved into office hours of its own local day when it falls at night, if that
        stays after ``after`` (handling reports are made in the daytime)."""
        local = at.astimezone(self.zone)
        if 8 <= local.hour < 20:
            return at
        moved = datetime.combine(local.date(), dtime(9), tzinfo=self.zone)
        moved += timedelta(minutes=self.rng.uniform(0, 510))
        return moved if moved > after else at


# ---------------------------------------------------------------------------------------------
# One case's history, with the effects of pingan.cases.services


class _Stop(Exception):
    """The history reached now: the case stays where it is."""


_CASE_UNIT = object()


class Life:
    """A case's state and steps, changed as pingan.cases.services and sweep would change them."""

    def __init__(self, now: datetime, clock: Callable[[datetime], deadlines.Clock]) -> None:
        self.now = now
        self.clock = clock
        self.status = ""
        self.unit_id: int | None = None
        self.dispatched_at: datetime | None = None
        self.deadline_at: datetime | None = None
        self.warn_at: datetime | None = None
        self.red_at: datetime | None = None
        self.handled_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.supervision = Supervision.NONE
        self.extension_count = 0
        self.extension_pending = False
        self.extension_request = ""
        self.rework_count = 0
        self.return_count = 0
        self.satisfaction: int | None = None
        self.steps: list[tuple] = []  # (action, from, to, at, actor id, unit id, note, data)
        self.last_at: datetime | None = None

    def _add(
        self,
        action: str,
        source: str,
        target: str,
        at: datetime,
        actor: int | None,
        unit: int | None,
        note: str = "",
        data: dict | None = None,
    ) -> None:
        # Plain strings for the database drivers (TextChoices members are str subclasses).
        self.steps.append((str(action), str(source), str(target), at, actor, unit, note, data))
        self.last_at = at

    def _sweep(self, until: datetime, inclusive: bool) -> None:
        """The cards a sweep raises before ``until`` while the clock runs (pingan.cases.sweep)."""
        if self.status not in CLOCK_STATUSES:
            return
        for action, level, moment_field in STAGES:
            moment = getattr(self, moment_field)
            if moment is None or self.supervision >= level:
                continue
            if moment < until or (inclusive and moment <= until):
                self.supervision = level
                assert self.deadline_at is not None and self.last_at is not None
                data = {"level": int(level), "deadline": self.deadline_at.astimezone(UTC).isoformat()}
                self._add(
                    action, self.status, self.status, max(moment, self.last_at), None, self.unit_id, "", data
                )

    def act(
        self,
        action: str,
        target: str | None,
        at: datetime,
        actor: int | None,
        note: str = "",
        data: dict | None = None,
        unit: Any = _CASE_UNIT,
    ) -> datetime:
        """Append ``action`` at ``at`` (after the cards due before it); returns the step's time."""
        if self.last_at is not None and at <= self.last_at:
            at = self.last_at + timedelta(seconds=1)
        if at > self.now:
            raise _Stop
        self._sweep(at, inclusive=False)
        source = self.status
        if target is not None:
            self.status = target
        self._add(
            action, source, self.status, at, actor, self.unit_id if unit is _CASE_UNIT else unit, note, data
        )
        return at

    def finish(self) -> None:
        self._sweep(self.now, inclusive=True)

    # --- the actions (see services.EFFECTS) --------------------------------------------------

    def register(self, at: datetime, actor: int | None, on_spot: bool, note: str) -> None:
        if on_spot:
            self.handled_at = self.closed_at = at
            self.act(Action.SOLVE_ON_SPOT, Status.CLOSED, at, actor, note)
        else:
            self.act(Action.REGISTER, Status.REGISTERED, at, actor)

    def dispatch(self, at: datetime, unit: int | None, actor: int | None, suggested: int | None) -> datetime:
        at = self._checked(at)
        try:
            clock = self.clock(at)
        except calendar.CalendarUnknownYear:
            raise _Stop from None  # services refuse it too: the case waits for the calendar
        at = self.act(
            Action.DISPATCH,
            Status.DISPATCHED,
            at,
            actor,
            "",
            {"suggested_unit_id": suggested} if suggested else {},
            unit=unit,
        )
        self.unit_id, self.dispatched_at = unit, at
        self.deadline_at, self.warn_at, self.red_at = clock.deadline, clock.warn_at, clock.red_at
        self.supervision = Supervision.NONE
        self.extension_pending = False
        return at

    def give_back(self, at: datetime, actor: int | None, note: str) -> datetime:
        """退回: the unit returns it; the clock stops and the card level resets."""
        at = self.act(Action.RETURN, Status.RETURNED, at, actor, note)
        self.return_count += 1
        self.unit_id = None
        self.deadline_at = self.warn_at = self.red_at = None
        self.supervision = Supervision.NONE
        return at

    def report(self, at: datetime, actor: int | None, note: str, data: dict | None = None) -> datetime:
        at = self.act(Action.REPORT, Status.REPORTED, at, actor, note, data)
        self.handled_at = at
        return at

    def close(self, at: datetime, actor: int | None, note: str) -> datetime:
        at = self._checked(at)
        on_time = self.deadline_at is None or (self.handled_at or at) <= self.deadline_at
        at = self.act(Action.CLOSE, Status.CLOSED, at, actor, note, {"on_time": on_time})
        self.closed_at = at
        return at

    def rework(self, at: datetime, actor: int | None, note: str) -> datetime:
        at = self.act(Action.REWORK, Status.HANDLING, at, actor, note)
        self.rework_count += 1
        self.handled_at = None
        return at

    def evaluate(self, at: datetime, actor: int | None, score: int, by: str) -> datetime:
        at = self.act(Action.EVALUATE, None, at, actor, "", {"satisfaction": score, "by": by})
        self.satisfaction = score
        return at

    def request_extension(self, at: datetime, actor: int | None, amount: Decimal, note: str) -> datetime:
        at = self.act(Action.REQUEST_EXTENSION, None, at, actor, note, {"amount": str(amount)})
        self.extension_pending, self.extension_request = True, str(amount)
        return at

    def approve_extension(self, at: datetime, actor: int | None, unit: str, note: str) -> datetime:
        at = self._checked(at)
        assert self.deadline_at is not None
        amount = Decimal(self.extension_request)
        start = self.dispatched_at or at
        try:
            deadline = deadlines.extended(self.deadline_at, unit, amount)
        except calendar.CalendarUnknownYear:
            raise _Stop from None  # services refuse it too: the request stays pending
        allowed = deadline - start
        data = {"amount": str(amount), "deadline": deadline.isoformat()}
        at = self.act(Action.APPROVE_EXTENSION, None, at, actor, note, data)
        self.deadline_at = deadline
        self.warn_at = start + allowed * settings.CASE_WARN_SHARE
        self.red_at = deadline + allowed * settings.CASE_RED_SHARE
        self.extension_count += 1
        self.extension_pending, self.extension_request = False, ""
        return at

    def _checked(self, at: datetime) -> datetime:
        """The time the step will get (``act`` keeps steps in order), checked against now first."""
        if self.last_at is not None and at <= self.last_at:
            at = self.last_at + timedelta(seconds=1)
        if at > self.now:
            raise _Stop
        return at


# ---------------------------------------------------------------------------------------------
# Generation


def _history_start(now: datetime, months: int = HISTORY_MONTHS) -> datetime:
    """The 1st of the month ``months`` - 1 months before now's month (local midnight)."""
    local = timezone.localtime(now, calendar.local_zone())
    index = local.year * 12 + local.month - 1 - (months - 1)
    first = date(index // 12, index % 12 + 1, 1)
    return datetime.combine(first, dtime(0), tzinfo=calendar.local_zone())


def _history_end(now: datetime) -> datetime:
    """Now, or earlier when the working-day calendar ends soon after it."""
    from pingan.core.models import WorkingDay

    last = WorkingDay.objects.aggregate(last=Max("date"))["last"]
    if last is None:
        raise calendar.CalendarUnknownYear(timezone.localtime(now).year)
    limit = datetime.combine(last, dtime(0), tzinfo=calendar.local_zone()) - CALENDAR_MARGIN
    return min(now, limit)


def _day_tables(ctx: Context, start: datetime, end: datetime) -> dict[str, tuple[list[date], list[float]]]:
    """Per channel: the days of the history and their cumulative weights."""
    from pingan.core.models import WorkingDay

    first, last = start.date(), timezone.localtime(end, ctx.zone).date()
    notes = dict(WorkingDay.objects.filter(date__gte=first, date__lte=last).values_list("date", "note"))
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    tables: dict[str, tuple[list[date], list[float]]] = {}
    span = max(len(days) - 1, 1)
    for channel in CHANNELS:
        workday, restday, festival = DAY_FACTORS[channel]
        cumulative, total = [], 0.0
        for i, day in enumerate(days):
            growth = GROWTH[0] + (GROWTH[1] - GROWTH[0]) * i / span
            if "春节" in (notes.get(day) or ""):
                factor = festival
            else:
                factor = workday if ctx.is_workday(day) else restday
            total += growth * factor
            cumulative.append(total)
        tables[channel] = (days, cumulative)
    return tables


def _cumulative(weights: Sequence[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _pick(rng: random.Random, cumulative: list[float]) -> int:
    return min(bisect.bisect_right(cumulative, rng.random() * cumulative[-1]), len(cumulative) - 1)


def build_heads(ctx: Context, count: int, start: datetime, end: datetime) -> list[Head]:
    """Where, when, what and through which channel each event came in, in time order."""
    rng = ctx.rng
    counties = sorted(ctx.grids)
    population = dict(
        Jurisdiction.objects.filter(code__in=counties, population__isnull=False).values_list(
            "code", "population"
        )
    )
    county_weights = _cumulative([population.get(c) or COUNTY_POPULATION.get(c, 30) for c in counties])
    grid_weights = {
        c: _cumulative([URBAN_GRID_WEIGHT if g.urban else 1.0 for g in ctx.grids[c]]) for c in counties
    }
    channel_weights = _cumulative(CHANNEL_SHARE)
    days = _day_tables(ctx, start, end)
    hours = {ch: _cumulative(HOURS[ch]) for ch in CHANNELS}
    # Category tables per (channel, month): channel weight × season.
    categories = {
        (ch, month): _cumulative([c.mix.weights[i] * SEASONS[c.mix.season][month - 1] for c in ctx.cats])
        for i, ch in enumerate(CHANNELS)
        for month in range(1, 13)
    }
    heads: list[Head] = []
    while len(heads) < count:
        channel = CHANNELS[_pick(rng, channel_weights)]
        day_list, day_weights = days[channel]
        day = day_list[_pick(rng, day_weights)]
        moment = datetime.combine(day, dtime(_pick(rng, hours[channel])), tzinfo=ctx.zone)
        moment += timedelta(seconds=rng.randrange(3600))
        if moment >= end or moment < start:
            continue
        county = counties[_pick(rng, county_weights)]
        grid = ctx.grids[county][_pick(rng, grid_weights[county])]
        cat = ctx.cats[_pick(rng, categories[(channel, day.month)])]
        head = Head(registered_at=moment.astimezone(UTC), channel=channel, cat=cat, grid=grid)
        head.on_spot = channel == Channel.GRID and not cat.urgent and rng.random() < ON_SPOT_SHARE
        heads.append(head)
    heads.sort(key=lambda h: h.registered_at)
    _assign_fates(ctx, heads, end)
    _place(ctx, heads)
    return heads


def _assign_fates(ctx: Context, heads: list[Head], end: datetime) -> None:
    """Exact quotas of outcomes (QUOTAS) among the events that were not solved on the spot.

    Lateness, rework and stalling fall more often on some units than on others (each unit's
    ``quality``), so that the unit scorecard ranks them instead of grading every unit alike.
    """
    rng = ctx.rng
    pool = [h for h in heads if not h.on_spot]

    def quota(name: str) -> int:
        return min(len(pool), max(QUOTA_MINIMUM, round(QUOTAS[name] * len(pool))))

    def weighted(candidates: list[Head], k: int) -> list[Head]:
        # Weighted sampling without replacement (Efraimidis–Spirakis): the k largest u^(1/w).
        keyed = [
            (rng.random() ** (1 / ctx.quality(ctx.route(h.cat, h.grid.township)[0])), i)
            for i, h in enumerate(candidates)
        ]
        return [candidates[i] for _key, i in sorted(keyed, reverse=True)[:k]]

    recent = [h for h in pool if h.registered_at >= end - timedelta(days=STALL_RECENT_DAYS)] or pool
    for h in weighted(recent, min(quota("stall"), len(recent))):
        h.fate = "stall"
    free = [h for h in pool if not h.fate]
    for name in ("cancel", "park"):
        for h in rng.sample(free, min(quota(name), len(free))):
            h.fate = name
        free = [h for h in free if not h.fate]
    for h in rng.sample(free, min(quota("return"), len(free))):
        h.returned = True
    for h in rng.sample(free, min(quota("extend"), len(free))):
        h.extend = True
    for h in weighted(free, min(quota("rework"), len(free))):
        h.rework = True
    for h in weighted(free, min(quota("late"), len(free))):
        h.late = True


class Placed(Protocol):
    """What ``_place`` and ``_number`` need of a case to be (an event's Head, a dispute's …)."""

    registered_at: datetime
    grid: Grid
    lat: float
    lon: float
    spot: str
    number: str


def _place(ctx: Context, heads: Sequence[Placed]) -> None:
    """A random point inside each case's grid (numpy, seeded) and a spot name."""
    generator = np.random.default_rng(ctx.rng.randrange(2**32))
    by_grid: dict[int, list[Placed]] = defaultdict(list)
    for h in heads:
        by_grid[h.grid.id].append(h)
    for grid_heads in by_grid.values():
        grid = grid_heads[0].grid
        minx, miny, maxx, maxy = grid.shape.bounds
        shapely.prepare(grid.shape)
        points = np.empty((0, 2))
        for _attempt in range(100):
            n = 4 * len(grid_heads) + 8
            xs, ys = generator.uniform(minx, maxx, n), generator.uniform(miny, maxy, n)
            keep = shapely.contains_xy(grid.shape, xs, ys)
            points = np.concatenate([points, np.column_stack([xs[keep], ys[keep]])])
            if len(points) >= len(grid_heads):
                break
        if len(points) < len(grid_heads):  # a sliver: use its representative point
            point = grid.shape.representative_point()
            points = np.array([[point.x, point.y]] * len(grid_heads))
        spots = COMMUNITY_SPOTS if grid.urban else VILLAGE_SPOTS
        for h, (lon, lat) in zip(grid_heads, points, strict=False):
            h.lon, h.lat = round(float(lon), 6), round(float(lat), 6)
            h.spot = spots[ctx.rng.randrange(len(spots))]


def play(ctx: Context, h: Head) -> Life:
    """The history of one event, up to now."""
    rng, cat = ctx.rng, h.cat
    life = Life(ctx.now, lambda at: ctx.clock(at, cat))
    county = h.grid.county
    office = ctx.dispatchers[county]
    try:
        note = _note(rng, Action.SOLVE_ON_SPOT, cat) if h.on_spot else ""
        life.register(h.registered_at, _reporter(ctx, h), h.on_spot, note)
        if h.on_spot:
            _evaluate(ctx, life, h, good=True)
            return life
        t = h.registered_at
        if h.fate == "cancel":
            life.act(
                Action.CANCEL,
                Status.CANCELLED,
                ctx.office_after(t, rng.uniform(15, 240)),
                office,
                _note(rng, Action.CANCEL, cat),
            )
            return life
        base, other = ctx.route(cat, h.grid.township)
        delay = rng.uniform(5, 30) if cat.urgent else rng.uniform(10, 120)
        t = life.dispatch(_after(ctx, t, delay, cat), base, office, base)
        if h.returned:
            if rng.random() < 0.4:
                t = life.act(
                    Action.ACCEPT,
                    Status.HANDLING,
                    _after(ctx, t, rng.uniform(5, 60), cat),
                    _member(ctx, life),
                )
            t = life.give_back(
                _after(ctx, t, rng.uniform(30, 360), cat), _member(ctx, life), _note(rng, Action.RETURN, cat)
            )
            t = life.dispatch(_after(ctx, t, rng.uniform(15, 240), cat), other, office, base)
        t = life.act(
            Action.ACCEPT, Status.HANDLING, _after(ctx, t, rng.uniform(3, 90), cat), _member(ctx, life)
        )
        if h.extend or (h.fate == "park" and rng.random() < 0.5):
            t = _extend(ctx, life, h, t)
        if h.fate == "park":
            assert life.deadline_at is not None and life.dispatched_at is not None
            allowed = life.deadline_at - life.dispatched_at
            life.act(
                Action.PARK,
                Status.PARKED,
                life.deadline_at + allowed * rng.uniform(-0.3, 0.4),
                office,
                _note(rng, Action.PARK, cat),
            )
            return life
        if h.fate == "stall":
            return life
        t = life.report(
            _report_time(ctx, life, t, cat, late=h.late and not h.rework),
            _member(ctx, life),
            _note(rng, Action.REPORT, cat),
        )
        if h.rework:
            t = life.rework(_after(ctx, t, rng.uniform(30, 600), cat), office, _note(rng, Action.REWORK, cat))
            t = life.report(
                _report_time(ctx, life, t, cat, late=h.late),
                _member(ctx, life),
                _note(rng, Action.REPORT, cat),
            )
        verify = rng.uniform(20, 120) if cat.urgent else rng.uniform(20, 480)
        life.close(_after(ctx, t, verify, cat), office, _note(rng, Action.CLOSE, cat))
        _evaluate(ctx, life, h, good=not (h.late or h.rework))
    except _Stop:
        pass
    finally:
        life.finish()
    return life


def _after(ctx: Context, t: datetime, minutes: float, cat: Cat) -> datetime:
    """Urgent matters are worked around the clock; the rest in office hours."""
    return t + timedelta(minutes=minutes) if cat.urgent else ctx.office_after(t, minutes)


def _report_time(ctx: Context, life: Life, t: datetime, cat: Cat, late: bool) -> datetime:
    """A report within the deadline in force (mostly well within), or after it when late."""
    rng = ctx.rng
    assert life.deadline_at is not None and life.dispatched_at is not None
    deadline, allowed = life.deadline_at, life.deadline_at - life.dispatched_at
    if late:
        at = max(deadline, t) + allowed * rng.uniform(0.03, 0.9) + timedelta(minutes=rng.uniform(1, 60))
        return ctx.daytime(at, max(deadline, t))
    if deadline - t <= timedelta(minutes=10):
        return deadline  # no time left: handled at the last moment
    at = t + (deadline - t) * rng.triangular(0.05, 0.97, 0.3)
    if cat.unit in (DeadlineUnit.WORKING_DAYS, DeadlineUnit.CALENDAR_DAYS):
        # A day-based deadline ends at midnight: a report on any day up to it is in time.
        at = ctx.daytime(at, t)
    return at


def _extend(ctx: Context, life: Life, h: Head, t: datetime) -> datetime:
    rng, cat = ctx.rng, h.cat
    assert life.deadline_at is not None
    request = t + max(life.deadline_at - t, timedelta(minutes=30)) * rng.uniform(0.3, 0.7)
    if cat.unit in (DeadlineUnit.WORKING_DAYS, DeadlineUnit.CALENDAR_DAYS):
        amount = Decimal(max(1, int(cat.amount) // 2 + rng.randrange(3)))
    else:
        amount = cat.amount
    t = life.request_extension(request, _member(ctx, life), amount, _note(rng, Action.REQUEST_EXTENSION, cat))
    approve = (
        t + timedelta(minutes=rng.uniform(10, 60))
        if cat.urgent
        else ctx.office_after(t, rng.uniform(30, 240))
    )
    return life.approve_extension(
        approve, ctx.dispatchers[h.grid.county], cat.unit, _note(rng, Action.APPROVE_EXTENSION, cat)
    )


def _evaluate(ctx: Context, life: Life, h: Head, good: bool) -> None:
    rng = ctx.rng
    if life.status != Status.CLOSED or rng.random() >= EVALUATED_SHARE:
        return
    score = rng.choices(SCORES, SCORE_WEIGHTS_ON_TIME if good else SCORE_WEIGHTS_LATE)[0]
    assert life.closed_at is not None
    # The centre records every score: one the requester gives (12345, web) or one from its
    # follow-up call (回访).
    office = ctx.dispatchers[h.grid.county]
    if h.channel in (Channel.HOTLINE, Channel.CITIZEN) and rng.random() < 0.6:
        life.evaluate(life.closed_at + timedelta(hours=rng.uniform(1, 72)), office, score, "requester")
    else:
        life.evaluate(ctx.office_after(life.closed_at, rng.uniform(60, 1440)), office, score, "callback")


def _member(ctx: Context, life: Life) -> int | None:
    return ctx.unit_members.get(life.unit_id) if life.unit_id else None


def _reporter(ctx: Context, h: Head) -> int | None:
    if h.channel == Channel.GRID:
        return ctx.grid_workers.get(h.grid.id)
    if h.channel == Channel.CITIZEN:
        return None  # filed by the citizen on the web
    if h.channel == Channel.INSPECTION:
        return ctx.supervisors[h.grid.county] or ctx.dispatchers[h.grid.county]
    return ctx.dispatchers[h.grid.county]


def _note(rng: random.Random, action: str, cat: Cat) -> str:
    choices = NOTES[action]
    return choices[rng.randrange(len(choices))].format(close=cat.close_note)


# ---------------------------------------------------------------------------------------------
# Writing


def insert_rows(table: str, columns: Sequence[str], rows: Sequence[tuple], upsert: str = "") -> None:
    """INSERT ``rows`` into ``table`` (``columns`` in order), parameterised; ``upsert`` is an
    ``ON CONFLICT … DO UPDATE …`` clause for rows that may exist already.

    SQLite: one prepared statement run per row (executemany, fastest there). PostgreSQL: COPY
    (through a temporary table when upserting); statements with many rows spend more time
    quoting parameters than the server spends storing them.
    """
    qn = connection.ops.quote_name
    names = ", ".join(qn(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            values = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {qn(table)} ({names}) VALUES ({values}) {upsert}", rows)
            return
        target = qn(table)
        if upsert:
            target = qn(f"demo_load_{table}")
            cursor.execute(f"CREATE TEMPORARY TABLE {target} AS SELECT {names} FROM {qn(table)} WITH NO DATA")
        with cursor.cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if upsert:
            cursor.execute(f"INSERT INTO {qn(table)} ({names}) SELECT {names} FROM {target} {upsert}")
            cursor.execute(f"DROP TABLE {target}")


class _Table:
    """An INSERT for ``model`` with the given attributes in this order; every other concrete
    field gets its default (so a field added later does not break the loader)."""

    def __init__(self, model: type[models.Model], attnames: Sequence[str]) -> None:
        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = [a for a in attnames if a not in fields]
        if unknown:
            raise RuntimeError(f"demo events: {model.__name__} has no {unknown}")
        extra = [
            f
            for f in model._meta.concrete_fields
            if f.attname not in attnames
            and f is not model._meta.pk  # an auto key numbers itself
            and (f.has_default() or not f.has_db_default())
        ]
        self.extra = tuple(f.get_db_prep_save(f.get_default(), connection) for f in extra)
        self.table = model._meta.db_table
        self.columns = [str(fields[a].column) for a in attnames] + [str(f.column) for f in extra]

    def insert(self, rows: list[tuple]) -> None:
        if self.extra:
            rows = [row + self.extra for row in rows]
        insert_rows(self.table, self.columns, rows)


CASE_ATTRS = (
    "id", "uuid", "number", "kind", "title", "description", "channel", "status", "version",
    "jurisdiction_id", "area_code", "lat", "lon", "address", "tier", "unit_id", "requester_id",
    "reporter_id", "deadline_unit", "deadline_amount", "registered_at", "dispatched_at", "deadline_at",
    "warn_at", "red_at", "handled_at", "closed_at", "supervision", "extension_count",
    "extension_pending", "rework_count", "return_count", "satisfaction", "data",
)  # fmt: skip
STEP_ATTRS = (
    "id",
    "case_id",
    "action",
    "from_status",
    "to_status",
    "at",
    "actor_id",
    "unit_id",
    "note",
    "data",
)
EVENT_ATTRS = ("case_id", "category_id", "channel_ref", "on_spot")


class Writer:
    """Rows for the database: datetimes, JSON, UUIDs and decimals as the backend wants them."""

    def __init__(self) -> None:
        self.cases = _Table(Case, CASE_ATTRS)
        self.steps = _Table(Step, STEP_ATTRS)
        self.events = _Table(Event, EVENT_ATTRS)
        self.sqlite = connection.vendor == "sqlite"
        self.native_uuid = connection.features.has_native_uuid_field
        self.amount_field = Case._meta.get_field("deadline_amount")
        self._adapt_json = connection.ops.adapt_json_value
        self.empty_json = self._adapt_json({}, None)
        self._amounts: dict[Decimal, Any] = {}

    def dt(self, value: datetime | None) -> Any:
        if value is None:
            return None
        if self.sqlite:  # as DatabaseOperations.adapt_datetimefield_value: naive UTC text
            return value.astimezone(UTC).isoformat(" ")[:-6]  # drop "+00:00"
        return value

    def json(self, value: dict | None) -> Any:
        return self._adapt_json(value, None) if value else self.empty_json

    def uuid(self, value: uuid.UUID) -> Any:
        return value if self.native_uuid else value.hex  # as UUIDField.get_db_prep_value

    def amount(self, value: Decimal) -> Any:
        prepared = self._amounts.get(value)
        if prepared is None:
            prepared = self._amounts[value] = self.amount_field.get_db_prep_save(value, connection)
        return prepared


def _case_row(w: Writer, ctx: Context, h: Head, life: Life, rng: random.Random) -> tuple:
    cat, grid = h.cat, h.grid
    place = grid.village + h.spot
    n = rng.randrange(2, 10)
    title = cat.mix.titles[rng.randrange(len(cat.mix.titles))].format(
        place=place, name=cat.category.name, n=n
    )
    description = cat.mix.description.format(place=place, name=cat.category.name, n=n)
    requester = None
    if h.channel in (Channel.HOTLINE, Channel.CITIZEN) and rng.random() < REQUESTER_SHARE:
        people = ctx.people.get(grid.township) or ctx.people.get(grid.county)
        if people:
            requester = people[rng.randrange(len(people))]
    data: dict[str, Any] = {rollups.CATEGORY_KEY: cat.category.pk}
    if life.extension_pending:
        data["extension_request"] = life.extension_request
    return (
        h.case_id,
        w.uuid(uuid.UUID(int=rng.getrandbits(128), version=4)),
        h.number,
        KIND,
        title[:200],
        description,
        str(h.channel),
        str(life.status),
        len(life.steps) - 1,  # every transition and card raised the version by one
        grid.id,
        grid.code,
        h.lat,
        h.lon,
        (grid.place + h.spot)[:200],
        int(Tier.VILLAGE if h.on_spot else Tier.TOWNSHIP),
        life.unit_id,
        requester,
        _reporter(ctx, h),
        cat.unit,
        w.amount(cat.amount),
        w.dt(h.registered_at),
        w.dt(life.dispatched_at),
        w.dt(life.deadline_at),
        w.dt(life.warn_at),
        w.dt(life.red_at),
        w.dt(life.handled_at),
        w.dt(life.closed_at),
        int(life.supervision),
        life.extension_count,
        life.extension_pending,
        life.rework_count,
        life.return_count,
        life.satisfaction,
        w.json(data),
    )


def _channel_ref(h: Head, rng: random.Random) -> str:
    day = timezone.localtime(h.registered_at, calendar.local_zone())
    if h.channel == Channel.HOTLINE:
        return f"12345-{day:%Y%m%d}-{rng.randrange(10**6):06d}"
    if h.channel == Channel.POLICE_110:
        return f"110-{h.grid.county}-{day:%Y%m%d}{rng.randrange(10**4):04d}"
    return ""


def _number(heads: Sequence[Placed], zone: Any) -> dict[str, int]:
    """Numbers as services.next_number gives them: county-local date-daily sequence, continuing
    any sequence already in use. Returns the last number per prefix."""
    last = dict(CaseSequence.objects.values_list("prefix", "last"))
    for h in heads:
        prefix = f"{h.grid.county}-{h.registered_at.astimezone(zone):%Y%m%d}"
        seq = last.get(prefix, 0) + 1
        last[prefix] = seq
        h.number = f"{prefix}-{seq:05d}"
    return last


def _save_sequences(last: dict[str, int]) -> None:
    """CaseSequence.last per prefix: at least the last number written (services.next_number
    goes on from there)."""
    qn = connection.ops.quote_name
    table = CaseSequence._meta.db_table
    current = f"{qn(table)}.{qn('last')}"
    upsert = (
        f"ON CONFLICT ({qn('prefix')}) DO UPDATE SET {qn('last')} = "
        f"CASE WHEN excluded.{qn('last')} > {current} THEN excluded.{qn('last')} ELSE {current} END"
    )
    insert_rows(table, ("prefix", "last"), sorted(last.items()), upsert)


def _reset_sequences(written: Sequence[type[models.Model]] = (Case, Step)) -> None:
    """PostgreSQL: move the id sequences of ``written`` past the ids written explicitly."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(written))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


# ---------------------------------------------------------------------------------------------
# Roll-ups and routing choices, counted while the cases are written

_COUNTER = {name: i for i, name in enumerate(ROLLUP_COUNTERS)}
_HANDLED, _HANDLED_ON_TIME = _COUNTER["handled"], _COUNTER["handled_on_time"]
_CLOSED, _CLOSED_ON_TIME = _COUNTER["closed"], _COUNTER["closed_on_time"]
_REWORKS, _REWORKED = _COUNTER["reworks"], _COUNTER["reworked"]
_SCORE_SUM, _SCORE_COUNT = _COUNTER["satisfaction_sum"], _COUNTER["satisfaction_count"]
_SATISFIED = _COUNTER["satisfied"]
# What a step adds whatever comes after it (pingan.cases.rollups' table).
_FIXED: dict[str, tuple[tuple[int, int], ...]] = {
    str(action): tuple((_COUNTER[name], 1) for name in names)
    for action, names in (
        (Action.REGISTER, ("registered",)),
        (Action.SOLVE_ON_SPOT, ("registered", "on_spot", "closed", "closed_on_time")),
        (Action.CANCEL, ("cancelled",)),
        (Action.MERGE, ("cancelled",)),
        (Action.DISPATCH, ("dispatched",)),
        (Action.TRANSFER, ("dispatched",)),
        (Action.RETURN, ("returned",)),
        (Action.APPROVE_EXTENSION, ("extensions",)),
        (Action.PARK, ("parked",)),
        (Action.YELLOW_CARD, ("yellow_cards",)),
        (Action.RED_CARD, ("red_cards",)),
    )
}
_LEAVING_BACK = {str(a) for a in rollups.RETRACTING}


class RollupSink:
    """The roll-up rows of the loaded steps, counted in memory by the rules of
    pingan.cases.rollups.rebuild (each counted step touches its row in the three grains, even
    when it adds nothing), then added to the table in one pass. On this data set the rebuild
    queries take longer than generating and writing everything else; tests/demo proves that
    a rebuild afterwards yields the same rows."""

    def __init__(self, zone: Any, kind: str = KIND) -> None:
        self.zone = zone
        self.kind = kind
        # key → offset of its counters in one flat array (a list per row would cost 3× the memory)
        self.rows: dict[tuple, int] = {}
        self.counts = array("i")
        self._zeros = array("i", [0] * len(ROLLUP_COUNTERS))
        self._days: dict[date, date] = {}

    def add(
        self, area: str, category: int, steps: list[tuple], deadline: datetime | None, score: int | None
    ) -> None:
        village, township = area[: rollups.VILLAGE_DIGITS], area[: rollups.TOWNSHIP_DIGITS]
        last_evaluation = max((i for i, s in enumerate(steps) if s[0] == Action.EVALUATE), default=-1)
        reworked = False
        for i, (action, _source, _target, at, _actor, unit, _note, data) in enumerate(steps):
            if action not in _COUNTED:
                continue
            add = _FIXED.get(action)
            if add is not None:
                pass
            elif action == Action.REPORT:
                # A report counts unless the case leaves 待核查 by 返工/提级 (it was taken back).
                leaving = next(
                    (s[0] for s in steps[i + 1 :] if s[1] == Status.REPORTED and s[2] != Status.REPORTED),
                    None,
                )
                on_time = int(deadline is None or at <= deadline)
                add = () if leaving in _LEAVING_BACK else ((_HANDLED, 1), (_HANDLED_ON_TIME, on_time))
            elif action == Action.CLOSE:
                add = ((_CLOSED, 1), (_CLOSED_ON_TIME, int(bool((data or {}).get("on_time")))))
            elif action == Action.REWORK:
                add = ((_REWORKS, 1), (_REWORKED, int(not reworked)))
                reworked = True
            elif action == Action.EVALUATE and i == last_evaluation:  # only the latest score counts
                value = score or 0
                add = (
                    (_SCORE_SUM, value),
                    (_SCORE_COUNT, 1),
                    (_SATISFIED, int(value >= rollups.SATISFIED_FROM)),
                )
            else:
                add = ()
            day = at.astimezone(self.zone).date()
            day = self._days.setdefault(day, day)  # one object per day, not per row
            unit_id = unit or 0
            for key in (
                (Grain.DETAIL, day, unit_id, village, self.kind, category),
                (Grain.DAY, day, unit_id, township, self.kind, 0),
                (Grain.MONTH, day.replace(day=1), unit_id, township, self.kind, 0),
            ):
                at_row = self.rows.get(key)
                if at_row is None:
                    at_row = self.rows[key] = len(self.counts)
                    self.counts.extend(self._zeros)
                for index, n in add:
                    self.counts[at_row + index] += n

    def write(self) -> int:
        """Add the rows to CaseRollup (INSERT … ON CONFLICT DO UPDATE n = n + excluded.n, as
        pingan.cases.rollups does), so rows already there keep their counts."""
        qn = connection.ops.quote_name
        table = qn(CaseRollup._meta.db_table)
        columns = (*ROLLUP_KEY, *ROLLUP_COUNTERS)
        updates = ", ".join(f"{qn(n)} = {table}.{qn(n)} + excluded.{qn(n)}" for n in ROLLUP_COUNTERS)
        upsert = f"ON CONFLICT ({', '.join(qn(c) for c in ROLLUP_KEY)}) DO UPDATE SET {updates}"
        adapt = connection.ops.adapt_datefield_value
        # In key order: the unique index grows at its end instead of everywhere at once. In
        # batches, each counted row dropped once written (a million rows at full size).
        keys = sorted(self.rows)
        width = len(ROLLUP_COUNTERS)
        with transaction.atomic():
            for begin in range(0, len(keys), CHUNK * 5):
                batch = []
                for key in keys[begin : begin + CHUNK * 5]:
                    g, d, u, a, k, c = key
                    at_row = self.rows.pop(key)
                    batch.append((str(g), adapt(d), u, a, k, c, *self.counts[at_row : at_row + width]))
                insert_rows(CaseRollup._meta.db_table, columns, batch, upsert)
        return len(keys)


_COUNTED = {str(a) for a in rollups.COUNTED_ACTIONS}


class ChoiceSink:
    """DispatchChoice rows of the loaded dispatches (routing.rebuild_choices' rule: every 派遣
    of an event to a unit, per 小类, township, unit and local month: count and latest)."""

    def __init__(self, zone: Any) -> None:
        self.zone = zone
        self.rows: dict[tuple[int, str, int, date], list] = {}

    def add(self, area: str, category: int, steps: list[tuple]) -> None:
        for action, _source, _target, at, _actor, unit, _note, _data in steps:
            if action != Action.DISPATCH or unit is None:
                continue
            month = at.astimezone(self.zone).date().replace(day=1)
            key = (category, routing.area_of(area), unit, month)
            row = self.rows.get(key)
            if row is None:
                self.rows[key] = [1, at]
            else:
                row[0] += 1
                row[1] = max(row[1], at)

    def write(self, writer: Writer) -> int:
        """Insert the rows; when the table already had rows, rebuild it from the step log instead
        (their counts would have to be merged)."""
        if DispatchChoice.objects.exists():
            return routing.rebuild_choices()
        table = _Table(DispatchChoice, ("category_id", "area", "unit_id", "month", "count", "last_at"))
        adapt = connection.ops.adapt_datefield_value
        with transaction.atomic():
            table.insert(
                [(c, a, u, adapt(m), n, writer.dt(last)) for (c, a, u, m), (n, last) in self.rows.items()]
            )
        return len(self.rows)


# ---------------------------------------------------------------------------------------------
# Entry point


def ensure_catalogue_and_rules() -> None:
    """The default category catalogue, and demo routing rules: in rural towns (镇、乡) 市容环境
    and 乱搭乱建 go to the town's 监管执法平台 (综合执法 delegated to towns), when none exist."""
    from pingan.events.catalogue import load_default_catalogue

    if not Category.objects.exists():
        load_default_catalogue()
    if RoutingRule.objects.exists():
        return
    by_code = {c.code: c for c in Category.objects.filter(code__in=("01", "0403"))}
    rules = []
    for township in Jurisdiction.objects.filter(level=Level.TOWNSHIP).order_by("code"):
        if not township.name.endswith(("镇", "乡")):
            continue
        unit = Unit.objects.filter(jurisdiction=township, platform=Platform.JIANGUAN).first()
        if unit is None:
            continue
        for category in by_code.values():
            rules.append(
                RoutingRule(category=category, jurisdiction=township, area_prefix=township.code, unit=unit)
            )
    RoutingRule.objects.bulk_create(rules, batch_size=500)


def load_events(
    count: int = EVENTS,
    *,
    seed: int = SEED,
    now: datetime | None = None,
    stdout: IO[str] = sys.stdout,
) -> int:
    """Write ``count`` historical events (see the module docstring); returns the number of steps."""
    if count <= 0:
        return 0
    # Millions of short-lived tuples and no reference cycles: the cyclic collector would only
    # rescan the live reference data again and again (a third of the time). Back on at the end.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _load(count, seed=seed, now=now, stdout=stdout)
    finally:
        if collecting:
            gc.enable()


def _load(
    count: int = EVENTS,
    *,
    seed: int = SEED,
    now: datetime | None = None,
    stdout: IO[str] = sys.stdout,
) -> int:
    started = time.monotonic()
    now = now or timezone.now()
    if connection.vendor == "sqlite":
        # A larger page cache for this connection: the step indexes are written all over.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -65536")  # KiB: 64 MB
    ensure_catalogue_and_rules()
    rng = random.Random(seed)
    ctx = Context(now, rng, seed)
    end = _history_end(now)
    ctx.now = end
    if end < now:
        stdout.write(f"工作日历只维护到 {end + CALENDAR_MARGIN:%Y-%m-%d}：历史事件截至 {end:%Y-%m-%d}\n")
    start = _history_start(end)
    heads = build_heads(ctx, count, start, end)
    sequences = _number(heads, ctx.zone)
    first_case = (Case.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    step_id = (Step.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    for offset, h in enumerate(heads):
        h.case_id = first_case + offset
    writer = Writer()
    counted, chosen = RollupSink(ctx.zone), ChoiceSink(ctx.zone)
    generated = time.monotonic()
    steps_written = 0
    for begin in range(0, len(heads), CHUNK):
        cases, steps, events = [], [], []
        for h in heads[begin : begin + CHUNK]:
            life = play(ctx, h)
            cases.append(_case_row(writer, ctx, h, life, rng))
            counted.add(h.grid.code, h.cat.category.pk, life.steps, life.deadline_at, life.satisfaction)
            chosen.add(h.grid.code, h.cat.category.pk, life.steps)
            events.append((h.case_id, h.cat.category.pk, _channel_ref(h, rng), h.on_spot))
            for action, source, target, at, actor, unit, note, data in life.steps:
                steps.append(
                    (
                        step_id,
                        h.case_id,
                        action,
                        source,
                        target,
                        writer.dt(at),
                        actor,
                        unit,
                        note,
                        writer.json(data),
                    )
                )
                step_id += 1
        with transaction.atomic():
            writer.cases.insert(cases)
            writer.events.insert(events)
            writer.steps.insert(steps)
        steps_written += len(steps)
    inserted = time.monotonic()
    with transaction.atomic():
        _save_sequences(sequences)
        _reset_sequences()
        from pingan.core import audit
        from pingan.core.choices import AuditAction

        audit.record(AuditAction.IMPORT, detail={"kind": "events", "synthetic": True, "count": len(heads)})
    rows = counted.write()
    choices = chosen.write(writer)
    stdout.write(
        f"事件: {len(heads)} 件, 流转记录 {steps_written} 条 "
        f"(生成 {generated - started:.1f}s, 写入 {inserted - generated:.1f}s, "
        f"统计汇总 {rows} 行/分拨统计 {choices} 行 {time.monotonic() - inserted:.1f}s)\n"
    )
    return steps_written
