"""Events API (/api/events/): the category tree, idempotent intake, event detail, suggestion, merge.

Every read goes through the scoping function: an event outside the caller's scope is 404.
Requesters are shown masked. Generic case lists and transitions live in pingan.cases.api.
(No ``from __future__ import annotations`` here: django-ninja reads the real annotations.)
"""

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema, Status
from pydantic import ConfigDict

from pingan.cases.choices import Status as CaseStatus
from pingan.cases.models import Case
from pingan.cases.services import CaseError
from pingan.core.scoping import get_visible_or_404, visible_to
from pingan.core.types import AuthedRequest
from pingan.events import routing, services
from pingan.events.duplicates import distance_m, find_duplicates
from pingan.events.models import Category
from pingan.people.models import Person
from pingan.people.services import masked

router = Router(tags=["events"])


# --- schemas -----------------------------------------------------------------------------------


class CategoryLeafOut(Schema):
    code: str
    name: str
    platform: str
    deadline_unit: str
    deadline_amount: float
    urgent: bool
    default_unit_name: str
    register_condition: str
    close_condition: str
    active: bool
    fields: list[dict[str, Any]]


class CategoryOut(Schema):
    code: str
    name: str
    platform: str
    active: bool
    children: list[CategoryLeafOut]


class IntakeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    channel: str = Field(..., max_length=20, description="cases Channel value: grid, hotline, citizen …")
    category: str = Field(..., max_length=20, description="小类 code from /api/events/categories")
    title: str = Field(..., max_length=200)
    description: str = Field("", max_length=5000)
    lat: float | None = None
    lon: float | None = None
    crs: str = Field("wgs84", max_length=10, description="wgs84, gcj02 or bd09")
    address: str = Field("", max_length=200)
    requester_id: int | None = Field(None, description="a person of the people register")
    requester_name: str = Field("", max_length=40)
    requester_phone: str = Field("", max_length=40)
    solved_on_spot: bool = False
    channel_ref: str = Field(
        "", max_length=64, description="e.g. the 12345 work-order or 110 incident number"
    )


class Ref(Schema):
    code: str
    name: str


class UnitRef(Schema):
    id: int
    name: str


class EventCategoryRef(Schema):
    code: str
    name: str
    major: str


class EventOut(Schema):
    id: int
    uuid: str
    number: str
    title: str
    description: str
    status: str
    status_label: str
    channel: str
    channel_ref: str
    category: EventCategoryRef
    on_spot: bool
    jurisdiction: Ref
    area_code: str
    lat: float | None
    lon: float | None
    address: str
    requester: dict[str, Any] | None
    unit: UnitRef | None
    tier: int
    deadline_unit: str
    deadline_amount: float
    registered_at: datetime
    deadline_at: datetime | None
    closed_at: datetime | None
    merged_into: str | None
    version: int


class ChoiceOut(Schema):
    unit_id: int
    count: int


class DuplicateOut(Schema):
    id: int
    number: str
    title: str
    status: str
    registered_at: datetime
    score: float
    distance_m: float | None


class SuggestionOut(Schema):
    case_id: int
    number: str
    area_code: str
    unit: UnitRef | None
    source: str
    source_label: str
    learned_area: str
    choices: list[ChoiceOut]
    duplicates: list[DuplicateOut]


class MergeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    target: int = Field(..., description="id of the case this one repeats")
    version: int | None = Field(None, description="the version of this case the client saw")
    note: str = Field("", max_length=2000)


class ErrorOut(Schema):
    detail: str


# --- helpers -----------------------------------------------------------------------------------


def _leaf(c: Category) -> dict[str, Any]:
    return {
        "code": c.code,
        "name": c.name,
        "platform": c.platform,
        "deadline_unit": c.deadline_unit,
        "deadline_amount": float(c.deadline_amount or 0),
        "urgent": c.urgent,
        "default_unit_name": c.default_unit.name if c.default_unit else c.default_unit_name,
        "register_condition": c.register_condition,
        "close_condition": c.close_condition,
        "active": c.active,
        "fields": c.fields or [],
    }


def _event_case(request: AuthedRequest, case_id: int) -> Case:
    qs = Case.objects.filter(kind=services.KIND, event__isnull=False).select_related(
        "event__category__parent", "jurisdiction", "unit", "requester", "merged_into"
    )
    return get_visible_or_404(qs, request.user, pk=case_id)


def _event_out(case: Case) -> dict[str, Any]:
    event = case.event
    category = event.category
    return {
        "id": case.pk,
        "uuid": str(case.uuid),
        "number": case.number,
        "title": case.title,
        "description": case.description,
        "status": case.status,
        "status_label": str(CaseStatus(case.status).label),
        "channel": case.channel,
        "channel_ref": event.channel_ref,
        "category": {
            "code": category.code,
            "name": category.name,
            "major": category.parent.name if category.parent else "",
        },
        "on_spot": event.on_spot,
        "jurisdiction": {"code": case.jurisdiction.code, "name": case.jurisdiction.name},
        "area_code": case.area_code,
        "lat": case.lat,
        "lon": case.lon,
        "address": case.address,
        # DOMAIN §11: the requester is shown masked; full values only through the people reveal.
        "requester": masked(case.requester) if case.requester else None,
        "unit": {"id": case.unit.pk, "name": case.unit.name} if case.unit else None,
        "tier": case.tier,
        "deadline_unit": case.deadline_unit,
        "deadline_amount": float(case.deadline_amount),
        "registered_at": case.registered_at,
        "deadline_at": case.deadline_at,
        "closed_at": case.closed_at,
        "merged_into": case.merged_into.number if case.merged_into else None,
        "version": case.version,
    }


