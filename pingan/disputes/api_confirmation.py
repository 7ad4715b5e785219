"""Judicial confirmation API (/api/confirmations/): the 30-day window, the court's decisions,
and the agreement document (司法确认, 人民调解法 §33).

A confirmation has no scope fields of its own: it is seen through its agreement's dispute
(the one read gate on Dispute). Outside the scope: 404. The agreement document carries full
personal data: only for 查看完整个人信息 (403 otherwise), audited.
(No ``from __future__ import annotations`` here: django-ninja reads the real annotations.)
"""

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from pingan.accounts.choices import UnitKind
from pingan.accounts.models import Unit
from pingan.cases.schemas import Id, Page
from pingan.core.scoping import get_visible_or_404, visible_to
from pingan.core.types import AuthedRequest
from pingan.disputes import confirmation as services
from pingan.disputes import documents
from pingan.disputes.choices import ConfirmationStatus, DisputeType
from pingan.disputes.models import Agreement, Dispute, JudicialConfirmation

router = Router(tags=["confirmations 司法确认"])

S = ConfirmationStatus
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# --- schemas -----------------------------------------------------------------------------------


class Filters(Schema):
    status: list[ConfirmationStatus] = Field(default_factory=list, description="状态，可多选")
    due_within: int | None = Field(
        None, ge=0, le=366, description="当前期限（申请/受理/裁定）在今天起 N 日内（含今天）"
    )
    overdue: bool | None = Field(None, description="true：当前期限已过；false：未过或无期限")
    court: Id | None = Field(None, description="法院单位 id")


class UnitRef(Schema):
    id: int
    name: str


class ConfirmationOut(Schema):
    id: int
    dispute_id: int = Field(description="纠纷（案件）id")
    case_number: str
    title: str
    area_code: str
    dispute_type: str
    dispute_type_label: str
    agreement_number: str
    signed_on: date
    perform_by: date
    status: str
    status_label: str
    apply_by: date
    court: UnitRef | None
    applied_on: date | None
    accept_by: date | None
    accepted_on: date | None
    rule_by: date | None
    extended: bool
    ruled_on: date | None = Field(description="裁定日期；不予受理时为不予受理的日期")
    note: str
    deadline: date | None = Field(description="当前等待的期限：申请、受理或裁定期限")
    days_left: int | None = Field(description="距当前期限的天数，负数为已超期")
    document_url: str


class ConfirmationListOut(Schema):
    count: int
    items: list[ConfirmationOut]


class ApplyIn(Schema):
    model_config = ConfigDict(extra="forbid")

    court_id: Id = Field(description="受理法院或共享法庭（单位类型为法院）")
    applied_on: date = Field(description="当事人共同申请日期")
    note: str = Field("", max_length=2000)


class AcceptIn(Schema):
    model_config = ConfigDict(extra="forbid")

    accepted_on: date


class NotAcceptIn(Schema):
    model_config = ConfigDict(extra="forbid")

    decided_on: date
    note: str = Field(..., max_length=2000, description="不予受理的理由")


class ExtendIn(Schema):
    model_config = ConfigDict(extra="forbid")

    extended_on: date = Field(description="决定延长的日期（须在原裁定期限内）")
    note: str = Field(..., max_length=2000, description="延长理由（经院长批准）")


class RuleIn(Schema):
    model_config = ConfigDict(extra="forbid")

    ruled_on: date
    confirmed: bool = Field(description="true：裁定调解协议有效；false：驳回申请")
    note: str = Field("", max_length=2000, description="驳回时必填")


class ErrorOut(Schema):
    detail: str


# --- helpers -----------------------------------------------------------------------------------

# Service field names → the API's input names, so a 422 names what the client sent.
FIELD_NAMES = {"court": "court_id"}


def visible_confirmations(user: Any) -> QuerySet[JudicialConfirmation]:
    """Confirmations whose dispute the user may see (the read gate on Dispute)."""
    disputes = visible_to(Dispute.objects.all(), user).values("pk")
    return JudicialConfirmation.objects.filter(agreement__dispute__in=disputes).select_related(
        "agreement__dispute__case", "court"
    )


def deadline_q(op: str, day: date) -> Q:
    """The current deadline (apply/accept/rule by, by status) compared with ``day`` (``lt``, ``gte`` …)."""
    return (
        Q(status=S.DUE, **{f"apply_by__{op}": day})
        | Q(status=S.APPLIED, **{f"accept_by__{op}": day})
        | Q(status=S.ACCEPTED, **{f"rule_by__{op}": day})
    )


def filter_confirmations(user: Any, filters: Filters, today: date) -> QuerySet[JudicialConfirmation]:
    qs = visible_confirmations(user)
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    if filters.due_within is not None:
        qs = qs.filter(
            deadline_q("gte", today) & deadline_q("lte", today + timedelta(days=filters.due_within))
        )
    if filters.overdue is True:
        qs = qs.filter(deadline_q("lt", today))
    elif filters.overdue is False:
        qs = qs.exclude(deadline_q("lt", today))
    if filters.court is not None:
        qs = qs.filter(court_id=filters.court)
    return qs


