"""A year of disputes and police linkage for the Quzhou demo (演示矛盾纠纷与警调联动).

``create_mediation_orgs()`` gives every mediation unit of the demo its MediationOrg row:
people's mediation committees of villages, townships and counties, and the city's branded
rooms ("王宁调解", "兰花热线"), volunteer teams ("三衢和姐", "6070") and industry committees
(labour, medical, traffic), each with the dispute types it takes.

``load_disputes(count)`` writes, over the 12 months up to now:

- **110 dispute calls** (纠纷类警情), ``2 × count`` by default: counties in proportion to their
  population, the police station of the call's township, a call number, a place, the 110
  channel's day and hour rhythm and each type's season. A third are of the five key types
  (五类纠纷): with twice as many calls as disputes and ~70 % of the disputes coming from 110,
  no larger share can be pushed one dispute each.
- **Linkage** (警调联动): of the key-type calls whose push window has closed, exactly the
  county's rate (``LINKAGE_RATE``, 93.5–96.8 %) was pushed to a mediation organisation, most
  within PINGAN_LINKAGE_PUSH_HOURS, some late (more at some stations than at others); the
  rest were either not pushed with a reason (当场和解, 拒绝调解) or missed (still 待推送).
  A few other calls were pushed too. Each pushed call has its dispute; its feedback is the
  dispute's 处置反馈, and a follow-up call (回访) comes a few days later.
- **Disputes**: the pushed calls' and, to make up ``count``, disputes from the centre window,
  grid workers, the courts (委派/委托 with their legal periods), 12345 and petitions, each a
  Case of kind "dispute" with its Dispute row, its parties (people of the demo register, or
  new synthetic residents with checksum-valid ID numbers, encrypted like the register) and
  its steps: 登记 → 派遣 to a mediation organisation chosen by type and area → 签收 → consent
  and sessions (备注 steps, with MediationSession rows) → 处置反馈 with the outcome → 核查结案 →
  评价, some escalated a tier (提级) first. Outcomes are exact shares (85 % success with an
  agreement, failures and refusals with the legal routes told, a few withdrawn); every
  agreement has its judicial-confirmation record (most lapse, some are applied for, accepted
  and confirmed). Some disputes are risk-flagged (民转刑: threats, repeat parties, groups) and
  the police were alerted. A history that reaches past now stops there: recent disputes are
  still open.

It reuses the event loader's machinery (pingan.demo.events): each history is played in
memory with the effects of pingan.cases.services (``Life``), rows are written in bulk
(SQLite executemany, PostgreSQL COPY) and the roll-ups are counted on the way by the
rebuild's rules (``RollupSink``; tests/demo compares them with a rebuild).
"""

from __future__ import annotations

import gc
import math
import random
import sys
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from pingan.accounts.choices import UnitKind
from pingan.accounts.models import Unit
from pingan.cases.choices import Action, Channel, Status, Supervision, Tier
from pingan.cases.models import Case, Step
from pingan.core import calendar
from pingan.core.crypto import encrypt
from pingan.demo import events
from pingan.demo.events import Grid, Life, Writer, _Stop, _Table
from pingan.disputes import kind
from pingan.disputes.choices import (
    CallFeedback,
    ConfirmationStatus,
    Consent,
    DisputeType,
    OrgKind,
    Outcome,
    PartyRole,
    Procedure,
    Referral,
    RiskFlag,
    Source,
)
from pingan.disputes.confirmation import ACCEPT_DAYS, APPLY_DAYS, EXTENSION_DAYS, RULE_DAYS, referral_due
from pingan.disputes.models import (
    Agreement,
    Dispute,
    DisputeParty,
    JudicialConfirmation,
    MediationOrg,
    MediationSession,
    PoliceCall,
)
from pingan.disputes.services import LEVEL_TIERS
from pingan.geo.choices import Level
from pingan.geo.models import Jurisdiction
from pingan.people.models import Person
from pingan.people.services import id_index, phone_index
from pingan.people.synthetic import fake_people

KIND = "dispute"
DEMO_UUID_NAMESPACE = uuid.UUID("6f1c2a52-9d0e-4d6b-8a43-3308000d1500")
DISPUTES = 15_000
CALLS_PER_DISPUTE = 2  # about 30,000 dispute calls a year for 15,000 disputes (issue 4, item 7)
SEED = 2026
HISTORY_MONTHS = 12
CHUNK = 5_000

# Police linkage rate per county (five-type calls pushed ÷ five-type calls), fixed per county.
LINKAGE_RATE = {
    "330802": 0.968,  # 柯城区
    "330803": 0.951,  # 衢江区
    "330822": 0.935,  # 常山县
    "330824": 0.943,  # 开化县
    "330825": 0.957,  # 龙游县
    "330881": 0.954,  # 江山市
}
DEFAULT_LINKAGE_RATE = 0.95
LINKAGE_BOUNDS = (0.93, 0.97)
SHARE_110 = 0.70  # of the disputes, those pushed from 110 calls
OTHER_PUSHED = 0.02  # of the calls of other types, those pushed to mediation too
LATE_PUSH = 0.04  # of the pushed calls, those pushed after the push window (average station)
SETTLE_DAYS = 3  # a call this old has been pushed, or will not be
MISSED_SHARE = 0.4  # of the key-type calls not pushed, those nobody decided on (still 待推送)

# Where the other disputes come from (shares), and the channel whose rhythm each follows.
OTHER_SOURCES: dict[str, float] = {
    Source.WINDOW: 0.35,
    Source.GRID: 0.30,
    Source.HOTLINE: 0.15,
    Source.COURT: 0.15,
    Source.PETITION: 0.05,
}
RHYTHM: dict[str, Channel] = {  # source → channel of pingan.demo.events whose day and hour profile it follows
    Source.POLICE_110: Channel.POLICE_110,
    Source.WINDOW: Channel.INSPECTION,  # office days and hours
    Source.GRID: Channel.GRID,
    Source.HOTLINE: Channel.HOTLINE,
    Source.COURT: Channel.INSPECTION,
    Source.PETITION: Channel.INSPECTION,
}
OFFICE_SOURCES = (Source.WINDOW, Source.COURT, Source.PETITION)
CASE_CHANNEL: dict[str, str] = {
    Source.WINDOW: Channel.WINDOW,
    Source.GRID: Channel.GRID,
    Source.POLICE_110: Channel.POLICE_110,
    Source.HOTLINE: Channel.HOTLINE,
    Source.COURT: Channel.WINDOW,
    Source.PETITION: Channel.WINDOW,
}

T = DisputeType
# Type weights: the five key types of 110 calls, the other types of 110 calls, and per source.
KEY_CALL_TYPES: dict[str, float] = {T.NEIGHBOUR: 34, T.FAMILY: 30, T.LAND: 12, T.LABOUR: 17, T.MEDICAL: 7}
OTHER_CALL_TYPES: dict[str, float] = {
    T.PROPERTY_MANAGEMENT: 20,
    T.CONSUMER: 25,
    T.TRAFFIC: 25,
    T.CONTRACT: 10,
    T.OTHER: 20,
}
SOURCE_TYPES: dict[str, dict[str, float]] = {
    Source.WINDOW: {
        T.NEIGHBOUR: 18, T.FAMILY: 14, T.LAND: 8, T.LABOUR: 16, T.MEDICAL: 4, T.PROPERTY_MANAGEMENT: 10,
        T.CONSUMER: 8, T.TRAFFIC: 8, T.CONTRACT: 9, T.OTHER: 5,
    },
    Source.GRID: {T.NEIGHBOUR: 35, T.FAMILY: 15, T.LAND: 25, T.LABOUR: 5, T.PROPERTY_MANAGEMENT: 10, T.OTHER: 10},
    Source.HOTLINE: {
        T.NEIGHBOUR: 12, T.FAMILY: 5, T.LABOUR: 25, T.MEDICAL: 3, T.PROPERTY_MANAGEMENT: 25, T.CONSUMER: 25,
        T.OTHER: 5,
    },
    Source.COURT: {
        T.NEIGHBOUR: 8, T.FAMILY: 20, T.LAND: 5, T.LABOUR: 10, T.MEDICAL: 2, T.PROPERTY_MANAGEMENT: 5,
        T.CONSUMER: 5, T.TRAFFIC: 20, T.CONTRACT: 25,
    },
    Source.PETITION: {
        T.NEIGHBOUR: 10, T.FAMILY: 5, T.LAND: 35, T.LABOUR: 25, T.MEDICAL: 5, T.PROPERTY_MANAGEMENT: 15,
        T.OTHER: 5,
    },
}  # fmt: skip
SPRING = (0.8, 1.1, 1.6, 1.6, 1.2, 1.0, 0.9, 0.9, 1.0, 1.0, 0.9, 0.7)  # 春耕, 清明: land and hills
RURAL_GRID_WEIGHT = 5.0  # land disputes: a rural grid against a street grid

# Outcomes (exact shares of all disputes; a history cut off by now stays open).
OUTCOMES = (
    (Outcome.SUCCESS, 0.85),
    (Outcome.FAILURE, 0.08),
    (Outcome.REFUSED, 0.05),
    (Outcome.WITHDRAWN, 0.02),
)
LATE_SHARE = 0.05  # reported after the deadline
ESCALATE_FROM_VILLAGE = 0.05  # 村 → 镇(街道)
ESCALATE_FROM_TOWNSHIP = 0.02  # 镇(街道) → 县
REPEAT_SHARE = 0.015  # the same two parties again within DISPUTE_REPEAT_DAYS
REGISTER_PARTY_SHARE = 0.25  # parties taken from the people register while it lasts
EVALUATED_SHARE = 0.70
CONFIRMATION_APPLIED = 0.15  # agreements whose parties applied for judicial confirmation
QUICK_110 = 0.80  # 110 disputes settled within hours of the push (简单纠纷当日化解, 24 h feedback)


@dataclass(frozen=True)
class Profile:
    """A dispute type's season, wording and figures."""

    season: str
    issues: tuple[str, ...]
    summary: str  # of the 110 call
    facts: str
    terms_paid: str
    terms: str
    routes: str
    amount: tuple[float, int, int]  # share with an amount in dispute, lowest, highest (元)
    group: float  # share with five or more people involved
    violence: float  # share with threats of violence


