"""Pages of the closed loop: the dispatch desk (分拨台), my work (我的待办), a case with its
timeline and actions, and the supervision board (督办看板).

Reads use the queries of pingan.cases.api (``filter_cases`` goes through the scoping function;
one case through ``get_visible_or_404``: outside the scope is 404). Every change goes through
the services: ``services.transition``, or for events ``events.services.dispatch``/``merge`` so
that routing learns from the desk's choices. The page offers exactly ``allowed_actions``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from pingan.accounts.choices import Role
from pingan.accounts.models import Unit
from pingan.cases import kinds, services
from pingan.cases.api import (
    ACTION_INPUTS,
    LIST_FIELDS,
    Capped,
    _detail_queryset,
    _order,
    capped_count,
    detail,
    filter_cases,
    item,
    status_counts,
    supervision_board,
)
from pingan.cases.choices import OPEN_STATUSES, Action, DeadlineUnit, Status, Supervision, Tier
from pingan.cases.models import Case
from pingan.cases.permissions import allowed_actions, check_actor
from pingan.cases.schemas import CaseFilters, EvaluatedBy, Mine, Ordering
from pingan.core.scoping import code_prefix, get_visible_or_404, visible_to
from pingan.core.types import AuthedRequest
from pingan.geo.choices import Level
from pingan.geo.models import Jurisdiction
from pingan.people.forms import add_service_errors
from pingan.web.context import current_jurisdiction

PAGE_SIZE = 30
MAX_PAGE = 10_000
EXPORT_MAX_ROWS = 50_000
BOARD_LIMIT = 20
CONFLICT_MESSAGE = gettext_lazy("该案件已被他人修改，请刷新后重试")

# Tabs of the desk: the desk's own queue (待办), every open case (在办), one per status, all.
TAB_TODO, TAB_OPEN, TAB_ALL = "todo", "open", "all"
DESK_STATUS_TABS = (
    Status.REGISTERED,
    Status.RETURNED,
    Status.DISPATCHED,
    Status.HANDLING,
    Status.REPORTED,
    Status.CLOSED,
    Status.PARKED,
    Status.CANCELLED,
)
SORTS = {o.value: o for o in Ordering}

# How each supervision level is shown: colour class and word (UI.md: never colour alone).
LEVEL_CLASS = {
    Supervision.NONE: "sv-none",
    Supervision.WARNING: "sv-warning",
    Supervision.NORMAL: "sv-normal",
    Supervision.YELLOW: "sv-yellow",
    Supervision.RED: "sv-red",
}
# Actions that close or turn the case: shown as the primary button when offered.
PRIMARY_ACTIONS = (Action.DISPATCH, Action.ACCEPT, Action.REPORT, Action.CLOSE, Action.EVALUATE)
# Actions that send work back or end it without a result: shown in the danger style.
DANGER_ACTIONS = (Action.RETURN, Action.REWORK, Action.CANCEL, Action.PARK, Action.REJECT_EXTENSION)
# What the note of each action is called on its form (the default: 意见).
NOTE_LABELS = {
    Action.REPORT: gettext_lazy("处置情况"),
    Action.RETURN: gettext_lazy("退回理由"),
    Action.REWORK: gettext_lazy("返工原因"),
    Action.CANCEL: gettext_lazy("注销理由"),
    Action.PARK: gettext_lazy("挂账理由"),
    Action.UNPARK: gettext_lazy("解除挂账理由"),
    Action.REQUEST_EXTENSION: gettext_lazy("延期理由"),
    Action.REJECT_EXTENSION: gettext_lazy("驳回理由"),
    Action.ESCALATE: gettext_lazy("提级理由"),
    Action.TRANSFER: gettext_lazy("转办理由"),
    Action.SUPERVISE: gettext_lazy("督办意见"),
    Action.CLOSE: gettext_lazy("核查意见"),
    Action.EVALUATE: gettext_lazy("评价内容"),
    Action.COMMENT: gettext_lazy("备注内容"),
}
POLICY_TEXT = {
    DeadlineUnit.URGENT_HOURS: gettext_lazy("%(n)s 小时（紧急）"),
    DeadlineUnit.WORKING_HOURS: gettext_lazy("%(n)s 个工作小时"),
    DeadlineUnit.WORKING_DAYS: gettext_lazy("%(n)s 个工作日"),
    DeadlineUnit.CALENDAR_DAYS: gettext_lazy("%(n)s 个自然日"),
}


# ---------------------------------------------------------------------------------------------
# Time left / overdue, in words


def duration_text(seconds: int) -> str:
    """3 天 4 小时 / 5 小时 12 分钟 / 8 分钟 (elapsed time, not working time)."""
    minutes = max(0, seconds) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)d 天 %(h)d 小时") % {"d": days, "h": hours} if hours else _("%(d)d 天") % {"d": days}
    if hours:
        return (
            _("%(h)d 小时 %(m)d 分钟") % {"h": hours, "m": minutes}
            if minutes
            else _("%(h)d 小时") % {"h": hours}
        )
    return _("%(m)d 分钟") % {"m": max(minutes, 1 if seconds > 0 else 0)}


def clock(row: dict[str, Any]) -> dict[str, Any]:
    """The deadline as the pages show it: text and state (running, overdue, met, none)."""
    if row["deadline_at"] is None:
        waiting = row["status"] in (Status.REGISTERED, Status.RETURNED)
        return {"state": "none", "text": _("派遣后计时") if waiting else "—"}
    overdue = row["overdue_seconds"] or 0
    if row["seconds_left"] is not None:
        if overdue > 0:
            return {"state": "overdue", "text": _("已超期 %(t)s") % {"t": duration_text(overdue)}}
        return {"state": "running", "text": _("剩余 %(t)s") % {"t": duration_text(row["seconds_left"])}}
    if overdue > 0:
        return {"state": "overdue", "text": _("超期 %(t)s") % {"t": duration_text(overdue)}}
    return {"state": "met", "text": _("按期处置")}


def policy_text(case: Case) -> str:
    """The case's time limit in words: 48 小时（紧急）, 15 个工作日 …"""
    amount = f"{case.deadline_amount.normalize():f}" if case.deadline_amount is not None else "?"
    template = POLICY_TEXT.get(DeadlineUnit(case.deadline_unit)) if case.deadline_unit else None
    return str(template) % {"n": amount} if template else amount


