"""Pages of dispute work (矛盾纠纷): the one-stop window (一站式窗口登记), the dispute list,
the mediator's workbench (调解工作台), one dispute with its timeline, and the statistics.

Reads go through the read gate: one dispute through ``get_visible_or_404`` on its case (outside
the scope is 404), lists through ``cases.api.filter_cases`` (``visible_to``). Every change goes
through pingan.disputes.services (register_dispute, assign, accept, record_consent,
add_session, record_outcome), which check roles, scope and state and append the case steps;
the loop's other actions (核查结案, 返工, 评价 …) stay on the generic case page /cases/<id>/.
Parties are shown masked; the full values only through the people register's audited reveal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from pingan.accounts.choices import Role, UnitKind
from pingan.accounts.models import Unit, User
from pingan.cases.api import Capped, _detail_queryset, capped_count, detail, filter_cases, item
from pingan.cases.choices import OPEN_STATUSES, Action, Status
from pingan.cases.models import Case
from pingan.cases.permissions import allowed_actions
from pingan.cases.schemas import CaseFilters
from pingan.cases.services import CaseError
from pingan.cases.views import CONFLICT_MESSAGE, _safe_next, decorate, policy_text
from pingan.core.idnumber import parse_id_number
from pingan.core.pii import mask_name
from pingan.core.scoping import code_prefix, get_visible_or_404, in_scope, visible_to
from pingan.core.types import AuthedRequest
from pingan.disputes import services, stats
from pingan.disputes.choices import KEY_TYPES, Consent, DisputeType, Outcome, PartyRole, RiskFlag, Source
from pingan.disputes.confirmation import current_deadline
from pingan.disputes.forms import (
    AcceptForm,
    AddPartyForm,
    AssignForm,
    ConsentForm,
    DisputeFilterForm,
    OutcomeForm,
    PartyForm,
    PartyFormSet,
    SessionForm,
    StatsFilterForm,
    WindowForm,
    add_service_errors,
    local_now_minute,
)
from pingan.disputes.models import Dispute, MediationOrg, MediationSession
from pingan.geo.choices import Level
from pingan.geo.models import Jurisdiction
from pingan.people import services as people
from pingan.web.context import current_jurisdiction

PAGE_SIZE = 30
MAX_PAGE = 10_000
MAX_PLACES = 3000  # beyond this the window offers counties and townships only
# Who registers disputes at the window: the centre's desk and the mediators.
WINDOW_ROLES = (Role.DISPATCHER, Role.MEDIATOR, Role.SUPERVISOR, Role.ADMIN)
SIDES = (("applicants", PartyRole.APPLICANT), ("respondents", PartyRole.RESPONDENT))
PARTY_ERROR = re.compile(r"^parties\[(\d+)\]\.(\w+)$")
# The dispute-specific steps done on these pages (the others are on the case page).
OWN_ACTIONS = (Action.DISPATCH, Action.ACCEPT, Action.REPORT, Action.COMMENT, Action.MERGE)


# ---------------------------------------------------------------------------------------------
# Choices within the user's scope


def place_choices(user: Any) -> list[tuple[str, str]]:
    """Counties, townships and villages in the user's scope, indented by level (grids when the
    scope is a grid only); villages are left out when there are too many to choose from."""
    levels = [Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE]
    places = visible_to(Jurisdiction.objects.filter(level__in=levels), user)
    if places.count() > MAX_PLACES:
        places = places.exclude(level=Level.VILLAGE)
    rows = list(places.order_by("code").values_list("code", "name", "level"))
    if not rows:
        rows = list(
            visible_to(Jurisdiction.objects.filter(level=Level.GRID), user).values_list(
                "code", "name", "level"
            )
        )
    indent: dict[str, str] = {Level.COUNTY: "", Level.TOWNSHIP: "　", Level.VILLAGE: "　　", Level.GRID: ""}
    return [(code, f"{indent.get(level, '')}{name}") for code, name, level in rows]


def area_choices(user: Any) -> list[tuple[str, str]]:
    """Counties and townships in the user's scope (the list and statistics filters)."""
    places = visible_to(Jurisdiction.objects.filter(level__in=[Level.COUNTY, Level.TOWNSHIP]), user)
    rows = places.order_by("code").values_list("code", "name", "level")
    return [(code, name if level == Level.COUNTY else f"　{name}") for code, name, level in rows]


def court_choices(user: Any) -> list[tuple[int, str]]:
    courts = visible_to(Unit.objects.filter(kind=UnitKind.COURT, is_active=True), user)
    return list(courts.order_by("area_code", "name").values_list("pk", "name"))


def mediator_choices(user: Any) -> list[tuple[int, str]]:
    """Mediators of the mediation organisations the user may see."""
    org_units = visible_to(MediationOrg.objects.all(), user).values("unit")
    people_ = User.objects.filter(role=Role.MEDIATOR, unit__in=org_units, is_active=True)
    return [(u.pk, u.display_name) for u in people_.order_by("unit__area_code", "full_name", "username")]


def default_place(request: AuthedRequest, places: list[tuple[str, str]]) -> str:
    """The switcher's jurisdiction, else the user's own place when their scope is one place."""
    codes = [code for code, _name in places]
    within = current_jurisdiction(request)
    if within is not None and within.code in codes:
        return within.code
    roots = [j.code for j in request.user.scope_jurisdictions.all()] if not request.user.is_superuser else []
    if len(roots) == 1 and roots[0] in codes:
        return roots[0]
    return codes[0] if len(codes) == 1 else ""


