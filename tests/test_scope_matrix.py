"""The scope matrix: every role × every list/detail route; a 江山市 user sees nothing of 柯城区.

Every route of the installation must appear in ROUTES (or in EXEMPT with a reason):
`test_every_route_is_in_the_matrix` fails when a new route is added without a place here.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver

from pingan.accounts.choices import Role, UnitKind
from pingan.accounts.models import Unit
from pingan.cases import services as cases
from pingan.cases.models import Attachment
from pingan.core.idnumber import make_id_number
from pingan.disputes import confirmation as confirmations
from pingan.disputes import linkage
from pingan.disputes import services as disputes
from pingan.disputes.choices import Consent, DisputeType, OrgKind, Outcome, PartyRole, Source
from pingan.disputes.models import JudicialConfirmation, MediationOrg, PoliceCall
from pingan.people.services import create_person
from tests.conftest import login, make_user
from tests.events.factories import kecheng_events

KECHENG = "330802"
KECHENG_PERSON_ID = "330802199001011232"


@dataclass(frozen=True)
class Route:
    """How the matrix exercises one route. ``path`` and ``body`` may hold placeholders of ``targets``
    ({person} {unit} {grid} {dispute} …); a body value that is one whole placeholder keeps the
    target's type (an id stays a number)."""

    # "list": no 柯城 data; "detail": 404; "admin": installation admins only; "reference"/"self": no
    # scoped data; "form": a page to file something (200, or 403 for a role that may not), no 柯城 data.
    kind: str
    path: str
    method: str = "get"
    body: dict | None = None
    upload: bool = False
    file: tuple[str, bytes] = ("x.csv", b"code,name,level,parent_code\n")  # what ``upload`` sends
    form: bool = False  # post ``body`` as an HTML form and follow the redirect (the pages' actions)
    # The positive control's user: a target holding a 柯城 user (default: the 柯城 dispatcher), for
    # the steps only the organisation handling a dispute may take (签收, consent, sessions, outcome).
    actor: str = ""
    needs: tuple[str, ...] = ()  # targets to build first (the records a list route should find)


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
    # Registration (POST on the same path) answers with the caller's own submission; filing
    # outside one's scope is refused (422 on "jurisdiction") in tests/disputes/test_disputes_api.py.
    "api/disputes/": Route("list", "/api/disputes/", needs=("dispute",)),
    "api/disputes/<int:case_id>": Route("detail", "/api/disputes/{dispute}"),
    "api/disputes/<int:case_id>/suggestions": Route(
        "detail", "/api/disputes/{dispute}/suggestions", needs=("org",)
    ),
    "api/disputes/<int:case_id>/assign": Route(
        "detail", "/api/disputes/{dispute}/assign", method="post", body={"version": 0, "org_unit_id": "{org}"}
    ),
    "api/disputes/<int:case_id>/parties": Route(
        "detail",
        "/api/disputes/{dispute}/parties",
        method="post",
        body={"version": 0, "role": "applicant", "name": "王五", "id_number": "{new_id_number}"},
    ),
    "api/disputes/<int:case_id>/escalate": Route(
        "detail",
        "/api/disputes/{dispute}/escalate",
        method="post",
        body={"version": 0, "org_unit_id": "{county_org}", "note": "提级"},
    ),
    "api/disputes/<int:case_id>/accept": Route(
        "detail",
        "/api/disputes/{dispute_dispatched}/accept",
        method="post",
        body={"version": "{dispatched_version}"},
        actor="mediator",
    ),
    "api/disputes/<int:case_id>/consent": Route(
        "detail",
        "/api/disputes/{dispute_handling}/consent",
        method="post",
        body={"version": "{handling_version}", "applicant": "agreed", "respondent": "agreed"},
        actor="mediator",
    ),
    "api/disputes/<int:case_id>/outcome": Route(
        "detail",
        "/api/disputes/{dispute_handling}/outcome",
        method="post",
        body={"version": "{handling_version}", "outcome": "failure", "routes_told": "可向人民法院起诉"},
        actor="mediator",
    ),
    "api/disputes/<int:case_id>/sessions": Route(
        "detail",
        "/api/disputes/{dispute_consented}/sessions",
        method="post",
        body={
            "version": "{consented_version}",
            "at": "2026-03-04T14:30:00+08:00",
            "place": "调解室",
            "party_ids": ["{dispute_consented_party}"],
            "record": "双方陈述意见",
        },
        actor="mediator",
    ),
    "api/disputes/stats/": Route(
        "list", "/api/disputes/stats/?start=2026-03-01&end=2026-03-31", needs=("dispute",)
    ),
    "api/confirmations/": Route("list", "/api/confirmations/", needs=("confirmation",)),
    "api/confirmations/<int:confirmation_id>": Route("detail", "/api/confirmations/{confirmation}"),
    "api/confirmations/<int:confirmation_id>/apply": Route(
        "detail",
        "/api/confirmations/{confirmation}/apply",
        method="post",
        body={"court_id": "{court}", "applied_on": "2026-11-20"},
    ),
    "api/confirmations/<int:confirmation_id>/accept": Route(
        "detail",
        "/api/confirmations/{confirmation_applied}/accept",
        method="post",
        body={"accepted_on": "2026-11-20"},
    ),
    "api/confirmations/<int:confirmation_id>/not-accept": Route(
        "detail",
        "/api/confirmations/{confirmation_applied}/not-accept",
        method="post",
        body={"decided_on": "2026-11-20", "note": "不属于本院管辖"},
    ),
    "api/confirmations/<int:confirmation_id>/extend": Route(
        "detail",
        "/api/confirmations/{confirmation_accepted}/extend",
        method="post",
        body={"extended_on": "2026-11-18", "note": "经院长批准"},
    ),
    "api/confirmations/<int:confirmation_id>/rule": Route(
        "detail",
        "/api/confirmations/{confirmation_accepted}/rule",
        method="post",
        body={"ruled_on": "2026-11-20", "confirmed": True},
    ),
    "api/linkage/calls": Route("list", "/api/linkage/calls", needs=("call",)),
    "api/linkage/calls/<int:call_id>": Route("detail", "/api/linkage/calls/{call}"),
    "api/linkage/calls/<int:call_id>/suggestions": Route(
        "detail", "/api/linkage/calls/{call}/suggestions", needs=("org",)
    ),
    "api/linkage/calls/<int:call_id>/push": Route(
        "detail", "/api/linkage/calls/{call}/push", method="post", body={"org_unit_id": "{org}"}
    ),
    "api/linkage/calls/<int:call_id>/not-push": Route(
        "detail", "/api/linkage/calls/{call}/not-push", method="post", body={"reason": "当场和解"}
    ),
    "api/linkage/calls/<int:call_id>/follow-up": Route(
        "detail",
        "/api/linkage/calls/{call_pushed}/follow-up",
        method="post",
        body={"note": "已化解", "satisfied": True},
    ),
    # The import answers with the caller's own upload; a call outside the caller's scope is
    # refused in tests/disputes/test_linkage.py.
    "api/linkage/calls/import": Route(
        "self", "/api/linkage/calls/import", method="post", upload=True, file=("calls.csv", b"call_number\n")
    ),
    "api/linkage/stats": Route(
        "list", "/api/linkage/stats?by=county&from=2026-03-01&to=2026-03-31", needs=("call_pushed",)
    ),
    "api/linkage/stats.xlsx": Route(
        "list", "/api/linkage/stats.xlsx?from=2026-03-01&to=2026-03-31", needs=("call_pushed",)
    ),
    "disputes/": Route("list", "/disputes/?tab=all", needs=("dispute",)),
    "disputes/new/": Route("form", "/disputes/new/"),
    # What the register knows of a typed ID number: a 柯城 person is "new" to a 江山 user.
    "disputes/new/person/": Route(
        "list", "/disputes/new/person/", method="post", body={"id_number": KECHENG_PERSON_ID}, form=True
    ),
    # "My disputes": the 柯城 organisation's mediator finds the one being mediated.
    "disputes/workbench/": Route(
        "list", "/disputes/workbench/", needs=("dispute_handling",), actor="mediator"
    ),
    "disputes/stats/": Route("list", "/disputes/stats/?start=2026-03-01&end=2026-03-31", needs=("dispute",)),
    "disputes/<int:pk>/": Route("detail", "/disputes/{dispute}/"),
    "disputes/<int:pk>/assign/": Route(
        "detail",
        "/disputes/{dispute}/assign/",
        method="post",
        body={"version": "{dispute_version}", "org_unit": "{org}"},
        form=True,
    ),
    "disputes/<int:pk>/parties/": Route(
        "detail",
        "/disputes/{dispute}/parties/",
        method="post",
        body={
            "version": "{dispute_version}",
            "role": "applicant",
            "name": "王五",
            "id_number": "{new_id_number}",
        },
        form=True,
    ),
    "disputes/<int:pk>/accept/": Route(
        "detail",
        "/disputes/{dispute_dispatched}/accept/",
        method="post",
        body={"version": "{dispatched_version}"},
        form=True,
        actor="mediator",
    ),
    "disputes/<int:pk>/consent/": Route(
        "detail",
        "/disputes/{dispute_handling}/consent/",
        method="post",
        body={"version": "{handling_version}", "applicant": "agreed", "respondent": "agreed"},
        form=True,
        actor="mediator",
    ),
    "disputes/<int:pk>/outcome/": Route(
        "detail",
        "/disputes/{dispute_handling}/outcome/",
        method="post",
        body={"version": "{handling_version}", "outcome": "failure", "routes_told": "可向人民法院起诉"},
        form=True,
        actor="mediator",
    ),
    "disputes/<int:pk>/sessions/": Route(
        "detail",
        "/disputes/{dispute_consented}/sessions/",
        method="post",
        body={
            "version": "{consented_version}",
            "at": "2026-03-04T14:30",
            "place": "调解室",
            "party_ids": ["{dispute_consented_party}"],
            "record": "双方陈述意见",
        },
        form=True,
        actor="mediator",
    ),
    "linkage/": Route("list", "/linkage/?start=2026-03-01&end=2026-03-31", needs=("call_pushed",)),
    "linkage/calls/": Route("list", "/linkage/calls/", needs=("call",)),
    "linkage/calls/<int:pk>/": Route("detail", "/linkage/calls/{call}/"),
    "linkage/calls/<int:pk>/push/": Route(
        "detail", "/linkage/calls/{call}/push/", method="post", body={"org_unit": "{org}"}, form=True
    ),
    "linkage/calls/<int:pk>/not-push/": Route(
        "detail", "/linkage/calls/{call}/not-push/", method="post", body={"reason": "当场和解"}, form=True
    ),
    "linkage/calls/<int:pk>/follow-up/": Route(
        "detail",
        "/linkage/calls/{call_pushed}/follow-up/",
        method="post",
        body={"note": "已化解", "satisfied": "1"},
        form=True,
    ),
    "linkage/import/": Route("form", "/linkage/import/"),
    # 人民调解协议书 with full names: needs 查看完整个人信息 (the matrix's dispatchers hold it).
    "api/confirmations/agreements/<int:dispute_id>.docx": Route(
        "detail", "/api/confirmations/agreements/{agreed_dispute}.docx"
    ),
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


