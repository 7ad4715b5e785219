"""Disputes API (/api/disputes/): register (idempotent), list, detail, suggestions, and the
mediation steps (assign, accept, consent, sessions, parties, outcome, escalate).

Every read goes through the scoping function (a dispute outside the caller's scope is 404);
every change goes through pingan.disputes.services. Parties are shown masked only.
Errors: 422 naming the field (pingan/api.py maps ValidationError), 409 for an illegal step
or a stale version (with the current version), 403 for a role that may not act.
(No ``from __future__ import annotations`` here: django-ninja reads the real annotations.)
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Status

from pingan.accounts.choices import UnitKind
from pingan.accounts.models import Unit, User
from pingan.cases import services as cases
from pingan.cases.choices import Status as CaseStatus
from pingan.cases.choices import Tier
from pingan.cases.permissions import allowed_actions
from pingan.cases.schemas import Page
from pingan.core.scoping import code_prefix, covering_codes, get_visible_or_404, visible_to
from pingan.core.types import AuthedRequest
from pingan.disputes import services
from pingan.disputes.choices import (
    ConfirmationStatus,
    Consent,
    DisputeType,
    OrgKind,
    Outcome,
    PartyRole,
    Referral,
    RiskFlag,
    Source,
)
from pingan.disputes.models import Dispute, DisputeParty, MediationOrg, MediationSession
from pingan.disputes.schemas import (
    AcceptIn,
    AddPartyIn,
    AssignIn,
    ConflictOut,
    ConsentIn,
    DisputeDetailOut,
    DisputeFilters,
    DisputeIn,
    DisputeListOut,
    ErrorOut,
    EscalateIn,
    MediatorFilter,
    OutcomeIn,
    PartyIn,
    SessionIn,
    SuggestionOut,
)
from pingan.geo.models import Jurisdiction
from pingan.people.models import Person
from pingan.people.services import masked

router = Router(tags=["disputes 矛盾纠纷"])

# Service field names → the API's input names, so a 422 names what the client sent.
FIELD_NAMES = {
    "org_unit": "org_unit_id",
    "unit": "org_unit_id",
    "mediator": "mediator_id",
    "court": "court_id",
}
ACTION_RESPONSES: dict[int, Any] = {
    200: DisputeDetailOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ConflictOut,
    422: ErrorOut,
}


# ---------------------------------------------------------------------------------------------
# Queries and representations


def _base() -> QuerySet[Dispute]:
    return Dispute.objects.select_related("case", "case__jurisdiction", "case__unit", "mediator").defer(
        "case__jurisdiction__geometry"
    )


def _detail_queryset() -> QuerySet[Dispute]:
    sessions = MediationSession.objects.select_related("recorded_by").prefetch_related("parties")
    return (
        _base()
        .select_related("court", "agreement", "agreement__confirmation__court")
        .prefetch_related(
            Prefetch("parties", queryset=DisputeParty.objects.select_related("person")),
            Prefetch("sessions", queryset=sessions),
        )
    )


def _dispute(request: AuthedRequest, case_id: int, queryset: QuerySet[Dispute] | None = None) -> Dispute:
    """A dispute in the caller's scope; anything else is 404 (no leak)."""
    return get_visible_or_404(queryset if queryset is not None else _base(), request.user, pk=case_id)


def _label(choices: Any, value: str | int) -> str:
    return str(dict(choices.choices).get(value, value)) if value else ""


def _item(dispute: Dispute) -> dict[str, Any]:
    case = dispute.case
    return {
        "id": case.pk,
        "number": case.number,
        "title": case.title,
        "dispute_type": dispute.dispute_type,
        "dispute_type_label": _label(DisputeType, dispute.dispute_type),
        "source": dispute.source,
        "source_label": _label(Source, dispute.source),
        "status": case.status,
        "status_label": _label(CaseStatus, case.status),
        "area_code": case.area_code,
        "area_name": case.jurisdiction.name,
        "unit": {"id": case.unit.pk, "name": case.unit.name} if case.unit else None,
        "mediator": dispute.mediator.display_name if dispute.mediator else None,
        "outcome": dispute.outcome,
        "outcome_label": _label(Outcome, dispute.outcome),
        "risk_flags": list(dispute.risk_flags),
        "police_alerted_at": dispute.police_alerted_at,
        "deadline_at": case.deadline_at,
        "registered_at": case.registered_at,
        "version": case.version,
    }


def _related(dispute: Dispute, name: str) -> Any:
    try:
        return getattr(dispute, name)
    except ObjectDoesNotExist:
        return None