# ---------------------------------------------------------------------------------------------
# The one-stop window (一站式窗口登记)


def can_register(user: Any) -> bool:
    return user.is_superuser or user.role in WINDOW_ROLES


@dataclass
class Window:
    """The window form and its two party lists, and where each party went in the service call."""

    form: WindowForm
    sides: dict[str, forms.BaseFormSet]
    rows: list[PartyForm] = field(default_factory=list)  # parties[i] of the service ↔ its row
    side_errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return bool(
            self.form.errors
            or self.side_errors
            or any(fs.non_form_errors() or any(f.errors for f in fs.forms) for fs in self.sides.values())
        )


def _with_row_added(data: QueryDict, prefix: str) -> QueryDict:
    """The posted data with one more (blank) row on ``prefix``'s side: 添加 without JavaScript."""
    copy = data.copy()
    key = f"{prefix}-TOTAL_FORMS"
    try:
        copy[key] = str(min(int(copy.get(key, "1")) + 1, forms.formsets.DEFAULT_MAX_NUM))
    except ValueError:
        copy[key] = "1"
    return copy


def _window(request: AuthedRequest, data: QueryDict | None, *, adding: str = "") -> Window:
    places = place_choices(request.user)
    kwargs: dict[str, Any] = {"places": places, "courts": court_choices(request.user)}
    initial = {"source": Source.WINDOW, "jurisdiction": default_place(request, places)}
    if adding and data is not None:
        # Adding a row is not a submission: the typed values come back, no errors are shown.
        data = _with_row_added(data, adding)
        form = WindowForm(None, initial={**initial, **data.dict()}, **kwargs)
    else:
        form = WindowForm(data, initial=initial, **kwargs)
    sides = {prefix: PartyFormSet(data, prefix=prefix) for prefix, _role in SIDES}
    return Window(form, sides)


def _parties(window: Window) -> list[services.PartyIn]:
    """The filled rows as PartyIn (applicants first), remembering each one's row for its errors."""
    parties = []
    for prefix, role in SIDES:
        filled = [row for row in window.sides[prefix].forms if not row.is_blank()]
        if not filled:
            label = _("申请人") if role == PartyRole.APPLICANT else _("被申请人")
            window.side_errors[prefix] = [_("请至少填写一名%(role)s") % {"role": label}]
        for row in filled:
            data = row.cleaned_data
            window.rows.append(row)
            parties.append(
                services.PartyIn(
                    role=role,
                    name=data["name"].strip(),
                    id_number=data["id_number"].strip(),
                    phone=data["phone"].strip(),
                    address=data["address"].strip(),
                )
            )
    return parties


def _place_errors(window: Window, exc: ValidationError) -> None:
    """The service's errors beside the fields: "parties[1].id_number" on the second party's row."""
    errors = exc.error_dict if hasattr(exc, "error_dict") else {"": exc.error_list}
    for name, errs in errors.items():
        found = PARTY_ERROR.match(name)
        if found and int(found[1]) < len(window.rows):
            row = window.rows[int(found[1])]
            target = found[2] if found[2] in row.fields else None
            for error in errs:
                row.add_error(target, error)
        elif name == "parties" or found:
            window.side_errors.setdefault("parties", []).extend(m for e in errs for m in e.messages)
        else:
            add_service_errors(window.form, ValidationError({name: errs}) if name else ValidationError(errs))


def _title(data: dict[str, Any], place: Jurisdiction) -> str:
    """A title without personal data: the type and the place (邻里纠纷（府山社区）)."""
    typed = (data.get("title") or "").strip()
    if typed:
        return typed
    return _("%(type)s（%(place)s）") % {"type": DisputeType(data["dispute_type"]).label, "place": place.name}


def _register(request: AuthedRequest, window: Window, parties: list[services.PartyIn]) -> Dispute | None:
    """Call the service; None with the errors placed when it refuses (nothing was written)."""
    data = window.form.cleaned_data
    place = visible_to(Jurisdiction.objects.all(), request.user).filter(code=data["jurisdiction"]).first()
    if place is None:
        window.form.add_error("jurisdiction", _("请选择您数据范围内的区划"))
    court = None
    if data.get("court"):
        court = (
            visible_to(Unit.objects.filter(kind=UnitKind.COURT), request.user)
            .filter(pk=data["court"])
            .first()
        )
        if court is None:
            window.form.add_error("court", _("请选择您数据范围内的法院"))
    if window.has_errors or place is None:
        return None
    try:
        return services.register_dispute(
            actor=request.user,
            dispute_type=data["dispute_type"],
            source=data["source"],
            jurisdiction=place,
            title=_title(data, place),
            facts=data["facts"],
            parties=parties,
            amount=data.get("amount"),
            people_involved=data.get("people_involved"),
            violence_threat=bool(data.get("violence_threat")),
            address=data.get("address") or "",
            referral=data.get("referral") or "",
            court=court,
            court_case_number=data.get("court_case_number") or "",
            procedure=data.get("procedure") or "",
            referred_on=data.get("referred_on"),
        )
    except ValidationError as exc:
        _place_errors(window, exc)
    except PermissionDenied as exc:
        window.form.add_error(None, str(exc) or _("您不能登记该纠纷"))
    return None