class Targets(dict):
    """Placeholder → 柯城 record; the costlier records are built on first use by ``builders``
    (a builder answers a dict of placeholders; it may ask the targets for others)."""

    def __init__(self, values: dict[str, Any], builders: dict[str, Callable[[Targets], dict[str, Any]]]):
        super().__init__(values)
        self.builders = builders

    def __missing__(self, key: str) -> Any:
        self.update(self.builders[key](self))
        return self[key]


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
    return Targets(
        {
            "person": person.pk, "unit": units.kecheng_police.pk, "grid": tree.kecheng_grid.code,
            "case": case.pk, "attachment": attachment.pk, "new_id_number": NEW_PARTY_ID,
            **kecheng_events(dispatcher),
        },
        _builders(tree, dispatcher),
    )  # fmt: skip


# --- 柯城 disputes (矛盾纠纷), judicial confirmations and 110 calls, built on first use -------------

NEW_PARTY_ID = make_id_number("330802", date(1985, 5, 5), 777)  # nobody's yet: a party to add
_serial = itertools.count(1)


def _two_parties() -> list[disputes.PartyIn]:
    def number() -> str:
        n = next(_serial)
        return make_id_number("330802", date(1960, 1, 1) + timedelta(days=n * 37 % 12000), n % 1000)

    return [
        disputes.PartyIn(role=PartyRole.APPLICANT, name="张三", id_number=number()),
        disputes.PartyIn(role=PartyRole.RESPONDENT, name="李四", id_number=number()),
    ]


