"""Input and output shapes of the disputes API (/api/disputes/). No postponed annotations: ninja
needs real ones. Parties are shown masked only (people.services.masked)."""

from datetime import date, datetime
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _
from ninja import Field, Schema
from pydantic import ConfigDict

from pingan.cases.choices import Status
from pingan.cases.schemas import Id, MaskedPerson, UnitRef
from pingan.disputes.choices import Consent, DisputeType, Outcome, PartyRole, Referral, Source

Version = Field(..., ge=0, le=2**31 - 1, description="客户端看到的案件版本（乐观锁）")


class MediatorFilter(models.TextChoices):
    ME = "me", _("我调解的")


# --- inputs ------------------------------------------------------------------------------------


class PartyIn(Schema):
    """A party: an existing person of the register (person_id), or a new one by ID number."""

    model_config = ConfigDict(extra="forbid")

    role: PartyRole = Field(..., description="applicant 申请人 / respondent 被申请人")
    person_id: Id | None = Field(None, description="人员库中已有人员的 id（填写后忽略下列字段）")
    name: str = Field("", max_length=40, description="姓名（新当事人）")
    id_number: str = Field("", max_length=30, description="公民身份号码（新当事人必填，18 位）")
    phone: str = Field("", max_length=40, description="联系电话")
    address: str = Field("", max_length=200, description="住址")


class DisputeIn(Schema):
    """Registration of a dispute (纠纷登记)."""

    model_config = ConfigDict(extra="forbid")

    dispute_type: DisputeType = Field(
        ..., description="纠纷类型：neighbour 邻里、family 婚恋家庭、land 土地山林……"
    )
    source: Source = Field(
        ..., description="来源：window 中心窗口、grid 网格员、police_110、court、hotline、petition"
    )
    jurisdiction: str = Field(..., max_length=24, description="纠纷发生地区划代码")
    title: str = Field(..., max_length=200, description="标题")
    facts: str = Field(..., max_length=5000, description="纠纷主要事实、争议事项")
    parties: list[PartyIn] = Field(..., max_length=50, description="当事人：至少一名申请人和一名被申请人")
    amount: Decimal | None = Field(None, ge=0, le=Decimal("999999999999.99"), description="涉及金额（元）")
    people_involved: int | None = Field(None, ge=1, le=1_000_000, description="涉及人数（默认当事人人数）")
    violence_threat: bool = Field(False, description="是否有暴力威胁（民转刑风险）")
    address: str = Field("", max_length=200, description="发生地点")
    lat: float | None = Field(None, ge=-90, le=90, description="纬度（WGS84）")
    lon: float | None = Field(None, ge=-180, le=180, description="经度（WGS84）")
    referral: Referral = Field(
        Referral.NONE, description="法院委派/委托：assigned 诉前委派、entrusted 诉中委托"
    )
    court_id: Id | None = Field(None, description="委派/委托法院的单位 id")
    court_case_number: str = Field("", max_length=60, description="法院案号")
    procedure: str = Field(
        "", max_length=10, description="审理程序：ordinary 普通程序 / summary 简易程序（诉中委托必填）"
    )
    referred_on: date | None = Field(None, description="委派/委托日期")


class AssignIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int = Version
    org_unit_id: Id = Field(..., description="调解组织（其单位 id）")


class AcceptIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int = Version
    mediator_id: Id | None = Field(
        None, description="调解员用户 id；调解员本人签收时忽略，不填则分配在办最少的调解员"
    )


class ConsentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int = Version
    applicant: Consent = Field(..., description="申请人意愿：pending / agreed / refused")
    respondent: Consent = Field(..., description="被申请人意愿：pending / agreed / refused")
    routes_told: str = Field("", max_length=2000, description="拒绝调解时告知的仲裁、行政、诉讼途径（必填）")


class SessionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int = Version
    at: datetime = Field(..., description="调解时间（含时区）")
    place: str = Field(..., max_length=200, description="调解地点")
    party_ids: list[Id] = Field(..., max_length=50, description="到场当事人（详情 parties[].id）")
    others: str = Field("", max_length=300, description="其他参加人员")
    record: str = Field(..., max_length=20000, description="调解笔录")


class AgreementIn(Schema):
    model_config = ConfigDict(extra="forbid")

    facts: str = Field(..., max_length=5000, description="纠纷主要事实、争议事项")
    terms: str = Field(..., max_length=10000, description="达成协议的内容")
    performance: str = Field(..., max_length=2000, description="履行方式")
    perform_by: date = Field(..., description="履行期限")
    signed_on: date = Field(..., description="协议生效日期（各方签字、调解委员会盖章之日）")


class OutcomeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int = Version
    outcome: Outcome = Field(
        ..., description="success 调解成功 / failure 调解不成 / refused 不同意调解 / withdrawn 撤回"
    )
    note: str = Field("", max_length=2000, description="处置反馈意见（默认为结果名称）")
    routes_told: str = Field("", max_length=2000, description="调解不成时告知的法律途径（必填）")
    agreement: AgreementIn | None = Field(None, description="调解协议（调解成功时必填）")


class EscalateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int = Version
    org_unit_id: Id = Field(..., description="更高层级的调解组织（其单位 id）")
    note: str = Field("", max_length=2000, description="提级理由（必填）")


class AddPartyIn(PartyIn):
    version: int = Version


class DisputeFilters(Schema):
    type: DisputeType | None = Field(None, description="纠纷类型")
    source: Source | None = Field(None, description="来源")
    status: list[Status] = Field(default_factory=list, description="案件状态，可多选")
    area: str | None = Field(None, max_length=24, description="区划代码：该区划及其下级")
    outcome: Outcome | None = Field(None, description="调解结果")
    flagged: bool | None = Field(None, description="true：有民转刑风险标记；false：无")
    mediator: MediatorFilter | None = Field(None, description="me：我调解的")


# --- outputs -----------------------------------------------------------------------------------


class DisputeItemOut(Schema):
    """One row of the dispute list (no personal data)."""

    id: int = Field(description="案件 id")
    number: str = Field(description="案件编号")
    title: str
    dispute_type: str
    dispute_type_label: str
    source: str
    source_label: str
    status: str
    status_label: str
    area_code: str
    area_name: str
    unit: UnitRef | None = Field(description="承办调解组织")
    mediator: str | None = Field(description="调解员")
    outcome: str
    outcome_label: str
    risk_flags: list[str] = Field(description="民转刑风险标记（violence / repeat / group）")
    police_alerted_at: datetime | None = Field(description="通报公安时间")
    deadline_at: datetime | None
    registered_at: datetime
    version: int


class DisputeListOut(Schema):
    """A page of disputes. No total (as /api/cases/)."""

    items: list[DisputeItemOut]
    page: int
    page_size: int
    has_next: bool


class PartyOut(Schema):
    id: int = Field(description="当事人记录 id（调解记录的 party_ids 用它）")
    role: str
    role_label: str
    order: int
    person: MaskedPerson = Field(description="当事人（脱敏）")


class SessionOut(Schema):
    id: int
    at: datetime
    place: str
    party_ids: list[int]
    others: str
    record: str
    recorded_by: str | None


class AgreementOut(Schema):
    number: str = Field(description="协议编号")
    signed_on: date
    perform_by: date
    performed_at: datetime | None


class ConfirmationOut(Schema):
    status: str
    status_label: str
    apply_by: date = Field(description="申请司法确认期限（协议生效后 30 日）")
    court: str | None
    applied_on: date | None
    accept_by: date | None
    accepted_on: date | None
    rule_by: date | None
    extended: bool
    ruled_on: date | None


class RiskOut(Schema):
    flag: str
    label: str


class DisputeDetailOut(DisputeItemOut):
    """A dispute with its masked parties, sessions, agreement and confirmation summaries."""

    facts: str
    address: str
    lat: float | None
    lon: float | None
    amount: Decimal | None
    people_involved: int
    violence_threat: bool
    risks: list[RiskOut] = Field(description="民转刑风险标记及说明")
    tier: int
    tier_label: str
    parties: list[PartyOut]
    applicant_consent: str
    applicant_consent_label: str
    respondent_consent: str
    respondent_consent_label: str
    consent_at: datetime | None
    outcome_at: datetime | None
    routes_told: str
    referral: str
    referral_label: str
    court: UnitRef | None
    court_case_number: str
    procedure: str
    referred_on: date | None
    referral_due: date | None = Field(description="委派/委托调解期限")
    result_sent_at: datetime | None
    dispatched_at: datetime | None
    handled_at: datetime | None
    closed_at: datetime | None
    sessions: list[SessionOut]
    agreement: AgreementOut | None
    confirmation: ConfirmationOut | None
    allowed_actions: list[str] = Field(description="当前用户可执行的案件操作（见 /api/cases/{id}）")


class SuggestionOut(Schema):
    org_unit_id: int
    name: str
    org_kind: str
    org_kind_label: str
    brand: str
    area_name: str
    open_count: int = Field(description="在办纠纷数")
    capacity: int
    reason: str = Field(description="推荐理由")


class ErrorOut(Schema):
    detail: object


class ConflictOut(Schema):
    detail: str
    code: str
    current_version: int | None = None