@login_required
@require_http_methods(["GET", "POST"])
def window(request: AuthedRequest) -> HttpResponse:
    """GET: the empty form. POST: register the dispute, then show it with the suggested organisations."""
    if not can_register(request.user):
        raise PermissionDenied(_("您的角色不能登记矛盾纠纷"))
    posted = request.POST if request.method == "POST" else None
    adding = request.POST.get("add_party", "") if posted is not None else ""
    if adding not in dict(SIDES):
        adding = ""
    win = _window(request, posted, adding=adding)
    status = 200
    if posted is not None and not adding:
        sides_valid = all([fs.is_valid() for fs in win.sides.values()])
        parties = _parties(win) if sides_valid else []  # names a missing side whatever else is wrong
        if win.form.is_valid() and sides_valid:
            dispute = _register(request, win, parties)
            if dispute is not None:
                messages.success(
                    request,
                    _("已登记，案件编号 %(number)s。请选择调解组织派遣。") % {"number": dispute.case.number},
                )
                return redirect(f"{reverse('disputes:detail', args=[dispute.pk])}?registered=1")
        status = 422
    context = {
        "win": win,
        "form": win.form,
        "applicants": win.sides["applicants"],
        "respondents": win.sides["respondents"],
        "show_errors": posted is not None and not adding,
        "key_types": [t.value for t in KEY_TYPES],
        "lookup_url": reverse("disputes:party_lookup"),
    }
    return render(request, "disputes/window.html", context, status=status)


def place_path(place: Jurisdiction) -> str:
    """柯城区信安街道府山社区: the place below the city, so that the clerk recognises the person."""
    chain = [j for j in place.ancestors() if j.level not in (Level.PROVINCE, Level.CITY)]
    return "".join(j.name for j in [*chain, place] if j.level != Level.GRID)


@login_required
@require_POST
def party_lookup(request: AuthedRequest) -> HttpResponse:
    """htmx: what the window knows of a typed ID number — invalid, a person already in the
    register (masked), or a new person. POST, so that the number never lands in an access log."""
    # htmx names the input that asked (its row); a plain POST may send one "id_number".
    asked = request.headers.get("HX-Trigger-Name") or "id_number"
    number = str(request.POST.get(asked, "")).strip() if asked.endswith("id_number") else ""
    context: dict[str, Any] = {"state": "empty"}
    if number:
        try:
            parse_id_number(number)
        except ValidationError as exc:
            context = {"state": "invalid", "message": exc.messages[0]}
        else:
            person = people.find_people(request.user, id_number=number).first()
            if person is None:
                context = {"state": "new"}
            else:
                context = {
                    "state": "found",
                    "person": people.masked(person),
                    "place": place_path(person.jurisdiction),
                }
    return render(request, "disputes/_party_hint.html", context)


# ---------------------------------------------------------------------------------------------
# One dispute: what the pages show


def visible_dispute(request: AuthedRequest, pk: int) -> tuple[Case, Dispute]:
    """THE read gate for one dispute: its case inside the user's scope, or 404."""
    case = get_visible_or_404(_detail_queryset().filter(kind="dispute"), request.user, pk=pk)
    try:
        dispute = (
            Dispute.objects.select_related("mediator", "court")
            .prefetch_related(
                "parties__person__jurisdiction", "sessions__parties__person", "sessions__recorded_by"
            )
            .get(case=case)
        )
    except Dispute.DoesNotExist as exc:
        raise Http404("not a dispute") from exc
    dispute.case = case
    return case, dispute


def _party_rows(user: Any, dispute: Dispute) -> list[dict[str, Any]]:
    """Parties masked; a link to the person's card (where 查看 reveals, audited) when in scope."""
    rows = []
    for party in dispute.parties.all():
        person = party.person
        rows.append(
            {
                "id": party.pk,
                "role": party.role,
                "role_label": party.get_role_display(),
                "person": people.masked(person),
                "place": person.jurisdiction.name,
                "url": reverse("people:detail", args=[person.pk]) if in_scope(user, person.area_code) else "",
            }
        )
    return rows


def session_rows(dispute: Dispute) -> list[dict[str, Any]]:
    """The sessions with their attendees masked (the record is the mediator's own text)."""
    return [
        {
            "at": s.at,
            "place": s.place,
            "attendees": [f"{p.get_role_display()} {mask_name(p.person.name)}" for p in s.parties.all()],
            "others": s.others,
            "recorded_by": s.recorded_by.display_name,
            "record": s.record,
        }
        for s in dispute.sessions.all()
    ]


def _flags(dispute: Dispute) -> list[str]:
    labels = dict(RiskFlag.choices)
    return [str(labels.get(flag, flag)) for flag in dispute.risk_flags or []]


def _agreement(dispute: Dispute) -> Any:
    try:
        return dispute.agreement
    except ObjectDoesNotExist:
        return None


def _confirmation(agreement: Any) -> Any:
    if agreement is None:
        return None
    try:
        return agreement.confirmation
    except ObjectDoesNotExist:
        return None


def agreement_download_url(user: Any, agreement: Any) -> str:
    """The agreement's .docx (helper 4's endpoint) for users who may see full names, else ""."""
    if agreement is None or not people.can_reveal(user):
        return ""
    try:
        return reverse("api:agreement_docx", kwargs={"dispute_id": agreement.dispute_id})
    except NoReverseMatch:
        return ""