def _mediation(tree) -> dict[str, Any]:
    """府山社区人民调解委员会 with its mediator, and the county centre above it."""

    def org(name: str, kind: OrgKind, jurisdiction) -> MediationOrg:
        unit = Unit.objects.create(name=name, kind=UnitKind.MEDIATION, jurisdiction=jurisdiction)
        return MediationOrg.objects.create(unit=unit, org_kind=kind)

    village = org("府山社区人民调解委员会", OrgKind.VILLAGE_COMMITTEE, tree.kecheng_village)
    county = org("柯城区矛盾纠纷调处化解中心", OrgKind.COUNTY_CENTRE, tree.kecheng)
    mediator = make_user("matrix_kc_org_mediator", Role.MEDIATOR, tree.kecheng_village, village.unit)
    return {"org": village.pk, "county_org": county.pk, "mediator": mediator}


REGISTERED_AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # before the sessions' 2026-03-04
# How far each 柯城 dispute target has gone: registered → dispatched → handling (签收) → consented.
STAGES = ("dispute", "dispute_dispatched", "dispute_handling", "dispute_consented")


def _dispute_at(stage: str, t: Targets, tree, dispatcher, at: datetime = REGISTERED_AT):
    dispute = disputes.register_dispute(
        actor=dispatcher,
        dispute_type=DisputeType.NEIGHBOUR,
        source=Source.WINDOW,
        jurisdiction=tree.kecheng_village,
        title="楼上漏水邻里纠纷",
        facts="楼上卫生间漏水致楼下天花板受损，双方就赔偿发生争执。",
        parties=_two_parties(),
        at=at,
    )
    done = STAGES.index(stage)
    if done >= 1:
        disputes.assign(dispute, actor=dispatcher, org_unit=Unit.objects.get(pk=t["org"]), at=at)
    if done >= 2:
        disputes.accept(dispute, actor=t["mediator"], at=at)
    if done >= 3:
        disputes.record_consent(
            dispute, actor=t["mediator"], applicant=Consent.AGREED, respondent=Consent.AGREED, at=at
        )
    dispute.case.refresh_from_db()
    return dispute