def decorate(row: dict[str, Any]) -> dict[str, Any]:
    """A list row (``api.item``) with what the templates need: clock and supervision class."""
    row["clock"] = clock(row)
    row["level_class"] = LEVEL_CLASS.get(Supervision(row["supervision"]), "sv-none")
    return row


# ---------------------------------------------------------------------------------------------
# Filters


def _category_choices() -> list[Any]:
    """大类 with their 小类, as select option groups (an event filter; empty without the events app)."""
    if not apps.is_installed("pingan.events"):
        return []
    category_model = apps.get_model("events", "Category")
    rows = list(
        category_model.objects.filter(active=True)
        .order_by("order", "code")
        .values("code", "name", "parent_id", "id")
    )
    children: dict[int, list[tuple[str, str]]] = {}
    for row in rows:
        if row["parent_id"] is not None:
            children.setdefault(row["parent_id"], []).append((row["code"], row["name"]))
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for row in rows:
        if row["parent_id"] is None:
            groups.append(
                (
                    row["name"],
                    [
                        (row["code"], _("%(name)s（全部）") % {"name": row["name"]}),
                        *children.get(row["id"], []),
                    ],
                )
            )
    return groups


def set_choices(form: forms.BaseForm, name: str, choices: list[Any]) -> None:
    cast(forms.ChoiceField, form.fields[name]).choices = choices


def _area_choices(user: Any) -> list[tuple[str, str]]:
    """Counties and townships in the user's scope (deeper places: the top-bar switcher)."""
    places = (
        visible_to(Jurisdiction.objects.filter(level__in=[Level.COUNTY, Level.TOWNSHIP]), user)
        .order_by("code")
        .values_list("code", "name", "level")
    )
    return [(code, name if level == Level.COUNTY else f"　{name}") for code, name, level in places]


def unit_choices(user: Any) -> list[tuple[int, str]]:
    """Active units in the user's scope, by place then name."""
    units = visible_to(Unit.objects.filter(is_active=True), user).order_by("area_code", "name")
    return list(units.values_list("pk", "name"))