def _confirmation_deadline(confirmation: Any) -> date | None:
    return None if confirmation is None else current_deadline(confirmation)


def parties_complete(dispute: Dispute) -> bool:
    roles = {p.role for p in dispute.parties.all()}
    return {PartyRole.APPLICANT, PartyRole.RESPONDENT} <= roles


def stage(case: Case, dispute: Dispute) -> str:
    """The mediator's next step: accept, parties (a 110 call's dispute without them), consent,
    mediate (sessions and outcome), or "" (none)."""
    if case.status == Status.DISPATCHED:
        return "accept"
    if case.status != Status.HANDLING or dispute.outcome:
        return ""
    if not parties_complete(dispute):
        return "parties"
    if dispute.both_consent:
        return "mediate"
    if Consent.REFUSED in (dispute.applicant_consent, dispute.respondent_consent):
        return ""
    return "consent"


def offered(case: Case, dispute: Dispute, user: Any, actions: list[Action] | None = None) -> set[str]:
    """The dispute actions ``user`` may take now (the service re-checks each)."""
    actions = allowed_actions(case, user) if actions is None else actions
    keys: set[str] = set()
    if Action.DISPATCH in actions:
        keys.add("assign")
    mediating = {Action.DISPATCH, Action.ACCEPT, Action.REPORT} & set(actions)
    if mediating and case.status in OPEN_STATUSES and not dispute.outcome:
        keys.add("party")
    step = stage(case, dispute)
    if step == "accept" and Action.ACCEPT in actions:
        keys.add("accept")
    if step == "consent" and Action.REPORT in actions:
        keys.add("consent")
    if step == "mediate" and Action.REPORT in actions:
        keys |= {"session", "outcome"}
    return keys


def party_options(dispute: Dispute) -> list[tuple[int, str]]:
    return [(p.pk, f"{p.get_role_display()} {mask_name(p.person.name)}") for p in dispute.parties.all()]


def action_forms(
    case: Case,
    dispute: Dispute,
    keys: set[str],
    *,
    failed: str = "",
    bound: forms.Form | None = None,
    rooms: dict[int, str] | None = None,
) -> dict[str, forms.Form]:
    """Unbound forms for the offered actions (ids unique per dispute), the failed one as posted.
    ``rooms``: the organisations' rooms by unit, when a list already looked them up."""
    auto_id = f"d{case.pk}-%s"
    version = {"version": case.version}
    builders: dict[str, Any] = {
        "assign": lambda: AssignForm(initial=version, auto_id=auto_id),
        "accept": lambda: AcceptForm(initial=version, auto_id=auto_id),
        "consent": lambda: ConsentForm(
            initial={
                **version,
                "applicant": _answered(dispute.applicant_consent),
                "respondent": _answered(dispute.respondent_consent),
            },
            auto_id=auto_id,
        ),
        "session": lambda: SessionForm(
            initial={
                **version,
                "at": local_now_minute(),
                "place": rooms.get(case.unit_id or 0, "") if rooms is not None else _room(case),
                "party_ids": [pk for pk, _label in party_options(dispute)],
            },
            parties=party_options(dispute),
            auto_id=auto_id,
        ),
        "outcome": lambda: OutcomeForm(initial=version, facts=case.description, auto_id=auto_id),
        "party": lambda: AddPartyForm(initial=version, auto_id=auto_id),
    }
    built = {key: builders[key]() for key in keys if key in builders}
    if failed and bound is not None:
        built[failed] = bound
    return built


def _answered(value: str) -> str | None:
    return value if value in (Consent.AGREED, Consent.REFUSED) else None


def _room(case: Case) -> str:
    org = MediationOrg.objects.filter(unit_id=case.unit_id).only("room").first() if case.unit_id else None
    return org.room if org is not None and org.room else ""


def _suggestions(request: AuthedRequest, dispute: Dispute) -> list[dict[str, Any]]:
    return [
        {"unit": s.org.unit, "org": s.org, "open_count": s.open_count, "reason": s.reason}
        for s in services.suggest_orgs(dispute)
    ]


def org_choices(user: Any) -> list[tuple[int, str]]:
    orgs = visible_to(MediationOrg.objects.select_related("unit").filter(unit__is_active=True), user)
    return [(o.unit_id, str(o)) for o in orgs.order_by("unit__area_code", "unit__name")]


def dispute_context(
    request: AuthedRequest,
    case: Case,
    dispute: Dispute,
    *,
    failed: str = "",
    bound: forms.Form | None = None,
    error: str = "",
) -> dict[str, Any]:
    """What the detail page shows; the case part is the case page's own (``cases.api.detail``)."""
    data = detail(case, request.user)
    actions = [Action(a["action"]) for a in data["allowed_actions"]]
    keys = offered(case, dispute, request.user, actions)
    agreement = _agreement(dispute)
    confirmation = _confirmation(agreement)
    return {
        "case": case,
        "dispute": dispute,
        "data": data,
        "row": decorate(dict(data)),
        "policy": policy_text(case),
        "flags": _flags(dispute),
        "parties": _party_rows(request.user, dispute),
        "sessions": session_rows(dispute),
        "key_type": dispute.dispute_type in KEY_TYPES,
        "agreement": agreement,
        "confirmation": confirmation,
        "confirmation_deadline": _confirmation_deadline(confirmation),
        "agreement_url": agreement_download_url(request.user, agreement),
        "offered": keys,
        "stage": stage(case, dispute),
        "forms": action_forms(case, dispute, keys, failed=failed, bound=bound),
        "suggestions": _suggestions(request, dispute) if "assign" in keys else [],
        "orgs": org_choices(request.user) if "assign" in keys else [],
        "failed": failed,
        "error": error,
        "other_actions": [a.label for a in actions if a not in OWN_ACTIONS],
        "can_reveal": people.can_reveal(request.user),
        "here": request.path,
    }