PROFILES: dict[str, Profile] = {
    T.NEIGHBOUR: Profile(
        "summer", ("楼上漏水", "装修噪声", "杂物堆放占道", "宠物扰邻", "排水沟堵塞", "新建房屋遮挡采光"),
        "报警人称与邻居因{issue}发生争吵，双方情绪激动，请求民警处理。",
        "申请人与被申请人系邻居，因{issue}问题多次发生争执，双方矛盾逐步激化。申请人请求调解。",
        "被申请人于{perform_by}前赔偿申请人损失{pay}元，并负责解决{issue}问题；双方今后和睦相处。",
        "被申请人于{perform_by}前负责解决{issue}问题；双方今后互谅互让，和睦相处。",
        "已告知双方可向人民法院提起诉讼。", (0.4, 500, 20_000), 0.02, 0.06,
    ),
    T.FAMILY: Profile(
        "year_end", ("赡养老人", "离婚财产分割", "子女抚养", "婚约彩礼返还", "遗产继承", "夫妻感情不和"),
        "报警人称因{issue}问题与家人发生争吵，请求民警到场处理。",
        "申请人与被申请人系家庭成员，因{issue}问题产生矛盾，多次争吵。申请人请求调解。",
        "被申请人于{perform_by}前支付申请人{pay}元；双方互相尊重，妥善处理{issue}事宜。",
        "双方就{issue}事宜达成一致，各自履行家庭义务，不再因此发生争吵。",
        "已告知当事人可向人民法院提起诉讼，遇家庭暴力可申请人身安全保护令。", (0.25, 5_000, 200_000), 0.01, 0.07,
    ),
    T.LAND: Profile(
        "spring", ("宅基地界址", "山林权属", "承包地边界", "土地流转费", "坟地占用", "灌溉水源"),
        "报警人称与村民因{issue}问题发生争执，现场有推搡。",
        "申请人与被申请人系同村村民，因{issue}问题发生争议，双方各执一词。申请人请求调解。",
        "双方确认{issue}以现场所埋界桩为准；被申请人于{perform_by}前补偿申请人{pay}元。",
        "双方确认{issue}以现场所埋界桩为准，各自管理，互不侵占。",
        "已告知当事人可申请乡镇人民政府处理、申请农村土地承包仲裁或向人民法院起诉。", (0.5, 2_000, 100_000), 0.10, 0.06,
    ),
    T.LABOUR: Profile(
        "year_end", ("拖欠工资", "工伤赔偿", "解除劳动合同补偿", "加班费", "社会保险缴纳"),
        "报警人称因{issue}问题与用工方发生争执，要求民警处理。",
        "申请人在被申请人处务工，因{issue}问题与被申请人产生争议，多次讨要未果。申请人请求调解。",
        "被申请人于{perform_by}前支付申请人{issue}等款项共计{pay}元，双方劳动争议就此了结。",
        "被申请人于{perform_by}前为申请人办理{issue}相关手续，双方劳动争议就此了结。",
        "已告知当事人可向劳动人事争议仲裁委员会申请仲裁。", (0.95, 2_000, 300_000), 0.30, 0.03,
    ),
    T.MEDICAL: Profile(
        "flat", ("手术后并发症", "诊疗延误", "用药不良反应", "住院期间摔伤"),
        "报警人称家属{issue}，在医院与医护人员发生争执。",
        "申请人在被申请人处就医，因{issue}认为被申请人存在过错，双方协商未果。申请人请求调解。",
        "被申请人(医疗机构)于{perform_by}前一次性补偿申请人{pay}元，双方医疗纠纷就此了结。",
        "被申请人(医疗机构)负责后续诊疗，双方医疗纠纷就此了结。",
        "已告知当事人可申请医疗事故技术鉴定、请求卫生健康部门处理或向人民法院起诉。", (1.0, 10_000, 500_000), 0.03, 0.04,
    ),
    T.PROPERTY_MANAGEMENT: Profile(
        "flat", ("物业费收缴", "电梯维修", "小区停车", "公共收益分配", "漏水维修责任"),
        "报警人称与物业公司因{issue}问题发生争执。",
        "申请人系小区业主，与被申请人(物业服务企业)因{issue}问题产生争议。申请人请求调解。",
        "被申请人于{perform_by}前退还或补偿申请人{pay}元，并整改{issue}问题。",
        "被申请人于{perform_by}前整改{issue}问题，申请人按约缴纳物业费。",
        "已告知当事人可向住房和城乡建设部门投诉或向人民法院起诉。", (0.8, 500, 30_000), 0.25, 0.01,
    ),
    T.CONSUMER: Profile(
        "flat", ("预付卡退费", "商品质量", "装修质量", "餐饮消费", "网购退货"),
        "报警人称因{issue}问题与商家发生争执。",
        "申请人在被申请人处消费，因{issue}问题产生争议，协商未果。申请人请求调解。",
        "被申请人于{perform_by}前退还申请人{pay}元，双方消费纠纷就此了结。",
        "被申请人于{perform_by}前为申请人更换或维修，双方消费纠纷就此了结。",
        "已告知当事人可向市场监督管理部门投诉或向人民法院起诉。", (1.0, 200, 30_000), 0.10, 0.01,
    ),
    T.TRAFFIC: Profile(
        "flat", ("车辆剐蹭", "非机动车碰撞", "行人受伤赔偿", "停车场车辆受损"),
        "报警人称发生{issue}，双方就赔偿发生争执。",
        "申请人与被申请人因{issue}事故就损害赔偿产生争议，交警部门已作出事故认定。申请人请求调解。",
        "被申请人于{perform_by}前赔偿申请人各项损失共计{pay}元，双方就此事故再无其他争议。",
        "双方各自承担损失，就此事故再无其他争议。",
        "已告知当事人可向人民法院提起诉讼。", (1.0, 2_000, 200_000), 0.01, 0.02,
    ),
    T.CONTRACT: Profile(
        "flat", ("借款", "买卖合同货款", "房屋租赁", "建设工程款", "承揽合同"),
        "报警人称因{issue}问题与对方发生争执。",
        "申请人与被申请人因{issue}合同履行产生争议，协商未果。申请人请求调解。",
        "被申请人于{perform_by}前向申请人支付{issue}款项{pay}元，双方合同纠纷就此了结。",
        "双方同意解除{issue}合同，互不追究违约责任。",
        "已告知当事人可申请仲裁或向人民法院起诉。", (1.0, 5_000, 1_000_000), 0.02, 0.02,
    ),
    T.OTHER: Profile(
        "flat", ("财产损害赔偿", "人身损害赔偿", "合伙经营", "相邻用水"),
        "报警人称因{issue}问题与他人发生争执。",
        "申请人与被申请人因{issue}问题产生争议，协商未果。申请人请求调解。",
        "被申请人于{perform_by}前支付申请人{pay}元，双方纠纷就此了结。",
        "双方就{issue}问题达成谅解，纠纷就此了结。",
        "已告知当事人可通过行政、仲裁、诉讼等途径解决。", (0.3, 1_000, 50_000), 0.02, 0.03,
    ),
}  # fmt: skip

NOT_PUSHED_KEY = ("双方已当场和解，不需调解", "报警人明确拒绝调解，已告知诉讼途径", "经核实无实际纠纷")
NOT_PUSHED_OTHER = (
    "非五类纠纷，民警现场处置完毕",
    "已引导当事人向相关部门投诉",
    "已告知当事人向人民法院起诉",
    "已移交交警部门处理",
)
FOLLOWUP = {
    True: ("回访当事人，对处理结果满意", "回访当事人，纠纷已化解"),
    False: ("回访当事人，对处理结果不满意",),
}
SESSION_RECORD = {
    Outcome.SUCCESS: "调解员听取双方陈述，释法说理，双方互谅互让，就{issue}问题达成一致意见。",
    Outcome.FAILURE: "双方各自陈述意见，就{issue}问题分歧较大，未能达成一致。",
    Outcome.WITHDRAWN: "双方陈述意见后，申请人表示考虑撤回调解申请。",
    "": "调解员听取双方陈述，就{issue}问题组织双方协商，约定再次调解。",
}
OTHERS_PRESENT = {
    OrgKind.VILLAGE_COMMITTEE: "村(社区)调委会委员、网格员",
    OrgKind.TOWNSHIP_COMMITTEE: "镇(街道)调委会委员、司法所工作人员",
    OrgKind.COUNTY_CENTRE: "县级矛调中心工作人员、律师",
    OrgKind.BRANDED_ROOM: "调解工作室调解员、律师志愿者",
    OrgKind.VOLUNTEER_TEAM: "志愿调解员",
    OrgKind.INDUSTRY: "行业调解专家",
}
SCORES = (5, 4, 3, 2, 1)
SCORE_WEIGHTS = {True: (65, 25, 7, 2, 1), False: (20, 30, 30, 12, 8)}


# ---------------------------------------------------------------------------------------------
# Mediation organisations


@dataclass(frozen=True)
class OrgSpec:
    """A city mediation organisation: its kind, brand, the types it takes, and how much of
    those types it draws (industry committees: of the whole city; the others: of the
    city's districts, less elsewhere)."""

    kind: OrgKind
    brand: str
    types: tuple[str, ...]
    share: float
    capacity: int