def _agreement(dispute: Dispute) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    agreement = _related(dispute, "agreement")
    if agreement is None:
        return None, None
    summary = {
        "number": agreement.number,
        "signed_on": agreement.signed_on,
        "perform_by": agreement.perform_by,
        "performed_at": agreement.performed_at,
    }
    confirmation = _related(agreement, "confirmation")
    if confirmation is None:
        return summary, None
    return summary, {
        "status": confirmation.status,
        "status_label": _label(ConfirmationStatus, confirmation.status),
        "apply_by": confirmation.apply_by,
        "court": confirmation.court.name if confirmation.court else None,
        "applied_on": confirmation.applied_on,
        "accept_by": confirmation.accept_by,
        "accepted_on": confirmation.accepted_on,
        "rule_by": confirmation.rule_by,
        "extended": confirmation.extended,
        "ruled_on": confirmation.ruled_on,
    }


def _detail(dispute: Dispute, user: Any) -> dict[str, Any]:
    case = dispute.case
    agreement, confirmation = _agreement(dispute)
    return {
        **_item(dispute),
        "facts": case.description,
        "address": case.address,
        "lat": case.lat,
        "lon": case.lon,
        "amount": dispute.amount,
        "people_involved": dispute.people_involved,
        "violence_threat": dispute.violence_threat,
        "risks": [{"flag": f, "label": _label(RiskFlag, f)} for f in dispute.risk_flags],
        "tier": case.tier,
        "tier_label": _label(Tier, case.tier),
        # DOMAIN §11: parties masked; full values only through the people reveal flow.
        "parties": [
            {
                "id": p.pk,
                "role": p.role,
                "role_label": _label(PartyRole, p.role),
                "order": p.order,
                "person": masked(p.person),
            }
            for p in dispute.parties.all()
        ],
        "applicant_consent": dispute.applicant_consent,
        "applicant_consent_label": _label(Consent, dispute.applicant_consent),
        "respondent_consent": dispute.respondent_consent,
        "respondent_consent_label": _label(Consent, dispute.respondent_consent),
        "consent_at": dispute.consent_at,
        "outcome_at": dispute.outcome_at,
        "routes_told": dispute.routes_told,
        "referral": dispute.referral,
        "referral_label": _label(Referral, dispute.referral),
        "court": {"id": dispute.court.pk, "name": dispute.court.name} if dispute.court else None,
        "court_case_number": dispute.court_case_number,
        "procedure": dispute.procedure,
        "referred_on": dispute.referred_on,
        "referral_due": dispute.referral_due,
        "result_sent_at": dispute.result_sent_at,
        "dispatched_at": case.dispatched_at,
        "handled_at": case.handled_at,
        "closed_at": case.closed_at,
        "sessions": [
            {
                "id": s.pk,
                "at": s.at,
                "place": s.place,
                "party_ids": sorted(p.pk for p in s.parties.all()),
                "others": s.others,
                "record": s.record,
                "recorded_by": s.recorded_by.display_name if s.recorded_by else None,
            }
            for s in dispute.sessions.all()
        ],
        "agreement": agreement,
        "confirmation": confirmation,
        "allowed_actions": [a.value for a in allowed_actions(case, user)],
    }


def _detail_of(request: AuthedRequest, case_id: int) -> dict[str, Any]:
    return _detail(_dispute(request, case_id, _detail_queryset()), request.user)


def filter_disputes(user: Any, filters: DisputeFilters) -> QuerySet[Dispute]:
    """The disputes ``user`` may see that match ``filters`` (the list page uses the same)."""
    qs = visible_to(_base(), user)
    if filters.type:
        qs = qs.filter(dispute_type=filters.type)
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.status:
        qs = qs.filter(case__status__in=filters.status)
    if filters.area:
        area = filters.area.strip()
        if not area.isdigit():
            raise ValidationError({"area": [_("区划代码只能是数字")]})
        qs = qs.filter(case__area_code__under=code_prefix(area))
    if filters.outcome:
        qs = qs.filter(outcome=filters.outcome)
    if filters.flagged is not None:
        qs = qs.exclude(risk_flags=[]) if filters.flagged else qs.filter(risk_flags=[])
    if filters.mediator == MediatorFilter.ME:
        qs = qs.filter(mediator=user)
    return qs.order_by("-case__registered_at", "-case_id")


# ---------------------------------------------------------------------------------------------
# Resolving ids from the client (inside the caller's scope; anything else is 422 on its field)


def _renamed(exc: ValidationError) -> ValidationError:
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError({FIELD_NAMES.get(k, k): v for k, v in exc.error_dict.items()})


def _jurisdiction(request: AuthedRequest, code: str) -> Jurisdiction:
    found = visible_to(Jurisdiction.objects.all(), request.user).filter(code=code.strip()).first()
    if found is None:
        raise ValidationError({"jurisdiction": [_("区划代码不存在或不在您的数据范围内")]})
    return found