def _distance(case: Case, other: Case) -> float | None:
    if case.lat is None or case.lon is None or other.lat is None or other.lon is None:
        return None
    return round(distance_m(case.lat, case.lon, other.lat, other.lon), 1)


# --- routes ------------------------------------------------------------------------------------


@router.get("/categories", response=list[CategoryOut])
def categories(
    request: AuthedRequest,
    include_inactive: bool = Query(False, description="also list categories that are switched off"),
):
    """The catalogue as a tree: 大类 with their 小类 (reference data, the same for every user)."""
    qs = Category.objects.select_related("default_unit").order_by("order", "code")
    if not include_inactive:
        qs = qs.filter(active=True)
    rows = list(qs)
    by_id: dict[int, dict[str, Any]] = {
        c.pk: {"code": c.code, "name": c.name, "platform": c.platform, "active": c.active, "children": []}
        for c in rows
        if c.parent_id is None
    }
    for c in rows:
        if c.parent_id is not None and c.parent_id in by_id:
            by_id[c.parent_id]["children"].append(_leaf(c))
    return list(by_id.values())


@router.post("/", response={200: EventOut, 201: EventOut})
def intake(
    request: AuthedRequest,
    payload: IntakeIn,
    idempotency_key: str | None = Header(
        None, alias="Idempotency-Key", description="a client key: a retry with it returns the first result"
    ),
):
    """File an event (201); a retry with the same Idempotency-Key and body returns the first one (200)."""
    requester = None
    if payload.requester_id is not None:
        requester = visible_to(Person.objects.all(), request.user).filter(pk=payload.requester_id).first()
        if requester is None:
            raise ValidationError({"requester_id": [_("反映人不存在或不在您的数据范围内")]})
    case, created = services.intake(
        actor=request.user,
        channel=payload.channel,
        category=payload.category,
        title=payload.title,
        description=payload.description,
        lat=payload.lat,
        lon=payload.lon,
        crs=payload.crs,
        address=payload.address,
        requester=requester,
        requester_name=payload.requester_name,
        requester_phone=payload.requester_phone,
        solved_on_spot=payload.solved_on_spot,
        channel_ref=payload.channel_ref,
        idempotency_key=idempotency_key,
    )
    if created:  # everything the answer shows was just written and is in memory
        return Status(201, _event_out(case))
    return Status(200, _event_out(_event_case(request, case.pk)))


@router.get("/{int:case_id}", response=EventOut)
def event_detail(request: AuthedRequest, case_id: int):
    return _event_out(_event_case(request, case_id))


@router.get("/{int:case_id}/suggestion", response=SuggestionOut)
def suggestion(request: AuthedRequest, case_id: int):
    """The unit the dispatch desk proposes, why, and near-duplicates the caller may see."""
    case = _event_case(request, case_id)
    found = routing.suggest(case)
    duplicates = find_duplicates(case)
    visible = set(
        visible_to(Case.objects.filter(pk__in=[c.pk for c, _s in duplicates]), request.user).values_list(
            "pk", flat=True
        )
    )
    return {
        "case_id": case.pk,
        "number": case.number,
        "area_code": case.area_code,
        "unit": {"id": found.unit.pk, "name": found.unit.name} if found.unit else None,
        "source": found.source,
        "source_label": str(found.source.label),
        "learned_area": found.area,
        "choices": [
            {"unit_id": u, "count": n} for u, n in sorted(found.choices.items(), key=lambda kv: -kv[1])
        ],
        "duplicates": [
            {
                "id": other.pk,
                "number": other.number,
                "title": other.title,
                "status": other.status,
                "registered_at": other.registered_at,
                "score": score,
                "distance_m": _distance(case, other),
            }
            for other, score in duplicates
            if other.pk in visible
        ],
    }


@router.post("/{int:case_id}/merge", response={200: EventOut, 409: ErrorOut})
def merge(request: AuthedRequest, case_id: int, payload: MergeIn):
    """合并: this case repeats ``target``; it is closed into it and its requester informed later."""
    case = _event_case(request, case_id)
    target = Case.objects.filter(pk=payload.target, kind=services.KIND).first()
    if target is None:
        raise ValidationError({"target": [_("目标案件不存在或不在您的数据范围内")]})
    try:
        services.merge(case, target, actor=request.user, version=payload.version, note=payload.note)
    except CaseError as exc:
        return Status(exc.status_code, {"detail": exc.message})
    return _event_out(_event_case(request, case_id))