def _out(c: JudicialConfirmation, today: date) -> dict[str, Any]:
    agreement = c.agreement
    dispute = agreement.dispute
    case = dispute.case
    deadline = services.current_deadline(c)
    return {
        "id": c.pk,
        "dispute_id": dispute.pk,
        "case_number": case.number,
        "title": case.title,
        "area_code": case.area_code,
        "dispute_type": dispute.dispute_type,
        "dispute_type_label": str(DisputeType(dispute.dispute_type).label),
        "agreement_number": agreement.number,
        "signed_on": agreement.signed_on,
        "perform_by": agreement.perform_by,
        "status": c.status,
        "status_label": str(S(c.status).label),
        "apply_by": c.apply_by,
        "court": {"id": c.court.pk, "name": c.court.name} if c.court else None,
        "applied_on": c.applied_on,
        "accept_by": c.accept_by,
        "accepted_on": c.accepted_on,
        "rule_by": c.rule_by,
        "extended": c.extended,
        "ruled_on": c.ruled_on,
        "note": c.note,
        "deadline": deadline,
        "days_left": (deadline - today).days if deadline else None,
        "document_url": f"/api/confirmations/agreements/{dispute.pk}.docx",
    }


def _confirmation(request: AuthedRequest, confirmation_id: int) -> JudicialConfirmation:
    # JudicialConfirmation has no scope fields: the gate is visible_confirmations (through Dispute).
    found = visible_confirmations(request.user).filter(pk=confirmation_id).first()
    if found is None:
        raise Http404("not found")
    return found


def _detail(request: AuthedRequest, confirmation_id: int) -> dict[str, Any]:
    return _out(_confirmation(request, confirmation_id), services.local_today())


def _renamed(exc: ValidationError) -> ValidationError:
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError({FIELD_NAMES.get(k, k): v for k, v in exc.error_dict.items()})


# --- routes ------------------------------------------------------------------------------------


@router.get("/", response=ConfirmationListOut)
def list_confirmations(request: AuthedRequest, filters: Query[Filters], page: Query[Page]):
    """Confirmations in the caller's scope, nearest current deadline first."""
    today = services.local_today()
    qs = filter_confirmations(request.user, filters, today).order_by("apply_by", "pk")
    start = (page.page - 1) * page.page_size
    return {"count": qs.count(), "items": [_out(c, today) for c in qs[start : start + page.page_size]]}


@router.get("/{int:confirmation_id}", response=ConfirmationOut)
def get_confirmation(request: AuthedRequest, confirmation_id: Id):
    return _detail(request, confirmation_id)


@router.post("/{int:confirmation_id}/apply", response={200: ConfirmationOut, 409: ErrorOut})
def apply(request: AuthedRequest, confirmation_id: Id, payload: ApplyIn):
    """当事人共同申请司法确认 (within 30 days of the agreement taking effect)."""
    c = _confirmation(request, confirmation_id)
    court = Unit.objects.filter(pk=payload.court_id, kind=UnitKind.COURT).first()
    if court is None:
        raise ValidationError({"court_id": [_("请选择法院或共享法庭")]})
    try:
        services.apply_for_confirmation(
            c, actor=request.user, court=court, applied_on=payload.applied_on, note=payload.note
        )
    except ValidationError as exc:
        raise _renamed(exc) from exc
    return _detail(request, confirmation_id)


@router.post("/{int:confirmation_id}/accept", response={200: ConfirmationOut, 409: ErrorOut})
def accept(request: AuthedRequest, confirmation_id: Id, payload: AcceptIn):
    """法院受理 (within 3 days of the application); the ruling is due 15 days later."""
    services.accept_application(
        _confirmation(request, confirmation_id), actor=request.user, accepted_on=payload.accepted_on
    )
    return _detail(request, confirmation_id)


@router.post("/{int:confirmation_id}/not-accept", response={200: ConfirmationOut, 409: ErrorOut})
def not_accept(request: AuthedRequest, confirmation_id: Id, payload: NotAcceptIn):
    """法院不予受理, with the reason."""
    services.not_accept(
        _confirmation(request, confirmation_id),
        actor=request.user,
        decided_on=payload.decided_on,
        note=payload.note,
    )
    return _detail(request, confirmation_id)


@router.post("/{int:confirmation_id}/extend", response={200: ConfirmationOut, 409: ErrorOut})
def extend(request: AuthedRequest, confirmation_id: Id, payload: ExtendIn):
    """延长审查期限十日 (once, before the 15-day period ends)."""
    services.extend_ruling(
        _confirmation(request, confirmation_id),
        actor=request.user,
        extended_on=payload.extended_on,
        note=payload.note,
    )
    return _detail(request, confirmation_id)


@router.post("/{int:confirmation_id}/rule", response={200: ConfirmationOut, 409: ErrorOut})
def rule(request: AuthedRequest, confirmation_id: Id, payload: RuleIn):
    """裁定：调解协议有效，或驳回申请."""
    services.rule(
        _confirmation(request, confirmation_id),
        actor=request.user,
        ruled_on=payload.ruled_on,
        confirmed=payload.confirmed,
        note=payload.note,
    )
    return _detail(request, confirmation_id)


@router.get(
    "/agreements/{int:dispute_id}.docx",
    url_name="agreement_docx",
    response={200: None, 403: ErrorOut, 404: ErrorOut},
)
def agreement_document(request: AuthedRequest, dispute_id: Id):
    """人民调解协议书 (.docx) of a dispute: full personal data, 查看完整个人信息 only, audited."""
    dispute = get_visible_or_404(Dispute.objects.all(), request.user, pk=dispute_id)
    agreement = Agreement.objects.filter(dispute=dispute).first()
    if agreement is None:
        return Status(404, {"detail": _("该纠纷尚无调解协议")})
    content = documents.download_agreement(request.user, agreement)
    response = HttpResponse(content, content_type=DOCX)
    name = documents.filename(agreement)
    response["Content-Disposition"] = (
        f"attachment; filename=\"agreement-{dispute_id}.docx\"; filename*=UTF-8''{quote(name, safe='')}"
    )
    response["Cache-Control"] = "no-store"
    return response