def _party(request: AuthedRequest, i: int, given: PartyIn) -> services.PartyIn:
    person = None
    if given.person_id is not None:
        person = visible_to(Person.objects.all(), request.user).filter(pk=given.person_id).first()
        if person is None:
            raise ValidationError({f"parties[{i}].person_id": [_("人员不存在或不在您的数据范围内")]})
    return services.PartyIn(
        role=given.role,
        person=person,
        name=given.name,
        id_number=given.id_number,
        phone=given.phone,
        address=given.address,
    )


def _court(court_id: int | None) -> Unit | None:
    if court_id is None:
        return None
    court = Unit.objects.filter(pk=court_id, kind=UnitKind.COURT, is_active=True).first()
    if court is None:
        raise ValidationError({"court_id": [_("法院不存在")]})
    return court


def _org_unit(request: AuthedRequest, dispute: Dispute, unit_id: int) -> Unit:
    """A mediation organisation the caller sees, or one whose area covers the dispute (city-level ones)."""
    orgs = MediationOrg.objects.select_related("unit").filter(pk=unit_id)
    org = (
        visible_to(orgs, request.user).first()
        or orgs.filter(unit__area_code__in=covering_codes(dispute.case.area_code)).first()
    )
    if org is None:
        raise ValidationError({"org_unit_id": [_("调解组织不存在或不在您的数据范围内")]})
    return org.unit


def _conflict(dispute: Dispute, exc: cases.CaseError) -> Status:
    current = type(dispute.case).objects.filter(pk=dispute.pk).values_list("version", flat=True).first()
    code = "version_conflict" if isinstance(exc, cases.VersionConflict) else "illegal_transition"
    return Status(409, {"code": code, "detail": exc.message, "current_version": current})


def _act(request: AuthedRequest, dispute: Dispute, change: Callable[[], Any]) -> Any:
    """Run a service change; map refusals to the API's answers, then return the fresh detail."""
    try:
        change()
    except cases.CaseError as exc:
        return _conflict(dispute, exc)
    except ValidationError as exc:
        raise _renamed(exc) from exc
    return _detail_of(request, dispute.pk)


# ---------------------------------------------------------------------------------------------
# Reads


@router.get("/", response=DisputeListOut, summary="矛盾纠纷列表")
def list_disputes(request: AuthedRequest, filters: Query[DisputeFilters], page: Query[Page]):
    """A page of disputes in the caller's scope, newest first, without a total."""
    qs = filter_disputes(request.user, filters)
    start = (page.page - 1) * page.page_size
    rows = list(qs[start : start + page.page_size + 1])
    return {
        "items": [_item(d) for d in rows[: page.page_size]],
        "page": page.page,
        "page_size": page.page_size,
        "has_next": len(rows) > page.page_size,
    }


@router.get("/{int:case_id}", response=DisputeDetailOut, summary="矛盾纠纷详情")
def get_dispute(request: AuthedRequest, case_id: int):
    """Dispute, masked parties, sessions, agreement and confirmation summaries, risk flags, case status."""
    return _detail_of(request, case_id)


@router.get("/{int:case_id}/suggestions", response=list[SuggestionOut], summary="推荐调解组织")
def suggestions(
    request: AuthedRequest, case_id: int, limit: int = Query(5, ge=1, le=20, description="最多几个")
):
    """Mediation organisations by type, area, tier and current load, with the reason."""
    dispute = _dispute(request, case_id)
    return [
        {
            "org_unit_id": s.org.pk,
            "name": s.org.unit.name,
            "org_kind": s.org.org_kind,
            "org_kind_label": _label(OrgKind, s.org.org_kind),
            "brand": s.org.brand,
            "area_name": s.org.unit.jurisdiction.name,
            "open_count": s.open_count,
            "capacity": s.org.capacity,
            "reason": s.reason,
        }
        for s in services.suggest_orgs(dispute, limit=limit)
    ]


# ---------------------------------------------------------------------------------------------
# Changes


