"""Pages of the shell: login, home (工作台) per role, the map, the audit log, the jurisdiction switcher."""

from __future__ import annotations

import importlib
import re
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.db.models.functions import Substr
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pingan.accounts.choices import Role
from pingan.accounts.models import Unit, User
from pingan.core.models import AuditEntry
from pingan.core.scoping import code_prefix, in_scope, visible_to
from pingan.core.types import AuthedRequest
from pingan.geo.choices import LEVEL_ORDER, Level
from pingan.geo.models import Jurisdiction
from pingan.people.models import Person
from pingan.web.context import SESSION_JURISDICTION, current_jurisdiction, switcher_options
from pingan.web.forms import AuditFilterForm, LoginForm

AUDIT_PAGE_SIZE = 50
GRID_MIN_ZOOM = 12
CODE_RE = re.compile(r"^\d{6,24}$")


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's default): a link cannot log a user out."""


# ---------------------------------------------------------------------------------------------
# Home (工作台): one view, one small context builder per kind of work.


def _narrow(queryset: QuerySet, field: str, jurisdiction: Jurisdiction | None) -> QuerySet:
    """Narrow a scoped queryset to the jurisdiction chosen in the switcher (never widens)."""
    if jurisdiction is None:
        return queryset
    return queryset.filter(**{f"{field}__under": code_prefix(jurisdiction.code)})


def _grid_worker_home(request: AuthedRequest) -> dict[str, Any]:
    grid = request.user.grid
    if grid is None:
        return {"grid": None}
    return {
        "grid": grid,
        "ancestors": grid.ancestors(),
        "colleagues": User.objects.filter(grid=grid, is_active=True).exclude(pk=request.user.id),
        "map_url": f"{reverse('map')}?focus={grid.code}",
    }


def _scope_counts(request: AuthedRequest) -> list[dict[str, Any]]:
    """Jurisdictions per level and units inside the user's (narrowed) scope."""
    chosen = current_jurisdiction(request)
    jurisdictions = _narrow(visible_to(Jurisdiction.objects.all(), request.user), "code", chosen)
    per_level = {
        row["level"]: row["n"] for row in jurisdictions.order_by().values("level").annotate(n=Count("id"))
    }
    counts = [
        {"label": Level(level).label, "value": per_level.get(level, 0)}
        for level in LEVEL_ORDER
        if level in (Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE, Level.GRID)
    ]
    units = _narrow(visible_to(Unit.objects.filter(is_active=True), request.user), "area_code", chosen)
    counts.append({"label": _("单位"), "value": units.count()})
    return counts


def _office_home(request: AuthedRequest) -> dict[str, Any]:
    return {"counts": _scope_counts(request), "scope": request.user.scope_jurisdictions.order_by("code")}


def _leader_home(request: AuthedRequest) -> dict[str, Any]:
    """Per-county overview (per township when the scope is a single county or smaller)."""
    user, chosen = request.user, current_jurisdiction(request)
    counties = _narrow(visible_to(Jurisdiction.objects.filter(level=Level.COUNTY), user), "code", chosen)
    level, length = (Level.COUNTY, 6) if counties.count() > 1 else (Level.TOWNSHIP, 9)
    areas = list(_narrow(visible_to(Jurisdiction.objects.filter(level=level), user), "code", chosen))
    grids = _narrow(visible_to(Jurisdiction.objects.filter(level=Level.GRID), user), "code", chosen)
    people = _narrow(visible_to(Person.objects.all(), user), "area_code", chosen)
    grid_counts = _count_by_prefix(grids, "code", length)
    person_counts = _count_by_prefix(people, "area_code", length)
    rows = [
        {
            "name": area.name,
            "code": area.code,
            "grids": grid_counts.get(area.code, 0),
            "people": person_counts.get(area.code, 0),
        }
        for area in areas
    ]
    rows.sort(key=lambda r: (-r["grids"], r["code"]))
    today = timezone.localdate().isoformat()
    chart = {
        "title": _("各县(市、区)网格与人员") if level == Level.COUNTY else _("各乡镇(街道)网格与人员"),
        "subtitle": _("单位：个、人　数据日期：%(date)s") % {"date": today},
        "categories": [r["name"] for r in rows],
        "series": [
            {"name": _("网格数（个）"), "data": [r["grids"] for r in rows]},
            {"name": _("登记人员（人）"), "data": [r["people"] for r in rows]},
        ],
    }
    return {
        "rows": rows,
        "chart": chart,
        "area_label": Level(level).label,
        "totals": {"grids": sum(r["grids"] for r in rows), "people": sum(r["people"] for r in rows)},
        "counts": _scope_counts(request),
        "data_date": today,
    }