CITY_ORGS = {
    "王宁调解工作室": OrgSpec(OrgKind.BRANDED_ROOM, "王宁调解", (), 0.04, 40),
    "兰花热线调解室": OrgSpec(OrgKind.BRANDED_ROOM, "兰花热线", (T.FAMILY, T.NEIGHBOUR, T.PROPERTY_MANAGEMENT, T.CONSUMER), 0.05, 40),
    "三衢和姐调解志愿队": OrgSpec(OrgKind.VOLUNTEER_TEAM, "三衢和姐", (T.FAMILY, T.NEIGHBOUR), 0.08, 30),
    "6070老兵调解队": OrgSpec(OrgKind.VOLUNTEER_TEAM, "6070", (T.NEIGHBOUR, T.LAND, T.PROPERTY_MANAGEMENT), 0.06, 30),
    "劳动人事争议调解委员会": OrgSpec(OrgKind.INDUSTRY, "", (T.LABOUR,), 0.45, 60),
    "医疗纠纷人民调解委员会": OrgSpec(OrgKind.INDUSTRY, "", (T.MEDICAL,), 0.85, 60),
    "交通事故纠纷调解委员会": OrgSpec(OrgKind.INDUSTRY, "", (T.TRAFFIC,), 0.70, 60),
}  # fmt: skip
CITY_DISTRICTS = ("330802", "330803")  # 柯城区, 衢江区: the city organisations' home ground
ELSEWHERE = 0.3  # their draw in the other counties
LEVEL_ORG: dict[str, tuple[OrgKind, int, str]] = {  # the people's mediation committee of each level
    Level.VILLAGE: (OrgKind.VILLAGE_COMMITTEE, 10, "便民服务中心调解室"),
    Level.TOWNSHIP: (OrgKind.TOWNSHIP_COMMITTEE, 30, "矛调中心人民调解室"),
    Level.COUNTY: (OrgKind.COUNTY_CENTRE, 60, "社会矛盾纠纷调处化解中心"),
}
ORG_TIER = {
    OrgKind.VILLAGE_COMMITTEE: Tier.VILLAGE,
    OrgKind.TOWNSHIP_COMMITTEE: Tier.TOWNSHIP,
    OrgKind.COUNTY_CENTRE: Tier.COUNTY,
}


def create_mediation_orgs() -> int:
    """A MediationOrg for every mediation unit that has none; returns how many were created."""
    names = dict(Jurisdiction.objects.exclude(level=Level.GRID).values_list("code", "name"))
    rows = []
    for unit in (
        Unit.objects.filter(kind=UnitKind.MEDIATION, mediation_org__isnull=True)
        .select_related("jurisdiction")
        .order_by("id")
    ):
        rows.append(_org_row(unit, names))
    MediationOrg.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def _org_row(unit: Unit, names: dict[str, str]) -> MediationOrg:
    code = unit.area_code
    place = "".join(names.get(code[:n], "") for n in (6, 9, 12) if len(code) >= n)
    spec = CITY_ORGS.get(unit.name)
    if spec is not None:
        return MediationOrg(
            unit=unit,
            org_kind=spec.kind,
            brand=spec.brand,
            dispute_types=[str(t) for t in spec.types],
            room=f"衢州市社会治理中心{unit.name}",
            capacity=spec.capacity,
        )
    org_kind, capacity, room = LEVEL_ORG.get(unit.jurisdiction.level, (OrgKind.BRANDED_ROOM, 30, "调解室"))
    return MediationOrg(unit=unit, org_kind=org_kind, room=f"{place}{room}", capacity=capacity)


@dataclass(slots=True)
class Org:
    """A mediation organisation as the generator needs it."""

    unit: int
    kind: str
    tier: int
    room: str
    types: tuple[str, ...]
    share: float
    mediator: int | None  # a mediator of the organisation (the oldest), if it has one
    recorder: int | None  # who records its sessions: its mediator, else the township's, else the centre


class Orgs:
    """The demo's mediation organisations by village, township, county and city."""

    def __init__(self, ctx: DisputeContext) -> None:
        self.village: dict[str, Org] = {}
        self.township: dict[str, Org] = {}
        self.county: dict[str, Org] = {}
        self.city: list[Org] = []
        rows = MediationOrg.objects.filter(unit__is_active=True).select_related("unit").order_by("unit_id")
        for row in rows:
            code = row.unit.area_code
            spec = CITY_ORGS.get(row.unit.name)
            org = Org(
                unit=row.unit_id,
                kind=row.org_kind,
                tier=int(ORG_TIER.get(OrgKind(row.org_kind), Tier.CITY)),
                room=row.room or row.unit.name,
                types=tuple(row.dispute_types),
                share=spec.share if spec else 0.0,
                mediator=ctx.unit_members.get(row.unit_id),
                recorder=None,
            )
            if row.org_kind == OrgKind.VILLAGE_COMMITTEE:
                self.village.setdefault(code, org)
            elif row.org_kind == OrgKind.TOWNSHIP_COMMITTEE:
                self.township.setdefault(code, org)
            elif row.org_kind == OrgKind.COUNTY_CENTRE:
                self.county.setdefault(code, org)
            elif org.share > 0:
                self.city.append(org)
        for code, org in self.village.items():
            above = self.township.get(code[:9])
            org.recorder = org.mediator or (above.mediator if above else None) or ctx.dispatchers[code[:6]]
        for org in [*self.township.values(), *self.county.values(), *self.city]:
            org.recorder = org.mediator or ctx.dispatchers[org_county(org, ctx)]
        if not self.township:
            raise RuntimeError("demo disputes: no township mediation committees (load the demo units first)")

    def choose(self, rng: random.Random, dispute_type: str, grid: Grid, source: str, at_risk: bool) -> Org:
        """By type and area: a city organisation that takes the type, else the committee of the
        village, the township or the county (a court refers to township and county only, and a
        dispute at risk starts at the township: 镇街首调)."""
        options: list[tuple[Org, float]] = []
        for org in self.city:
            if org.types and dispute_type not in org.types:
                continue
            share = org.share
            if org.kind != OrgKind.INDUSTRY and grid.county not in CITY_DISTRICTS:
                share *= ELSEWHERE
            options.append((org, share))
        special = min(sum(w for _o, w in options), 0.9)
        village = self.village.get(grid.code[:12])
        township = self.township.get(grid.township)
        county = self.county.get(grid.county)
        base = (0.0, 0.6, 0.4) if source == Source.COURT or at_risk else (0.5, 0.42, 0.08)
        for committee, weight in ((village, base[0]), (township, base[1]), (county, base[2])):
            if committee is not None and weight:
                options.append((committee, weight * (1 - special)))
        if not options:
            raise RuntimeError(f"demo disputes: no mediation organisation for {grid.code}")
        total = sum(w for _o, w in options)
        pick = rng.random() * total
        for org, weight in options:
            pick -= weight
            if pick < 0:
                return org
        return options[-1][0]

    def above(self, org: Org, grid: Grid) -> Org | None:
        """The committee a tier up (提级): village → township → county."""
        if org.kind == OrgKind.VILLAGE_COMMITTEE:
            return self.township.get(grid.township)
        if org.kind == OrgKind.TOWNSHIP_COMMITTEE:
            return self.county.get(grid.county)
        return None


def org_county(org: Org, ctx: DisputeContext) -> str:
    code = ctx.units[org.unit].area_code
    return code[:6]


# ---------------------------------------------------------------------------------------------
# Reference data


class DisputeContext(events.Context):
    """The event loader's reference data (grids, units, users, people, calendar) without the
    event catalogue, plus police stations and courts."""

    def __init__(self, now: datetime, rng: random.Random, seed: int = SEED) -> None:
        super().__init__(now, rng, seed)
        self.stations: dict[str, int] = {}
        self.courts: dict[str, int] = {}
        for unit in sorted(self.units.values(), key=lambda u: u.pk, reverse=True):
            if unit.kind == UnitKind.POLICE_STATION:
                self.stations[unit.area_code[:9]] = unit.pk  # the oldest wins
            elif unit.kind == UnitKind.COURT and len(unit.area_code) == 6:
                self.courts[unit.area_code] = unit.pk

    def _categories(self) -> list[events.Cat]:
        return []  # disputes have types, not the event catalogue

    def station(self, grid: Grid) -> int:
        found = self.stations.get(grid.township)
        if found is None:
            raise RuntimeError(f"demo disputes: no police station in {grid.township}")
        return found


# ---------------------------------------------------------------------------------------------
# Generation


@dataclass(slots=True)
class Call:
    """One 110 dispute call and its linkage."""

    called_at: datetime
    grid: Grid
    dispute_type: str
    key: bool
    station: int
    issue: str
    spot: str = ""
    number: str = ""
    push_at: datetime | None = None  # the planned push; after now → still waiting
    late: bool = False
    not_pushed: str = ""  # the reason, or "" (missed: still 待推送)
    pushed: bool = False
    caller: int | None = None
    head: Head | None = None


@dataclass(slots=True)
class Head:
    """One dispute before its history is played (events.Placed)."""

    registered_at: datetime
    grid: Grid
    dispute_type: str
    source: str
    issue: str
    call: Call | None = None
    lat: float = 0.0
    lon: float = 0.0
    spot: str = ""
    number: str = ""
    case_id: int = 0
    org: Org | None = None
    escalate: bool = False
    outcome: str = ""  # planned outcome
    refused_by: str = ""  # PartyRole that refuses
    late: bool = False
    referral: str = ""
    procedure: str = ""
    court_number: str = ""
    amount: Decimal | None = None
    pay: Decimal | None = None
    people_involved: int = 2
    group: bool = False  # DISPUTE_GROUP_SIZE people involved or more
    violence: bool = False
    repeat: bool = False
    applicants: list[int] = field(default_factory=list)
    respondents: list[int] = field(default_factory=list)
    sessions: int = 0
    # filled by play
    reported_at: datetime | None = None
    report_note: str = ""


@dataclass
class Plan:
    calls: list[Call]
    heads: list[Head]
    orgs: Orgs


def _weights(table: dict[str, float]) -> tuple[list[str], list[float]]:
    keys = list(table)
    return keys, [table[k] for k in keys]