@login_required
def dispute_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    case, dispute = visible_dispute(request, pk)
    return render(request, "disputes/detail.html", dispute_context(request, case, dispute))


# ---------------------------------------------------------------------------------------------
# Actions: each posts one form to one service call


def _apply_assign(request: AuthedRequest, case: Case, dispute: Dispute, form: forms.Form) -> str:
    wanted = form.cleaned_data["org_unit"]
    allowed = {pk for pk, _name in org_choices(request.user)} | {
        s.org.unit_id for s in services.suggest_orgs(dispute)
    }
    unit = Unit.objects.filter(pk=wanted, kind=UnitKind.MEDIATION).first() if wanted in allowed else None
    if unit is None:
        raise ValidationError({"org_unit": [_("请选择您数据范围内的调解组织")]})
    services.assign(dispute, actor=request.user, org_unit=unit, version=form.cleaned_data.get("version"))
    return _("%(number)s 已派遣至 %(unit)s") % {"number": case.number, "unit": unit.name}


def _apply_accept(request: AuthedRequest, case: Case, dispute: Dispute, form: forms.Form) -> str:
    services.accept(dispute, actor=request.user, version=form.cleaned_data.get("version"))
    return _("%(number)s：已签收，请征询双方调解意愿") % {"number": case.number}


def _apply_consent(request: AuthedRequest, case: Case, dispute: Dispute, form: forms.Form) -> str:
    data = form.cleaned_data
    refused = Consent.REFUSED in (data["applicant"], data["respondent"])
    services.record_consent(
        dispute,
        actor=request.user,
        applicant=Consent(data["applicant"]),
        respondent=Consent(data["respondent"]),
        routes_told=data.get("routes_told", "") if refused else "",
        version=data.get("version"),
    )
    if refused:
        return _("%(number)s：当事人不同意调解，已终止并反馈") % {"number": case.number}
    return _("%(number)s：双方同意调解，已记录") % {"number": case.number}


def _apply_session(request: AuthedRequest, case: Case, dispute: Dispute, form: forms.Form) -> str:
    data = form.cleaned_data
    services.add_session(
        dispute,
        actor=request.user,
        at=data["at"],
        place=data["place"],
        party_ids=list(data.get("party_ids") or []),
        others=data.get("others") or "",
        record=data["record"],
        version=data.get("version"),
    )
    return _("%(number)s：调解记录已保存") % {"number": case.number}


def _apply_outcome(request: AuthedRequest, case: Case, dispute: Dispute, form: forms.Form) -> str:
    outcome_form = cast(OutcomeForm, form)
    data = outcome_form.cleaned_data
    success = data["outcome"] == Outcome.SUCCESS
    services.record_outcome(
        dispute,
        actor=request.user,
        outcome=Outcome(data["outcome"]),
        note=data.get("note") or "",
        routes_told="" if success else data.get("routes_told", ""),
        agreement=outcome_form.agreement(),
        version=data.get("version"),
    )
    return _("%(number)s：已记录%(outcome)s并反馈") % {
        "number": case.number,
        "outcome": Outcome(data["outcome"]).label,
    }


def _apply_party(request: AuthedRequest, case: Case, dispute: Dispute, form: forms.Form) -> str:
    data = form.cleaned_data
    party = services.PartyIn(
        role=data["role"],
        name=data["name"].strip(),
        id_number=data["id_number"].strip(),
        phone=data["phone"].strip(),
        address=data["address"].strip(),
    )
    services.add_party(dispute, actor=request.user, party=party, version=data.get("version"))
    return _("%(number)s：已增加%(role)s") % {"number": case.number, "role": PartyRole(data["role"]).label}


# Form renames: the service's field names → the form's.
RENAMES = {
    "unit": "org_unit",
    "agreement.facts": "agreement_facts",
    "agreement.terms": "terms",
    "agreement.performance": "performance",
    "agreement.perform_by": "perform_by",
    "agreement.signed_on": "signed_on",
    "parties[0].name": "name",
    "parties[0].id_number": "id_number",
    "parties[0].phone": "phone",
    "parties[0].address": "address",
    "parties[0].role": "role",
}
ACTIONS: dict[str, tuple[type[forms.Form], Any]] = {
    "assign": (AssignForm, _apply_assign),
    "accept": (AcceptForm, _apply_accept),
    "consent": (ConsentForm, _apply_consent),
    "session": (SessionForm, _apply_session),
    "outcome": (OutcomeForm, _apply_outcome),
    "party": (AddPartyForm, _apply_party),
}


def _bound_form(key: str, case: Case, dispute: Dispute, data: QueryDict) -> forms.Form:
    form_class = ACTIONS[key][0]
    auto_id = f"d{case.pk}-%s"
    if form_class is SessionForm:
        return SessionForm(data, parties=party_options(dispute), auto_id=auto_id)
    if form_class is OutcomeForm:
        return OutcomeForm(data, facts=case.description, auto_id=auto_id)
    return form_class(data, auto_id=auto_id)


