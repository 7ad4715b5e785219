"""Pages of police linkage (警调联动): the board (rates by county and station against the 95 %
target, the calls waiting to be pushed with one-click push, Excel export, import), the list
of calls, one call with its actions, and the import form.

Reads go through pingan.disputes.linkage (``visible_calls`` / the scoping function; one call
through ``get_visible_or_404``: outside the scope is 404); changes through its services.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pingan.accounts.choices import UnitKind
from pingan.accounts.models import Unit
from pingan.cases.indicators import Period, percent
from pingan.cases.schemas import Page
from pingan.cases.views import duration_text
from pingan.core.importing import ImportFailed
from pingan.core.scoping import code_prefix, get_visible_or_404, visible_to
from pingan.core.types import AuthedRequest
from pingan.disputes import linkage
from pingan.disputes.api_linkage import (
    RATE_NAMES,
    CallFilters,
    call_out,
    call_queryset,
    filter_calls,
    stat_out,
)
from pingan.disputes.choices import CallFeedback, DisputeType
from pingan.disputes.linkage import By, StatRow
from pingan.disputes.models import PoliceCall
from pingan.people.forms import add_service_errors
from pingan.web.context import current_jurisdiction

WAITING_ON_BOARD = 20
PAGE_SIZE = 30


# ---------------------------------------------------------------------------------------------
# Forms


class PeriodForm(forms.Form):
    """The board's period (GET): local days, both ends included; default this month to today."""

    start = forms.DateField(
        label=gettext_lazy("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def period(self) -> Period:
        today = timezone.localdate()
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        end = data.get("end") or today
        start = data.get("start") or end.replace(day=1)
        try:
            return Period.between(start, end)
        except ValidationError as exc:
            add_service_errors(self, exc)
            return Period(today.replace(day=1), today)


class CallFilterForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("联动状态"), required=False)
    type = forms.ChoiceField(label=gettext_lazy("纠纷类型"), required=False)
    key = forms.ChoiceField(
        label=gettext_lazy("五类纠纷"),
        required=False,
        choices=[
            ("", gettext_lazy("全部")),
            ("1", gettext_lazy("仅五类纠纷")),
            ("0", gettext_lazy("其他纠纷")),
        ],
    )
    overdue = forms.BooleanField(label=gettext_lazy("仅超时未推送"), required=False)
    station = forms.TypedChoiceField(
        label=gettext_lazy("派出所"), required=False, coerce=int, empty_value=None
    )
    date_from = forms.DateField(
        label=gettext_lazy("报警日期起"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("报警日期止"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "status", [("", _("全部状态")), *CallFeedback.choices])
        _set_choices(self, "type", [("", _("全部类型")), *DisputeType.choices])
        _set_choices(self, "station", [("", _("全部派出所")), *station_choices(user)])

    def filters(self) -> CallFilters:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        key = data.get("key")
        return CallFilters(
            station=data.get("station"),
            area=None,
            type=data.get("type") or None,
            key=None if key in (None, "") else key == "1",
            status=[data["status"]] if data.get("status") else [],
            overdue=True if data.get("overdue") else None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


class PushForm(forms.Form):
    org_unit = forms.TypedChoiceField(label=gettext_lazy("调解组织"), coerce=int)
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "org_unit", [("", _("请选择调解组织")), *org_choices(user)])


class NotPushForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("不予推送理由"),
        max_length=linkage.MAX_REASON,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("如：双方已当场和解，无需调解")}),
    )


class FollowUpForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("回访情况"), max_length=linkage.MAX_NOTE, widget=forms.Textarea(attrs={"rows": 3})
    )
    satisfied = forms.TypedChoiceField(
        label=gettext_lazy("报警人评价"),
        required=False,
        choices=[("", gettext_lazy("未表态")), ("1", gettext_lazy("满意")), ("0", gettext_lazy("不满意"))],
        coerce=lambda v: v == "1",
        empty_value=None,
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("警情文件（.xlsx 或 .csv）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )


def _set_choices(form: forms.BaseForm, name: str, choices: list[Any]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def station_choices(user: Any) -> list[tuple[int, str]]:
    qs = visible_to(Unit.objects.filter(kind=UnitKind.POLICE_STATION), user).order_by("area_code", "name")
    return list(qs.values_list("pk", "name"))


def org_choices(user: Any) -> list[tuple[int, str]]:
    qs = Unit.objects.filter(kind=UnitKind.MEDIATION, is_active=True, mediation_org__isnull=False)
    return list(visible_to(qs, user).order_by("area_code", "name").values_list("pk", "name"))


# ---------------------------------------------------------------------------------------------
# Pieces the templates share


def clock(row: dict[str, Any]) -> dict[str, str]:
    """The push limit in words: time left (waiting), overdue by, pushed in time or late."""
    if row["status"] == CallFeedback.WAITING:
        if row["overdue_seconds"]:
            return {
                "state": "overdue",
                "text": _("推送已超时 %(t)s") % {"t": duration_text(row["overdue_seconds"])},
            }
        return {"state": "running", "text": _("剩余 %(t)s") % {"t": duration_text(row["seconds_left"] or 0)}}
    if row["pushed_at"] is not None:
        if row["overdue_seconds"]:
            return {
                "state": "overdue",
                "text": _("超时 %(t)s 推送") % {"t": duration_text(row["overdue_seconds"])},
            }
        return {"state": "met", "text": _("按时推送")}
    return {"state": "none", "text": "—"}


def _row(call: PoliceCall, now: datetime) -> dict[str, Any]:
    row = call_out(call, now)
    row["clock"] = clock(row)
    return row


def _area(request: HttpRequest) -> str | None:
    """The top-bar jurisdiction switcher narrows the board."""
    chosen = current_jurisdiction(request)
    return chosen.code if chosen is not None else None


def _quick(period: Period, today: date) -> list[dict[str, Any]]:
    last_month_end = today.replace(day=1) - timedelta(days=1)
    options = [
        (_("本月"), Period(today.replace(day=1), today)),
        (_("上月"), Period.month(last_month_end.year, last_month_end.month)),
        (_("本年"), Period(date(today.year, 1, 1), today)),
        (_("上年"), Period.year(today.year - 1)),
    ]
    return [{"label": label, "url": f"?{_period_query(p)}", "active": p == period} for label, p in options]


def _period_query(period: Period) -> str:
    return urlencode({"start": period.start.isoformat(), "end": period.end.isoformat()})


def _pct(value: Any) -> float | None:
    return None if value is None else round(float(value) * 100, 1)


def _chart(title: str, subtitle: str, rows: list[StatRow]) -> dict[str, Any]:
    return {
        "title": title,
        "subtitle": subtitle,
        "names": [r.name for r in rows],
        "linkage": [_pct(r.linkage_rate) for r in rows],
        "timeliness": [_pct(r.push_timeliness_rate) for r in rows],
        "target": _pct(linkage.TARGET),
        "labels": {
            "linkage": _("联动率"),
            "timeliness": _("推送及时率"),
            "target": _("目标 %(t)s") % {"t": percent(linkage.TARGET, 0)},
        },
    }


def _table(rows: list[StatRow]) -> list[dict[str, Any]]:
    return [{**stat_out(r), **{f"{n}_short": percent(getattr(r, n), 1) for n in RATE_NAMES}} for r in rows]


def _kpis(summary: StatRow) -> list[dict[str, Any]]:
    c = summary.counts
    return [
        {
            "label": _("五类纠纷警情"),
            "value": f"{c.key_calls:,}",
            "note": _("全部纠纷警情 %(n)s") % {"n": f"{c.calls:,}"},
        },
        {
            "label": _("联动率"),
            "value": percent(summary.linkage_rate, 1),
            "state": _target_state(summary.meets_target),
            "note": _("推送 %(p)s ÷ 五类 %(k)s") % {"p": f"{c.pushed:,}", "k": f"{c.key_calls:,}"},
        },
        {
            "label": _("推送及时率"),
            "value": percent(summary.push_timeliness_rate, 1),
            "state": _target_state(summary.timely_meets_target),
            "note": _("按时推送 %(n)s") % {"n": f"{c.pushed_on_time:,}"},
        },
        {
            "label": _("反馈率"),
            "value": percent(summary.feedback_rate, 1),
            "note": _("已反馈 %(n)s") % {"n": f"{c.fed_back:,}"},
        },
        {
            "label": _("回访率"),
            "value": percent(summary.followup_rate, 1),
            "note": _("已回访 %(n)s") % {"n": f"{c.followed_up:,}"},
        },
        {
            "label": _("超时未推送"),
            "value": f"{c.overdue:,}",
            "state": "bad" if c.overdue else "",
            "note": _("待推送 %(n)s") % {"n": f"{c.waiting:,}"},
        },
    ]


def _target_state(meets: bool | None) -> str:
    return "" if meets is None else ("good" if meets else "bad")


def _waiting(request: AuthedRequest, now: datetime) -> tuple[list[dict[str, Any]], int]:
    """Calls waiting to be pushed, the most urgent first, each with its suggested organisation."""
    qs = linkage.visible_calls(request.user).filter(status=CallFeedback.WAITING)
    total = qs.count()
    calls = list(
        call_queryset().filter(pk__in=qs.values("pk")).order_by("push_due_at", "id")[:WAITING_ON_BOARD]
    )
    can_push = linkage.can_push(request.user)
    # Calls of one type at one place get the same suggestions: ask once per pair.
    found: dict[tuple[str, str], list[Any]] = {}
    rows = []
    for call in calls:
        row = _row(call, now)
        if can_push:
            pair = (call.area_code, call.dispute_type)
            if pair not in found:
                found[pair] = linkage.suggest_orgs(call, request.user)
            row["suggestions"] = found[pair]
        rows.append(row)
    return rows, total


# ---------------------------------------------------------------------------------------------
# The board


@login_required
def board(request: AuthedRequest) -> HttpResponse:
    """/linkage/: rates by county and station for the period, the waiting calls, export, import."""
    today = timezone.localdate()
    form = PeriodForm(request.GET or None, initial={"start": today.replace(day=1), "end": today})
    period = form.period()
    now, area = timezone.now(), _area(request)
    counties, stations = (
        linkage.linkage_stats(
            request.user, by=by, date_from=period.start, date_to=period.end, area=area, now=now
        )
        for by in (By.COUNTY, By.STATION)
    )
    stations.sort(key=lambda r: (r.linkage_rate is None, -(r.linkage_rate or 0), r.name))
    summary = linkage.total(counties)
    waiting, waiting_total = _waiting(request, now)
    stamp = _("%(period)s　单位：%%　数据时间：%(time)s　红线为 95%% 目标") % {
        "period": period.label(),
        "time": timezone.localtime(now).strftime("%Y-%m-%d %H:%M"),
    }
    export = {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        **({"area": area} if area else {}),
    }
    context = {
        "form": form,
        "period": period,
        "quick": _quick(period, timezone.localdate()),
        "kpis": _kpis(summary),
        "summary": summary,
        "counties": _table(counties),
        "stations": _table(stations),
        "charts": {
            "county": _chart(_("各县(市、区)联动率与推送及时率"), stamp, counties),
            "station": _chart(_("各派出所联动率排名（绿色达标，红色未达标）"), stamp, stations),
        },
        "waiting": waiting,
        "waiting_total": waiting_total,
        "can_push": linkage.can_push(request.user),
        "can_record": linkage.can_record(request.user),
        "export_url": f"/api/linkage/stats.xlsx?{urlencode(export)}",
        "here": request.get_full_path(),
        "import_form": ImportForm(),
        "target": percent(linkage.TARGET, 0),
    }
    return render(request, "disputes/linkage_board.html", context)


# ---------------------------------------------------------------------------------------------
# The list and one call


@login_required
def call_list(request: AuthedRequest) -> HttpResponse:
    """/linkage/calls/: every call in scope, filtered, newest first."""
    form = CallFilterForm(request.GET or None, user=request.user)
    now = timezone.now()
    try:
        page = Page(page=max(1, int(request.GET.get("page", "1"))), page_size=PAGE_SIZE)
    except (ValueError, ValidationError):
        page = Page(page=1, page_size=PAGE_SIZE)
    try:
        qs = filter_calls(request.user, form.filters(), now)
    except ValidationError as exc:
        add_service_errors(form, exc)
        qs = PoliceCall.objects.none()
    area = _area(request)
    if area:
        qs = qs.filter(area_code__under=code_prefix(area))
    total = qs.count()
    start = (page.page - 1) * PAGE_SIZE
    calls = list(
        call_queryset()
        .filter(pk__in=qs.values("pk"))
        .order_by("-called_at", "-id")[start : start + PAGE_SIZE]
    )
    has_next = start + len(calls) < total
    context = {
        "form": form,
        "rows": [_row(c, now) for c in calls],
        "total": total,
        "page": page.page,
        "prev_url": f"?{_page_query(request, page.page - 1)}" if page.page > 1 else "",
        "next_url": f"?{_page_query(request, page.page + 1)}" if has_next else "",
        "filtered": any(v for k, v in request.GET.items() if k != "page"),
    }
    return render(request, "disputes/linkage_calls.html", context)


def _page_query(request: HttpRequest, page: int) -> str:
    params = request.GET.copy()
    params["page"] = str(page)
    return params.urlencode()


def _visible_call(request: AuthedRequest, pk: int) -> PoliceCall:
    return get_visible_or_404(call_queryset(), request.user, pk=pk)


def render_call(
    request: AuthedRequest, call: PoliceCall, *, status: int = 200, error: str = "", **forms_: Any
) -> HttpResponse:
    now = timezone.now()
    user = request.user
    waiting = call.status == CallFeedback.WAITING
    can_push = linkage.can_push(user) and waiting
    context = {
        "call": _row(call, now),
        "error": error,
        "can_push": can_push,
        "can_follow_up": linkage.can_follow_up(user, call)
        and call.status != CallFeedback.WAITING
        and call.followed_up_at is None,
        "suggestions": linkage.suggest_orgs(call, user, limit=5) if can_push else [],
        "push_form": forms_.get("push_form") or PushForm(user=user),
        "not_push_form": forms_.get("not_push_form") or NotPushForm(),
        "follow_up_form": forms_.get("follow_up_form") or FollowUpForm(),
    }
    return render(request, "disputes/linkage_call.html", context, status=status)


@login_required
def call_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return render_call(request, _visible_call(request, pk))


def _act(request: AuthedRequest, pk: int, form: forms.Form, name: str, apply: Any, done: str) -> HttpResponse:
    """POST one linkage action: 403 not permitted, 409 already done, 422 bad input (form kept)."""
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    call = _visible_call(request, pk)
    try:
        if not form.is_valid():
            raise ValidationError(_("请检查填写的内容"))
        apply(call, form.cleaned_data)
    except PermissionDenied as exc:
        return render_call(request, call, status=403, error=str(exc) or _("您不能执行该操作"), **{name: form})
    except linkage.LinkageError as exc:
        return render_call(request, _visible_call(request, pk), status=409, error=exc.message, **{name: form})
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            add_service_errors(form, exc)
        message = "；".join(dict.fromkeys(str(m) for errs in form.errors.values() for m in errs))
        return render_call(
            request, call, status=422, error=message or "；".join(exc.messages), **{name: form}
        )
    messages.success(request, done)
    target = form.cleaned_data.get("next") or ""
    if target.startswith("/linkage/") and not target.startswith("//"):
        return redirect(target)
    return redirect(reverse("linkage:call", args=[pk]))


@login_required
def push_call(request: AuthedRequest, pk: int) -> HttpResponse:
    form = PushForm(request.POST, user=request.user)

    def apply(call: PoliceCall, data: dict[str, Any]) -> None:
        linkage.push(call, request.user, data["org_unit"])

    return _act(request, pk, form, "push_form", apply, _("已推送至调解组织，并生成矛盾纠纷案件"))


@login_required
def not_push_call(request: AuthedRequest, pk: int) -> HttpResponse:
    form = NotPushForm(request.POST)

    def apply(call: PoliceCall, data: dict[str, Any]) -> None:
        linkage.not_push(call, request.user, data["reason"])

    return _act(request, pk, form, "not_push_form", apply, _("已标记为不予推送"))


@login_required
def follow_up_call(request: AuthedRequest, pk: int) -> HttpResponse:
    form = FollowUpForm(request.POST)

    def apply(call: PoliceCall, data: dict[str, Any]) -> None:
        linkage.follow_up(call, request.user, data["note"], data["satisfied"])

    return _act(request, pk, form, "follow_up_form", apply, _("已记录回访"))


# ---------------------------------------------------------------------------------------------
# Import


@login_required
def import_page(request: AuthedRequest) -> HttpResponse:
    """/linkage/import/: upload a file; every bad row is listed (422), duplicates are skipped."""
    if not linkage.can_record(request.user):
        raise PermissionDenied(_("您不能导入110警情"))
    if request.method != "POST":
        return render(request, "disputes/linkage_import.html", {"form": ImportForm()})
    form = ImportForm(request.POST, request.FILES)
    context: dict[str, Any] = {"form": form}
    if not form.is_valid():
        return render(request, "disputes/linkage_import.html", context, status=422)
    try:
        context["result"] = linkage.import_calls(form.cleaned_data["file"], request.user)
    except ImportFailed as exc:
        context["errors"] = exc.errors
        return render(request, "disputes/linkage_import.html", context, status=422)
    return render(request, "disputes/linkage_import.html", context)