class Generator:
    """Draws calls and disputes: where, when, what (seeded)."""

    def __init__(self, ctx: DisputeContext, start: datetime, end: datetime) -> None:
        self.ctx, self.start, self.end = ctx, start, end
        self.rng = ctx.rng
        counties = sorted(ctx.grids)
        population = dict(
            Jurisdiction.objects.filter(code__in=counties, population__isnull=False).values_list(
                "code", "population"
            )
        )
        self.counties = counties
        self.county_weights = events._cumulative(
            [population.get(c) or events.COUNTY_POPULATION.get(c, 30) for c in counties]
        )
        self.grid_weights = {
            c: events._cumulative([events.URBAN_GRID_WEIGHT if g.urban else 1.0 for g in ctx.grids[c]])
            for c in counties
        }
        self.rural_weights = {
            c: events._cumulative([1.0 if g.urban else RURAL_GRID_WEIGHT for g in ctx.grids[c]])
            for c in counties
        }
        self.days = events._day_tables(ctx, start, end)
        self.hours = {ch: events._cumulative(events.HOURS[ch]) for ch in sorted(set(RHYTHM.values()))}
        self._types: dict[tuple[int, int], tuple[list[str], list[float]]] = {}

    def moment(self, source: str) -> datetime:
        channel = RHYTHM[source]
        day_list, day_weights = self.days[channel]
        while True:
            day = day_list[events._pick(self.rng, day_weights)]
            at = datetime.combine(
                day, dtime(events._pick(self.rng, self.hours[channel])), tzinfo=self.ctx.zone
            )
            at += timedelta(seconds=self.rng.randrange(3600))
            if source in OFFICE_SOURCES:
                at = self.ctx.office_after(at, 0)  # the centre's window and desks keep office hours
            if self.start <= at < self.end:
                return at.astimezone(UTC)

    def dispute_type(self, table: dict[str, float], month: int) -> str:
        key = (id(table), month)
        found = self._types.get(key)
        if found is None:
            types, weights = _weights(table)
            seasonal = [w * _season(t)[month - 1] for t, w in zip(types, weights, strict=True)]
            found = self._types[key] = (types, events._cumulative(seasonal))
        types, cumulative = found
        return types[events._pick(self.rng, cumulative)]

    def grid(self, dispute_type: str) -> Grid:
        county = self.counties[events._pick(self.rng, self.county_weights)]
        weights = self.rural_weights if dispute_type == T.LAND else self.grid_weights
        return self.ctx.grids[county][events._pick(self.rng, weights[county])]

    def issue(self, dispute_type: str) -> str:
        issues = PROFILES[dispute_type].issues
        return issues[self.rng.randrange(len(issues))]

    def local_month(self, at: datetime) -> int:
        return at.astimezone(self.ctx.zone).month


def _season(dispute_type: str) -> Sequence[float]:
    season = PROFILES[dispute_type].season
    return SPRING if season == "spring" else events.SEASONS[season]


def key_call_count(disputes: int, calls: int) -> int:
    """Five-type calls such that the pushed calls make about SHARE_110 of the disputes."""
    rate = sum(LINKAGE_RATE.values()) / len(LINKAGE_RATE)
    wanted = (SHARE_110 * disputes - OTHER_PUSHED * calls) / (rate - OTHER_PUSHED)
    return max(0, min(calls, round(wanted)))


def build_plan(ctx: DisputeContext, disputes: int, calls: int, start: datetime, end: datetime) -> Plan:
    """Calls with their linkage, and the disputes (pushed calls' and others'), in time order."""
    gen = Generator(ctx, start, end)
    call_list = _calls(gen, calls, key_call_count(disputes, calls))
    _link(ctx, call_list, end)
    heads = [_head_of_call(ctx, c) for c in call_list if c.pushed]
    heads += _other_heads(gen, max(0, disputes - len(heads)))
    heads.sort(key=lambda h: h.registered_at)
    events._place(ctx, heads)
    for h in heads:
        if h.call is not None:
            h.spot = h.call.spot  # the call's place
    orgs = Orgs(ctx)
    _assign_fates(ctx, orgs, heads)
    return Plan(call_list, heads, orgs)


def _calls(gen: Generator, count: int, key_count: int) -> list[Call]:
    ctx, rng = gen.ctx, gen.rng
    key_share = key_count / count if count else 0.0
    calls = []
    for _ in range(count):
        at = gen.moment(Source.POLICE_110)
        key = rng.random() < key_share
        dispute_type = gen.dispute_type(KEY_CALL_TYPES if key else OTHER_CALL_TYPES, gen.local_month(at))
        grid = gen.grid(dispute_type)
        spots = events.COMMUNITY_SPOTS if grid.urban else events.VILLAGE_SPOTS
        calls.append(
            Call(
                called_at=at,
                grid=grid,
                dispute_type=dispute_type,
                key=key,
                station=ctx.station(grid),
                issue=gen.issue(dispute_type),
                spot=spots[rng.randrange(len(spots))],
            )
        )
    calls.sort(key=lambda c: c.called_at)
    sequence: Counter[str] = Counter()
    for c in calls:
        prefix = f"J{c.grid.county}{c.called_at.astimezone(ctx.zone):%Y%m%d}"
        sequence[prefix] += 1
        c.number = f"{prefix}{sequence[prefix]:04d}"
    return calls


def linkage_quota(rate: float, calls: int) -> int:
    """Calls to push out of ``calls`` for ``rate``, kept within LINKAGE_BOUNDS when an integer
    count can be (small numbers would otherwise round out of them)."""
    pushed = round(rate * calls)
    low, high = math.ceil(LINKAGE_BOUNDS[0] * calls), math.floor(LINKAGE_BOUNDS[1] * calls)
    return min(max(pushed, low), high) if low <= high else pushed


def _link(ctx: DisputeContext, calls: list[Call], end: datetime) -> None:
    """Which calls were pushed, when, and why the others were not (exact per county)."""
    rng = ctx.rng
    settled = end - timedelta(days=SETTLE_DAYS)
    by_county: dict[str, list[Call]] = defaultdict(list)
    for c in calls:
        if c.key and c.called_at <= settled:
            by_county[c.grid.county].append(c)
    not_pushed: set[int] = set()
    for county, county_calls in sorted(by_county.items()):
        quota = linkage_quota(LINKAGE_RATE.get(county, DEFAULT_LINKAGE_RATE), len(county_calls))
        not_pushed.update(id(c) for c in rng.sample(county_calls, len(county_calls) - quota))
    window = timedelta(hours=settings.LINKAGE_PUSH_HOURS)
    for c in calls:
        if (c.key and id(c) not in not_pushed) or (not c.key and rng.random() < OTHER_PUSHED):
            c.late = rng.random() < LATE_PUSH * ctx.quality(c.station)
            c.push_at = _push_time(ctx, c.called_at, window, c.late)
            c.pushed = c.push_at <= end
        elif c.key and rng.random() < MISSED_SHARE:
            c.not_pushed = ""  # nobody decided: 待推送, overdue
        else:
            reasons = NOT_PUSHED_KEY if c.key else NOT_PUSHED_OTHER
            c.not_pushed = reasons[rng.randrange(len(reasons))]


def _push_time(ctx: DisputeContext, called_at: datetime, window: timedelta, late: bool) -> datetime:
    rng = ctx.rng
    due = called_at + window
    if late:
        at = due + timedelta(hours=rng.uniform(0.5, 72))
        return ctx.daytime(at, due)
    at = called_at + min(timedelta(hours=rng.lognormvariate(math.log(3), 0.8)), window * 0.95)
    moved = ctx.daytime(at, called_at)
    return moved if moved <= due else at


def _head_of_call(ctx: DisputeContext, c: Call) -> Head:
    assert c.push_at is not None
    head = Head(
        registered_at=c.push_at,  # the push registers the dispute
        grid=c.grid,
        dispute_type=c.dispute_type,
        source=Source.POLICE_110,
        issue=c.issue,
        call=c,
    )
    c.head = head
    return head


def _other_heads(gen: Generator, count: int) -> list[Head]:
    sources, weights = _weights(OTHER_SOURCES)
    cumulative = events._cumulative(weights)
    heads = []
    for _ in range(count):
        source = sources[events._pick(gen.rng, cumulative)]
        at = gen.moment(source)
        dispute_type = gen.dispute_type(SOURCE_TYPES[source], gen.local_month(at))
        heads.append(
            Head(
                registered_at=at,
                grid=gen.grid(dispute_type),
                dispute_type=dispute_type,
                source=source,
                issue=gen.issue(dispute_type),
            )
        )
    return heads


def _exact(rng: random.Random, heads: list[Head], share: float) -> list[Head]:
    return rng.sample(heads, min(len(heads), round(share * len(heads))))


def _assign_fates(ctx: DisputeContext, orgs: Orgs, heads: list[Head]) -> None:
    """Organisation, outcome (exact shares), lateness, escalation, referral, figures, risks."""
    rng = ctx.rng
    free = list(heads)
    for outcome, share in OUTCOMES[1:]:
        for h in _exact(rng, free, share):
            h.outcome = outcome
        free = [h for h in free if not h.outcome]
    for h in free:
        h.outcome = Outcome.SUCCESS
    for h in _exact(rng, heads, LATE_SHARE):
        h.late = True
    group_size = settings.DISPUTE_GROUP_SIZE
    _parties_plan(rng, heads, group_size)
    court_numbers: Counter[str] = Counter()
    escalate = {
        OrgKind.VILLAGE_COMMITTEE: ESCALATE_FROM_VILLAGE,
        OrgKind.TOWNSHIP_COMMITTEE: ESCALATE_FROM_TOWNSHIP,
    }
    for h in heads:
        profile = PROFILES[h.dispute_type]
        h.violence = rng.random() < profile.violence
        with_amount, low, high = profile.amount
        if rng.random() < with_amount:
            h.amount = Decimal(round(math.exp(rng.uniform(math.log(low), math.log(high))), -2) or 100)
            h.pay = Decimal(round(float(h.amount) * rng.uniform(0.4, 0.95), -2) or 100)
        h.org = orgs.choose(rng, h.dispute_type, h.grid, h.source, at_risk=bool(_flags(h)))
        share = escalate.get(OrgKind(h.org.kind), 0.0)
        h.escalate = rng.random() < share and orgs.above(h.org, h.grid) is not None
        h.refused_by = PartyRole.RESPONDENT if rng.random() < 0.8 else PartyRole.APPLICANT
        h.sessions = rng.choices((1, 2, 3), (65, 28, 7))[0]
        if h.source == Source.COURT:
            _refer(ctx, h, court_numbers)


