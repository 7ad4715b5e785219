"""States, actions and policies of the closed loop (交办整改闭环, DOMAIN §2)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    """Where a case stands. Kinds may add their own; these are the common loop's."""

    REGISTERED = "registered", _("待派遣")  # 登记/立案, waiting for dispatch
    CANCELLED = "cancelled", _("已注销")  # 注销: fails the register conditions
    DISPATCHED = "dispatched", _("待签收")  # 派遣, waiting for the unit to accept
    RETURNED = "returned", _("已退回")  # 退回 by the unit, waiting for re-dispatch
    HANDLING = "handling", _("处置中")  # 签收, the unit is handling it
    REPORTED = "reported", _("待核查")  # 反馈, waiting for verification
    CLOSED = "closed", _("已结案")  # 结案
    PARKED = "parked", _("挂账")  # cannot be solved in time even extended; leaves on-time statistics


OPEN_STATUSES = (Status.REGISTERED, Status.DISPATCHED, Status.RETURNED, Status.HANDLING, Status.REPORTED)
# Statuses in which the responsible unit's clock runs (the clock starts at dispatch).
CLOCK_STATUSES = (Status.DISPATCHED, Status.HANDLING)


class Action(models.TextChoices):
    """What can happen to a case; every action appends a step."""

    REGISTER = "register", _("登记")
    SOLVE_ON_SPOT = "solve_on_spot", _("就地解决")
    CANCEL = "cancel", _("注销")
    DISPATCH = "dispatch", _("派遣")
    ACCEPT = "accept", _("签收")
    RETURN = "return", _("退回")
    REPORT = "report", _("处置反馈")
    CLOSE = "close", _("核查通过结案")
    REWORK = "rework", _("返工")
    EVALUATE = "evaluate", _("评价")
    REQUEST_EXTENSION = "request_extension", _("申请延期")
    APPROVE_EXTENSION = "approve_extension", _("批准延期")
    REJECT_EXTENSION = "reject_extension", _("驳回延期")
    PARK = "park", _("挂账")
    UNPARK = "unpark", _("解除挂账")
    TRANSFER = "transfer", _("转办")
    ADD_COHANDLER = "add_cohandler", _("增加协办单位")
    ESCALATE = "escalate", _("提级")
    SUPERVISE = "supervise", _("督办")
    WARN = "warn", _("临期预警")
    YELLOW_CARD = "yellow_card", _("黄牌")
    RED_CARD = "red_card", _("红牌")
    MERGE = "merge", _("合并")
    COMMENT = "comment", _("备注")


class DeadlineUnit(models.TextChoices):
    """Units of a deadline policy seen in real systems (DOMAIN §2)."""

    URGENT_HOURS = "urgent_hours", _("紧急(小时)")
    WORKING_HOURS = "working_hours", _("工作时")
    WORKING_DAYS = "working_days", _("工作日")
    CALENDAR_DAYS = "calendar_days", _("自然日")


class Supervision(models.IntegerChoices):
    """Supervision level, in order of severity; it only ever rises."""

    NONE = 0, _("正常")
    WARNING = 1, _("预警")
    NORMAL = 2, _("督办")  # 普通督办, raised by hand
    YELLOW = 3, _("黄牌")
    RED = 4, _("红牌")


class Tier(models.IntegerChoices):
    """Who handles the matter (DOMAIN §1 tiering): 村社化解, 镇街首调, 县级, 市级包案."""

    VILLAGE = 1, _("村(社区)")
    TOWNSHIP = 2, _("乡镇(街道)")
    COUNTY = 3, _("县(市、区)")
    CITY = 4, _("市")


class Channel(models.TextChoices):
    """Where a matter came in."""

    GRID = "grid", _("网格员上报")
    HOTLINE = "hotline", _("12345热线")
    CITIZEN = "citizen", _("群众网上反映")
    POLICE_110 = "police_110", _("110非警务警情")
    INSPECTION = "inspection", _("督查检查发现")
    WINDOW = "window", _("窗口来访")
    FEDERATION = "federation", _("其他平台转入")
    OPEN311 = "open311", _("Open311接口")


class Grain(models.TextChoices):
    """Granularity of a roll-up row (pingan.cases.rollups): what one row of counters covers."""

    DETAIL = "detail", _("日·村社·类型")  # local day × unit × village × kind × category
    DAY = "day", _("日")  # local day × unit × township × kind
    MONTH = "month", _("月")  # local month × unit × township × kind (day = the 1st)
