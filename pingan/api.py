"""The REST API root: /api/ (OpenAPI at /api/openapi.json, docs at /api/docs)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.security import django_auth

from pingan.accounts.api import router as accounts_router
from pingan.cases.api import router as cases_router
from pingan.cases.api_indicators import router as indicators_router
from pingan.cases.services import CaseError, VersionConflict
from pingan.core.api import router as core_router
from pingan.disputes.api import router as disputes_router
from pingan.disputes.api_confirmation import router as confirmations_router
from pingan.disputes.api_linkage import router as linkage_router
from pingan.disputes.api_stats import router as dispute_stats_router
from pingan.events.api import router as events_router
from pingan.geo.api import router as geo_router
from pingan.people.api import router as people_router

api = NinjaAPI(
    title="pingan 平安建设·社会治理平台 API",
    version="1",
    urls_namespace="api",
    auth=django_auth,
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Django validation errors from services become 422 with the fields named."""
    if hasattr(exc, "error_dict"):
        detail = [
            {"loc": [field], "msg": " ".join(m for e in errs for m in e.messages)}
            for field, errs in exc.error_dict.items()
        ]
    else:
        detail = [{"loc": [], "msg": m} for m in exc.messages]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(CaseError)
def _case_refused(request: HttpRequest, exc: CaseError) -> HttpResponse:
    """An illegal transition or a version conflict: 409 with a message for the user."""
    code = "version_conflict" if isinstance(exc, VersionConflict) else "illegal_transition"
    return api.create_response(request, {"detail": exc.message, "code": code}, status=409)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "permission denied"}, status=403)


api.add_router("/core/", core_router)
api.add_router("/geo/", geo_router)
api.add_router("/accounts/", accounts_router)
api.add_router("/people/", people_router)
api.add_router("/cases/", cases_router)
api.add_router("/indicators/", indicators_router)
api.add_router("/events/", events_router)
api.add_router("/disputes/stats/", dispute_stats_router)
api.add_router("/disputes/", disputes_router)
api.add_router("/confirmations/", confirmations_router)
api.add_router("/linkage/", linkage_router)