@router.post(
    "/", response={200: DisputeDetailOut, 201: DisputeDetailOut, 422: ErrorOut}, summary="登记矛盾纠纷"
)
def register(
    request: AuthedRequest,
    payload: DisputeIn,
    idempotency_key: str | None = Header(
        None, alias="Idempotency-Key", description="客户端幂等键：以同一键重试返回首次登记的结果（200）"
    ),
):
    """Register a dispute (201); a retry with the same Idempotency-Key and body returns the first one (200)."""
    parties = [_party(request, i, p) for i, p in enumerate(payload.parties)]
    try:
        dispute, created = services.register_dispute_once(
            idempotency_key,
            request_values=payload.model_dump(mode="json"),
            actor=request.user,
            dispute_type=payload.dispute_type,
            source=payload.source,
            jurisdiction=_jurisdiction(request, payload.jurisdiction),
            title=payload.title,
            facts=payload.facts,
            parties=parties,
            amount=payload.amount,
            people_involved=payload.people_involved,
            violence_threat=payload.violence_threat,
            address=payload.address,
            lat=payload.lat,
            lon=payload.lon,
            referral=payload.referral,
            court=_court(payload.court_id),
            court_case_number=payload.court_case_number,
            procedure=payload.procedure,
            referred_on=payload.referred_on,
        )
    except ValidationError as exc:
        raise _renamed(exc) from exc
    return Status(201 if created else 200, _detail_of(request, dispute.pk))


@router.post("/{int:case_id}/assign", response=ACTION_RESPONSES, summary="派遣至调解组织")
def assign(request: AuthedRequest, case_id: int, payload: AssignIn):
    dispute = _dispute(request, case_id)
    unit = _org_unit(request, dispute, payload.org_unit_id)
    return _act(
        request,
        dispute,
        lambda: services.assign(dispute, actor=request.user, org_unit=unit, version=payload.version),
    )


@router.post("/{int:case_id}/accept", response=ACTION_RESPONSES, summary="调解组织签收")
def accept(request: AuthedRequest, case_id: int, payload: AcceptIn):
    dispute = _dispute(request, case_id)
    mediator = None
    if payload.mediator_id is not None:
        mediator = User.objects.filter(pk=payload.mediator_id).first()
        if mediator is None:
            raise ValidationError({"mediator_id": [_("调解员须为承办调解组织的调解员")]})
    return _act(
        request,
        dispute,
        lambda: services.accept(dispute, actor=request.user, mediator=mediator, version=payload.version),
    )


@router.post("/{int:case_id}/consent", response=ACTION_RESPONSES, summary="记录当事人调解意愿")
def consent(request: AuthedRequest, case_id: int, payload: ConsentIn):
    """人民调解法 §17: both parties' answer; a refusal ends mediation with the routes told (§26)."""
    dispute = _dispute(request, case_id)
    return _act(
        request,
        dispute,
        lambda: services.record_consent(
            dispute,
            actor=request.user,
            applicant=payload.applicant,
            respondent=payload.respondent,
            routes_told=payload.routes_told,
            version=payload.version,
        ),
    )


@router.post("/{int:case_id}/sessions", response=ACTION_RESPONSES, summary="登记调解记录")
def add_session(request: AuthedRequest, case_id: int, payload: SessionIn):
    dispute = _dispute(request, case_id)
    return _act(
        request,
        dispute,
        lambda: services.add_session(
            dispute,
            actor=request.user,
            at=payload.at,
            place=payload.place,
            party_ids=list(payload.party_ids),
            others=payload.others,
            record=payload.record,
            version=payload.version,
        ),
    )


@router.post("/{int:case_id}/parties", response=ACTION_RESPONSES, summary="增加当事人")
def add_party(request: AuthedRequest, case_id: int, payload: AddPartyIn):
    """A party added while mediating (a dispute pushed from a 110 call starts without them)."""
    dispute = _dispute(request, case_id)
    try:
        party = _party(request, 0, payload)
    except ValidationError as exc:
        raise _renamed(exc) from exc
    return _act(
        request,
        dispute,
        lambda: services.add_party(dispute, actor=request.user, party=party, version=payload.version),
    )


@router.post("/{int:case_id}/outcome", response=ACTION_RESPONSES, summary="登记调解结果（处置反馈）")
def record_outcome(request: AuthedRequest, case_id: int, payload: OutcomeIn):
    """Success with the agreement (opens judicial confirmation), or failure/refusal with the routes told."""
    dispute = _dispute(request, case_id)
    agreement = payload.agreement.model_dump() if payload.agreement else None
    return _act(
        request,
        dispute,
        lambda: services.record_outcome(
            dispute,
            actor=request.user,
            outcome=payload.outcome,
            note=payload.note,
            routes_told=payload.routes_told,
            agreement=agreement,
            version=payload.version,
            at=timezone.now(),
        ),
    )


@router.post("/{int:case_id}/escalate", response=ACTION_RESPONSES, summary="提级至上级调解组织")
def escalate(request: AuthedRequest, case_id: int, payload: EscalateIn):
    """提级 (village → township → county) and dispatch to the higher organisation."""
    dispute = _dispute(request, case_id)
    unit = _org_unit(request, dispute, payload.org_unit_id)
    return _act(
        request,
        dispute,
        lambda: services.escalate(
            dispute, actor=request.user, org_unit=unit, note=payload.note, version=payload.version
        ),
    )
