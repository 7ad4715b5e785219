"""Choices of dispute work (矛盾纠纷多元化解, DOMAIN §4)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DisputeType(models.TextChoices):
    """Kinds of dispute. The first five are the police's key types (五类纠纷, 警调联动)."""

    NEIGHBOUR = "neighbour", _("邻里纠纷")
    FAMILY = "family", _("婚恋家庭纠纷")  # 情感/婚恋家庭
    LAND = "land", _("土地山林纠纷")
    LABOUR = "labour", _("劳资纠纷")
    MEDICAL = "medical", _("医疗纠纷")
    PROPERTY_MANAGEMENT = "property", _("物业纠纷")
    CONSUMER = "consumer", _("消费纠纷")
    TRAFFIC = "traffic", _("交通事故纠纷")
    CONTRACT = "contract", _("合同纠纷")
    OTHER = "other", _("其他纠纷")


# 五类纠纷: every 110 call of these types must be pushed to mediation (警调联动).
KEY_TYPES = (
    DisputeType.NEIGHBOUR,
    DisputeType.FAMILY,
    DisputeType.LAND,
    DisputeType.LABOUR,
    DisputeType.MEDICAL,
)


class Source(models.TextChoices):
    """Where a dispute came from."""

    WINDOW = "window", _("中心窗口")
    GRID = "grid", _("网格员上报")
    POLICE_110 = "police_110", _("110警情推送")
    COURT = "court", _("法院委派/委托")
    HOTLINE = "hotline", _("12345热线")
    PETITION = "petition", _("信访分流")


class PartyRole(models.TextChoices):
    APPLICANT = "applicant", _("申请人")
    RESPONDENT = "respondent", _("被申请人")


class OrgKind(models.TextChoices):
    """Kinds of mediation organisation (调解组织)."""

    VILLAGE_COMMITTEE = "village", _("村(社区)人民调解委员会")
    TOWNSHIP_COMMITTEE = "township", _("乡镇(街道)人民调解委员会")
    INDUSTRY = "industry", _("行业性专业性调解组织")  # labour, medical, traffic …
    BRANDED_ROOM = "branded", _("品牌调解室")  # 王宁调解, 兰花热线
    VOLUNTEER_TEAM = "volunteer", _("志愿者调解队")  # 三衢和姐, 6070
    COUNTY_CENTRE = "county", _("县级矛调中心")


class Consent(models.TextChoices):
    """A party's answer to mediation (人民调解法 §17: both parties must agree)."""

    PENDING = "pending", _("待征询")
    AGREED = "agreed", _("同意调解")
    REFUSED = "refused", _("拒绝调解")


class Outcome(models.TextChoices):
    """How mediation ended."""

    SUCCESS = "success", _("调解成功")
    FAILURE = "failure", _("调解不成")
    REFUSED = "refused", _("当事人不同意调解")
    WITHDRAWN = "withdrawn", _("申请人撤回")


class RiskFlag(models.TextChoices):
    """Signs that a dispute may turn into a crime (民转刑风险, 人民调解法 §25)."""

    VIOLENCE = "violence", _("有暴力威胁")
    REPEAT = "repeat", _("同一当事人反复纠纷")
    GROUP = "group", _("群体性(5人以上)")


class Referral(models.TextChoices):
    """Court referral (诉调对接)."""

    NONE = "", _("非法院委派")
    ASSIGNED = "assigned", _("诉前委派")  # 委派, 30 days
    ENTRUSTED = "entrusted", _("诉中委托")  # 委托, 15 days ordinary / 7 summary


class Procedure(models.TextChoices):
    ORDINARY = "ordinary", _("普通程序")
    SUMMARY = "summary", _("简易程序")


class ConfirmationStatus(models.TextChoices):
    """Judicial confirmation of an agreement (司法确认, 人民调解法 §33)."""

    DUE = "due", _("待申请")
    APPLIED = "applied", _("已申请")
    ACCEPTED = "accepted", _("法院已受理")
    CONFIRMED = "confirmed", _("裁定有效")
    REJECTED = "rejected", _("驳回申请")
    NOT_ACCEPTED = "not_accepted", _("不予受理")
    LAPSED = "lapsed", _("逾期未申请")


class CallFeedback(models.TextChoices):
    """Where a 110 dispute call stands in police linkage (警调联动)."""

    WAITING = "waiting", _("待推送")
    PUSHED = "pushed", _("已推送")
    FED_BACK = "fed_back", _("已反馈")
    NOT_PUSHED = "not_pushed", _("不予推送")
