"""The event report page (事件上报): a phone-first form for grid workers and the desk.

The page sends the phone's position as WGS-84 (browsers report GPS coordinates), photos from
the camera and an idempotency key made when the page was opened, so that a double tap or a
retry after a lost connection files one case, not two. Everything goes through
``services.intake`` (the events write gate).
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from pingan.accounts.choices import Role
from pingan.cases.choices import Channel
from pingan.core.types import AuthedRequest
from pingan.events import services
from pingan.events.models import Category
from pingan.geo.coords import Crs

# Channels the desk files through this page (grid workers always file as 网格员上报).
DESK_CHANNELS = (Channel.HOTLINE, Channel.WINDOW, Channel.CITIZEN, Channel.POLICE_110, Channel.INSPECTION)
# The intake's field names → this form's, so an error lands beside the field the user filled in.
FIELD_NAMES = {services.IDEMPOTENCY_HEADER: None, "lat": "location", "lon": "location", "crs": "location"}


def can_report(user: Any) -> bool:
    return user.is_superuser or user.role in services.INTAKE_ROLES


def category_choices() -> list[Any]:
    """Usable 小类 grouped under their 大类 (the category picker)."""
    groups: dict[int, tuple[str, list[tuple[str, str]]]] = {}
    majors = Category.objects.filter(parent=None, active=True).order_by("order", "code")
    for major in majors:
        groups[major.pk] = (major.name, [])
    leaves = Category.objects.filter(parent__in=list(groups), active=True).exclude(deadline_unit="")
    for leaf in leaves.order_by("order", "code"):
        groups[leaf.parent_id][1].append((leaf.code, leaf.name))  # type: ignore[index]
    return [(name, options) for name, options in groups.values() if options]


class ReportForm(forms.Form):
    """What a reporter fills in. Requester name and phone are personal data: never kept in a draft."""

    category = forms.ChoiceField(label=gettext_lazy("事件类型"))
    title = forms.CharField(label=gettext_lazy("标题"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("详细描述"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    lat = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)
    lon = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180)
    crs = forms.ChoiceField(choices=Crs.choices, initial=Crs.WGS84, widget=forms.HiddenInput, required=False)
    address = forms.CharField(label=gettext_lazy("地点描述"), max_length=200, required=False)
    solved_on_spot = forms.BooleanField(label=gettext_lazy("已就地解决"), required=False)
    channel = forms.ChoiceField(
        label=gettext_lazy("来源渠道"), choices=[(c.value, c.label) for c in DESK_CHANNELS]
    )
    channel_ref = forms.CharField(label=gettext_lazy("来源编号"), max_length=64, required=False)
    requester_name = forms.CharField(label=gettext_lazy("反映人姓名"), max_length=40, required=False)
    requester_phone = forms.CharField(label=gettext_lazy("反映人电话"), max_length=40, required=False)
    idempotency_key = forms.CharField(max_length=services.MAX_KEY_LENGTH, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.block_errors: dict[str, list[str]] = {"location": [], "photos": []}
        self.is_grid_worker = user.role == Role.GRID_WORKER and not user.is_superuser
        cast(forms.ChoiceField, self.fields["category"]).choices = [
            ("", _("请选择事件类型")),
            *category_choices(),
        ]
        self.fields["title"].widget.attrs.update(
            placeholder=_("一句话说明，如：府山路口暴露垃圾"), autocomplete="off"
        )
        self.fields["description"].widget.attrs.update(placeholder=_("现场情况、影响范围、已采取的措施"))
        self.fields["address"].widget.attrs.update(placeholder=_("无法定位时填写，如：府山街道府山路12号"))
        self.fields["channel_ref"].widget.attrs.update(placeholder=_("如12345工单号、110接警单号"))
        self.fields["requester_phone"].widget.attrs.update(inputmode="tel", autocomplete="off")
        self.fields["requester_name"].widget.attrs.update(autocomplete="off")
        if self.is_grid_worker:
            # A grid worker files as 网格员上报 and may have solved it on the spot (就地解决).
            del self.fields["channel"], self.fields["channel_ref"]
        else:
            del self.fields["solved_on_spot"]

    def add_service_errors(self, exc: ValidationError) -> None:
        """Errors of ``services.intake`` beside their fields; place and photos have blocks of their own."""
        errors = exc.error_dict if hasattr(exc, "error_dict") else {"": exc.error_list}
        for name, errs in errors.items():
            field = FIELD_NAMES.get(name, name) or ""
            texts = [text for error in errs for text in error.messages]
            if field in self.block_errors:
                self.block_errors[field].extend(texts)
                continue
            for text in texts:
                self.add_error(field if field in self.fields else None, text)


@login_required
@require_http_methods(["GET", "POST"])
def report(request: AuthedRequest) -> HttpResponse:
    """GET: the form with a fresh idempotency key. POST: file the event, then show its case."""
    if not can_report(request.user):
        raise PermissionDenied(_("您的角色不能上报事件"))
    form = ReportForm(request.POST or None, user=request.user, initial={"idempotency_key": uuid.uuid4().hex})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case, created = services.intake(
                actor=request.user,
                channel=Channel.GRID if form.is_grid_worker else data["channel"],
                category=data["category"],
                title=data["title"],
                description=data["description"],
                lat=data["lat"],
                lon=data["lon"],
                crs=data["crs"] or Crs.WGS84,
                address=data["address"],
                requester_name=data["requester_name"],
                requester_phone=data["requester_phone"],
                photos=request.FILES.getlist("photos"),
                solved_on_spot=bool(data.get("solved_on_spot")),
                channel_ref=data.get("channel_ref") or "",
                idempotency_key=data["idempotency_key"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and services.IDEMPOTENCY_HEADER in exc.error_dict:
                # The key was used for another submission (e.g. edited after a lost answer):
                # a new key, and the user decides whether to send again.
                resubmit = cast(QueryDict, form.data).copy()
                resubmit["idempotency_key"] = uuid.uuid4().hex
                form.data = resubmit
                form.add_error(
                    None,
                    _(
                        "这张表单已经提交过（可能是网络中断后重试）。请先到“我的待办 → 已办”核对是否已上报；确需再次上报，请再点“上报”。"
                    ),
                )
            else:
                form.add_service_errors(exc)
        except PermissionDenied as exc:  # e.g. the requester's place: shown on the form, text kept
            form.add_error(None, str(exc) or _("您不能上报该事件"))
        else:
            if created:
                messages.success(request, _("已上报，案件编号 %(number)s") % {"number": case.number})
            else:
                messages.info(
                    request,
                    _("该事件已上报过（重复提交已忽略），案件编号 %(number)s") % {"number": case.number},
                )
            return redirect(f"{reverse('cases:detail', args=[case.pk])}?reported=1")
    context = {
        "form": form,
        "photos_lost": request.method == "POST" and bool(request.FILES.getlist("photos")),
        "config": {
            "draftKey": f"pingan.report.draft.{request.user.pk}",
            "locateUrl": f"{reverse('api:api-root')}geo/locate",
            "outlinesUrl": f"{reverse('api:api-root')}geo/outlines",
            "restoreDraft": request.method == "GET",
            "maxPhotos": services.MAX_PHOTOS,
            "labels": {
                "locating": _("正在获取位置…"),
                "located": _("已定位：%(place)s"),
                "outside": _("该位置不在您负责的网格内，请核对，或填写地点描述"),
                "denied": _("未获得定位权限。请在浏览器设置中允许定位，或填写地点描述"),
                "unavailable": _("暂时无法定位，请到开阔处重试，或填写地点描述"),
                "unsupported": _("此浏览器不支持定位，请填写地点描述"),
                "accuracy": _("精度约 %(m)s 米"),
                "tooManyPhotos": _("照片最多 %(n)s 张") % {"n": services.MAX_PHOTOS},
                "photosChosen": _("已选 %(n)s 张照片"),
            },
        },
    }
    return render(request, "events/report.html", context)