def _act(request: AuthedRequest, pk: int, key: str) -> HttpResponse:
    """POST one dispute action. A refusal re-renders the dispute with the reason beside the
    form and everything typed kept: 403 not permitted, 409 stale or not allowed now, 422 bad input."""
    case, dispute = visible_dispute(request, pk)
    form = _bound_form(key, case, dispute, request.POST)

    def refused(status: int, error: str = "") -> HttpResponse:
        fresh_case, fresh = visible_dispute(request, pk)
        context = dispute_context(request, fresh_case, fresh, failed=key, bound=form, error=error)
        return render(request, "disputes/detail.html", context, status=status)

    if not form.is_valid():
        return refused(422, _("请按红色提示修改后再提交。"))
    version = form.cleaned_data.get("version")
    if version is not None and version != case.version:
        return refused(409, str(CONFLICT_MESSAGE))
    try:
        done = ACTIONS[key][1](request, case, dispute, form)
    except CaseError as exc:
        return refused(409, exc.message)
    except PermissionDenied as exc:
        return refused(403, str(exc) or _("您不能执行该操作"))
    except ValidationError as exc:
        add_service_errors(form, exc, RENAMES)
        return refused(422, _("请按红色提示修改后再提交。"))
    messages.success(request, done)
    return redirect(
        _safe_next(request, form.cleaned_data.get("next") or "") or reverse("disputes:detail", args=[pk])
    )


@login_required
@require_POST
def assign(request: AuthedRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "assign")


@login_required
@require_POST
def accept(request: AuthedRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "accept")


@login_required
@require_POST
def consent(request: AuthedRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "consent")


@login_required
@require_POST
def add_session(request: AuthedRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "session")


@login_required
@require_POST
def outcome(request: AuthedRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "outcome")


@login_required
@require_POST
def add_party(request: AuthedRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "party")


# ---------------------------------------------------------------------------------------------
# The list (纠纷调解)


# Tabs of the list: status groups, each with its capped count.
LIST_TABS: tuple[tuple[str, Any, tuple[str, ...] | None], ...] = (
    ("open", gettext_lazy("在办"), tuple(OPEN_STATUSES)),
    ("registered", Status.REGISTERED.label, (Status.REGISTERED, Status.RETURNED)),
    ("dispatched", Status.DISPATCHED.label, (Status.DISPATCHED,)),
    ("handling", gettext_lazy("调解中"), (Status.HANDLING,)),
    ("reported", Status.REPORTED.label, (Status.REPORTED,)),
    ("closed", Status.CLOSED.label, (Status.CLOSED,)),
    ("all", gettext_lazy("全部"), None),
)


def _page_number(request: HttpRequest) -> int:
    try:
        return min(max(int(request.GET.get("page", "1")), 1), MAX_PAGE)
    except ValueError:
        return 1


def _query(request: HttpRequest, **changes: str) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


def dispute_filter_q(values: dict[str, Any]) -> Q:
    """The dispute-specific filters over cases (joined to their Dispute row)."""
    q = Q()
    if values.get("dispute_type"):
        q &= Q(dispute__dispute_type=values["dispute_type"])
    if values.get("outcome") == "none":
        q &= Q(dispute__outcome="")
    elif values.get("outcome"):
        q &= Q(dispute__outcome=values["outcome"])
    if values.get("flagged") == "yes":
        q &= ~Q(dispute__risk_flags=[])
    elif values.get("flagged") == "no":
        q &= Q(dispute__risk_flags=[])
    if values.get("mediator"):
        q &= Q(dispute__mediator_id=values["mediator"])
    return q


def _listed(request: AuthedRequest, form: DisputeFilterForm) -> QuerySet[Case]:
    """The disputes the user may see that the filters select (every status)."""
    values = form.values()
    if form.errors:
        return Case.objects.none()
    filters = CaseFilters.model_validate(
        {"kind": "dispute", "area": values.get("area"), "q": values.get("q")}
    )
    qs = filter_cases(request.user, filters).filter(dispute_filter_q(values))
    within = current_jurisdiction(request)
    return qs if within is None else qs.filter(area_code__under=code_prefix(within.code))


def _list_rows(qs: QuerySet[Case], page: int) -> tuple[list[dict[str, Any]], bool]:
    """One page without a total (the tabs count, capped): one query plus the parties'."""
    qs = (
        qs.select_related("jurisdiction", "unit", "dispute", "dispute__mediator")
        .defer("jurisdiction__geometry", "description", "data")
        .prefetch_related("dispute__parties__person")
        .order_by("-registered_at", "-id")
    )
    start = (page - 1) * PAGE_SIZE
    found = list(qs[start : start + PAGE_SIZE + 1])
    now = timezone.now()
    return [dispute_row(case, now) for case in found[:PAGE_SIZE]], len(found) > PAGE_SIZE