def _refer(ctx: DisputeContext, h: Head, numbers: Counter[str]) -> None:
    """Court referral (诉调对接): 委派 before filing, 委托 after (ordinary or summary procedure)."""
    rng = ctx.rng
    if rng.random() < 0.6:
        h.referral, h.procedure, word = Referral.ASSIGNED, "", "民诉前调"
    else:
        h.referral = Referral.ENTRUSTED
        h.procedure = Procedure.ORDINARY if rng.random() < 0.5 else Procedure.SUMMARY
        word = "民初"
    year = h.registered_at.astimezone(ctx.zone).year
    key = f"{h.grid.county}-{year}-{word}"
    numbers[key] += 1
    h.court_number = f"（{year}）浙{h.grid.county[2:]}{word}{numbers[key] + 100}号"


def _parties_plan(rng: random.Random, heads: list[Head], group_size: int) -> None:
    """How many people are involved, applicants and respondents (persons are found later)."""
    for h in heads:
        if rng.random() < PROFILES[h.dispute_type].group:
            h.people_involved = rng.randint(group_size, 8 * group_size)
        if h.people_involved >= group_size:
            applicants = rng.randint(3, 5)  # representatives of the group
        else:
            applicants = rng.choices((1, 2, 3), (80, 15, 5))[0]
        respondents = rng.choices((1, 2), (85, 15))[0]
        h.applicants = [0] * applicants
        h.respondents = [0] * respondents
        h.people_involved = max(h.people_involved, applicants + respondents)
        h.group = h.people_involved >= group_size


# ---------------------------------------------------------------------------------------------
# Parties: people of the register, else new synthetic residents