def _confirmations(t: Targets, tree, dispatcher) -> dict[str, Any]:
    """Three agreements signed 2026-11-02 (apply by 12-02): due, applied to 柯城 court, accepted."""
    court = Unit.objects.create(name="柯城区人民法院", kind=UnitKind.COURT, jurisdiction=tree.kecheng)
    signed_on, at = date(2026, 11, 2), datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    found = []
    for _ in range(3):
        dispute = _dispute_at("dispute_consented", t, tree, dispatcher, at)
        disputes.record_outcome(
            dispute,
            actor=t["mediator"],
            outcome=Outcome.SUCCESS,
            agreement={
                "facts": "楼上卫生间漏水致楼下天花板受损。",
                "terms": "李四赔偿张三维修费人民币3000元。",
                "performance": "银行转账一次性支付。",
                "perform_by": date(2026, 11, 30),
                "signed_on": signed_on,
            },
            at=at,
        )
        found.append(JudicialConfirmation.objects.get(agreement__dispute=dispute))
    due, applied, accepted = found
    for c in (applied, accepted):
        confirmations.apply_for_confirmation(c, actor=dispatcher, court=court, applied_on=date(2026, 11, 3))
    confirmations.accept_application(accepted, actor=dispatcher, accepted_on=date(2026, 11, 4))
    return {
        "court": court.pk, "agreed_dispute": due.agreement.dispute_id, "confirmation": due.pk,
        "confirmation_applied": applied.pk, "confirmation_accepted": accepted.pk,
    }  # fmt: skip


CALLED_AT = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)  # 09:00 in Quzhou


def _calls(t: Targets, tree, dispatcher) -> dict[str, Any]:
    """Two 110 dispute calls at 信安派出所 (柯城): one waiting, one pushed to 府山社区."""
    station = Unit.objects.create(
        name="信安派出所", kind=UnitKind.POLICE_STATION, jurisdiction=tree.kecheng_township
    )

    def call(number: str) -> PoliceCall:
        return linkage.record_call(
            dispatcher,
            call_number=number,
            called_at=CALLED_AT,
            dispute_type=DisputeType.NEIGHBOUR,
            station=station,
            area_code=tree.kecheng_village.code,
            summary="楼上漏水，双方争吵",
        ).call

    waiting, pushed = call("KC110-1"), call("KC110-2")
    linkage.push(pushed, dispatcher, t["org"], CALLED_AT + timedelta(hours=2))
    return {"call": waiting.pk, "call_pushed": pushed.pk}


