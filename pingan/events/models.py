"""Events (事件): the category catalogue, each event's details, routing rules and intake keys.

An event is a Case of kind "event" (pingan.events.kind) with an Event row one-to-one with
it. Its deadline comes from its category (DOMAIN §2: each category carries its own register
condition, deadline and close condition, *local* data imported from Excel).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pingan.accounts.choices import Platform
from pingan.cases.choices import DeadlineUnit
from pingan.core.models import TimeStampedModel
from pingan.core.scoping import ScopedQuerySet, code_prefix
from pingan.events.choices import LIST_DATATYPES, FieldDatatype

CODE_RE = re.compile(r"^[0-9A-Za-z_-]{1,20}$")
FIELD_CODE_RE = re.compile(r"^[A-Za-z_][0-9A-Za-z_-]{0,39}$")


def validate_fields(value: Any) -> None:
    """A category's extra attributes: a list of {code, datatype, required, description, values}.

    They become the attributes of the Open311 service definition (GeoReport v2
    ``GET services/{code}``); list datatypes need values [{key, name}].
    """
    if not isinstance(value, list):
        raise ValidationError(_("附加属性须为列表"))
    seen: set[str] = set()
    for n, item in enumerate(value, start=1):
        where = _("第 %(n)d 个属性") % {"n": n}
        if not isinstance(item, dict):
            raise ValidationError(_("%(where)s须为对象") % {"where": where})
        code = item.get("code")
        if not isinstance(code, str) or not FIELD_CODE_RE.match(code) or code in seen:
            raise ValidationError(_("%(where)s的 code 缺失、重复或含非法字符") % {"where": where})
        seen.add(code)
        if item.get("datatype") not in FieldDatatype.values:
            raise ValidationError(
                _("%(where)s的 datatype 须为 %(choices)s")
                % {"where": where, "choices": "、".join(FieldDatatype.values)}
            )
        if not isinstance(item.get("required", False), bool):
            raise ValidationError(_("%(where)s的 required 须为 true 或 false") % {"where": where})
        if not isinstance(item.get("description", ""), str):
            raise ValidationError(_("%(where)s的 description 须为文本") % {"where": where})
        values = item.get("values", [])
        if item["datatype"] in LIST_DATATYPES:
            if (
                not isinstance(values, list)
                or not values
                or not all(isinstance(v, dict) and str(v.get("key", "")).strip() for v in values)
            ):
                raise ValidationError(_("%(where)s为选择类，须给出 values [{key, name}]") % {"where": where})
        elif values:
            raise ValidationError(_("%(where)s不是选择类，不能有 values") % {"where": where})


class Category(TimeStampedModel):
    """An event category of the catalogue (事件分类): a 大类 when it has no parent, else a 小类."""

    parent = models.ForeignKey(
        "self",
        verbose_name=_("大类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    code = models.CharField(_("代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    platform = models.CharField(_("平台"), max_length=20, choices=Platform.choices, blank=True)
    # The unit that usually handles it: a fixed unit, or a name resolved in the case's area
    # ("综合行政执法局" → the case's county's 综合行政执法局; "派出所" → its township's).
    default_unit = models.ForeignKey(
        "accounts.Unit",
        verbose_name=_("默认单位"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    default_unit_name = models.CharField(
        _("默认单位名称"), max_length=80, blank=True, help_text=_("按事件所在区划匹配以此结尾的单位")
    )
    register_condition = models.TextField(_("立案条件"), blank=True)
    close_condition = models.TextField(_("结案条件"), blank=True)
    # Deadline policy (DOMAIN §2, local): a 小类 always has one; a 大类 has none.
    deadline_unit = models.CharField(_("期限单位"), max_length=20, choices=DeadlineUnit.choices, blank=True)
    deadline_amount = models.DecimalField(_("期限"), max_digits=7, decimal_places=2, null=True, blank=True)
    urgent = models.BooleanField(_("紧急"), default=False, help_text=_("按小时计时，优先派遣"))
    active = models.BooleanField(_("启用"), default=True)
    fields = models.JSONField(_("附加属性"), default=list, blank=True, validators=[validate_fields])
    order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("事件类型")
        verbose_name_plural = _("事件类型")
        ordering = ["order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name_in_parent"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="category_unique_top_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parent.name}/{self.name}" if self.parent_id and self.parent else self.name

    @property
    def is_leaf(self) -> bool:
        return self.parent_id is not None

    @property
    def usable(self) -> bool:
        """Whether new events may be filed under it: an active 小类 of an active 大类."""
        parent = self.parent
        return bool(self.active and parent is not None and parent.active and self.deadline_unit)

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}
        if not CODE_RE.match(self.code or ""):
            errors["code"] = [_("代码只能由字母、数字、下划线和连字符组成，最长 20 位")]
        parent = self.parent
        if parent is not None:
            if parent.parent_id:
                errors["parent"] = [_("只分大类、小类两级")]
            if not self.deadline_unit or not self.deadline_amount or self.deadline_amount <= 0:
                errors["deadline_amount"] = [_("小类须有处置期限")]
        if self.deadline_unit == DeadlineUnit.URGENT_HOURS:
            self.urgent = True
        if errors:
            raise ValidationError(errors)


class Event(models.Model):
    """An event's own details (事件信息), one-to-one with its case: category and intake particulars.

    The requester is the case's Person (encrypted, masked); nothing personal is kept here.
    """

    case = models.OneToOneField(
        "cases.Case", verbose_name=_("案件"), primary_key=True, on_delete=models.CASCADE, related_name="event"
    )
    category = models.ForeignKey(
        Category, verbose_name=_("事件类型"), on_delete=models.PROTECT, related_name="events"
    )
    channel_ref = models.CharField(
        _("来源编号"), max_length=64, blank=True, help_text=_("如12345工单号、110接警单号")
    )
    on_spot = models.BooleanField(_("就地解决"), default=False)

    objects = ScopedQuerySet.as_manager()
    scope_code_field = "case__area_code"
    scope_unit_field = "case__unit"

    class Meta:
        verbose_name = _("事件")
        verbose_name_plural = _("事件")

    def __str__(self) -> str:
        return f"{self.case_id} {self.category_id}"


class RoutingRule(TimeStampedModel):
    """A routing rule (分拨规则): events of a category in an area go to a unit.

    The most specific rule wins (pingan.events.routing): the longest area prefix, then a rule
    for the 小类 before one for its 大类, then the higher priority.
    """

    category = models.ForeignKey(
        Category, verbose_name=_("事件类型"), on_delete=models.CASCADE, related_name="rules"
    )
    jurisdiction = models.ForeignKey(
        "geo.Jurisdiction", verbose_name=_("适用区划"), on_delete=models.PROTECT, related_name="+"
    )
    # The jurisdiction's code path (code_prefix): a case matches when its area code starts with it.
    area_prefix = models.CharField(_("区划前缀"), max_length=24, editable=False, db_index=True)
    unit = models.ForeignKey(
        "accounts.Unit", verbose_name=_("责任单位"), on_delete=models.CASCADE, related_name="+"
    )
    priority = models.IntegerField(
        _("优先级"), default=0, help_text=_("同一区划、同一类型有多条时，大者优先")
    )
    active = models.BooleanField(_("启用"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_code_field = "area_prefix"

    class Meta:
        verbose_name = _("分拨规则")
        verbose_name_plural = _("分拨规则")
        ordering = ["category__code", "area_prefix", "-priority"]

    def __str__(self) -> str:
        return f"{self.category} @ {self.area_prefix} → {self.unit}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.area_prefix = code_prefix(self.jurisdiction.code)
        super().save(*args, **kwargs)


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key and the case its first request created (ARCHITECTURE principle 6).

    ``owner`` says whose key it is ("user:12", "open311:3"): two clients may use the same key.
    ``fingerprint`` is a keyed hash of the request: the same key with another body is refused.
    """

    key = models.CharField(_("幂等键"), max_length=100)
    owner = models.CharField(_("客户端"), max_length=80)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    fingerprint = models.CharField(_("请求指纹"), max_length=64)
    case = models.ForeignKey("cases.Case", verbose_name=_("案件"), on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("幂等键")
        verbose_name_plural = _("幂等键")
        constraints = [models.UniqueConstraint(fields=["key", "owner"], name="idempotency_unique_key_owner")]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"


class DispatchChoice(models.Model):
    """A roll-up of dispatchers' choices (分拨统计): how often a unit was chosen for a 小类 in a
    township in a month. Kept current by a hook on every DISPATCH of an event (and rebuilt
    from the step log by ``manage.py rebuild_dispatch_choices``), so routing never scans steps.
    """

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    # The case's township code (its first 9 digits), or its whole code above the township.
    area = models.CharField(max_length=24)
    unit = models.ForeignKey("accounts.Unit", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="first day of the month, local time")
    count = models.PositiveIntegerField(default=0)
    last_at = models.DateTimeField()

    class Meta:
        verbose_name = _("分拨统计")
        verbose_name_plural = _("分拨统计")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "area", "unit", "month"], name="dispatch_choice_unique"
            )
        ]
        indexes = [models.Index(fields=["category", "area", "month"], name="dispatch_choice_lookup")]

    def __str__(self) -> str:
        return f"{self.category_id} {self.area} {self.unit_id} {self.month:%Y-%m}: {self.count}"
