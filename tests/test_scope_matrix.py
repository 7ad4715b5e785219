"""The scope matrix: every role × every list/detail route; a 江山市 user sees nothing of 柯城区.

Every route of the installation must appear in ROUTES (or in EXEMPT with a reason):
`test_every_route_is_in_the_matrix` fails when a new route is added without a place here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver

from pingan.accounts.choices import Role
from pingan.cases import services as cases
from pingan.cases.models import Attachment
from pingan.people.services import create_person
from tests.conftest import login, make_user
from tests.events.factories import kecheng_events

KECHENG = "330802"
KECHENG_PERSON_ID = "330802199001011232"


@dataclass(frozen=True)
class Route:
    """How the matrix exercises one route. ``path`` may hold {person} {unit} {grid} placeholders."""

    kind: str  # "list": no 柯城 data; "detail": 404; "admin": installation admins only; "reference"/"self": no scoped data
    path: str
    method: str = "get"
    body: dict | None = None
    upload: bool = False
    file: tuple[str, bytes] = ("x.csv", b"code,name,level,parent_code\n")  # what ``upload`` sends
    form: bool = False  # post ``body`` as an HTML form and follow the redirect (the pages' actions)


# Route pattern (as Django resolves it) → how to call it.
ROUTES: dict[str, Route] = {
    "api/geo/jurisdictions": Route("list", "/api/geo/jurisdictions?page=1"),
    "api/geo/jurisdictions/<code>": Route("detail", "/api/geo/jurisdictions/{grid}"),
    "api/geo/outlines": Route("list", "/api/geo/outlines?level=grid"),
    "api/geo/locate": Route("detail", "/api/geo/locate?lat=28.95&lon=118.85"),
    "api/geo/import": Route("admin", "/api/geo/import", method="post", upload=True),
    "api/accounts/me": Route("self", "/api/accounts/me"),
    "api/accounts/units": Route("list", "/api/accounts/units"),
    "api/accounts/units/<unit_id>": Route("detail", "/api/accounts/units/{unit}"),
    "api/people/": Route("list", "/api/people/"),
    "api/people/<int:person_id>": Route("detail", "/api/people/{person}"),
    "api/people/<int:person_id>/reveal": Route(
        "detail", "/api/people/{person}/reveal", method="post", body={"fields": ["name"]}
    ),
    "api/core/audit": Route("admin", "/api/core/audit"),
    "api/cases/": Route("list", "/api/cases/"),
    "api/cases/counts": Route("list", "/api/cases/counts"),
    "api/cases/supervision": Route("list", "/api/cases/supervision"),
    "api/cases/<case_id>": Route("detail", "/api/cases/{case}"),
    "api/cases/<case_id>/actions/<action>": Route(
        "detail", "/api/cases/{case}/actions/comment", method="post", body={"version": 2, "note": "核实"}
    ),
    "api/cases/<case_id>/attachments": Route(
        "detail",
        "/api/cases/{case}/attachments",
        method="post",
        upload=True,
        file=("a.png", b"\x89PNG\r\n\x1a\n0"),
    ),
    "api/cases/<case_id>/attachments/<attachment_id>": Route(
        "detail", "/api/cases/{case}/attachments/{attachment}"
    ),
    "api/indicators/": Route("list", "/api/indicators/?group=unit"),
    "api/indicators/scorecard": Route("list", "/api/indicators/scorecard"),
    "api/indicators/trend": Route("list", "/api/indicators/trend?group=area"),
    "api/indicators/export.xlsx": Route("list", "/api/indicators/export.xlsx?group=unit"),
    "api/events/categories": Route("reference", "/api/events/categories"),
    # Intake answers with the caller's own submission; filing outside one's scope is refused
    # (422 on "location") in tests/events/test_events_intake.py.
    "api/events/": Route("self", "/api/events/", method="post", body={}),
    "api/events/<int:case_id>": Route("detail", "/api/events/{event}"),
    "api/events/<int:case_id>/suggestion": Route("detail", "/api/events/{event}/suggestion"),
    "api/events/<int:case_id>/merge": Route(
        "detail", "/api/events/{event}/merge", method="post", body={"target": "{event2}"}
    ),
    "api/core/calendar/period": Route("reference", "/api/core/calendar/period?start=2026-09-20&days=15"),
    "api/core/calendar/<year>": Route("reference", "/api/core/calendar/2026"),
    "": Route("list", "/"),
    "map/": Route("list", "/map/"),
    "audit/": Route("admin", "/audit/"),
    "cases/indicators/": Route("list", "/cases/indicators/"),
    "cases/indicators/scorecard/": Route("list", "/cases/indicators/scorecard/"),
    "cases/desk/": Route("list", "/cases/desk/?tab=all"),
    "cases/desk/export.xlsx": Route("list", "/cases/desk/export.xlsx?tab=all"),
    "cases/mine/": Route("list", "/cases/mine/"),
    "cases/board/": Route("list", "/cases/board/"),
    "cases/<int:pk>/": Route("detail", "/cases/{case}/"),
    "cases/<int:pk>/act/<str:action>/": Route(
        "detail", "/cases/{case}/act/comment/", method="post", body={"version": 2, "note": "核实"}, form=True
    ),
    # The report form answers with the caller's own submission (like api/events/); filing
    # outside one's scope is refused in tests/events/test_report_page.py.
    "events/report/": Route("self", "/events/report/"),
    "people/": Route("list", "/people/"),
    "people/<int:pk>/": Route("detail", "/people/{person}/"),
    "people/<int:pk>/reveal/": Route(
        "detail", "/people/{person}/reveal/", method="post", body={"fields": ["name"]}
    ),
    # Register/edit need people.add_person / people.change_person, which no matrix user holds, so
    # every role is refused; their scope rules (options, 404) are in tests/people/test_people_pages.py.
    "people/new/": Route("admin", "/people/new/"),
    "people/<int:pk>/edit/": Route("admin", "/people/{person}/edit/"),
}

# Routes that return no scoped data, with the reason.
EXEMPT = {
    "login/": "the login form",
    "logout/": "ends the session",
    "jurisdiction/": "switches among the user's own jurisdictions (validated against the scope)",
    "i18n/setlang/": "language switch",
    "api/openapi.json": "the API description",
    "api/": "django-ninja's API root (no view of its own)",
    "api/docs": "the API documentation page",
    "admin/": "Django admin: superusers only (is_staff), reference data",
    # Privacy of these reads (no requester, no staff free text) is tested in tests/open311/.
    **dict.fromkeys(
        (
            "open311/v2/discovery.<str:format>",
            "open311/v2/services.<str:format>",
            "open311/v2/services/<str:service_code>.<str:format>",
            "open311/v2/requests.<str:format>",
            "open311/v2/requests/<str:service_request_id>.<str:format>",
            "open311/v2/tokens/<str:token_id>.<str:format>",
        ),
        "Open311 public read of non-personal service-request data; writes need an api_key",
    ),
}


def _route_patterns(resolver: URLResolver, prefix: str = "") -> list[str]:
    found = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith("admin/"):
                found.append("admin/")
                continue
            found += _route_patterns(entry, route)
        elif isinstance(entry, URLPattern):
            found.append(route)
    return found


def all_routes() -> set[str]:
    return {r.lstrip("^").rstrip("$") for r in _route_patterns(get_resolver())}


def test_every_route_is_in_the_matrix():
    missing = sorted(r for r in all_routes() if r not in ROUTES and r not in EXEMPT)
    assert missing == [], f"routes without a place in the scope matrix: {missing}"


def test_matrix_names_no_route_that_does_not_exist():
    stale = sorted(set(ROUTES) - all_routes())
    assert stale == []


@pytest.fixture
def targets(tree, units, personas, settings, tmp_path):
    """One 柯城区 record of each scoped kind."""
    person = create_person(
        personas.admin,
        name="柯城张三",
        id_number=KECHENG_PERSON_ID,
        phone="13812345678",
        address="柯城区府山街道1号",
        jurisdiction=tree.kecheng_village,
    )
    # A case under supervision (预警, version 2) with an attachment, for the case routes.
    settings.MEDIA_ROOT = tmp_path
    at, dispatcher = datetime(2026, 11, 23, 1, 0, tzinfo=UTC), personas.kecheng_dispatcher
    case = cases.register(
        "event", actor=dispatcher, title="占道经营", jurisdiction=tree.kecheng_grid, channel="grid", at=at
    )
    cases.transition(case, "dispatch", actor=dispatcher, unit=units.kecheng_police, at=at)
    cases.transition(case, "warn", actor=None, at=at)
    file = ContentFile("柯城现场".encode(), name="kc.txt")
    attachment = Attachment.objects.create(
        step=case.steps.last(), file=file, name="kc.txt", content_type="text/plain"
    )
    return {
        "person": person.pk, "unit": units.kecheng_police.pk, "grid": tree.kecheng_grid.code,
        "case": case.pk, "attachment": attachment.pk, **kecheng_events(dispatcher),
    }  # fmt: skip


def _user(role: Role, county: str, tree, units):
    """A user of ``role`` in one county: 柯城 ("kc") or 江山 ("js")."""
    if county == "kc":
        grid, township, area, unit = (
            tree.kecheng_grid,
            tree.kecheng_township,
            tree.kecheng,
            units.kecheng_police,
        )
    else:
        grid, township, area, unit = (
            tree.jiangshan_grid,
            tree.jiangshan_township,
            tree.jiangshan,
            units.jiangshan_police,
        )
    scope = {Role.GRID_WORKER: grid, Role.MEDIATOR: township}.get(role, area)
    user = make_user(
        f"matrix_{county}_{role}", role, scope, unit, grid=grid if role == Role.GRID_WORKER else None
    )
    if role in (Role.DISPATCHER, Role.MEDIATOR, Role.SUPERVISOR):
        from django.contrib.auth.models import Permission

        user.user_permissions.add(Permission.objects.get(codename="reveal_person"))
    return user


def _call(client, route: Route, targets: dict):
    url = route.path.format(**targets)
    if route.upload:
        return client.post(url, {"file": SimpleUploadedFile(*route.file)})
    if route.method == "post" and route.form:
        return client.post(url, route.body or {}, follow=True)
    if route.method == "post":
        # String values of the body may name targets too: {"target": "{event2}"}.
        body = {k: v.format(**targets) if isinstance(v, str) else v for k, v in (route.body or {}).items()}
        return client.post(url, data=json.dumps(body), content_type="application/json")
    return client.get(url)


def _xlsx_text(content: bytes) -> str:
    """Every cell of every sheet of an Excel export, as text."""
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return " ".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v)


def _leaks_kecheng(response) -> bool:
    if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        content = b"".join(response.streaming_content) if response.streaming else response.content
        body = _xlsx_text(content)
        return KECHENG in body or "柯城" in body
    body = response.content.decode()
    if response.get("Content-Type", "").startswith("application/json"):
        body = json.dumps(json.loads(body), ensure_ascii=False)  # JSON escapes Chinese as \uXXXX
    return KECHENG in body or "柯城" in body


ROLES = list(Role)
SCOPED = {k: v for k, v in ROUTES.items() if v.kind in ("list", "detail")}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("pattern", sorted(SCOPED))
def test_jiangshan_user_sees_nothing_of_kecheng(pattern, role, tree, units, personas, targets):
    route = ROUTES[pattern]
    client = login(_user(role, "js", tree, units))
    response = _call(client, route, targets)
    if route.kind == "detail":
        assert response.status_code == 404, response.content[:300]
    else:
        assert response.status_code == 200
    assert not _leaks_kecheng(response), response.content[:500]


@pytest.mark.parametrize("pattern", sorted(SCOPED))
def test_kecheng_user_sees_kecheng(pattern, tree, units, personas, targets):
    """The positive control: the same requests by a 柯城 dispatcher do find 柯城 records."""
    route = ROUTES[pattern]
    client = login(_user(Role.DISPATCHER, "kc", tree, units))
    response = _call(client, route, targets)
    assert response.status_code == 200, response.content[:300]
    # The trend holds monthly totals only (no unit or area names): nothing to recognise.
    if pattern not in (
        "",
        "map/",
        "api/people/<int:person_id>/reveal",
        "api/cases/counts",
        "api/indicators/trend",
    ):
        assert _leaks_kecheng(response)


@pytest.mark.parametrize("pattern", sorted(k for k, v in ROUTES.items() if v.kind == "admin"))
@pytest.mark.parametrize("role", ROLES)
def test_admin_routes_refuse_every_other_role(pattern, role, tree, units, personas, targets):
    client = login(_user(role, "kc", tree, units))
    response = _call(client, ROUTES[pattern], targets)
    assert response.status_code in (403, 404)


@pytest.mark.parametrize("pattern", sorted(k for k, v in ROUTES.items() if k.startswith("api/")))
def test_anonymous_gets_401(pattern, targets):
    response = _call(login(None), ROUTES[pattern], targets)
    assert response.status_code == 401
