"""The closed loop (交办整改闭环): one case per matter, its steps, and the roll-ups read by indicators.

Every kind of matter (events, disputes, petitions, hazards, inspection findings …) is a Case;
a domain app adds a detail model one-to-one with its case and registers a kind
(pingan.cases.kinds). State changes happen only in pingan.cases.services.transition.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pingan.cases.choices import (
    OPEN_STATUSES,
    Action,
    Channel,
    DeadlineUnit,
    Grain,
    Status,
    Supervision,
    Tier,
)
from pingan.core.scoping import ScopedQuerySet

CLOCK = ["dispatched", "handling"]  # statuses in which the unit's clock runs (choices.CLOCK_STATUSES)
OPEN = ["registered", "dispatched", "returned", "handling", "reported"]  # choices.OPEN_STATUSES


class Case(models.Model):
    """One matter someone must handle by a deadline (一事一编码、一码管到底)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("编号"), max_length=32, unique=True, editable=False)
    kind = models.CharField(_("类型"), max_length=20)
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("描述"), blank=True)
    channel = models.CharField(_("来源渠道"), max_length=20, choices=Channel.choices)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.REGISTERED)
    version = models.PositiveIntegerField(_("版本"), default=0, help_text=_("乐观锁：每次状态变化加一"))

    jurisdiction = models.ForeignKey(
        "geo.Jurisdiction", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="cases"
    )
    area_code = models.CharField(_("区划代码"), max_length=24, editable=False)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)
    address = models.CharField(_("地点"), max_length=200, blank=True)
    tier = models.PositiveSmallIntegerField(_("层级"), choices=Tier.choices, default=Tier.TOWNSHIP)

    unit = models.ForeignKey(
        "accounts.Unit",
        verbose_name=_("责任单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    cohandlers = models.ManyToManyField(
        "accounts.Unit", verbose_name=_("协办单位"), blank=True, related_name="cohandled_cases"
    )
    requester = models.ForeignKey(
        "people.Person",
        verbose_name=_("反映人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reported_cases",
    )
    merged_into = models.ForeignKey(
        "self", verbose_name=_("并入"), null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )

    # Deadline policy, copied at registration from the kind/category (the rule in force then).
    deadline_unit = models.CharField(_("期限单位"), max_length=20, choices=DeadlineUnit.choices)
    deadline_amount = models.DecimalField(_("期限"), max_digits=7, decimal_places=2)
    registered_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    dispatched_at = models.DateTimeField(_("派遣时间"), null=True, blank=True)
    deadline_at = models.DateTimeField(_("处置期限"), null=True, blank=True)
    warn_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    red_at = models.DateTimeField(_("红牌时间"), null=True, blank=True)
    handled_at = models.DateTimeField(_("处置反馈时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)

    supervision = models.PositiveSmallIntegerField(
        _("督办"), choices=Supervision.choices, default=Supervision.NONE
    )
    extension_count = models.PositiveSmallIntegerField(_("延期次数"), default=0)
    extension_pending = models.BooleanField(_("延期待批"), default=False)
    rework_count = models.PositiveSmallIntegerField(_("返工次数"), default=0)
    return_count = models.PositiveSmallIntegerField(_("退回次数"), default=0)
    satisfaction = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True)
    data = models.JSONField(_("扩展信息"), default=dict, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_code_field = "area_code"
    scope_unit_field = ("unit", "cohandlers")

    class Meta:
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        ordering = ["-registered_at", "-id"]
        indexes = [
            # Dispatch desk: open cases of an area by status, newest first.
            models.Index(fields=["status", "area_code", "registered_at"], name="case_desk"),
            # My work: a unit's open cases by deadline.
            models.Index(fields=["unit", "status", "deadline_at"], name="case_unit_work"),
            # The sweep: cases with a running clock, by each moment it watches.
            # (预警 and 红牌 read only the cases still below their level: a backlog of carded
            # cases does not slow the sweep down.)
            models.Index(
                fields=["warn_at"], name="case_sweep_warn", condition=Q(status__in=CLOCK, supervision__lt=1)
            ),
            models.Index(fields=["deadline_at"], name="case_sweep_yellow", condition=Q(status__in=CLOCK)),
            models.Index(
                fields=["red_at"], name="case_sweep_red", condition=Q(status__in=CLOCK, supervision__lt=4)
            ),
            # Any list by registration or by deadline, read in index order whatever the filters
            # (ARCHITECTURE principle 7: a page never sorts the matching cases).
            models.Index(fields=["registered_at", "id"], name="case_registered"),
            models.Index(fields=["deadline_at", "id"], name="case_deadline"),
            # Open and overdue (超期) in an area, from the open cases only.
            models.Index(
                fields=["area_code", "deadline_at"], name="case_open_deadline", condition=Q(status__in=OPEN)
            ),
            # The desk's 待办 includes extension requests waiting for approval.
            models.Index(
                fields=["registered_at"], name="case_extension_pending", condition=Q(extension_pending=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def audit_label(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        end = self.handled_at or timezone.now()
        return self.deadline_at is not None and end > self.deadline_at


class Step(models.Model):
    """One entry of a case's timeline (流转记录): who did what, when, from which state to which."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(_("动作"), max_length=24, choices=Action.choices)
    from_status = models.CharField(_("原状态"), max_length=20, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    unit = models.ForeignKey(
        "accounts.Unit",
        verbose_name=_("单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("意见"), blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)

    class Meta:
        verbose_name = _("流转记录")
        verbose_name_plural = _("流转记录")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"]), models.Index(fields=["action", "at"])]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_action_display()}"


class Attachment(models.Model):
    """A file attached to a step (photo from the scene, a handling report)."""

    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("文件"), upload_to="cases/%Y/%m/")
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return self.name


class CaseSequence(models.Model):
    """Per-county, per-day counter behind readable case numbers (330881-20261128-00012)."""

    prefix = models.CharField(max_length=20, primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix} {self.last}"


# ---------------------------------------------------------------------------------------------
# Roll-ups (ARCHITECTURE principle 7): counters kept current by pingan.cases.rollups.apply on
# every transition, recomputed from the step log by `pingan manage rebuild_rollups`.

ROLLUP_KEY = ("grain", "day", "unit_id", "area_code", "kind", "category_id")
ROLLUP_COUNTERS = (
    "registered",
    "cancelled",
    "on_spot",
    "dispatched",
    "returned",
    "handled",
    "handled_on_time",
    "closed",
    "closed_on_time",
    "reworks",
    "reworked",
    "extensions",
    "parked",
    "yellow_cards",
    "red_cards",
    "satisfaction_sum",
    "satisfaction_count",
    "satisfied",
)


def _counter(label: Any) -> models.IntegerField:
    # Signed: a later step may take back a count (a report sent back by 返工, a re-evaluation).
    return models.IntegerField(label, default=0, db_default=0)


class CaseRollup(models.Model):
    """Counters of the closed loop for one day (or month), unit, area, kind and category (统计汇总)."""

    grain = models.CharField(_("粒度"), max_length=8, choices=Grain.choices)
    day = models.DateField(_("日期"), help_text=_("Asia/Shanghai 日期；按月汇总时为当月1日"))
    # 0, not NULL, for "none": a unique key over NULLs does not hold on SQLite or PostgreSQL.
    unit_id = models.PositiveIntegerField(_("单位"), default=0, help_text=_("0 表示无责任单位"))
    area_code = models.CharField(_("区划代码"), max_length=12, help_text=_("村(社区)级或乡镇级代码前缀"))
    kind = models.CharField(_("类型"), max_length=20)
    category_id = models.PositiveIntegerField(_("事件类型"), default=0, help_text=_("0 表示不分类型"))

    registered = _counter(_("登记数"))
    cancelled = _counter(_("注销数"))
    on_spot = _counter(_("就地解决数"))
    dispatched = _counter(_("派遣数"))
    returned = _counter(_("退回数"))
    handled = _counter(_("处置数"))
    handled_on_time = _counter(_("按期处置数"))
    closed = _counter(_("结案数"))
    closed_on_time = _counter(_("按期结案数"))
    reworks = _counter(_("返工次数"))
    reworked = _counter(_("返工案件数"))
    extensions = _counter(_("延期数"))
    parked = _counter(_("挂账数"))
    yellow_cards = _counter(_("黄牌数"))
    red_cards = _counter(_("红牌数"))
    satisfaction_sum = _counter(_("满意度总分"))
    satisfaction_count = _counter(_("评价数"))
    satisfied = _counter(_("满意数(4–5分)"))

    class Meta:
        verbose_name = _("统计汇总")
        verbose_name_plural = _("统计汇总")
        constraints = [models.UniqueConstraint(fields=list(ROLLUP_KEY), name="rollup_key")]
        indexes = [
            models.Index(fields=["grain", "unit_id", "day"], name="rollup_unit_day"),
            # Statistics of one event category read detail rows only.
            models.Index(
                fields=["category_id", "day"], name="rollup_category_day", condition=Q(grain=Grain.DETAIL)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.day} {self.unit_id} {self.area_code} {self.kind} {self.category_id}"


class ScoringRule(models.Model):
    """The unit scorecard's weights and grade bounds (单位考评规则, DOMAIN §2, local data).

    The active row is used; with none, ``ScoringRule.current()`` gives the published default:
    处置率×30 + 按期处置率×20 + (1−返工率)×20 + (1−超期待处置率)×20 + (1−延期率)×10;
    A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, E below.
    """

    name = models.CharField(_("名称"), max_length=60, default="默认规则")
    weight_handled = models.DecimalField(_("处置率权重"), max_digits=5, decimal_places=2, default=30)
    weight_handled_on_time = models.DecimalField(
        _("按期处置率权重"), max_digits=5, decimal_places=2, default=20
    )
    weight_rework = models.DecimalField(_("(1−返工率)权重"), max_digits=5, decimal_places=2, default=20)
    weight_overdue = models.DecimalField(
        _("(1−超期待处置率)权重"), max_digits=5, decimal_places=2, default=20
    )
    weight_extension = models.DecimalField(_("(1−延期率)权重"), max_digits=5, decimal_places=2, default=10)
    grade_a = models.DecimalField(_("A 级下限"), max_digits=5, decimal_places=2, default=90)
    grade_b = models.DecimalField(_("B 级下限"), max_digits=5, decimal_places=2, default=75)
    grade_c = models.DecimalField(_("C 级下限"), max_digits=5, decimal_places=2, default=60)
    grade_d = models.DecimalField(_("D 级下限"), max_digits=5, decimal_places=2, default=40)
    is_active = models.BooleanField(_("启用"), default=False)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("考评规则")
        verbose_name_plural = _("考评规则")
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_scoring_rule"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def current(cls) -> ScoringRule:
        """The active rule, or the default (unsaved) when none is active."""
        return cls.objects.filter(is_active=True).first() or cls()

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        weights = (
            self.weight_handled
            + self.weight_handled_on_time
            + self.weight_rework
            + self.weight_overdue
            + self.weight_extension
        )
        if weights != 100:
            raise ValidationError({"weight_handled": [_("五项权重之和须为 100")]})
        if not self.grade_a > self.grade_b > self.grade_c > self.grade_d >= 0:
            raise ValidationError({"grade_a": [_("等级下限须依次递减：A > B > C > D ≥ 0")]})
