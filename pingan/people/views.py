"""Pages of the people register (人员信息): list, masked card, audited reveal, register and edit.

Reads go through the scoping function (a person outside the user's scope is 404); writes and
reveals go through ``services`` (the only code that changes a Person or shows plain values).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from pingan.core.scoping import code_prefix, get_visible_or_404
from pingan.geo.choices import Level
from pingan.people import services
from pingan.people.forms import PersonEditForm, PersonPageForm, PersonSearchForm, add_service_errors
from pingan.people.models import Person
from pingan.web.context import current_jurisdiction

PAGE_SIZE = 50
ADD_PERMISSION = "people.add_person"
CHANGE_PERMISSION = "people.change_person"
FIELD_LABELS = {
    "name": gettext_lazy("姓名"),
    "id_number": gettext_lazy("公民身份号码"),
    "phone": gettext_lazy("联系电话"),
    "address": gettext_lazy("住址"),
}


def _person(request: HttpRequest, pk: int) -> Person:
    """THE read gate for one person: outside the user's scope is 404, never 403 (no leak)."""
    return get_visible_or_404(
        Person.objects.select_related("jurisdiction__parent__parent"), request.user, pk=pk
    )


def village_of(person: Person) -> str:
    """The village (村/社区) a person is registered in; for a grid, its parent village."""
    place = person.jurisdiction
    if place.level == Level.GRID and place.parent is not None:
        return place.parent.name
    return place.name


# ---------------------------------------------------------------------------------------------
# List


@login_required
def person_list(request: HttpRequest) -> HttpResponse:
    within = current_jurisdiction(request)
    form = PersonSearchForm(request.GET or None, user=request.user, within=within)
    people = form.people()
    if within is not None:  # the top-bar switcher narrows, never widens, the scope
        people = people.filter(area_code__under=code_prefix(within.code))
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            **services.masked(p),
            "sex": p.get_sex_display(),
            "birth_year": p.birth_year,
            "village": village_of(p),
            "grid": p.jurisdiction.name if p.jurisdiction.level == Level.GRID else "",
        }
        for p in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    sort = form.cleaned_data.get("sort") if form.is_bound and "sort" not in form.errors else ""
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "sort_links": _sort_links(query, sort or "new"),
        "can_add": request.user.has_perm(ADD_PERMISSION),
    }
    return render(request, "people/list.html", context)


def _sort_links(query: Any, current: str) -> dict[str, dict[str, str]]:
    """Header links of the sortable columns: birth year (up, then down) and place (then back)."""
    cycle = {"birth": {"birth": "-birth", "-birth": "birth"}, "area": {"area": "new"}}
    default = {"birth": "birth", "area": "area"}
    links = {}
    for column, moves in cycle.items():
        q = query.copy()
        q["sort"] = moves.get(current, default[column])
        state = "asc" if current == column else "desc" if current == f"-{column}" else ""
        links[column] = {"url": f"?{q.urlencode()}", "state": state}
    return links


# ---------------------------------------------------------------------------------------------
# Detail and reveal


def _facts_context(request: HttpRequest, person: Person, revealed: dict[str, str] | None = None) -> dict:
    masked = services.masked(person)
    revealed = revealed or {}
    fields = [
        {"key": key, "label": FIELD_LABELS[key], "masked": masked[key], "plain": revealed.get(key)}
        for key in services.PII_FIELDS
    ]
    place = person.jurisdiction
    return {
        "person": person,
        "masked": masked,
        "fields": fields,
        "revealed": bool(revealed),
        "revealed_at": timezone.localtime() if revealed else None,
        "place_path": [*[a for a in place.ancestors() if a.level != Level.CITY], place],
        "can_reveal": services.can_reveal(request.user),
        "can_edit": request.user.has_perm(CHANGE_PERMISSION),
    }


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    return render(request, "people/detail.html", _facts_context(request, person))


@never_cache  # plain personal data must not stay in a browser or proxy cache
@login_required
@require_POST
def person_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show plain values of the posted ``fields`` (all four when none); the service audits it.

    From htmx: the facts card as a fragment; without JavaScript: the whole detail page.
    """
    person = _person(request, pk)
    if not services.can_reveal(request.user):
        raise PermissionDenied(_("无权查看完整个人信息"))
    fields = request.POST.getlist("fields") or list(services.PII_FIELDS)
    try:
        plain = services.reveal(request.user, person, fields)
    except ValidationError:
        return HttpResponseBadRequest(_("无法查看该字段"))
    context = _facts_context(request, person, plain)
    template = "people/_facts.html" if request.headers.get("HX-Request") else "people/detail.html"
    return render(request, template, context)


# ---------------------------------------------------------------------------------------------
# Register and edit


@login_required
@require_http_methods(["GET", "POST"])
def person_create(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(ADD_PERMISSION):
        raise PermissionDenied(_("无权登记人员"))
    form = PersonPageForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.create_person(request.user, **form.person_values())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已登记人员 %(name)s") % {"name": services.masked(person)["name"]})
            return redirect("people:detail", pk=person.pk)
    return render(request, "people/form.html", {"form": form, "rows": _rows(form), "person": None})


@login_required
@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)  # scope first: outside it is 404 whatever the permission
    if not request.user.has_perm(CHANGE_PERMISSION):
        raise PermissionDenied(_("无权修改人员信息"))
    form = PersonEditForm(request.POST or None, user=request.user, person=person)
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, _("没有修改任何内容"))
            return redirect("people:detail", pk=person.pk)
        try:
            services.update_person(request.user, person, **changes)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            labels = "、".join(str(form.fields[f].label) for f in changes)
            messages.success(request, _("已保存修改：%(fields)s") % {"fields": labels})
            return redirect("people:detail", pk=person.pk)
    masked = services.masked(person)
    context = {"form": form, "rows": _rows(form, masked), "person": person, "masked": masked}
    return render(request, "people/form.html", context)


def _rows(form: Any, current: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Form rows: each input with its "clear" checkbox and, when editing, the masked current value."""
    rows = []
    for name in form.fields:
        if name.startswith("clear_"):
            continue
        clear = f"clear_{name}"
        rows.append(
            {
                "field": form[name],
                "clear": form[clear] if clear in form.fields else None,
                "current": current.get(name) if current is not None and name in services.PII_FIELDS else None,
            }
        )
    return rows