def _count_by_prefix(queryset: QuerySet, field: str, length: int) -> dict[str, int]:
    rows = queryset.order_by().annotate(area=Substr(field, 1, length)).values("area").annotate(n=Count("id"))
    return {row["area"]: row["n"] for row in rows}


def _admin_home(request: AuthedRequest) -> dict[str, Any]:
    importers = importlib.import_module("pingan.core.management.commands.import").IMPORTERS
    return {
        "counts": [
            {"label": _("用户"), "value": User.objects.filter(is_active=True).count()},
            {"label": _("单位"), "value": Unit.objects.filter(is_active=True).count()},
            {"label": _("行政区划与网格"), "value": Jurisdiction.objects.count()},
        ],
        "import_kinds": sorted(importers),
        "can_view_audit": request.user.has_perm("core.view_auditentry"),
    }


HOME_BUILDERS = {
    "grid_worker": _grid_worker_home,
    "office": _office_home,
    "leader": _leader_home,
    "admin": _admin_home,
}


def home_kind(user: Any) -> str:
    if user.is_superuser or user.role == Role.ADMIN:
        return "admin"
    if user.role == Role.GRID_WORKER:
        return "grid_worker"
    if user.role == Role.LEADER:
        return "leader"
    return "office"


@login_required
def home(request: AuthedRequest) -> HttpResponse:
    kind = home_kind(request.user)
    context = {"kind": kind, "home_template": f"web/home_{kind}.html", **HOME_BUILDERS[kind](request)}
    return render(request, "web/home.html", context)


# ---------------------------------------------------------------------------------------------
# Map


def _default_focus(request: AuthedRequest) -> str:
    chosen = current_jurisdiction(request)
    if chosen is not None:
        return chosen.code
    grid = request.user.grid if request.user.role == Role.GRID_WORKER else None
    return grid.code if grid is not None else ""


def _parent_visible(user: Any, code: str) -> bool:
    """Whether the user may see the parent of ``code`` (then the map shows a grid with its neighbours)."""
    if not code or not in_scope(user, code):
        return False
    parent_code = Jurisdiction.objects.filter(code=code).values_list("parent__code", flat=True).first()
    return parent_code is not None and in_scope(user, parent_code)


@login_required
def map_page(request: AuthedRequest) -> HttpResponse:
    focus = request.GET.get("focus", "").strip()
    if not CODE_RE.match(focus):
        focus = _default_focus(request)
    api_root = reverse("api:api-root")
    config = {
        "outlinesUrl": f"{api_root}geo/outlines",
        "detailUrl": f"{api_root}geo/jurisdictions/",
        "tileUrl": settings.TILE_URL,
        "focus": focus,
        "focusParentVisible": _parent_visible(request.user, focus),
        "gridMinZoom": GRID_MIN_ZOOM,
        "labels": {
            "county": str(Level.COUNTY.label),
            "township": str(Level.TOWNSHIP.label),
            "grid": str(Level.GRID.label),
            "tiles": _("底图"),
            "code": _("代码"),
            "workers": _("网格员"),
            "noWorkers": _("未配备"),
            "parents": _("上级"),
            "loading": _("加载中…"),
            "loadFailed": _("数据加载失败，请稍后重试"),
            "notFound": _("未找到该区划，或不在您的数据范围内"),
            "empty": _("您的数据范围内暂无区划边界数据"),
            "synthetic": _("边界为演示用合成数据"),
            "zoomHint": _("放大地图或点击乡镇(街道)以显示网格"),
        },
    }
    return render(request, "web/map.html", {"map_config": config})


# ---------------------------------------------------------------------------------------------
# Audit log (read-only)


@login_required
def audit_log(request: AuthedRequest) -> HttpResponse:
    # Only auditors: everyone else gets 404, as for a record outside their scope.
    if not request.user.has_perm("core.view_auditentry"):
        raise Http404("not found")
    target_types = list(
        AuditEntry.objects.exclude(target_type="")
        .order_by("target_type")
        .values_list("target_type", flat=True)
        .distinct()
    )
    form = AuditFilterForm(request.GET or None, target_types=target_types)
    entries: QuerySet[AuditEntry] = AuditEntry.objects.select_related("actor").order_by("-at", "-id")
    if form.is_bound:
        form.is_valid()
        entries = form.filter(entries)
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "web/audit.html", {"form": form, "page": page, "query": query.urlencode()})


# ---------------------------------------------------------------------------------------------
# Jurisdiction switcher


@login_required
@require_POST
def switch_jurisdiction(request: AuthedRequest) -> HttpResponse:
    code = request.POST.get("code", "")
    allowed = {j.code for j in switcher_options(request.user)}
    if code in allowed:
        request.session[SESSION_JURISDICTION] = code
    else:  # "全部" or anything not offered: back to the whole scope
        request.session.pop(SESSION_JURISDICTION, None)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("home")
    return redirect(target)