class People:
    """Persons for the parties: register people of the township (each in one dispute only),
    else new made-up residents of the township's villages, written before the disputes."""

    ATTRS = (
        "id", "name", "id_number", "id_number_index", "phone", "phone_index", "address", "sex",
        "birth_year", "jurisdiction_id", "area_code", "created_at", "updated_at",
    )  # fmt: skip

    def __init__(self, ctx: DisputeContext, seed: int, w: DisputeWriter) -> None:
        self.ctx, self.seed, self.w = ctx, seed, w
        self.register: dict[str, list[int]] = {}
        for code, ids in ctx.people.items():
            if len(code) == 9:
                pool = list(ids)
                ctx.rng.shuffle(pool)
                self.register[code] = pool
        self.villages: dict[str, list[Jurisdiction]] = defaultdict(list)
        for village in Jurisdiction.objects.filter(level=Level.VILLAGE).order_by("code"):
            self.villages[village.code[:9]].append(village)
        self.known = set(Person.objects.exclude(id_number_index="").values_list("id_number_index", flat=True))
        self.next_id = (Person.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        self.rows: list[tuple] = []
        self.new: dict[str, list[dict[str, Any]]] = {}

    def assign(self, heads: list[Head]) -> None:
        """Persons for every party, in time order; REPEAT_SHARE reuse an earlier pair."""
        rng = self.ctx.rng
        needed: Counter[str] = Counter()
        for h in heads:
            needed[h.grid.township] += len(h.applicants) + len(h.respondents)
        for township in sorted(needed):
            self.new[township] = self._made_up(township, needed[township])
        recent: dict[str, deque[Head]] = defaultdict(deque)
        repeat_days = timedelta(days=settings.DISPUTE_REPEAT_DAYS)
        for h in heads:
            township = h.grid.township
            earlier = recent[township]
            while earlier and earlier[0].registered_at < h.registered_at - repeat_days:
                earlier.popleft()
            before = earlier[rng.randrange(len(earlier))] if earlier and rng.random() < REPEAT_SHARE else None
            first = (before.applicants[0], before.respondents[0]) if before else ()
            h.repeat = before is not None
            h.applicants = [*first[:1], *(self._person(h) for _ in h.applicants[len(first[:1]) :])]
            h.respondents = [*first[1:], *(self._person(h) for _ in h.respondents[len(first[1:]) :])]
            earlier.append(h)

    def _person(self, h: Head) -> int:
        township = h.grid.township
        pool = self.register.get(township)
        if pool and self.ctx.rng.random() < REGISTER_PARTY_SHARE:
            return pool.pop()
        made_up = self.new[township].pop()
        return self._add(made_up, h.registered_at)

    def _made_up(self, township: str, count: int) -> list[dict[str, Any]]:
        villages = self.villages.get(township)
        if not villages:
            raise RuntimeError(f"demo disputes: no villages in {township}")
        found: list[dict[str, Any]] = []
        attempt = 0
        while len(found) < count:
            seed = self.seed * 1_000_003 + int(township) * 7 + attempt
            for row in fake_people(count - len(found), villages, seed):
                index = id_index(row["id_number"])
                if index in self.known:
                    continue
                self.known.add(index)
                row["index"] = index
                found.append(row)
            attempt += 1
        found.reverse()  # popped from the end in the order they were made
        return found

    def _add(self, row: dict[str, Any], at: datetime) -> int:
        pk = self.next_id
        self.next_id += 1
        phone = f"+86{row['phone']}"
        j = row["jurisdiction"]
        self.rows.append(
            (
                pk,
                encrypt(row["name"]),
                encrypt(row["id_number"]),
                row["index"],
                encrypt(phone),
                phone_index(phone),
                encrypt(row["address"]),
                row["sex"],
                row["birth_year"],
                j.pk,
                j.code,
                self.w.dt(at),
                self.w.dt(at),
            )
        )
        return pk


# One dispute's history, with the effects of pingan.cases.services and pingan.disputes


@dataclass(slots=True)
class Confirmation:
    """The judicial-confirmation record of an agreement (司法确认), as its steps leave it."""

    apply_by: date
    status: str = ConfirmationStatus.DUE
    court: int | None = None
    applied_on: date | None = None
    accept_by: date | None = None
    accepted_on: date | None = None
    rule_by: date | None = None
    extended: bool = False
    ruled_on: date | None = None
    note: str = ""
    updated_at: datetime | None = None


@dataclass(slots=True)
class Agreed:
    """人民调解协议书."""

    number: str
    signed_on: date
    perform_by: date
    terms: str
    performance: str
    performed_at: datetime | None
    confirmation: Confirmation


@dataclass(slots=True)
class Story:
    """What happened to a dispute besides its case's fields."""

    tier: int
    org: Org
    mediator: int | None = None
    alerted_at: datetime | None = None
    consent: tuple[str, str] | None = None
    consent_at: datetime | None = None
    sessions: list[tuple[datetime, int]] = field(default_factory=list)  # (at, recorded by)
    outcome: str = ""
    outcome_at: datetime | None = None
    routes: str = ""
    agreement: Agreed | None = None
    sent_at: datetime | None = None  # the result went back to the referring court
    system_steps: int = 0  # 备注 steps the system wrote without a transition (no version)


def play(ctx: DisputeContext, orgs: Orgs, h: Head) -> tuple[Life, Story]:
    """The history of one dispute, up to now."""
    rng = ctx.rng
    assert h.org is not None
    policy = kind.policy_for(h.source, h.referral, h.procedure)
    life = Life(ctx.now, lambda at: ctx.policy_clock(at, policy.unit, policy.amount))
    story = Story(tier=_registered_tier(h), org=h.org)
    office = ctx.dispatchers[h.grid.county]
    try:
        reporter = _reporter(ctx, h)
        life.register(h.registered_at, reporter, False, "")
        if _flags(h):
            _alert(ctx, life, story, h, reporter)
        t = life.dispatch(_dispatch_time(ctx, h), h.org.unit, office, None)
        t = life.act(Action.ACCEPT, Status.HANDLING, _soon(ctx, h, t, 10, 240), h.org.mediator)
        story.mediator = h.org.mediator
        if h.escalate:
            t = _escalate(ctx, orgs, life, story, h, t, office)
        if h.outcome == Outcome.REFUSED:
            t = _refuse(ctx, life, story, h, t)
        else:
            t = _consent(ctx, life, story, h, t)
            planned = _report_time(ctx, life, h, t)
            t = _sessions(ctx, life, story, h, t, planned)
            t = _report(ctx, life, story, h, max(planned, t))
        closed = life.close(ctx.office_after(t, rng.uniform(30, 600)), office, "核查调解结果，予以结案")
        if h.referral:
            _court_result(ctx, life, story, h, closed)
        _evaluate(ctx, life, story, office)
        if story.agreement is not None:
            _confirmation_steps(ctx, life, story, h, office)
    except _Stop:
        pass
    finally:
        life.finish()
    return life, story


def _registered_tier(h: Head) -> int:
    """As register_dispute: the tier of the place (a grid: 村社), 镇街首调 for a dispute at risk."""
    tier = int(LEVEL_TIERS.get(Level.GRID, Tier.VILLAGE))
    return max(tier, Tier.TOWNSHIP) if _flags(h) else tier


def _system(life: Life, story: Story, at: datetime, note: str, data: dict) -> datetime:
    """A 备注 step the system writes (no actor, no version), as pingan.disputes.confirmation."""
    at = life.act(Action.COMMENT, None, at, None, note, data)
    story.system_steps += 1
    return at


def _alert(ctx: DisputeContext, life: Life, story: Story, h: Head, reporter: int | None) -> None:
    """民转刑 risk at registration: the police station of the area is told (§25)."""
    flags = "、".join(str(RiskFlag(f).label) for f in _flags(h))
    station = ctx.units[ctx.station(h.grid)].name
    at = h.registered_at
    if reporter is not None:
        note = f"存在民转刑风险（{flags}），已通报{station}（人民调解法第二十五条）"
        at = life.act(Action.COMMENT, None, at, reporter, note)
    story.alerted_at = at


def _reporter(ctx: DisputeContext, h: Head) -> int | None:
    if h.source == Source.GRID:
        return ctx.grid_workers.get(h.grid.id)
    return ctx.dispatchers[h.grid.county]


def _dispatch_time(ctx: DisputeContext, h: Head) -> datetime:
    if h.call is not None:
        return h.registered_at  # the push registers the dispute and dispatches it at once
    minutes: dict[str, tuple[int, int]] = {
        Source.GRID: (10, 240),
        Source.HOTLINE: (30, 480),
        Source.PETITION: (60, 1440),
    }
    low, high = minutes.get(h.source, (5, 60))
    return ctx.office_after(h.registered_at, ctx.rng.uniform(low, high))


def _soon(ctx: DisputeContext, h: Head, t: datetime, low: float, high: float) -> datetime:
    """A step ``low``–``high`` minutes on: around the clock for a 110 push, else office time."""
    minutes = ctx.rng.uniform(low, high)
    if h.source == Source.POLICE_110:
        return ctx.daytime(t + timedelta(minutes=minutes), t)
    return ctx.office_after(t, minutes)


def _escalate(
    ctx: DisputeContext, orgs: Orgs, life: Life, story: Story, h: Head, t: datetime, office: int | None
) -> datetime:
    """提级 (services.escalate): ESCALATE to the next tier's committee and dispatch it there."""
    rng = ctx.rng
    higher = orgs.above(story.org, h.grid)
    if higher is None or higher.tier <= story.tier:
        return t
    data = {"from_tier": story.tier, "to_tier": higher.tier}
    at = ctx.office_after(t, rng.uniform(480, 2880))
    t = life.act(Action.ESCALATE, Status.REGISTERED, at, office, "矛盾较复杂，本级调解未果，提级调处", data)
    story.tier = higher.tier
    life.unit_id = None
    life.deadline_at = life.warn_at = life.red_at = None
    life.supervision = Supervision.NONE
    t = life.dispatch(t, higher.unit, office, None)
    story.org, story.mediator = higher, None
    t = life.act(Action.ACCEPT, Status.HANDLING, ctx.office_after(t, rng.uniform(10, 240)), higher.mediator)
    story.mediator = higher.mediator
    return t


def _consent_summary(applicant: str, respondent: str) -> str:
    return f"当事人意愿：申请人{Consent(applicant).label}，被申请人{Consent(respondent).label}"


def _consent_time(ctx: DisputeContext, h: Head, t: datetime) -> datetime:
    if h.source == Source.POLICE_110:
        return _soon(ctx, h, t, 10, 120)
    return ctx.office_after(t, ctx.rng.uniform(60, 1440))


def _consent(ctx: DisputeContext, life: Life, story: Story, h: Head, t: datetime) -> datetime:
    """Both parties agree to mediation (§17; services.record_consent: a 备注 step)."""
    t = life.act(
        Action.COMMENT,
        None,
        _consent_time(ctx, h, t),
        story.mediator,
        _consent_summary(Consent.AGREED, Consent.AGREED),
    )
    story.consent, story.consent_at = (Consent.AGREED, Consent.AGREED), t
    return t


def _refuse(ctx: DisputeContext, life: Life, story: Story, h: Head, t: datetime) -> datetime:
    """A party refuses: mediation ends with the legal routes told (§17, §26), 处置反馈 at once."""
    applicant = Consent.REFUSED if h.refused_by == PartyRole.APPLICANT else Consent.AGREED
    respondent = Consent.REFUSED if h.refused_by == PartyRole.RESPONDENT else Consent.AGREED
    routes = PROFILES[h.dispute_type].routes
    summary = _consent_summary(applicant, respondent)
    note = f"{summary}。不同意调解，调解终止（人民调解法第十七条），已告知：{routes}"
    t = life.report(_consent_time(ctx, h, t), story.mediator, note, {"outcome": str(Outcome.REFUSED)})
    story.consent, story.consent_at = (applicant, respondent), t
    story.outcome, story.outcome_at, story.routes = str(Outcome.REFUSED), t, routes
    h.reported_at, h.report_note = t, note
    return t


def _report_time(ctx: DisputeContext, life: Life, h: Head, t: datetime) -> datetime:
    """Within the deadline (110 disputes mostly the same day), or after it when late."""
    rng = ctx.rng
    assert life.deadline_at is not None and life.dispatched_at is not None
    deadline, allowed = life.deadline_at, life.deadline_at - life.dispatched_at
    if h.late:
        return ctx.daytime(max(deadline, t) + allowed * rng.uniform(0.05, 0.6), max(deadline, t))
    if h.source == Source.POLICE_110 and rng.random() < QUICK_110:
        at = t + timedelta(hours=rng.uniform(1, 8))
    else:
        at = t + max(deadline - t, timedelta(0)) * rng.triangular(0.05, 0.95, 0.35)
    at = ctx.daytime(at, t)
    return min(at, deadline) if at > deadline >= t else at


def _sessions(ctx: DisputeContext, life: Life, story: Story, h: Head, t: datetime, end: datetime) -> datetime:
    """Mediation sessions (调解记录) between consent and the outcome (services.add_session)."""
    org = story.org
    recorder = org.recorder
    if recorder is None:
        return t
    count = 1 if h.outcome == Outcome.WITHDRAWN else h.sessions
    parties = len(h.applicants) + len(h.respondents)
    for i in range(count):
        at = ctx.daytime(t + (end - t) * (i + 1) / (count + 1), t)
        if life.last_at is not None and at <= life.last_at:
            at = life.last_at + timedelta(seconds=1)
        local = at.astimezone(ctx.zone)
        note = f"调解：{local:%Y-%m-%d %H:%M} 于{org.room}，到场当事人 {parties} 人"
        at = life.act(Action.COMMENT, None, at, recorder, note)
        story.sessions.append((at, recorder))
    return life.last_at or t


def _report(ctx: DisputeContext, life: Life, story: Story, h: Head, at: datetime) -> datetime:
    """处置反馈 (services.record_outcome): the agreement, or the routes told."""
    profile = PROFILES[h.dispute_type]
    if h.outcome == Outcome.SUCCESS:
        note = "调解成功，双方达成调解协议，已制作人民调解协议书"
    elif h.outcome == Outcome.WITHDRAWN:
        note = "申请人撤回调解申请，调解终止"
    else:
        story.routes = profile.routes
        note = f"经多次调解，双方分歧较大，调解不成。已告知：{profile.routes}"
    t = life.report(at, story.mediator, note, {"outcome": str(h.outcome)})
    story.outcome, story.outcome_at = str(h.outcome), t
    h.reported_at, h.report_note = t, note
    if h.outcome == Outcome.SUCCESS:
        agreed = story.agreement = _agreement(ctx, h, t)  # signed on the day of the report
        c = agreed.confirmation
        text = (
            f"调解协议 {agreed.number} 于 {agreed.signed_on} 生效，当事人可于 {c.apply_by} 前共同申请司法确认"
        )
        c.updated_at = _system(
            life, story, t, text, {"confirmation": "opened", "apply_by": c.apply_by.isoformat()}
        )
    return t


def _agreement(ctx: DisputeContext, h: Head, at: datetime) -> Agreed:
    rng = ctx.rng
    profile = PROFILES[h.dispute_type]
    signed = at.astimezone(ctx.zone).date()
    perform_by = signed + timedelta(days=rng.choice((0, 0, 7, 15, 30, 60)))
    day = f"{perform_by:%Y年%m月%d日}"
    if h.pay is not None:
        terms = profile.terms_paid.format(issue=h.issue, pay=f"{h.pay:,.0f}", perform_by=day)
        performance = (
            "当场以现金或转账方式履行完毕"
            if perform_by == signed
            else "一次性支付，以银行转账方式付至申请人账户"
        )
    else:
        terms = profile.terms.format(issue=h.issue, perform_by=day)
        performance = "按协议约定自行履行，调解组织回访监督"
    performed = None
    if rng.random() < 0.95:
        when = signed + timedelta(days=rng.randint(0, (perform_by - signed).days))
        performed = max(datetime.combine(when, dtime(rng.randint(9, 17)), tzinfo=ctx.zone), at)
        performed = performed if performed <= ctx.now else None
    return Agreed(
        number=f"调协字{h.number}号",  # services.agreement_number (tests/demo compares)
        signed_on=signed,
        perform_by=perform_by,
        terms=terms,
        performance=performance,
        performed_at=performed,
        confirmation=Confirmation(apply_by=calendar.legal_period_end(signed, days=APPLY_DAYS)),
    )


def _court_result(ctx: DisputeContext, life: Life, story: Story, h: Head, closed: datetime) -> None:
    """诉调对接: the result goes back to the referring court at 结案 (confirmation.on_dispute_closed)."""
    court = ctx.courts.get(h.grid.county)
    if court is None:
        return
    due = _referral_due(ctx, h)
    outcome = Outcome(story.outcome).label if story.outcome else "已结案"
    text = (
        f"诉调对接结果回复{ctx.units[court].name}：{Referral(h.referral).label}案件 {h.court_number}"
        f"（{h.number}）{outcome}"
    )
    if story.agreement is not None:
        text += f"，调解协议 {story.agreement.number}"
    done = closed.astimezone(ctx.zone).date()
    text += f"（期限 {due}，{'按期办结' if done <= due else '逾期办结'}）"
    story.sent_at = closed
    _system(life, story, closed, text, {"court_result": story.outcome, "court_id": court})


def _referral_due(ctx: DisputeContext, h: Head) -> date:
    due = referral_due(h.registered_at.astimezone(ctx.zone).date(), h.referral, h.procedure)
    assert due is not None
    return due


def _evaluate(ctx: DisputeContext, life: Life, story: Story, office: int | None) -> None:
    rng = ctx.rng
    if life.closed_at is None or rng.random() >= EVALUATED_SHARE:
        return
    on_time = life.deadline_at is None or (life.handled_at or life.closed_at) <= life.deadline_at
    score = rng.choices(SCORES, SCORE_WEIGHTS[story.outcome == Outcome.SUCCESS and on_time])[0]
    life.evaluate(ctx.office_after(life.closed_at, rng.uniform(60, 2880)), office, score, "callback")


def _on(ctx: DisputeContext, day: date) -> datetime:
    """A moment of office hours on ``day``."""
    return datetime.combine(day, dtime(9), tzinfo=ctx.zone) + timedelta(minutes=ctx.rng.uniform(0, 480))


def _confirmation_steps(ctx: DisputeContext, life: Life, story: Story, h: Head, office: int | None) -> None:
    """司法确认 (pingan.disputes.confirmation): most parties let the 30 days lapse; some apply
    jointly, the court accepts within 3 days and rules within 15 (a few extended by 10)."""
    rng = ctx.rng
    assert story.agreement is not None
    c = story.agreement.confirmation
    applied = story.agreement.signed_on + timedelta(days=rng.randint(1, 20))
    court = ctx.courts.get(h.grid.county)
    if court is None or rng.random() >= CONFIRMATION_APPLIED or applied > c.apply_by:
        lapse = datetime.combine(c.apply_by + timedelta(days=1), dtime(0, 5), tzinfo=ctx.zone)
        text = f"司法确认：当事人未在 {c.apply_by} 前共同申请，申请期限已过"
        c.updated_at = _system(
            life, story, lapse, text, {"confirmation": "lapsed", "apply_by": c.apply_by.isoformat()}
        )
        c.status = ConfirmationStatus.LAPSED
        return
    court_name = ctx.units[court].name
    accept_by = calendar.legal_period_end(applied, days=ACCEPT_DAYS)
    text = f"司法确认：当事人于 {applied} 共同向{court_name}申请，法院应于 {accept_by} 前决定是否受理"
    c.updated_at = life.act(Action.COMMENT, None, _on(ctx, applied), story.mediator or office, text)
    c.status, c.court, c.applied_on, c.accept_by = ConfirmationStatus.APPLIED, court, applied, accept_by
    decided = min(applied + timedelta(days=rng.randint(0, 3)), accept_by)
    if rng.random() < 0.04:
        reason = "不属于人民法院受理司法确认申请的范围"
        text = f"司法确认：法院于 {decided} 裁定不予受理。理由：{reason}"
        c.updated_at = life.act(Action.COMMENT, None, _on(ctx, decided), office, text)
        c.status, c.ruled_on, c.note = ConfirmationStatus.NOT_ACCEPTED, decided, reason
        return
    rule_by = calendar.legal_period_end(decided, days=RULE_DAYS)
    text = f"司法确认：法院于 {decided} 受理，应于 {rule_by} 前作出裁定"
    c.updated_at = life.act(Action.COMMENT, None, _on(ctx, decided), office, text)
    c.status, c.accepted_on, c.rule_by = ConfirmationStatus.ACCEPTED, decided, rule_by
    if rng.random() < 0.05:
        extended_on = min(decided + timedelta(days=rng.randint(5, 12)), rule_by)
        rule_by = calendar.legal_period_end(decided, days=RULE_DAYS + EXTENSION_DAYS)
        reason = "案情较为复杂，需进一步审查"
        text = (
            f"司法确认：法院于 {extended_on} 决定延长审查期限十日，应于 {rule_by} 前作出裁定。理由：{reason}"
        )
        c.updated_at = life.act(Action.COMMENT, None, _on(ctx, extended_on), office, text)
        c.extended, c.rule_by, c.note = True, rule_by, reason
    ruled = min(decided + timedelta(days=rng.randint(2, 22 if c.extended else 14)), rule_by)
    confirmed = rng.random() >= 0.06
    text = f"司法确认：法院于 {ruled} 裁定{'调解协议有效' if confirmed else '驳回申请'}"
    if not confirmed:
        text += "。说明：协议部分内容违反法律规定"
    c.updated_at = life.act(Action.COMMENT, None, _on(ctx, ruled), office, text)
    c.status = ConfirmationStatus.CONFIRMED if confirmed else ConfirmationStatus.REJECTED
    c.ruled_on = ruled
    if not confirmed:
        c.note = "协议部分内容违反法律规定"


# ---------------------------------------------------------------------------------------------
# Rows


DISPUTE_ATTRS = (
    "case_id", "dispute_type", "source", "amount", "people_involved", "violence_threat", "risk_flags",
    "police_alerted_at", "mediator_id", "applicant_consent", "respondent_consent", "consent_at", "outcome",
    "outcome_at", "routes_told", "referral", "court_id", "court_case_number", "procedure", "referred_on",
    "referral_due", "result_sent_at",
)  # fmt: skip
PARTY_ATTRS = ("id", "dispute_id", "person_id", "role", "order")
SESSION_ATTRS = (
    "id",
    "dispute_id",
    "at",
    "place",
    "others",
    "record",
    "recorded_by_id",
    "created_at",
    "updated_at",
)
AGREEMENT_ATTRS = (
    "id", "dispute_id", "number", "facts", "terms", "performance", "perform_by", "signed_on", "performed_at",
    "created_at", "updated_at",
)  # fmt: skip
CONFIRMATION_ATTRS = (
    "agreement_id", "status", "apply_by", "court_id", "applied_on", "accept_by", "accepted_on", "rule_by",
    "extended", "ruled_on", "note", "created_at", "updated_at",
)  # fmt: skip
CALL_ATTRS = (
    "call_number", "called_at", "place", "jurisdiction_id", "area_code", "dispute_type", "station_id", "summary",
    "caller_id", "status", "push_due_at", "pushed_at", "pushed_to_id", "dispute_id", "not_pushed_reason",
    "fed_back_at", "feedback", "followed_up_at", "followup_note", "followup_satisfied", "created_at", "updated_at",
)  # fmt: skip


class DisputeWriter(Writer):
    """The event loader's Writer, with the tables of disputes."""

    def __init__(self) -> None:
        super().__init__()
        self.disputes = _Table(Dispute, DISPUTE_ATTRS)
        self.parties = _Table(DisputeParty, PARTY_ATTRS)
        self.sessions = _Table(MediationSession, SESSION_ATTRS)
        self.session_parties = _Table(
            MediationSession.parties.through, ("mediationsession_id", "disputeparty_id")
        )
        self.agreements = _Table(Agreement, AGREEMENT_ATTRS)
        self.confirmations = _Table(JudicialConfirmation, CONFIRMATION_ATTRS)
        self.calls = _Table(PoliceCall, CALL_ATTRS)
        self.people = _Table(Person, People.ATTRS)
        self._dispute_amount = Dispute._meta.get_field("amount")
        self._adapt_date = connection.ops.adapt_datefield_value
        self._labels = {t.value: str(t.label) for t in DisputeType}

    def money(self, value: Decimal | None) -> Any:
        return None if value is None else self._dispute_amount.get_db_prep_save(value, connection)

    def day(self, value: date | None) -> Any:
        return None if value is None else self._adapt_date(value)

    def json_list(self, value: list) -> Any:
        return connection.ops.adapt_json_value(value, None)

    def label(self, dispute_type: str) -> str:
        return self._labels[dispute_type]


class Rows:
    """The rows of one chunk of disputes, ready for the database."""

    def __init__(self, w: DisputeWriter) -> None:
        self.w = w
        self.cases: list[tuple] = []
        self.steps: list[tuple] = []
        self.disputes: list[tuple] = []
        self.parties: list[tuple] = []
        self.sessions: list[tuple] = []
        self.session_parties: list[tuple] = []
        self.agreements: list[tuple] = []
        self.confirmations: list[tuple] = []

    def write(self) -> None:
        w = self.w
        with transaction.atomic():
            w.cases.insert(self.cases)
            w.steps.insert(self.steps)
            w.disputes.insert(self.disputes)
            w.parties.insert(self.parties)
            w.sessions.insert(self.sessions)
            w.session_parties.insert(self.session_parties)
            w.agreements.insert(self.agreements)
            w.confirmations.insert(self.confirmations)


class Ids:
    """The next explicit id of each table written with ids."""

    def __init__(self) -> None:
        def after(model: type[models.Model]) -> int:
            return (model._default_manager.aggregate(m=Max("id"))["m"] or 0) + 1

        self.case = after(Case)
        self.step = after(Step)
        self.party = after(DisputeParty)
        self.session = after(MediationSession)
        self.agreement = after(Agreement)


def _title_and_facts(ctx: DisputeContext, w: DisputeWriter, h: Head) -> tuple[str, str]:
    """As a push (linkage.push) words a 110 dispute; the others from the type's wording."""
    label = w.label(h.dispute_type)
    c = h.call
    if c is None:
        return f"{h.grid.village}{h.spot}{h.issue}{label}", PROFILES[h.dispute_type].facts.format(
            issue=h.issue
        )
    when = c.called_at.astimezone(ctx.zone)
    head = (
        f"接警单号 {c.number}，报警时间 {when:%Y-%m-%d %H:%M}，发生地点 {c.grid.place + c.spot}，"
        f"{ctx.units[c.station].name}接警。"
    )
    return f"110警情 {c.number} {label}", f"{head}\n{_summary(c)}"


def _summary(c: Call) -> str:
    return PROFILES[c.dispute_type].summary.format(issue=c.issue)


def _case_uuid(rng: random.Random, case_id: int) -> uuid.UUID:
    """A dispute case's UUID: from its id (unique), never from a random stream that the events
    generator may also draw (same seed, same draws: two cases with one UUID)."""
    rng.getrandbits(128)  # keep the draws of the stream as they were
    return uuid.uuid5(DEMO_UUID_NAMESPACE, f"dispute:{case_id}")


def _rows_of(
    ctx: DisputeContext, w: DisputeWriter, ids: Ids, rows: Rows, h: Head, life: Life, story: Story
) -> None:
    rng = ctx.rng
    title, facts = _title_and_facts(ctx, w, h)
    policy = kind.policy_for(h.source, h.referral, h.procedure)
    rows.cases.append(
        (
            h.case_id,
            w.uuid(_case_uuid(rng, h.case_id)),
            h.number,
            KIND,
            title[:200],
            facts,
            CASE_CHANNEL[h.source],
            str(life.status),
            len(life.steps) - 1 - story.system_steps,  # a transition or card raised it by one
            h.grid.id,
            h.grid.code,
            h.lat,
            h.lon,
            (h.grid.place + h.spot)[:200],
            story.tier,
            life.unit_id,
            h.applicants[0],
            _reporter(ctx, h),
            str(policy.unit),
            w.amount(policy.amount),
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
            w.json({"dispute_type": h.dispute_type}),
        )
    )
    for action, source, target, at, actor, unit, note, data in life.steps:
        rows.steps.append(
            (ids.step, h.case_id, action, source, target, w.dt(at), actor, unit, note, w.json(data))
        )
        ids.step += 1
    rows.disputes.append(_dispute_row(ctx, w, h, story))
    party_ids = []
    for role, persons in ((PartyRole.APPLICANT, h.applicants), (PartyRole.RESPONDENT, h.respondents)):
        for order, person in enumerate(persons):
            rows.parties.append((ids.party, h.case_id, person, str(role), order))
            party_ids.append(ids.party)
            ids.party += 1
    others = OTHERS_PRESENT.get(OrgKind(story.org.kind), "调解员")
    if h.source == Source.POLICE_110:
        others += "、社区民警"
    for i, (at, recorder) in enumerate(story.sessions):
        last = i == len(story.sessions) - 1 and story.outcome
        record = SESSION_RECORD[h.outcome if last else ""].format(issue=h.issue)
        rows.sessions.append(
            (
                ids.session,
                h.case_id,
                w.dt(at),
                story.org.room[:200],
                others,
                record,
                recorder,
                w.dt(at),
                w.dt(at),
            )
        )
        rows.session_parties += [(ids.session, p) for p in party_ids]
        ids.session += 1
    agreed = story.agreement
    if agreed is not None:
        assert story.outcome_at is not None
        made = w.dt(story.outcome_at)
        rows.agreements.append(
            (
                ids.agreement,
                h.case_id,
                agreed.number,
                facts,
                agreed.terms,
                agreed.performance,
                w.day(agreed.perform_by),
                w.day(agreed.signed_on),
                w.dt(agreed.performed_at),
                made,
                w.dt(max(agreed.performed_at or story.outcome_at, story.outcome_at)),
            )
        )
        c = agreed.confirmation
        rows.confirmations.append(
            (
                ids.agreement,
                str(c.status),
                w.day(c.apply_by),
                c.court,
                w.day(c.applied_on),
                w.day(c.accept_by),
                w.day(c.accepted_on),
                w.day(c.rule_by),
                c.extended,
                w.day(c.ruled_on),
                c.note,
                made,
                w.dt(c.updated_at or story.outcome_at),
            )
        )
        ids.agreement += 1


def _flags(h: Head) -> list[str]:
    """RiskFlag values as register_dispute computes them."""
    flags = []
    if h.violence:
        flags.append(str(RiskFlag.VIOLENCE))
    if h.repeat:
        flags.append(str(RiskFlag.REPEAT))
    if h.group:
        flags.append(str(RiskFlag.GROUP))
    return flags


def _dispute_row(ctx: DisputeContext, w: DisputeWriter, h: Head, story: Story) -> tuple:
    consent = story.consent or (Consent.PENDING, Consent.PENDING)
    referred_on = due = court = None
    if h.referral:
        referred_on = h.registered_at.astimezone(ctx.zone).date()
        due = _referral_due(ctx, h)
        court = ctx.courts.get(h.grid.county)
    return (
        h.case_id,
        h.dispute_type,
        h.source,
        w.money(h.amount),
        h.people_involved,
        h.violence,
        w.json_list(_flags(h)),
        w.dt(story.alerted_at),
        story.mediator,
        str(consent[0]),
        str(consent[1]),
        w.dt(story.consent_at),
        story.outcome,
        w.dt(story.outcome_at),
        story.routes,
        h.referral,
        court,
        h.court_number,
        h.procedure,
        w.day(referred_on),
        w.day(due),
        w.dt(story.sent_at),
    )


def _call_row(ctx: DisputeContext, w: DisputeWriter, c: Call, window: timedelta) -> tuple:
    """A call as linkage leaves it: pushed (its dispute), fed back at the dispute's 处置反馈,
    followed up a few days later; or not pushed with a reason (followed up too); or waiting."""
    rng = ctx.rng
    status = CallFeedback.NOT_PUSHED if c.not_pushed else CallFeedback.WAITING
    pushed_at = pushed_to = dispute = fed_back = followed = satisfied = None
    feedback = followup = ""
    last = c.called_at
    h = c.head
    caller = c.caller
    if h is not None and h.org is not None:
        status, pushed_at, pushed_to, dispute = CallFeedback.PUSHED, h.registered_at, h.org.unit, h.case_id
        caller, last = h.applicants[0], h.registered_at
        if h.reported_at is not None:
            outcome = Outcome(h.outcome).label
            status, fed_back, feedback = CallFeedback.FED_BACK, h.reported_at, f"{outcome}：{h.report_note}"
            last = h.reported_at
            satisfied = rng.random() < (0.93 if h.outcome == Outcome.SUCCESS else 0.55)
    elif c.not_pushed:
        satisfied = rng.random() < 0.9
    if satisfied is not None:
        at = ctx.office_after(last, rng.uniform(480, 4 * 1440))
        if at <= ctx.now:
            followed, last = at, at
            notes = FOLLOWUP[satisfied]
            followup = notes[rng.randrange(len(notes))]
        else:
            satisfied = None
    return (
        c.number,
        w.dt(c.called_at),
        (c.grid.place + c.spot)[:200],
        c.grid.id,
        c.grid.code,
        c.dispute_type,
        c.station,
        _summary(c),
        caller,
        str(status),
        w.dt(c.called_at + window),
        w.dt(pushed_at),
        pushed_to,
        dispute,
        c.not_pushed,
        w.dt(fed_back),
        feedback,
        w.dt(followed),
        followup,
        satisfied,
        w.dt(c.called_at),
        w.dt(last),
    )


# ---------------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------------
# Entry point


def load_disputes(
    count: int = DISPUTES,
    *,
    calls: int | None = None,
    seed: int = SEED,
    now: datetime | None = None,
    stdout: IO[str] = sys.stdout,
) -> int:
    """Write ``count`` disputes and ``calls`` 110 dispute calls (default twice ``count``) of the
    last HISTORY_MONTHS months (see the module docstring); returns the number of disputes."""
    if count <= 0 and not calls:
        return 0
    collecting = gc.isenabled()
    gc.disable()  # as pingan.demo.events: many short-lived tuples, no cycles
    try:
        return _load(count, CALLS_PER_DISPUTE * count if calls is None else calls, seed, now, stdout)
    finally:
        if collecting:
            gc.enable()


def plan_disputes(
    count: int, calls: int, seed: int = SEED, now: datetime | None = None
) -> tuple[DisputeContext, Plan]:
    """The context and the plan of a load (what ``load_disputes`` would write), nothing written."""
    now = now or timezone.now()
    if not MediationOrg.objects.exists():
        create_mediation_orgs()
    ctx = DisputeContext(now, random.Random(seed), seed)
    end = events._history_end(now)
    ctx.now = end
    start = events._history_start(end, HISTORY_MONTHS)
    return ctx, build_plan(ctx, count, calls, start, end)


def _load(count: int, calls: int, seed: int, now: datetime | None, stdout: IO[str]) -> int:
    started = time.monotonic()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -65536")  # KiB: as pingan.demo.events
    ctx, plan = plan_disputes(count, calls, seed, now)
    orgs = plan.orgs
    heads = plan.heads
    w = DisputeWriter()
    people = People(ctx, seed, w)
    people.assign(heads)
    for c in plan.calls:
        if c.head is None and ctx.rng.random() < 0.4:
            pool = ctx.people.get(c.grid.township)
            c.caller = pool[ctx.rng.randrange(len(pool))] if pool else None
    sequences = events._number(heads, ctx.zone)
    ids = Ids()
    for offset, h in enumerate(heads):
        h.case_id = ids.case + offset
    with transaction.atomic():
        for begin in range(0, len(people.rows), events.CHUNK):
            w.people.insert(people.rows[begin : begin + events.CHUNK])
    generated = time.monotonic()
    counted = events.RollupSink(ctx.zone, kind=KIND)
    steps = 0
    for begin in range(0, len(heads), CHUNK):
        rows = Rows(w)
        for h in heads[begin : begin + CHUNK]:
            life, story = play(ctx, orgs, h)
            _rows_of(ctx, w, ids, rows, h, life, story)
            counted.add(h.grid.code, 0, life.steps, life.deadline_at, life.satisfaction)
        rows.write()
        steps += len(rows.steps)
    window = timedelta(hours=settings.LINKAGE_PUSH_HOURS)
    call_rows = [_call_row(ctx, w, c, window) for c in plan.calls]
    with transaction.atomic():
        for begin in range(0, len(call_rows), events.CHUNK):
            w.calls.insert(call_rows[begin : begin + events.CHUNK])
    written = time.monotonic()
    with transaction.atomic():
        events._save_sequences(sequences)
        events._reset_sequences((Case, Step, Person, DisputeParty, MediationSession, Agreement))
        from pingan.core import audit
        from pingan.core.choices import AuditAction

        detail = {"kind": "disputes", "synthetic": True, "count": len(heads), "calls": len(plan.calls)}
        audit.record(AuditAction.IMPORT, detail={**detail, "people": len(people.rows)})
    rollup_rows = counted.write()
    stdout.write(
        f"矛盾纠纷: {len(heads)} 件 (流转记录 {steps} 条, 新增当事人 {len(people.rows)} 人), "
        f"110纠纷警情 {len(plan.calls)} 条, 五类纠纷联动率 {_rates_text(plan.calls)} "
        f"(生成 {generated - started:.1f}s, 写入 {written - generated:.1f}s, "
        f"统计汇总 {rollup_rows} 行 {time.monotonic() - written:.1f}s)\n"
    )
    return len(heads)


def _rates_text(calls: list[Call]) -> str:
    """The linkage rate of the whole city and the range of the counties'."""
    key: Counter[str] = Counter()
    pushed: Counter[str] = Counter()
    for c in calls:
        if c.key:
            key[c.grid.county] += 1
            pushed[c.grid.county] += c.pushed
    if not key:
        return "-"
    rates = [100 * pushed[county] / n for county, n in key.items()]
    whole = 100 * sum(pushed.values()) / sum(key.values())
    return f"{whole:.1f}% (各县 {min(rates):.1f}%–{max(rates):.1f}%)"
