"""Open311 GeoReport v2 at /open311/v2/: plain function views, one per resource of the spec.

Every resource ends in ``.xml`` or ``.json``; every error is the spec's list of
{code, description}, in the requested format, with the HTTP status the spec names.
The GET resources are public by design (the spec needs no key for them) and show no
personal data (pingan.open311.georeport); POST requests needs an api_key.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from pingan.events.models import Category
from pingan.events.services import IDEMPOTENCY_HEADER
from pingan.open311 import georeport, services
from pingan.open311.choices import Format
from pingan.open311.formats import (
    CONTENT_TYPES,
    Open311Error,
    field_error,
    parse_format,
    render,
    render_errors,
    w3c,
)

logger = logging.getLogger(__name__)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
View = Callable[..., HttpResponse]


def georeport_view(*methods: str) -> Callable[[View], View]:
    """Format from the URL suffix, allowed methods, and errors rendered as the spec's list.

    An unexpected failure is logged with its traceback and answered 500 with an error list:
    the spec files server trouble under "400 General service error", but a 5xx tells the
    client that the request itself was fine and may be retried (safely, with an
    Idempotency-Key), which is what Open311 servers in the wild answer.
    """

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def run(request: HttpRequest, format: str, **kwargs: Any) -> HttpResponse:
            fmt = Format.XML  # the required format: used for errors about the format itself
            try:
                fmt = parse_format(format)
                if request.method not in methods:
                    message = _("不支持 %(method)s 方法") % {"method": request.method}
                    response = render_errors(fmt, 405, [(405, field_error("method", message))])
                    response["Allow"] = ", ".join(m for m in methods if m != "HEAD")
                    return response
                return view(request, fmt, **kwargs)
            except Open311Error as exc:
                return render_errors(fmt, exc.status, exc.errors)
            except Exception:
                logger.exception("open311: %s %s failed", request.method, request.path)
                return render_errors(fmt, 500, [(500, _("服务内部错误，请稍后重试或联系平台管理员"))])

        return run

    return wrap


@georeport_view("GET", "HEAD")
def discovery(request: HttpRequest, fmt: Format) -> HttpResponse:
    """Service Discovery: where the endpoint is, its formats, how to get a key."""
    # "An updated changeset indicates … an update to the Service Discovery list or to the
    # Service Definitions": the latest change to the catalogue.
    changed = Category.objects.aggregate(at=Max("updated_at"))["at"]
    changeset = w3c(changed) or ""
    base = reverse("open311:discovery", kwargs={"format": fmt.value}).rsplit("/", 1)[0]
    data = {
        "changeset": changeset,
        "contact": getattr(settings, "OPEN311_CONTACT", "") or _("请联系本平台管理员（社会治理中心）"),
        "key_service": getattr(settings, "OPEN311_KEY_SERVICE", "")
        or _("api_key 由本平台管理员签发（pingan manage open311_client 名称 --jurisdiction 区划代码）"),
        "endpoints": [
            {
                "specification": georeport.SPECIFICATION,
                "url": request.build_absolute_uri(base),
                "changeset": changeset,
                "type": "production" if settings.PRODUCTION else "test",
                "formats": [
                    CONTENT_TYPES[Format.XML].split(";")[0],
                    CONTENT_TYPES[Format.JSON].split(";")[0],
                ],
            }
        ],
    }
    return render(fmt, "discovery", data)


@georeport_view("GET", "HEAD")
def service_list(request: HttpRequest, fmt: Format) -> HttpResponse:
    """GET services: every category a request may be filed under."""
    georeport.jurisdiction_from(request.GET)
    return render(fmt, "services", [georeport.service(c) for c in georeport.services_queryset()])


@georeport_view("GET", "HEAD")
def service_definition(request: HttpRequest, fmt: Format, service_code: str) -> HttpResponse:
    """GET services/{service_code}: the category's extra fields as attributes."""
    georeport.jurisdiction_from(request.GET)
    category = georeport.find_service(service_code)
    return render(fmt, "service_definition", georeport.service_definition(category))


@csrf_exempt  # a machine API authenticated by api_key, never by a session cookie
@georeport_view("GET", "HEAD", "POST")
def requests(request: HttpRequest, fmt: Format) -> HttpResponse:
    """GET requests (public, filtered as the spec says) and POST requests (api_key)."""
    if request.method == "POST":
        return _post(request, fmt)
    query = georeport.parse_query(request.GET)
    cases = georeport.find_requests(query)
    return render(fmt, "service_requests", [georeport.service_request(c) for c in cases])


def _post(request: HttpRequest, fmt: Format) -> HttpResponse:
    if request.content_type not in FORM_TYPES:
        raise Open311Error(
            400, field_error("Content-Type", _("须为 application/x-www-form-urlencoded; charset=utf-8"))
        )
    # The spec sends api_key with the form; a key in the query string is accepted too.
    client = services.authenticate(request.POST.get("api_key") or request.GET.get("api_key"))
    georeport.jurisdiction_from(request.POST)
    case, created = services.submit(
        client, request.POST, idempotency_key=request.headers.get(IDEMPOTENCY_HEADER)
    )
    data = [
        {
            "service_request_id": case.number,
            "service_notice": georeport.service_notice(case.deadline_unit, case.deadline_amount),
            "account_id": None,
        }
    ]
    # 201 for a new request, 200 for a retry answered with the first one (as /api/events/).
    return render(fmt, "service_requests", data, status=201 if created else 200)


@georeport_view("GET", "HEAD")
def request_detail(request: HttpRequest, fmt: Format, service_request_id: str) -> HttpResponse:
    """GET requests/{service_request_id}: one request, in a list as the spec shows."""
    georeport.jurisdiction_from(request.GET)
    case = georeport.find_request(service_request_id)
    return render(fmt, "service_requests", [georeport.service_request(case)])


@georeport_view("GET", "HEAD")
def token(request: HttpRequest, fmt: Format, token_id: str) -> HttpResponse:
    """GET tokens/{token_id}: the service_request_id behind a token.

    Every service is realtime (intake is synchronous), so POST never hands out a token; the
    token of a request is its case UUID — the platform's stable external id, also given by
    /api/events/ and to partner installations — so a holder of that id can find the
    GeoReport id. No separate token table is kept.
    """
    georeport.jurisdiction_from(request.GET)
    case = georeport.find_token(token_id)
    return render(fmt, "service_requests", [{"service_request_id": case.number, "token": token_id}])
