"""The GeoReport v2 view of the platform: category ↔ service, event case ↔ service request.

Everything here reads; pingan.open311.services writes. The service-request reads are public
(the spec's GET methods need no api_key), so they go through no user's scope: instead they
return only fields that hold no personal data (DOMAIN §11, PIPL):

- never the requester (name, phone, ID number), the reporter, notes of steps or attachments;
- ``description`` only for requests that came in through Open311 itself — text the submitter
  wrote for a public endpoint — with phone numbers, ID numbers and e-mail addresses masked;
  free text typed by hotline seats, grid workers or the police stays inside the platform;
- ``status_notes`` a fixed label of the internal status, never a handler's note.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.accounts.choices import Platform
from pingan.cases.choices import OPEN_STATUSES, Channel, DeadlineUnit, Status
from pingan.cases.models import Case, Step
from pingan.core.pii import mask_id, mask_phone
from pingan.core.scoping import code_prefix
from pingan.events.choices import LIST_DATATYPES, FieldDatatype
from pingan.events.models import Category
from pingan.events.services import KIND
from pingan.geo.models import Jurisdiction
from pingan.open311.choices import RequestStatus, ServiceType
from pingan.open311.formats import Open311Error, field_error, w3c

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# GET requests, "Response Volume": a span of 90 days or the first 1000 requests.
MAX_REQUESTS = 1000
MAX_SPAN = timedelta(days=90)
# GeoReport knows only open and closed. 挂账 (parked) is not resolved, so it stays open;
# 注销 and 合并 (a merged case is cancelled into its target) end the request: closed.
OPEN = (*OPEN_STATUSES, Status.PARKED)
CLOSED = (Status.CLOSED, Status.CANCELLED)
STATUS_GROUPS = {RequestStatus.OPEN: OPEN, RequestStatus.CLOSED: CLOSED}
# W3C-DTF with a time and a zone (the spec: "Timezone information … must be included").
W3C_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
# Masks for free text that leaves the platform (mobile, landline, ID number, e-mail).
MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)")
LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
EMAIL = re.compile(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)")


# ---------------------------------------------------------------------------------------------
# Jurisdiction


def installation_prefix() -> str:
    return code_prefix(settings.INSTANCE_CODE)


def jurisdiction_from(params: Any) -> Jurisdiction | None:
    """The optional ``jurisdiction_id``: a jurisdiction code of this installation, else 404.

    The spec lets an endpoint that serves one jurisdiction ignore it; an installation serves a
    city and its counties, so a code narrows GET requests to that area (330881 → 江山市).
    An unknown code answers 404 ("jurisdiction_id provided was not found").
    """
    value = str(params.get("jurisdiction_id") or "").strip()
    if not value:
        return None
    found = Jurisdiction.objects.filter(code=value).first()
    if value == settings.INSTANCE_CODE and found is None:
        return None  # the installation itself, even before its own row is imported
    if found is None or not found.code.startswith(installation_prefix()):
        raise Open311Error(
            404, field_error("jurisdiction_id", _("未找到区划「%(code)s」") % {"code": value[:24]})
        )
    return found


# ---------------------------------------------------------------------------------------------
# Services (categories)


def services_queryset() -> QuerySet[Category]:
    """Every category a request may be filed under: active 小类 of active 大类 with a deadline."""
    return (
        Category.objects.filter(parent__isnull=False, active=True, parent__active=True)
        .exclude(deadline_unit="")
        .select_related("parent")
        .order_by("parent__order", "parent__code", "order", "code")
    )


def find_service(code: str) -> Category:
    """The service of ``service_code``, or 404 as the spec says for a code that was not found."""
    category = services_queryset().filter(code=code).first()
    if category is None:
        raise Open311Error(
            404, field_error("service_code", _("未找到服务「%(code)s」") % {"code": code[:20]})
        )
    return category


def service(category: Category) -> dict[str, Any]:
    """GET services: one <service>."""
    parent = category.parent
    assert parent is not None
    keywords = [parent.name, category.name]
    if parent.platform:
        keywords.append(str(Platform(parent.platform).label))
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.register_condition or category.name,
        "metadata": bool(category.fields),
        # Intake is synchronous: the service_request_id comes back with the POST.
        "type": ServiceType.REALTIME.value,
        "keywords": ", ".join(keywords),
        "group": parent.name,
    }


def service_definition(category: Category) -> dict[str, Any]:
    """GET services/{service_code}: the category's extra fields as the spec's attributes."""
    return {
        "service_code": category.code,
        "attributes": [attribute(f, n) for n, f in enumerate(category.fields, 1)],
    }


def attribute(field: dict[str, Any], position: int) -> dict[str, Any]:
    """One category field (pingan.events.models.validate_fields) as a GeoReport attribute."""
    datatype = FieldDatatype(field["datatype"])
    order = field.get("order")
    out: dict[str, Any] = {
        # Fields are questions to the submitter unless marked as information only.
        "variable": bool(field.get("variable", True)),
        "code": field["code"],
        "datatype": datatype.value,
        "required": bool(field.get("required", False)),
        "datatype_description": field.get("datatype_description") or str(datatype.label),
        # "Any positive integer not used for other attributes": the stored order, else the position.
        "order": order if isinstance(order, int) and order > 0 else position,
        "description": field.get("description") or field["code"],
    }
    if datatype in LIST_DATATYPES:
        out["values"] = [
            {"key": str(v["key"]), "name": str(v.get("name") or v["key"])} for v in field.get("values", [])
        ]
    return out


def service_notice(unit: str, amount: Decimal | None) -> str | None:
    """What the platform promises (DOMAIN §2: the category's deadline, counted from dispatch)."""
    if not unit or amount is None:
        return None
    n = format(Decimal(amount).normalize(), "f")
    texts = {
        DeadlineUnit.URGENT_HOURS: _("派遣后 %(n)s 小时内处置"),
        DeadlineUnit.WORKING_HOURS: _("派遣后 %(n)s 个工作小时内处置"),
        DeadlineUnit.WORKING_DAYS: _("派遣后 %(n)s 个工作日内处置"),
        DeadlineUnit.CALENDAR_DAYS: _("派遣后 %(n)s 天内处置"),
    }
    return texts[DeadlineUnit(unit)] % {"n": n}


# ---------------------------------------------------------------------------------------------
# Service requests (event cases)


@dataclass(frozen=True)
class RequestQuery:
    """The filters of GET requests, parsed and checked."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: tuple[RequestStatus, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    jurisdiction: Jurisdiction | None = None


def requests_queryset() -> QuerySet[Case]:
    """Every event of this installation, with what a service request shows."""
    last_step = Step.objects.filter(case=OuterRef("pk")).order_by("-at", "-id").values("at")[:1]
    return (
        Case.objects.filter(kind=KIND, event__isnull=False, area_code__under=installation_prefix())
        .select_related("event__category", "unit", "merged_into")
        .annotate(last_step_at=Subquery(last_step))
    )


def parse_query(params: Any, now: datetime | None = None) -> RequestQuery:
    """GET requests' arguments; every bad one is reported (400), each naming its parameter.

    Empty arguments count as absent (the spec's "Optional Arguments"). Without dates the
    window is the most recent 90 days; with one date it extends 90 days from it; a range may
    not span more than 90 days.
    """
    now = now or timezone.now()
    errors: list[str] = []
    jurisdiction = jurisdiction_from(params)
    ids = _comma_list(params.get("service_request_id"))
    if ids:
        # "This overrides all other arguments."
        return RequestQuery(ids=tuple(ids[:MAX_REQUESTS]), jurisdiction=jurisdiction)
    codes = _comma_list(params.get("service_code"))
    statuses: list[RequestStatus] = []
    for value in _comma_list(params.get("status")):
        if value not in RequestStatus.values:
            errors.append(
                field_error("status", _("「%(value)s」无效，可选 open 或 closed") % {"value": value[:20]})
            )
        else:
            statuses.append(RequestStatus(value))
    start = _datetime(params, "start_date", errors)
    end = _datetime(params, "end_date", errors)
    if not errors:
        if start is None and end is None:
            start, end = now - MAX_SPAN, now
        elif start is None:
            assert end is not None
            start = end - MAX_SPAN
        elif end is None:
            end = start + MAX_SPAN
        if start > end:
            errors.append(field_error("start_date", _("不能晚于 end_date")))
        elif end - start > MAX_SPAN:
            errors.append(field_error("end_date", _("查询时间跨度不能超过 90 天")))
    if errors:
        raise Open311Error(400, *errors)
    return RequestQuery(
        service_codes=tuple(codes),
        statuses=tuple(dict.fromkeys(statuses)),
        start=start,
        end=end,
        jurisdiction=jurisdiction,
    )


def find_requests(query: RequestQuery) -> list[Case]:
    """The newest ``MAX_REQUESTS`` service requests matching ``query``."""
    qs = requests_queryset()
    if query.jurisdiction is not None:
        qs = qs.filter(area_code__under=code_prefix(query.jurisdiction.code))
    if query.ids:
        qs = qs.filter(number__in=query.ids)
    else:
        qs = qs.filter(registered_at__gte=query.start, registered_at__lte=query.end)
        if query.service_codes:
            qs = qs.filter(event__category__code__in=query.service_codes)
        if query.statuses:
            qs = qs.filter(status__in=[s for group in query.statuses for s in STATUS_GROUPS[group]])
    return list(qs.order_by("-registered_at", "-id")[:MAX_REQUESTS])


def find_request(service_request_id: str) -> Case:
    case = requests_queryset().filter(number=service_request_id).first()
    if case is None:
        raise Open311Error(
            404,
            field_error(
                "service_request_id", _("未找到服务请求「%(id)s」") % {"id": service_request_id[:40]}
            ),
        )
    return case


def find_token(token: str) -> Case:
    """tokens/{token}: the token is the case's UUID (see pingan.open311.views.token)."""
    try:
        key = uuid.UUID(token)
    except ValueError:
        key = None
    case = requests_queryset().filter(uuid=key).first() if key is not None else None
    if case is None:
        raise Open311Error(404, field_error("token", _("未找到令牌「%(token)s」") % {"token": token[:40]}))
    return case


def request_status(case: Case) -> RequestStatus:
    return RequestStatus.CLOSED if case.status in CLOSED else RequestStatus.OPEN


def service_request(case: Case) -> dict[str, Any]:
    """One <request> of GET requests: public fields only (see the module docstring)."""
    event = case.event
    category = event.category
    open311 = (case.data or {}).get("open311") or {}
    updated = case.closed_at if case.status == Status.CLOSED else None
    updated = updated or getattr(case, "last_step_at", None) or case.registered_at
    return {
        "service_request_id": case.number,
        "status": request_status(case).value,
        "status_notes": status_notes(case),
        "service_name": category.name,
        "service_code": category.code,
        "description": (scrub(case.description) or None) if case.channel == Channel.OPEN311 else None,
        "agency_responsible": case.unit.name if case.unit else None,
        "service_notice": service_notice(case.deadline_unit, case.deadline_amount),
        "requested_datetime": w3c(case.registered_at),
        "updated_datetime": w3c(updated),
        # The unit's deadline: known once the case is dispatched (the clock starts then).
        "expected_datetime": w3c(case.deadline_at),
        "address": scrub(case.address) or None,
        "address_id": open311.get("address_id") or None,
        "zipcode": None,
        "lat": case.lat,
        "long": case.lon,
        "media_url": open311.get("media_url") or None,
    }


def status_notes(case: Case) -> str:
    """A fixed label of the internal status (never a handler's free-text note)."""
    if case.merged_into_id and case.merged_into is not None:
        return _("已并入 %(number)s 一并办理") % {"number": case.merged_into.number}
    return str(Status(case.status).label)


def scrub(text: str) -> str:
    """Mask phone numbers, ID numbers and e-mail addresses in text that leaves the platform."""
    if not text:
        return ""
    text = ID_NUMBER.sub(lambda m: mask_id(m.group(0)), text)
    text = MOBILE.sub(lambda m: _mask_digits(m.group(0)), text)
    text = LANDLINE.sub(lambda m: mask_phone(m.group(0)) or "****", text)
    return EMAIL.sub(lambda m: "***@" + m.group(1), text)


def _mask_digits(value: str) -> str:
    digits = re.sub(r"\D", "", value)[-11:]
    return digits[:3] + "****" + digits[-4:]


def _comma_list(value: Any) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in str(value or "").split(",") if v.strip()))


def _datetime(params: Any, name: str, errors: list[str]) -> datetime | None:
    value = str(params.get(name) or "").strip()
    if not value:
        return None
    # A "+08:00" offset sent unencoded in a query string arrives as " 08:00"; many clients do it.
    value = re.sub(r" (\d{2}:\d{2})$", r"+\1", value)
    if W3C_DATETIME.match(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    errors.append(
        field_error(
            name, _("须为带时区的 W3C 日期时间，如 2026-11-23T09:00:00+08:00 或 2026-11-23T01:00:00Z")
        )
    )
    return None