class CaseFilterForm(forms.Form):
    """The filters of the work lists (GET). ``compact`` keeps the few that "my work" needs."""

    q = forms.CharField(label=gettext_lazy("编号/标题"), max_length=100, required=False)
    category = forms.ChoiceField(label=gettext_lazy("事件类型"), required=False)
    area = forms.ChoiceField(label=gettext_lazy("所属区划"), required=False)
    unit = forms.TypedChoiceField(
        label=gettext_lazy("责任单位"), required=False, coerce=int, empty_value=None
    )
    supervision = forms.TypedChoiceField(
        label=gettext_lazy("督办等级"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", gettext_lazy("全部")), *Supervision.choices],
    )
    overdue = forms.ChoiceField(
        label=gettext_lazy("是否超期"),
        required=False,
        choices=[("", gettext_lazy("全部")), ("yes", gettext_lazy("已超期")), ("no", gettext_lazy("未超期"))],
    )
    kind = forms.ChoiceField(label=gettext_lazy("事项类型"), required=False)
    registered_from = forms.DateField(
        label=gettext_lazy("登记日期起"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    registered_to = forms.DateField(
        label=gettext_lazy("登记日期止"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    COMPACT = ("q", "overdue", "kind")

    def __init__(self, *args: Any, user: Any, compact: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(placeholder=_("编号开头或标题关键字"), inputmode="search")
        set_choices(self, "kind", [("", _("全部")), *((k.key, k.label) for k in kinds.all_kinds())])
        if compact:
            for name in [n for n in self.fields if n not in self.COMPACT]:
                del self.fields[name]
        else:
            categories = _category_choices()
            areas = _area_choices(user)
            units = unit_choices(user)
            set_choices(self, "category", [("", _("全部")), *categories])
            set_choices(self, "area", [("", _("全部")), *areas])
            set_choices(self, "unit", [("", _("全部")), *units])
            for name, options in (("category", categories), ("area", areas), ("unit", units)):
                if not options:
                    del self.fields[name]
        if len(kinds.all_kinds()) < 2:
            del self.fields["kind"]

    @property
    def filtered(self) -> bool:
        """Whether any filter is set (the empty state then says so)."""
        return self.is_bound and any(self.data.get(name) for name in self.fields)

    def filters(self, **extra: Any) -> CaseFilters:
        """The CaseFilters asked for; an invalid form filters on its valid fields only."""
        data: dict[str, Any] = {}
        if self.is_bound:
            self.is_valid()  # an invalid field is left out of cleaned_data
            data = self.cleaned_data
        overdue = {"yes": True, "no": False}.get(data.get("overdue") or "")
        supervision = data.get("supervision")
        return CaseFilters(
            q=data.get("q") or None,
            category=data.get("category") or None,
            area=data.get("area") or None,
            unit=data.get("unit"),
            overdue=overdue,
            supervision=[supervision] if supervision is not None else [],
            kind=data.get("kind") or None,
            registered_from=data.get("registered_from"),
            registered_to=data.get("registered_to"),
            **extra,
        )


def _narrowed(request: HttpRequest, qs: QuerySet[Case]) -> QuerySet[Case]:
    """The top-bar switcher narrows the list to one of the user's jurisdictions (never widens)."""
    within = current_jurisdiction(request)
    return qs if within is None else qs.filter(area_code__under=code_prefix(within.code))


def _page_number(request: HttpRequest) -> int:
    try:
        return min(max(int(request.GET.get("page", "1")), 1), MAX_PAGE)
    except ValueError:
        return 1


def _sort(request: HttpRequest, default: Ordering) -> Ordering:
    return SORTS.get(request.GET.get("sort", ""), default)


def _query(request: HttpRequest, **changes: Any) -> str:
    """The current query string with ``changes`` (None removes a key); the page is reset."""
    query = request.GET.copy()
    query.pop("page", None)
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query[key] = value
    return query.urlencode()


def _sort_links(request: HttpRequest, current: Ordering) -> dict[str, dict[str, str]]:
    """Header links of the sortable columns (登记时间, 处置期限): first click one way, then back."""
    links = {}
    for column, (asc, desc, first) in {
        "registered": (Ordering.REGISTERED, Ordering.REGISTERED_DESC, Ordering.REGISTERED_DESC),
        "deadline": (Ordering.DEADLINE, Ordering.DEADLINE_DESC, Ordering.DEADLINE),
    }.items():
        state = "asc" if current == asc else "desc" if current == desc else ""
        target = {"asc": desc, "desc": asc}.get(state, first)
        links[column] = {"url": f"?{_query(request, sort=target.value)}", "state": state}
    return links


def _rows(qs: QuerySet[Case], ordering: Ordering, page: int, now: datetime) -> tuple[list[Case], bool]:
    """One page of cases, without a total (the tab counts give totals): one indexed query."""
    # extension_pending: allowed_actions reads it (one-click 签收 on "my work").
    qs = _order(qs, ordering).select_related("jurisdiction", "unit").only(*LIST_FIELDS, "extension_pending")
    start = (page - 1) * PAGE_SIZE
    found = list(qs[start : start + PAGE_SIZE + 1])
    return found[:PAGE_SIZE], len(found) > PAGE_SIZE


def _events_of(cases: list[Case]) -> dict[int, Any]:
    """The Event rows of the listed cases (category "大类/小类", routing facts), in one query."""
    if not apps.is_installed("pingan.events"):
        return {}
    event_model = apps.get_model("events", "Event")
    events = event_model.objects.filter(case_id__in=[c.pk for c in cases]).select_related(
        "category__parent", "category__default_unit"
    )
    return {e.case_id: e for e in events}


def _categories_of(events: dict[int, Any]) -> dict[int, str]:
    return {case_id: str(e.category) for case_id, e in events.items()}


# ---------------------------------------------------------------------------------------------
# The dispatch desk (分拨台)


@dataclass
class DeskList:
    """What the desk and its export share: the form, the tab and the filtered cases."""

    form: CaseFilterForm
    tab: str
    queryset: QuerySet[Case]
    base: CaseFilters


def _desk_tab(value: str | None) -> str:
    allowed = {TAB_TODO, TAB_OPEN, TAB_ALL, *(s.value for s in DESK_STATUS_TABS)}
    return value if value in allowed else TAB_TODO


def _tab_filters(base: CaseFilters, tab: str) -> CaseFilters:
    if tab == TAB_TODO:
        return base.model_copy(update={"mine": Mine.TODO})
    if tab == TAB_OPEN:
        return base.model_copy(update={"status": list(OPEN_STATUSES)})
    if tab == TAB_ALL:
        return base
    return base.model_copy(update={"status": [Status(tab)]})


def desk_list(request: HttpRequest, now: datetime) -> DeskList:
    form = CaseFilterForm(request.GET or None, user=request.user)
    tab = _desk_tab(request.GET.get("tab"))
    base = form.filters()
    qs: QuerySet[Case] = Case.objects.none()
    if not form.errors:  # a mistyped filter lists nothing rather than more than was asked for
        try:
            qs = _narrowed(request, filter_cases(request.user, _tab_filters(base, tab), now))
        except ValidationError as exc:
            add_service_errors(form, exc)
    return DeskList(form, tab, qs, base)


def _desk_tabs(request: HttpRequest, listing: DeskList, now: datetime) -> list[dict[str, Any]]:
    """Counts per status as tabs (each capped), plus the desk's queue and the open cases."""
    counts: dict[str, Capped] = {s.value: Capped(0) for s in Status}
    todo = Capped(0)
    if not listing.form.errors:
        counts = status_counts(_narrowed(request, filter_cases(request.user, listing.base, now)))
        todo = capped_count(
            _narrowed(request, filter_cases(request.user, _tab_filters(listing.base, TAB_TODO), now))
        )
    tabs = [
        (TAB_TODO, _("待办"), todo),
        (TAB_OPEN, _("在办"), Capped.sum(counts[s] for s in OPEN_STATUSES)),
        *((s.value, s.label, counts[s.value]) for s in DESK_STATUS_TABS),
        (TAB_ALL, _("全部"), Capped.sum(counts.values())),
    ]
    return [
        {
            "key": key,
            "label": label,
            "count": n.n,
            "more": n.more,
            "url": f"?{_query(request, tab=key)}",
            "active": key == listing.tab,
        }
        for key, label, n in tabs
    ]


def _suggestions(
    request: HttpRequest, cases: list[Case], events: dict[int, Any]
) -> dict[int, dict[str, Any]]:
    """For each case the user may dispatch now: the suggested unit and why (events only)."""
    found: dict[int, dict[str, Any]] = {}
    dispatchable = [c for c in cases if c.status in (Status.REGISTERED, Status.RETURNED)]
    if not dispatchable or not apps.is_installed("pingan.events"):
        return found
    from pingan.events import routing

    allowed = [c for c in dispatchable if Action.DISPATCH in allowed_actions(c, request.user)]
    suggestions = routing.suggest_many([(c, events[c.pk]) for c in allowed if c.pk in events])
    for case in allowed:
        offer: dict[str, Any] = {"unit": None, "source": ""}
        suggestion = suggestions.get(case.pk)
        if suggestion is not None and suggestion.unit is not None:
            offer = {"unit": suggestion.unit, "source": suggestion.source.label}
        found[case.pk] = offer
    return found


@login_required
def desk(request: AuthedRequest) -> HttpResponse:
    """The dispatch desk: the queue with filters, tabs, suggestion and one-click dispatch."""
    now = timezone.now()
    listing = desk_list(request, now)
    ordering = _sort(request, Ordering.REGISTERED_DESC)
    page = _page_number(request)
    cases, has_next = _rows(listing.queryset, ordering, page, now)
    events = _events_of(cases)
    categories = _categories_of(events)
    suggestions = _suggestions(request, cases, events)
    rows = []
    for case in cases:
        row = decorate(item(case, now))
        row["category"] = categories.get(case.pk, "")
        row["dispatch"] = suggestions.get(case.pk)
        rows.append(row)
    context = {
        "form": listing.form,
        "tab": listing.tab,
        "tabs": _desk_tabs(request, listing, now),
        "rows": rows,
        "page": page,
        "has_next": has_next,
        "prev_url": f"?{_query(request, page=str(page - 1))}" if page > 1 else "",
        "next_url": f"?{_query(request, page=str(page + 1))}" if has_next else "",
        "sort_links": _sort_links(request, ordering),
        "export_url": f"{reverse('cases:desk_export')}?{_query(request)}",
        "here": request.get_full_path(),
        "can_report": _can_report(request.user),
    }
    return render(request, "cases/desk.html", context)


def _can_report(user: Any) -> bool:
    if not apps.is_installed("pingan.events"):
        return False
    from pingan.events.services import INTAKE_ROLES

    return user.is_superuser or user.role in INTAKE_ROLES


EXPORT_COLUMNS = (
    ("number", gettext_lazy("编号"), 24),
    ("title", gettext_lazy("标题"), 36),
    ("kind_label", gettext_lazy("事项类型"), 10),
    ("category", gettext_lazy("事件类型"), 18),
    ("status_label", gettext_lazy("状态"), 10),
    ("area_name", gettext_lazy("所属区划"), 18),
    ("unit_name", gettext_lazy("责任单位"), 24),
    ("registered_at", gettext_lazy("登记时间"), 17),
    ("deadline_at", gettext_lazy("处置期限"), 17),
    ("clock", gettext_lazy("剩余/超期"), 16),
    ("supervision_label", gettext_lazy("督办"), 8),
)


@login_required
def desk_export(request: AuthedRequest) -> FileResponse:
    """The filtered desk list as .xlsx (Chinese headers, no personal data), at most EXPORT_MAX_ROWS rows.

    Written row by row to a temporary file (xlsxwriter's constant-memory mode) and streamed.
    """
    import xlsxwriter

    now = timezone.now()
    listing = desk_list(request, now)
    ordering = _sort(request, Ordering.REGISTERED_DESC)
    qs = (
        _order(listing.queryset, ordering)
        .select_related("jurisdiction", "unit")
        .defer("jurisdiction__geometry", "description", "data")
    )
    if apps.is_installed("pingan.events"):
        qs = qs.select_related("event__category__parent")
    # Closed by FileResponse once sent (a context manager would close it before that).
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115
    book = xlsxwriter.Workbook(handle, {"constant_memory": True, "remove_timezone": True})
    sheet = book.add_worksheet(_("案件"))
    head = book.add_format({"bold": True, "bg_color": "#DCE6F2", "border": 1})
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    local_now = timezone.localtime(now)
    title = _("分拨台案件清单（%(tab)s）　导出时间：%(time)s") % {
        "tab": _tab_label(listing.tab),
        "time": local_now.strftime("%Y-%m-%d %H:%M"),
    }
    sheet.write(0, 0, title)
    for col, (_key, label, width) in enumerate(EXPORT_COLUMNS):
        sheet.set_column(col, col, width)
        sheet.write(1, col, str(label), head)
    for written, case in enumerate(qs[: EXPORT_MAX_ROWS + 1].iterator(chunk_size=2000)):
        if written == EXPORT_MAX_ROWS:
            sheet.write(
                written + 2, 0, _("仅导出前 %(n)s 条，请缩小筛选范围") % {"n": f"{EXPORT_MAX_ROWS:,}"}
            )
            break
        row = decorate(item(case, now))
        event = getattr(case, "event", None) if apps.is_installed("pingan.events") else None
        row["category"] = str(event.category) if event is not None else ""
        row["clock"] = row["clock"]["text"]
        for col, (key, _label, _width) in enumerate(EXPORT_COLUMNS):
            value = row.get(key)
            if isinstance(value, datetime):
                sheet.write_datetime(written + 2, col, timezone.localtime(value).replace(tzinfo=None), when)
            else:
                sheet.write(written + 2, col, "" if value is None else str(value))
    book.close()
    handle.seek(0)
    name = _("分拨台案件_%(date)s.xlsx") % {"date": local_now.strftime("%Y%m%d")}
    return FileResponse(
        handle,
        as_attachment=True,
        filename=name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _tab_label(tab: str) -> str:
    return {TAB_TODO: _("待办"), TAB_OPEN: _("在办"), TAB_ALL: _("全部")}.get(tab) or str(Status(tab).label)


# ---------------------------------------------------------------------------------------------
# My work (我的待办 / 已办)


def _mine_tab(user: Any, value: str | None) -> str:
    if value in (Mine.TODO, Mine.DONE):
        return str(value)
    # Grid workers take no step of the loop after reporting: their page opens on what they did.
    return Mine.DONE if user.role == Role.GRID_WORKER and not user.is_superuser else Mine.TODO


@login_required
def my_work(request: AuthedRequest) -> HttpResponse:
    """待办 (what waits for me or my unit) and 已办 (cases I took a step on), by deadline."""
    now = timezone.now()
    form = CaseFilterForm(request.GET or None, user=request.user, compact=True)
    tab = _mine_tab(request.user, request.GET.get("tab"))
    default_sort = Ordering.DEADLINE if tab == Mine.TODO else Ordering.REGISTERED_DESC
    ordering = _sort(request, default_sort)
    page = _page_number(request)
    counts = {Mine.TODO.value: Capped(0), Mine.DONE.value: Capped(0)}
    cases: list[Case] = []
    has_next = False
    base = form.filters()
    try:
        for key in counts if not form.errors else ():
            mine = base.model_copy(update={"mine": Mine(key)})
            qs = _narrowed(request, filter_cases(request.user, mine, now))
            counts[key] = capped_count(qs)
            if key == tab:
                cases, has_next = _rows(qs, ordering, page, now)
    except ValidationError as exc:
        add_service_errors(form, exc)
    categories = _categories_of(_events_of(cases))
    rows = []
    for case in cases:
        row = {**decorate(item(case, now)), "category": categories.get(case.pk, "")}
        # 签收 in one click from the list (the unit's first step on a new case).
        row["accept"] = case.status == Status.DISPATCHED and Action.ACCEPT in allowed_actions(
            case, request.user
        )
        rows.append(row)
    tabs = [
        {
            "key": m.value,
            "label": m.label,
            "count": counts[m.value].n,
            "more": counts[m.value].more,
            "url": f"?{_query(request, tab=m.value)}",
            "active": m.value == tab,
        }
        for m in Mine
    ]
    context = {
        "form": form,
        "tab": tab,
        "tabs": tabs,
        "rows": rows,
        "page": page,
        "has_next": has_next,
        "prev_url": f"?{_query(request, page=str(page - 1))}" if page > 1 else "",
        "next_url": f"?{_query(request, page=str(page + 1))}" if has_next else "",
        "sort_links": _sort_links(request, ordering),
        "can_report": _can_report(request.user),
        "is_desk": request.user.is_superuser or request.user.role in kinds.OFFICE,
        "here": request.get_full_path(),
    }
    return render(request, "cases/mine.html", context)


# ---------------------------------------------------------------------------------------------
# One case: detail and actions


class ActionForm(forms.Form):
    """The inputs of one action, posted from the detail page or the desk (plain form or htmx)."""

    version = forms.IntegerField(
        min_value=0,
        max_value=2**31 - 1,
        error_messages={"required": gettext_lazy("缺少版本号，请刷新页面后重试")},
    )
    note = forms.CharField(label=gettext_lazy("意见"), max_length=2000, required=False, strip=True)
    unit_id = forms.IntegerField(
        label=gettext_lazy("责任单位"), required=False, min_value=1, max_value=2**63 - 1
    )
    unit_ids = forms.TypedMultipleChoiceField(label=gettext_lazy("协办单位"), required=False, coerce=int)
    amount = forms.DecimalField(
        label=gettext_lazy("延期时长"),
        required=False,
        min_value=Decimal("0.5"),
        max_value=365,
        decimal_places=2,
    )
    satisfaction = forms.TypedChoiceField(
        label=gettext_lazy("满意度"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[(str(n), str(n)) for n in range(1, 6)],
    )
    by = forms.ChoiceField(label=gettext_lazy("评价来源"), required=False, choices=EvaluatedBy.choices)
    tier = forms.TypedChoiceField(
        label=gettext_lazy("提级到"), required=False, coerce=int, empty_value=None, choices=Tier.choices
    )
    target = forms.IntegerField(
        label=gettext_lazy("并入案件"), required=False, min_value=1, max_value=2**63 - 1
    )
    next = forms.CharField(required=False, max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any id is accepted here; _params keeps only units inside the user's scope.
        posted = self.data.getlist("unit_ids") if hasattr(self.data, "getlist") else []
        set_choices(self, "unit_ids", [(v, v) for v in posted if str(v).isdigit()])


# Service field names → the form's names, so an error lands beside the field the user filled in.
FIELD_NAMES = {"unit": "unit_id", "units": "unit_ids", "deadline": "note"}


def _visible_case(request: HttpRequest, pk: int) -> Case:
    """THE read gate for one case: outside the user's scope is 404, never 403 (no leak)."""
    return get_visible_or_404(_detail_queryset(), request.user, pk=pk)


def _event_facts(case: Case) -> dict[str, Any] | None:
    if case.kind != "event" or not apps.is_installed("pingan.events"):
        return None
    event = (
        apps.get_model("events", "Event").objects.select_related("category__parent").filter(case=case).first()
    )
    if event is None:
        return None
    return {
        "category": str(event.category),
        "on_spot": event.on_spot,
        "channel_ref": event.channel_ref,
        "close_condition": event.category.close_condition,
    }


def _duplicates(request: HttpRequest, case: Case) -> list[dict[str, Any]]:
    """Near-duplicate events the user may see, proposed for a merge (疑似重复)."""
    from pingan.events.duplicates import find_duplicates

    found = find_duplicates(case)
    visible = set(
        visible_to(Case.objects.filter(pk__in=[c.pk for c, _s in found]), request.user).values_list(
            "pk", flat=True
        )
    )
    return [
        {
            "id": other.pk,
            "number": other.number,
            "title": other.title,
            "status": Status(other.status).label,
            "score": round(score * 100),
        }
        for other, score in found
        if other.pk in visible
    ]


def _offers(case: Case, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The actions offered (``detail``'s allowed_actions) with how each is shown."""
    offers = []
    own = kinds.get(case.kind).own_actions
    for offer in data["allowed_actions"]:
        action = Action(offer["action"])
        if action == Action.MERGE or action in own:
            continue  # merge: beside each near-duplicate (it needs a target); own: the kind's page
        style = "primary" if action in PRIMARY_ACTIONS else "danger" if action in DANGER_ACTIONS else ""
        note_label = NOTE_LABELS.get(action, _("意见"))
        offers.append(
            {**offer, "style": style, "inputs": ACTION_INPUTS.get(action, []), "note_label": note_label}
        )
    return offers


def render_case(
    request: AuthedRequest,
    case: Case,
    *,
    status: int = 200,
    error: str = "",
    failed: Action | str = "",
    form: ActionForm | None = None,
) -> HttpResponse:
    """The case page; after a refused action, with the message beside that action's form and
    everything the user typed kept (the note first of all)."""
    data = detail(case, request.user)
    row = decorate(dict(data))
    first_step = data["timeline"][0] if data["timeline"] else None
    offers = _offers(case, data)
    offered = {o["action"] for o in data["allowed_actions"]}
    suggestion: dict[str, Any] | None = None
    duplicates: list[dict[str, Any]] = []
    if case.kind == "event" and apps.is_installed("pingan.events"):
        if Action.DISPATCH in offered:
            from pingan.events import routing

            found = routing.suggest(case)
            if found.unit is not None:
                suggestion = {"unit": found.unit, "source": found.source.label}
        if Action.MERGE in offered:
            duplicates = _duplicates(request, case)
    needs_units = offered & {Action.DISPATCH, Action.TRANSFER, Action.ADD_COHANDLER}
    units = unit_choices(request.user) if needs_units else []
    if suggestion is not None:  # the suggested unit first
        suggested_pk = suggestion["unit"].pk
        units.sort(key=lambda u: u[0] != suggested_pk)
    posted = form.data if form is not None else {}
    context = {
        "case": case,
        "data": data,
        "row": row,
        "event": _event_facts(case),
        "offers": offers,
        "suggestion": suggestion,
        "duplicates": duplicates,
        "units": units,
        "error": error,
        "failed": str(failed),
        "offered_keys": offered,
        "posted": posted,
        "form_errors": form.errors if form is not None else {},
        "tiers": [t for t in Tier if t > case.tier],
        "satisfaction_choices": range(5, 0, -1),
        "evaluated_by": EvaluatedBy.choices,
        "map_config": _map_config(case),
        # Photos from the scene (the register step's) beside the description; later ones in the timeline.
        "photos": [a for a in first_step["attachments"] if a["content_type"].startswith("image/")]
        if first_step
        else [],
        "policy": policy_text(case),
        "own_page": _own_page(case),
        "desk_kicker": request.user.is_superuser or request.user.role in kinds.OFFICE,
        # Only 备注 to offer (a grid worker, a closed case): the record comes first, then the note.
        "actions_first": any(o["action"] != Action.COMMENT for o in offers),
        "reported": request.GET.get("reported") == "1",
        "level_class": LEVEL_CLASS,
    }
    return render(request, "cases/detail.html", context, status=status)


def _own_page(case: Case) -> str:
    """The kind's own page for this case (a dispute's mediation page), if it has one."""
    name = kinds.get(case.kind).own_page
    return reverse(name, args=[case.pk]) if name else ""


def _map_config(case: Case) -> dict[str, Any] | None:
    if case.lat is None or case.lon is None:
        return None
    return {
        "lat": case.lat,
        "lon": case.lon,
        "outlinesUrl": f"{reverse('api:api-root')}geo/outlines",
        "grid": case.area_code if case.jurisdiction.level == Level.GRID else "",
        "tileUrl": settings.TILE_URL,
    }


@login_required
def case_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return render_case(request, _visible_case(request, pk))


def _safe_next(request: HttpRequest, value: str) -> str | None:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return None


def _params(request: HttpRequest, action: Action, form: ActionForm) -> dict[str, Any]:
    """The action's inputs resolved inside the user's scope; anything else is an error on its field."""
    data = form.cleaned_data
    wanted = ACTION_INPUTS.get(action, [])
    params: dict[str, Any] = {}
    units = visible_to(Unit.objects.filter(is_active=True), request.user)
    if "unit_id" in wanted:
        unit = units.filter(pk=data.get("unit_id") or 0).first()
        if unit is None:
            raise ValidationError({"unit_id": [_("请选择您数据范围内的责任单位")]})
        params["unit"] = unit
    if "unit_ids" in wanted:
        chosen = list(units.filter(pk__in=data.get("unit_ids") or []))
        if not chosen or len(chosen) != len(set(data.get("unit_ids") or [])):
            raise ValidationError({"unit_ids": [_("请选择您数据范围内的协办单位")]})
        params["units"] = chosen
    if "target" in wanted:
        target = visible_to(Case.objects.all(), request.user).filter(pk=data.get("target") or 0).first()
        if target is None:
            raise ValidationError({"target": [_("案件不存在或不在您的数据范围内")]})
        params["target"] = target
    if "amount" in wanted:
        if data.get("amount") is None and action == Action.REQUEST_EXTENSION:
            raise ValidationError({"amount": [_("请填写延期时长")]})
        if data.get("amount") is not None:
            params["amount"] = data["amount"]
    if "satisfaction" in wanted:
        params["satisfaction"] = data.get("satisfaction")
        params["by"] = data.get("by") or EvaluatedBy.REQUESTER
    if "tier" in wanted and data.get("tier") is not None:
        params["tier"] = data["tier"]
    return params


def _apply(
    request: HttpRequest, case: Case, action: Action, version: int, note: str, params: dict[str, Any]
) -> None:
    """One action through the write gate; events dispatch and merge through the events services."""
    if (
        case.kind == "event"
        and action in (Action.DISPATCH, Action.MERGE)
        and apps.is_installed("pingan.events")
    ):
        from pingan.events import services as events

        if action == Action.DISPATCH:
            events.dispatch(case, params["unit"], actor=request.user, version=version, note=note)
        else:
            events.merge(case, params["target"], actor=request.user, version=version, note=note)
        return
    services.transition(case, action, actor=request.user, version=version, note=note, **params)


def _done_message(case: Case, action: Action, params: dict[str, Any]) -> str:
    if action in (Action.DISPATCH, Action.TRANSFER):
        return _("%(number)s 已%(action)s至 %(unit)s") % {
            "number": case.number,
            "action": action.label,
            "unit": params["unit"].name,
        }
    return _("%(number)s：已%(action)s") % {"number": case.number, "action": action.label}


def _form_problems(form: forms.Form) -> str:
    """Every error of the action form in one line for the alert (fields show theirs too)."""
    texts = list(dict.fromkeys(str(text) for errors in form.errors.values() for text in errors))
    return (
        _("请检查填写的内容：%(problems)s") % {"problems": "；".join(texts)}
        if texts
        else _("请检查填写的内容")
    )


@login_required
def case_act(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    """POST one action. Refusals re-render the case with the reason and the typed note kept:
    403 not permitted, 409 stale version or not allowed in this status, 422 bad input."""
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    case = _visible_case(request, pk)
    try:
        chosen = Action(action)
    except ValueError as exc:
        raise Http404("no such action") from exc
    form = ActionForm(request.POST)
    if not form.is_valid():
        return render_case(
            request, case, status=422, error=_form_problems(form), failed=chosen.value, form=form
        )
    version, note = form.cleaned_data["version"], form.cleaned_data["note"]
    # The user's copy is stale: say so before anything they concluded from that copy.
    if version != case.version:
        return render_case(
            request, case, status=409, error=str(CONFLICT_MESSAGE), failed=chosen.value, form=form
        )
    try:
        services.check_generic_action(case, chosen)
        rule = kinds.get(case.kind).transition_for(chosen)
        if rule is not None:  # who may act comes before what they typed (the service's order)
            check_actor(case, rule, request.user)
        params = _params(request, chosen, form)
        _apply(request, case, chosen, version, note, params)
    except services.VersionConflict:
        fresh = _visible_case(request, pk)
        return render_case(
            request, fresh, status=409, error=str(CONFLICT_MESSAGE), failed=chosen.value, form=form
        )
    except services.IllegalTransition as exc:
        return render_case(request, case, status=409, error=exc.message, failed=chosen.value, form=form)
    except PermissionDenied as exc:
        return render_case(
            request, case, status=403, error=str(exc) or _("您不能执行该操作"), failed=chosen.value, form=form
        )
    except ValidationError as exc:
        errors = exc.error_dict if hasattr(exc, "error_dict") else {"note": exc.error_list}
        for name, errs in errors.items():
            field = FIELD_NAMES.get(name, name)
            for error in errs:
                form.add_error(field if field in form.fields else None, error)
        fresh = _visible_case(request, pk)
        return render_case(
            request, fresh, status=422, error=_form_problems(form), failed=chosen.value, form=form
        )
    messages.success(request, _done_message(case, chosen, params))
    return redirect(
        _safe_next(request, form.cleaned_data.get("next") or "") or reverse("cases:detail", args=[case.pk])
    )


# ---------------------------------------------------------------------------------------------
# Supervision board (督办看板)


class BoardFilterForm(forms.Form):
    area = forms.ChoiceField(label=gettext_lazy("所属区划"), required=False)
    unit = forms.TypedChoiceField(
        label=gettext_lazy("责任单位"), required=False, coerce=int, empty_value=None
    )
    kind = forms.ChoiceField(label=gettext_lazy("事项类型"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "area", [("", _("全部")), *_area_choices(user)])
        set_choices(self, "unit", [("", _("全部")), *unit_choices(user)])
        set_choices(self, "kind", [("", _("全部")), *((k.key, k.label) for k in kinds.all_kinds())])
        if len(kinds.all_kinds()) < 2:
            del self.fields["kind"]

    @property
    def filtered(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields)


@login_required
def board(request: AuthedRequest) -> HttpResponse:
    """Open cases under supervision, 红牌 first: each level with its count and its cases by deadline."""
    form = BoardFilterForm(request.GET or None, user=request.user)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    area = data.get("area") or None
    within = current_jurisdiction(request)
    if area is None and within is not None:
        area = within.code
    result = supervision_board(
        request, kind=data.get("kind") or None, area=area, unit=data.get("unit"), limit=BOARD_LIMIT
    )
    levels = []
    for level in result["levels"]:
        # "See all" opens the desk on the same cases (the switcher narrows it there too).
        query = {"tab": TAB_OPEN, "supervision": level["level"]}
        if data.get("area"):
            query["area"] = data["area"]
        if data.get("unit"):
            query["unit"] = data["unit"]
        levels.append(
            {
                **level,
                "items": [decorate(i) for i in level["items"]],
                "css": LEVEL_CLASS[Supervision(level["level"])],
                "more": level["count"] > len(level["items"]),
                "desk_url": f"{reverse('cases:desk')}?{urlencode(query)}",
            }
        )
    context = {
        "form": form,
        "levels": levels,
        "total": result["total"],
        "data_time": timezone.localtime(),
        "limit": BOARD_LIMIT,
        "summary": ngettext("在办督办案件 %(n)s 件", "在办督办案件 %(n)s 件", result["total"])
        % {"n": f"{result['total']:,}"},
    }
    return render(request, "cases/board.html", context)
