"""Input and output shapes of the case API (/api/cases/). No postponed annotations: ninja needs real ones."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from django.db import models
from django.utils.translation import gettext_lazy as _
from ninja import Field, Schema
from pydantic import ConfigDict

from pingan.cases.choices import Status, Supervision

# A database id: larger values would overflow the integer column (a 500 instead of an answer).
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class Mine(models.TextChoices):
    """The two halves of "my work" (我的工作)."""

    TODO = "todo", _("待办")
    DONE = "done", _("已办")


class Ordering(models.TextChoices):
    """Orders the work list can use; each is served by an index of cases/models.py."""

    REGISTERED = "registered_at", _("登记时间（早→晚）")
    REGISTERED_DESC = "-registered_at", _("登记时间（晚→早）")
    DEADLINE = "deadline_at", _("处置期限（近→远）")
    DEADLINE_DESC = "-deadline_at", _("处置期限（远→近）")


class EvaluatedBy(models.TextChoices):
    """Who gave the satisfaction score (评价): the requester, or a follow-up call (回访)."""

    REQUESTER = "requester", _("反映人评价")
    CALLBACK = "callback", _("回访评价")


class CaseFilters(Schema):
    """Filters shared by the work list, its tab counts and (in part) the supervision board."""

    status: list[Status] = Field(default_factory=list, description="状态，可多选")
    kind: str | None = Field(None, max_length=20, description="案件类型，如 event")
    category: str | None = Field(None, max_length=40, description="事件分类代码（事件类案件）")
    area: str | None = Field(None, max_length=24, description="区划代码：该区划及其下级")
    unit: Id | None = Field(None, description="责任单位 id")
    overdue: bool | None = Field(None, description="true：在办且已超期；false：未超期")
    supervision: list[Supervision] = Field(default_factory=list, description="督办等级，可多选")
    registered_from: date | None = Field(None, description="登记日期起（含）")
    registered_to: date | None = Field(None, description="登记日期止（含）")
    q: str | None = Field(None, max_length=100, description="编号前缀或标题关键字")
    mine: Mine | None = Field(None, description="todo 待办 / done 已办")


class Page(Schema):
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(50, ge=1, le=100)


class CaseItemOut(Schema):
    """One row of the work list."""

    id: int
    number: str
    uuid: UUID
    kind: str
    kind_label: str
    title: str
    status: str
    status_label: str
    area_code: str
    area_name: str
    unit_id: int | None
    unit_name: str | None
    deadline_at: datetime | None
    seconds_left: int | None = Field(description="距处置期限的秒数（计时中的案件）")
    overdue_seconds: int | None = Field(description="超期秒数（有期限的案件；0 表示未超期）")
    supervision: int
    supervision_label: str
    registered_at: datetime
    version: int


class CaseListOut(Schema):
    """A page of the work list. No total: counts come from /api/cases/counts."""

    items: list[CaseItemOut]
    page: int
    page_size: int
    has_next: bool


class StatusCount(Schema):
    status: str
    label: str
    count: int
    more: bool = Field(description="true：实际数量多于 count（计数止于上限 COUNT_CAP）")


class CountsOut(Schema):
    total: int
    total_more: bool = Field(description="true：实际总数多于 total")
    statuses: list[StatusCount]


class UnitRef(Schema):
    id: int
    name: str


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    url: str


class StepOut(Schema):
    """One entry of the timeline (流转记录)."""

    id: int
    action: str
    action_label: str
    from_status: str
    from_label: str
    to_status: str
    to_label: str
    actor: str | None
    unit: str | None
    at: datetime
    note: str
    data: dict[str, Any]
    attachments: list[AttachmentOut]


class ActionOffer(Schema):
    """An action the caller may take now, with the inputs it asks for."""

    action: str
    label: str
    note_required: bool
    inputs: list[str]


class MaskedPerson(Schema):
    id: int
    name: str
    id_number: str
    phone: str
    address: str


class CaseDetailOut(CaseItemOut):
    """A case with its timeline and the actions the caller may take."""

    description: str
    channel: str
    channel_label: str
    lat: float | None
    lon: float | None
    address: str
    tier: int
    tier_label: str
    cohandlers: list[UnitRef]
    dispatched_at: datetime | None
    handled_at: datetime | None
    closed_at: datetime | None
    rework_count: int
    return_count: int
    extension_count: int
    extension_pending: bool
    satisfaction: int | None
    merged_into: str | None
    reporter: str | None
    requester: MaskedPerson | None = Field(description="反映人（脱敏）")
    allowed_actions: list[ActionOffer]
    timeline: list[StepOut]


class ActionIn(Schema):
    """Inputs of an action; which ones an action reads is listed in the detail's allowed_actions."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(..., ge=0, le=2**31 - 1, description="客户端看到的版本（乐观锁）")
    note: str = Field("", max_length=2000)
    unit_id: Id | None = Field(None, description="派遣/转办的责任单位")
    unit_ids: list[Id] | None = Field(None, max_length=20, description="协办单位")
    amount: Decimal | None = Field(None, description="延期时长（按案件的期限单位）")
    satisfaction: int | None = Field(None, description="满意度 1–5")
    tier: int | None = Field(None, description="提级到的层级")
    target: str | None = Field(None, max_length=32, description="并入的案件编号")
    by: EvaluatedBy | None = Field(None, description="评价来源")


class ErrorOut(Schema):
    detail: Any


class ConflictOut(Schema):
    detail: str
    code: str
    current_version: int | None = None


class SupervisionLevelOut(Schema):
    level: int
    label: str
    count: int
    items: list[CaseItemOut]


class SupervisionBoardOut(Schema):
    """Open cases under supervision (预警, 督办, 黄牌, 红牌), most severe first."""

    total: int
    levels: list[SupervisionLevelOut]