def _builders(tree, dispatcher) -> dict[str, Callable[[Targets], dict[str, Any]]]:
    def stage(name: str) -> Callable[[Targets], dict[str, Any]]:
        def build(t: Targets) -> dict[str, Any]:
            dispute = _dispute_at(name, t, tree, dispatcher)
            version = name.removeprefix("dispute_") + "_version"
            party = dispute.parties.order_by("pk").first()
            return {name: dispute.pk, version: dispute.case.version, f"{name}_party": party.pk}

        return build

    builders: dict[str, Callable[[Targets], dict[str, Any]]] = {}
    for name in STAGES:
        builder = stage(name)
        builders |= dict.fromkeys(
            (name, name.removeprefix("dispute_") + "_version", f"{name}_party"), builder
        )
    builders |= dict.fromkeys(("org", "county_org", "mediator"), lambda t: _mediation(tree))
    builders |= dict.fromkeys(("call", "call_pushed"), lambda t: _calls(t, tree, dispatcher))
    builders |= dict.fromkeys(
        ("court", "agreed_dispute", "confirmation", "confirmation_applied", "confirmation_accepted"),
        lambda t: _confirmations(t, tree, dispatcher),
    )
    return builders


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


def _fill(value: Any, targets: Targets) -> Any:
    """``value`` with the placeholders of ``targets`` filled in; a whole placeholder keeps the type."""
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1].isidentifier():
            return targets[value[1:-1]]
        return value.format_map(targets)
    if isinstance(value, list):
        return [_fill(v, targets) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, targets) for k, v in value.items()}
    return value


def _call(client, route: Route, targets: Targets):
    for name in route.needs:
        targets[name]  # built now, so that the route has it to find (or to hide)
    url = route.path.format_map(targets)
    if route.upload:
        return client.post(url, {"file": SimpleUploadedFile(*route.file)})
    body = _fill(route.body or {}, targets)
    if route.method == "post" and route.form:
        return client.post(url, body, follow=True)
    if route.method == "post":
        return client.post(url, data=json.dumps(body), content_type="application/json")
    return client.get(url)


def _xlsx_text(content: bytes) -> str:
    """Every cell of every sheet of an Excel export, as text."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return " ".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v)


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _docx_text(content: bytes) -> str:
    """Every paragraph and table cell of a Word document, as text."""
    import docx

    document = docx.Document(io.BytesIO(content))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return " ".join([p.text for p in document.paragraphs] + cells)


def _leaks_kecheng(response) -> bool:
    content_type = response.get("Content-Type", "")
    if content_type.startswith("application/vnd.openxmlformats"):  # .docx and .xlsx
        content = b"".join(response.streaming_content) if response.streaming else response.content
        body = _docx_text(content) if content_type.startswith(DOCX) else _xlsx_text(content)
        return KECHENG in body or "柯城" in body
    body = response.content.decode()
    if content_type.startswith("application/json"):
        body = json.dumps(json.loads(body), ensure_ascii=False)  # JSON escapes Chinese as \uXXXX
    return KECHENG in body or "柯城" in body


ROLES = list(Role)
SCOPED = {k: v for k, v in ROUTES.items() if v.kind in ("list", "detail", "form")}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("pattern", sorted(SCOPED))
def test_jiangshan_user_sees_nothing_of_kecheng(pattern, role, tree, units, personas, targets):
    route = ROUTES[pattern]
    client = login(_user(role, "js", tree, units))
    response = _call(client, route, targets)
    if route.kind == "detail":
        assert response.status_code == 404, response.content[:300]
    elif route.kind == "form":
        assert response.status_code in (200, 403), response.content[:300]
    else:
        assert response.status_code == 200, response.content[:300]
    assert not _leaks_kecheng(response), response.content[:500]


@pytest.mark.parametrize("pattern", sorted(SCOPED))
def test_kecheng_user_sees_kecheng(pattern, tree, units, personas, targets):
    """The positive control: the same requests by a 柯城 dispatcher (or the route's ``actor``) do
    find 柯城 records."""
    route = ROUTES[pattern]
    user = targets[route.actor] if route.actor else _user(Role.DISPATCHER, "kc", tree, units)
    response = _call(login(user), route, targets)
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