def dispute_row(case: Case, now: datetime) -> dict[str, Any]:
    """A list row: the case's (``cases.api.item``) with the dispute's type, flags, parties (masked)."""
    dispute = case.dispute  # type: ignore[attr-defined]
    row = decorate(item(case, now))
    parties = list(dispute.parties.all())
    row.update(
        dispute=dispute,
        type_label=dispute.get_dispute_type_display(),
        key_type=dispute.dispute_type in KEY_TYPES,
        flags=_flags(dispute),
        applicants=[mask_name(p.person.name) for p in parties if p.role == PartyRole.APPLICANT],
        respondents=[mask_name(p.person.name) for p in parties if p.role == PartyRole.RESPONDENT],
        mediator=dispute.mediator.display_name if dispute.mediator else "",
        outcome_label=dispute.get_outcome_display() if dispute.outcome else "",
    )
    return row


@login_required
def dispute_list(request: AuthedRequest) -> HttpResponse:
    form = DisputeFilterForm(
        request.GET or None, areas=area_choices(request.user), mediators=mediator_choices(request.user)
    )
    tab = request.GET.get("tab", "open")
    statuses = {key: wanted for key, _label, wanted in LIST_TABS}
    if tab not in statuses:
        tab = "open"
    base = _listed(request, form)
    tabs = []
    for key, label, wanted in LIST_TABS:
        count: Capped = capped_count(base if wanted is None else base.filter(status__in=wanted))
        tabs.append(
            {
                "key": key,
                "label": label,
                "count": count.n,
                "more": count.more,
                "url": f"?{_query(request, tab=key)}",
                "active": key == tab,
            }
        )
    wanted = statuses[tab]
    page = _page_number(request)
    rows, has_next = _list_rows(base if wanted is None else base.filter(status__in=wanted), page)
    context = {
        "form": form,
        "tab": tab,
        "tabs": tabs,
        "rows": rows,
        "page": page,
        "prev_url": f"?{_query(request, page=str(page - 1))}" if page > 1 else "",
        "next_url": f"?{_query(request, page=str(page + 1))}" if has_next else "",
        "can_register": can_register(request.user),
    }
    return render(request, "disputes/list.html", context)


# ---------------------------------------------------------------------------------------------
# The mediator's workbench (调解工作台)


WORKBENCH_TABS: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("todo", gettext_lazy("待办"), (Status.DISPATCHED, Status.HANDLING)),
    ("reported", gettext_lazy("已反馈待核查"), (Status.REPORTED,)),
    ("closed", gettext_lazy("已结案"), (Status.CLOSED,)),
)


def workbench_q(user: Any) -> Q:
    """My disputes: the ones I mediate, and my unit's that nobody has taken yet."""
    q = Q(dispute__mediator=user)
    if getattr(user, "unit_id", None):
        q |= Q(dispute__mediator__isnull=True, unit_id=user.unit_id)
    return q


def _card(request: AuthedRequest, case: Case, now: datetime, rooms: dict[int, str]) -> dict[str, Any]:
    dispute = case.dispute  # type: ignore[attr-defined]
    row = dispute_row(case, now)
    keys = offered(case, dispute, request.user)
    agreement = _agreement(dispute)
    return {
        **row,
        "case": case,
        "stage": stage(case, dispute),
        "offered": keys,
        "forms": action_forms(case, dispute, keys, rooms=rooms),
        "sessions": case.session_count,  # type: ignore[attr-defined]
        "consent_done": dispute.applicant_consent != Consent.PENDING
        and dispute.respondent_consent != Consent.PENDING,
        "agreement": agreement,
        "confirmation": _confirmation(agreement),
    }


@login_required
def workbench(request: AuthedRequest) -> HttpResponse:
    """To accept, consent to record, sessions to add, outcomes to record: each with its deadline."""
    tab = request.GET.get("tab", "todo")
    statuses = {key: wanted for key, _label, wanted in WORKBENCH_TABS}
    if tab not in statuses:
        tab = "todo"
    base = filter_cases(request.user, CaseFilters.model_validate({"kind": "dispute"})).filter(
        workbench_q(request.user)
    )
    tabs = []
    for key, label, wanted in WORKBENCH_TABS:
        count = capped_count(base.filter(status__in=wanted))
        tabs.append(
            {
                "key": key,
                "label": label,
                "count": count.n,
                "more": count.more,
                "url": f"?tab={key}",
                "active": key == tab,
            }
        )
    page = _page_number(request)
    sessions = (
        MediationSession.objects.filter(dispute=OuterRef("pk"))
        .order_by()
        .values("dispute")
        .annotate(n=Count("pk"))
        .values("n")
    )
    qs = (
        base.filter(status__in=statuses[tab])
        .select_related("jurisdiction", "unit", "dispute__mediator", "dispute__agreement__confirmation")
        .defer("jurisdiction__geometry", "data")
        .prefetch_related("dispute__parties__person")
        .annotate(session_count=Coalesce(Subquery(sessions), 0))
    )
    order = ("deadline_at", "id") if tab == "todo" else ("-registered_at", "-id")
    start = (page - 1) * PAGE_SIZE
    found = list(qs.order_by(*order)[start : start + PAGE_SIZE + 1])
    now = timezone.now()
    units = {case.unit_id for case in found if case.unit_id}
    rooms = dict(MediationOrg.objects.filter(unit_id__in=units).values_list("unit_id", "room"))
    cards = [_card(request, case, now, rooms) for case in found[:PAGE_SIZE]]
    has_next = len(found) > PAGE_SIZE
    context = {
        "tab": tab,
        "tabs": tabs,
        "cards": cards,
        "page": page,
        "prev_url": f"?{urlencode({'tab': tab, 'page': page - 1})}" if page > 1 else "",
        "next_url": f"?{urlencode({'tab': tab, 'page': page + 1})}" if has_next else "",
        "is_mediator": request.user.role == Role.MEDIATOR or request.user.is_superuser,
        "here": request.get_full_path(),
    }
    return render(request, "disputes/workbench.html", context)


