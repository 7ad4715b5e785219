"""Disputes (矛盾纠纷): mediation organisations, disputes and their parties, sessions,
agreements, judicial confirmation, court referral and police linkage (DOMAIN §4).

A dispute is a Case of kind "dispute" (pingan.disputes.kind) with a Dispute row one-to-one
with it; the responsible unit of the case is the mediation organisation, the loop's
处置反馈 is the mediation outcome. Parties are people of the register (encrypted, masked):
nothing personal is stored here in clear.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pingan.core.models import TimeStampedModel
from pingan.core.scoping import ScopedQuerySet
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
    Source,
)


class MediationOrg(models.Model):
    """A mediation organisation (调解组织): its unit, its kind and the dispute types it takes.

    People's mediation committees of villages and townships, industry mediation (labour,
    medical), branded rooms ("王宁调解"), volunteer teams ("三衢和姐", "6070"). Its mediators
    are the users of role 调解员 in its unit.
    """

    unit = models.OneToOneField(
        "accounts.Unit",
        verbose_name=_("单位"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="mediation_org",
    )
    org_kind = models.CharField(_("组织类型"), max_length=20, choices=OrgKind.choices)
    brand = models.CharField(_("品牌名称"), max_length=60, blank=True, help_text=_("如「王宁调解」"))
    # Dispute types it takes (DisputeType values); empty means every type.
    dispute_types = models.JSONField(_("受理纠纷类型"), default=list, blank=True)
    room = models.CharField(_("调解室地址"), max_length=200, blank=True)
    capacity = models.PositiveSmallIntegerField(
        _("同时在办上限"), default=30, help_text=_("按在办数量分配时的参考上限")
    )

    objects = ScopedQuerySet.as_manager()
    scope_code_field = "unit__area_code"
    scope_unit_field = "unit"

    class Meta:
        verbose_name = _("调解组织")
        verbose_name_plural = _("调解组织")

    def __str__(self) -> str:
        return self.brand or str(self.unit)

    def takes(self, dispute_type: str) -> bool:
        return not self.dispute_types or dispute_type in self.dispute_types


class Dispute(models.Model):
    """A dispute's own details (纠纷信息), one-to-one with its case."""

    case = models.OneToOneField(
        "cases.Case",
        verbose_name=_("案件"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="dispute",
    )
    dispute_type = models.CharField(_("纠纷类型"), max_length=20, choices=DisputeType.choices, db_index=True)
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices)
    amount = models.DecimalField(_("涉及金额(元)"), max_digits=14, decimal_places=2, null=True, blank=True)
    people_involved = models.PositiveIntegerField(_("涉及人数"), default=2)
    violence_threat = models.BooleanField(_("有暴力威胁"), default=False)
    # RiskFlag values raised at registration or later (民转刑 risk); the police were alerted.
    risk_flags = models.JSONField(_("风险标记"), default=list, blank=True)
    police_alerted_at = models.DateTimeField(_("通报公安时间"), null=True, blank=True)

    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("调解员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mediated_disputes",
    )
    applicant_consent = models.CharField(
        _("申请人意愿"), max_length=10, choices=Consent.choices, default=Consent.PENDING
    )
    respondent_consent = models.CharField(
        _("被申请人意愿"), max_length=10, choices=Consent.choices, default=Consent.PENDING
    )
    consent_at = models.DateTimeField(_("意愿确认时间"), null=True, blank=True)
    outcome = models.CharField(_("调解结果"), max_length=10, choices=Outcome.choices, blank=True)
    outcome_at = models.DateTimeField(_("结果时间"), null=True, blank=True)
    routes_told = models.TextField(
        _("告知的法律途径"), blank=True, help_text=_("调解不成或不同意调解时告知仲裁、行政、诉讼途径（§26）")
    )

    # Court referral (诉调对接): 委派 before filing 30 days, 委托 after filing 15 / 7 days.
    referral = models.CharField(_("法院委派/委托"), max_length=10, choices=Referral.choices, blank=True)
    court = models.ForeignKey(
        "accounts.Unit",
        verbose_name=_("委派/委托法院"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referred_disputes",
    )
    court_case_number = models.CharField(_("法院案号"), max_length=60, blank=True)
    procedure = models.CharField(_("审理程序"), max_length=10, choices=Procedure.choices, blank=True)
    referred_on = models.DateField(_("委派/委托日期"), null=True, blank=True)
    referral_due = models.DateField(_("委派/委托期限"), null=True, blank=True)
    result_sent_at = models.DateTimeField(_("结果回复法院时间"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_code_field = "case__area_code"
    scope_unit_field = "case__unit"

    class Meta:
        verbose_name = _("矛盾纠纷")
        verbose_name_plural = _("矛盾纠纷")
        indexes = [models.Index(fields=["mediator", "outcome"], name="dispute_mediator_load")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_dispute_type_display()}"

    @property
    def both_consent(self) -> bool:
        return self.applicant_consent == Consent.AGREED and self.respondent_consent == Consent.AGREED


class DisputeParty(models.Model):
    """A party to a dispute (当事人): a person of the register, applicant or respondent."""

    dispute = models.ForeignKey(
        Dispute, verbose_name=_("纠纷"), on_delete=models.CASCADE, related_name="parties"
    )
    person = models.ForeignKey(
        "people.Person", verbose_name=_("当事人"), on_delete=models.PROTECT, related_name="dispute_parties"
    )
    role = models.CharField(_("身份"), max_length=12, choices=PartyRole.choices)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("当事人")
        verbose_name_plural = _("当事人")
        ordering = ["role", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["dispute", "person"], name="party_once_per_dispute")]

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.get_role_display()}"


class MediationSession(TimeStampedModel):
    """One mediation session (调解记录): when, where, who attended, and the record."""

    dispute = models.ForeignKey(
        Dispute, verbose_name=_("纠纷"), on_delete=models.CASCADE, related_name="sessions"
    )
    at = models.DateTimeField(_("调解时间"))
    place = models.CharField(_("调解地点"), max_length=200)
    parties = models.ManyToManyField(DisputeParty, verbose_name=_("到场当事人"), blank=True, related_name="+")
    others = models.CharField(
        _("其他参加人员"), max_length=300, blank=True, help_text=_("调解员、村干部、民警等")
    )
    record = models.TextField(_("调解笔录"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("调解记录")
        verbose_name_plural = _("调解记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.at:%Y-%m-%d}"


class Agreement(TimeStampedModel):
    """A mediation agreement (人民调解协议书, §28–30): binding once both parties and the
    mediator sign and the committee seals; ``signed_on`` is that day."""

    dispute = models.OneToOneField(
        Dispute, verbose_name=_("纠纷"), on_delete=models.CASCADE, related_name="agreement"
    )
    number = models.CharField(_("协议编号"), max_length=40, unique=True)
    facts = models.TextField(_("纠纷主要事实、争议事项"))
    terms = models.TextField(_("达成协议的内容"))
    performance = models.TextField(_("履行方式"))
    perform_by = models.DateField(_("履行期限"))
    signed_on = models.DateField(_("协议生效日期"))
    performed_at = models.DateTimeField(_("履行完毕时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("调解协议")
        verbose_name_plural = _("调解协议")

    def __str__(self) -> str:
        return self.number


class JudicialConfirmation(TimeStampedModel):
    """Judicial confirmation of an agreement (司法确认, 人民调解法 §33): applied for jointly
    within 30 days of the agreement taking effect; the court accepts in 3 days and rules in
    15, extendable by 10."""

    agreement = models.OneToOneField(
        Agreement, verbose_name=_("调解协议"), on_delete=models.CASCADE, related_name="confirmation"
    )
    status = models.CharField(
        _("状态"), max_length=14, choices=ConfirmationStatus.choices, default=ConfirmationStatus.DUE
    )
    apply_by = models.DateField(_("申请期限"))
    court = models.ForeignKey(
        "accounts.Unit",
        verbose_name=_("法院(共享法庭)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    applied_on = models.DateField(_("申请日期"), null=True, blank=True)
    accept_by = models.DateField(_("受理期限"), null=True, blank=True)
    accepted_on = models.DateField(_("受理日期"), null=True, blank=True)
    rule_by = models.DateField(_("裁定期限"), null=True, blank=True)
    extended = models.BooleanField(_("已延长"), default=False)
    ruled_on = models.DateField(_("裁定日期"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("司法确认")
        verbose_name_plural = _("司法确认")
        indexes = [models.Index(fields=["status", "apply_by"], name="confirmation_due")]

    def __str__(self) -> str:
        return f"{self.agreement_id} {self.get_status_display()}"


class PoliceCall(TimeStampedModel):
    """A 110 call about a dispute (纠纷类警情) and its linkage to mediation (警调联动).

    Every call of the five key types must be pushed to a mediation organisation within
    PINGAN_LINKAGE_PUSH_HOURS (default 24) and come back with feedback; every one gets a
    follow-up call (回访). Linkage rate = key-type calls pushed ÷ key-type calls.
    """

    call_number = models.CharField(_("接警单号"), max_length=40, unique=True)
    called_at = models.DateTimeField(_("报警时间"))
    place = models.CharField(_("发生地点"), max_length=200, blank=True)
    jurisdiction = models.ForeignKey(
        "geo.Jurisdiction", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+"
    )
    area_code = models.CharField(_("区划代码"), max_length=24, editable=False)
    dispute_type = models.CharField(_("纠纷类型"), max_length=20, choices=DisputeType.choices)
    station = models.ForeignKey(
        "accounts.Unit", verbose_name=_("派出所"), on_delete=models.PROTECT, related_name="police_calls"
    )
    summary = models.TextField(_("简要警情"), blank=True)
    caller = models.ForeignKey(
        "people.Person",
        verbose_name=_("报警人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("联动状态"), max_length=12, choices=CallFeedback.choices, default=CallFeedback.WAITING
    )
    push_due_at = models.DateTimeField(_("推送期限"))
    pushed_at = models.DateTimeField(_("推送时间"), null=True, blank=True)
    pushed_to = models.ForeignKey(
        "accounts.Unit",
        verbose_name=_("推送调解组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    dispute = models.OneToOneField(
        Dispute,
        verbose_name=_("纠纷"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="police_call",
    )
    not_pushed_reason = models.CharField(_("不予推送理由"), max_length=200, blank=True)
    fed_back_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    feedback = models.TextField(_("反馈情况"), blank=True)
    followed_up_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    followup_note = models.TextField(_("回访情况"), blank=True)
    followup_satisfied = models.BooleanField(_("回访满意"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_code_field = "area_code"
    scope_unit_field = "station"

    class Meta:
        verbose_name = _("纠纷类警情")
        verbose_name_plural = _("纠纷类警情")
        ordering = ["-called_at", "-id"]
        indexes = [
            models.Index(fields=["area_code", "called_at"], name="call_area_time"),
            models.Index(fields=["station", "called_at"], name="call_station_time"),
            models.Index(fields=["status", "push_due_at"], name="call_push_due"),
        ]

    def __str__(self) -> str:
        return self.call_number

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.area_code = self.jurisdiction.code
        super().save(*args, **kwargs)
