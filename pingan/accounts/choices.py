from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a user does in the loop (岗位角色)."""

    GRID_WORKER = "grid_worker", _("网格员")
    DISPATCHER = "dispatcher", _("坐席/分拨员")
    HANDLER = "handler", _("承办人")
    MEDIATOR = "mediator", _("调解员")
    SUPERVISOR = "supervisor", _("督办员")
    LEADER = "leader", _("领导")
    ADMIN = "admin", _("管理员")


class UnitKind(models.TextChoices):
    """Kinds of organisation a matter can be dispatched to."""

    CENTRE = "centre", _("社会治理中心")
    DEPARTMENT = "department", _("政府部门")
    PLATFORM = "platform", _("基层治理平台")
    MEDIATION = "mediation", _("调解组织")
    POLICE_STATION = "police_station", _("派出所")
    COURT = "court", _("法院/法庭")
    VILLAGE_COMMITTEE = "village", _("村(社区)")
    OTHER = "other", _("其他")


class Platform(models.TextChoices):
    """A township's four platforms since 2021 (基层治理四平台, DOMAIN §1)."""

    ZONGZHI = "zongzhi", _("综治工作")
    JIANGUAN = "jianguan", _("监管执法")
    YINGJI = "yingji", _("应急管理")
    GONGGONG = "gonggong", _("公共服务")