# ---------------------------------------------------------------------------------------------
# Statistics (纠纷统计)


def _stats_filters(form: StatsFilterForm) -> stats.StatsFilters:
    """The filters asked for; the last twelve months when empty; invalid ones shown on the form."""
    default = stats.default_filters(timezone.localdate())
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    end = data.get("end") or default.end
    start = data.get("start") or (default.start if not data.get("end") else stats.default_filters(end).start)
    f = stats.StatsFilters(start, end, data.get("area") or None, data.get("dispute_type") or None)
    try:
        f.validate()
    except ValidationError as exc:
        add_service_errors(form, exc)
        return default
    return f


def _chart_data(
    f: stats.StatsFilters,
    types: list[stats.Group],
    areas: list[stats.Group],
    months: list[stats.Group],
    area_label: str,
) -> dict[str, Any]:
    stamp = _("数据时间：%(time)s") % {"time": timezone.localtime().strftime("%Y-%m-%d %H:%M")}
    period = f"{f.start:%Y-%m-%d} — {f.end:%Y-%m-%d}"

    def pct(value: Any) -> float | None:
        return None if value is None else round(float(value) * 100, 1)

    # Largest first; ties keep the given order (the five key types first, areas by code).
    ranked_types = sorted(types, key=lambda g: -g.counts.total)
    ranked_areas = sorted(areas, key=lambda g: -g.counts.total)
    return {
        "trend": {
            "title": _("受理数与调解成功率逐月趋势（近 %(n)d 个月）") % {"n": len(months)},
            "subtitle": _("单位：件、%%　%(stamp)s") % {"stamp": stamp},
            "months": [g.key for g in months],
            "series": {
                "total": [g.counts.total for g in months],
                "key_types": [g.counts.key_types for g in months],
                "success_rate": [pct(g.counts.success_rate) for g in months],
            },
            "names": {"total": _("受理数"), "key_types": _("五类重点纠纷"), "success_rate": _("调解成功率")},
        },
        "types": {
            "title": _("按纠纷类型"),
            "subtitle": _("单位：件　深色为五类重点纠纷　%(period)s　%(stamp)s")
            % {"period": period, "stamp": stamp},
            "names": [g.name for g in ranked_types],
            "values": [g.counts.total for g in ranked_types],
            "key": [g.is_key_type for g in ranked_types],
        },
        "areas": {
            "title": _("按%(level)s") % {"level": area_label},
            "subtitle": _("单位：件　%(period)s　%(stamp)s") % {"period": period, "stamp": stamp},
            "names": [g.name for g in ranked_areas],
            "values": [g.counts.total for g in ranked_areas],
        },
    }


def stats_rows(groups: list[stats.Group]) -> list[dict[str, Any]]:
    """Table rows with the rates as the pages show them (one decimal and the %)."""
    return [
        {
            "key": g.key,
            "name": g.name,
            "is_key_type": g.is_key_type,
            "counts": g.counts,
            "success_rate": stats.percent(g.counts.success_rate),
            "police_share": stats.percent(g.counts.police_share),
            "rate_sort": "" if g.counts.success_rate is None else float(g.counts.success_rate),
        }
        for g in groups
    ]


def _trend_text(trend: stats.Trend | None) -> str:
    """12.5% (the change against the month before), or "+3 件" when that month had none."""
    if trend is None:
        return ""
    if trend.change is not None:
        return stats.percent(abs(trend.change))
    return _("%(n)+d 件") % {"n": trend.total - trend.previous}


AREA_LABELS = {
    Level.COUNTY: gettext_lazy("县（市、区）"),
    Level.TOWNSHIP: gettext_lazy("乡镇（街道）"),
    Level.VILLAGE: gettext_lazy("村（社区）"),
}


@login_required
def stats_page(request: AuthedRequest) -> HttpResponse:
    """Counts by type, area and month with trends; success rate and police-linked share."""
    default = stats.default_filters(timezone.localdate())
    form = StatsFilterForm(
        request.GET or None,
        areas=area_choices(request.user),
        initial={"start": default.start, "end": default.end},
    )
    f = _stats_filters(form)
    user = request.user
    level = stats.area_level(user, f)
    total = stats.summary(user, f)
    types = stats.by_type(user, f)
    areas = stats.by_area(user, f, level)
    months = stats.by_month(user, f)
    area_label = str(AREA_LABELS.get(level, ""))
    trend = stats.month_trend(months)
    context = {
        "form": form,
        "filters": f,
        "total": total,
        "total_row": stats_rows([stats.Group("", _("合计"), total)])[0],
        "types": stats_rows(types),
        "areas": stats_rows(areas),
        "months": stats_rows(months),
        "trend": trend,
        "trend_change": _trend_text(trend),
        "area_label": area_label,
        "type_label": DisputeType(f.dispute_type).label if f.dispute_type else "",
        "charts": _chart_data(f, types, areas, months, area_label),
        "data_time": timezone.localtime(),
        "api_url": f"/api/disputes/stats/?{request.GET.urlencode()}",
    }
    return render(request, "disputes/stats.html", context)
