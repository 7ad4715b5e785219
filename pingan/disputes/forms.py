"""Forms of the dispute pages: the one-stop window (一站式窗口登记), the list filters, the
mediator's actions (签收, 意愿, 调解记录, 调解结果), the assignment and the statistics filters.

Forms only parse what was typed; every rule lives in pingan.disputes.services, whose
ValidationError is shown beside the field it names (``add_service_errors``). Personal data
typed at the window (names, ID numbers, phones, addresses) goes straight to the service and
is never kept anywhere else.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pingan.disputes.choices import (
    KEY_TYPES,
    Consent,
    DisputeType,
    Outcome,
    PartyRole,
    Procedure,
    Referral,
    Source,
)

MAX_PARTIES = 20  # per side; a group dispute beyond that is registered with 涉及人数
# 人民调解法 §26 (and §17 for a refusal): the parties are told of the other routes.
ROUTES_FAILED = gettext_lazy(
    "经调解未能达成协议，调解终止。已告知双方当事人可以依法通过仲裁、行政、诉讼等途径维护自己的权利（《中华人民共和国人民调解法》第二十六条）。"
)
ROUTES_REFUSED = gettext_lazy(
    "当事人不同意调解，调解终止。已告知当事人可以依法通过仲裁、行政、诉讼等途径维护自己的权利（《中华人民共和国人民调解法》第十七条、第二十六条）。"
)
# Outcomes a mediator records on the outcome form (a refusal is recorded with the consent).
OUTCOME_CHOICES = [
    (Outcome.SUCCESS.value, Outcome.SUCCESS.label),
    (Outcome.FAILURE.value, Outcome.FAILURE.label),
]
CONSENT_ANSWERS = [
    (Consent.AGREED.value, Consent.AGREED.label),
    (Consent.REFUSED.value, Consent.REFUSED.label),
]
_PII = {"autocomplete": "off", "spellcheck": "false"}


def set_choices(form: forms.BaseForm, name: str, choices: list[Any]) -> None:
    cast(forms.ChoiceField, form.fields[name]).choices = choices


def type_choices() -> list[Any]:
    """The five key types (五类重点纠纷) first, as the police watch them, then the others."""
    others = [t for t in DisputeType if t not in KEY_TYPES]
    return [(t.value, t.label) for t in (*KEY_TYPES, *others)]


def type_groups() -> list[Any]:
    """The same, as option groups for a select."""
    others = [t for t in DisputeType if t not in KEY_TYPES]
    return [
        (_("五类重点纠纷"), [(t.value, t.label) for t in KEY_TYPES]),
        (_("其他纠纷"), [(t.value, t.label) for t in others]),
    ]


def local_date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# ---------------------------------------------------------------------------------------------
# The one-stop window (一站式窗口登记)


class PartyForm(forms.Form):
    """One party (当事人): applicant or respondent by the formset it is in. A row left blank is skipped."""

    name = forms.CharField(label=gettext_lazy("姓名"), max_length=40, required=False)
    id_number = forms.CharField(label=gettext_lazy("身份证号码"), max_length=40, required=False)
    phone = forms.CharField(label=gettext_lazy("联系电话"), max_length=40, required=False)
    address = forms.CharField(label=gettext_lazy("住址"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs.update(_PII)
        self.fields["id_number"].widget.attrs.update(
            {**_PII, "inputmode": "text", "maxlength": "18", "placeholder": _("18 位"), "class": "id-input"}
        )
        self.fields["phone"].widget.attrs.update({**_PII, "inputmode": "tel"})
        self.fields["address"].widget.attrs.update(_PII)

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", None) or {}
        return not any((data.get(name) or "").strip() for name in self.fields)


PartyFormSet = formset_factory(PartyForm, extra=0, min_num=1, max_num=MAX_PARTIES, validate_max=True)


class WindowForm(forms.Form):
    """The dispute itself. Jurisdictions and courts are offered within the user's scope (the view sets them)."""

    dispute_type = forms.ChoiceField(label=gettext_lazy("纠纷类型"), widget=forms.RadioSelect)
    facts = forms.CharField(
        label=gettext_lazy("纠纷事实与诉求"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    title = forms.CharField(label=gettext_lazy("标题"), max_length=200, required=False)
    amount = forms.DecimalField(
        label=gettext_lazy("涉及金额（元）"),
        required=False,
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01", "min": "0"}),
    )
    people_involved = forms.IntegerField(
        label=gettext_lazy("涉及人数"),
        required=False,
        min_value=1,
        max_value=100_000,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "1"}),
    )
    violence_threat = forms.BooleanField(label=gettext_lazy("有暴力威胁、扬言报复等苗头"), required=False)
    source = forms.ChoiceField(label=gettext_lazy("来源"), choices=Source.choices, initial=Source.WINDOW)
    jurisdiction = forms.ChoiceField(label=gettext_lazy("发生地（所属区划）"))
    address = forms.CharField(label=gettext_lazy("详细地点"), max_length=200, required=False)
    # Court referral (诉调对接), folded away at the window.
    referral = forms.ChoiceField(
        label=gettext_lazy("法院委派/委托"), choices=Referral.choices, required=False
    )
    court = forms.TypedChoiceField(
        label=gettext_lazy("委派/委托法院"), coerce=int, empty_value=None, required=False
    )
    court_case_number = forms.CharField(label=gettext_lazy("法院案号"), max_length=60, required=False)
    procedure = forms.ChoiceField(
        label=gettext_lazy("审理程序"),
        choices=[("", gettext_lazy("——")), *Procedure.choices],
        required=False,
    )
    referred_on = forms.DateField(
        label=gettext_lazy("委派/委托日期"), required=False, widget=local_date_input()
    )

    REFERRAL_FIELDS = ("referral", "court", "court_case_number", "procedure", "referred_on")

    def __init__(
        self,
        *args: Any,
        places: list[tuple[str, str]],
        courts: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "dispute_type", type_choices())
        set_choices(self, "jurisdiction", [("", _("请选择")), *places])
        set_choices(self, "court", [("", _("请选择")), *courts])
        self.fields["title"].widget.attrs.update(placeholder=_("不填自动生成；勿写姓名"), autocomplete="off")
        self.fields["facts"].widget.attrs.update(placeholder=_("发生经过、争议焦点、当事人诉求"))
        self.fields["address"].widget.attrs.update(placeholder=_("如：府山街道府山路12号"))

    @property
    def referral_open(self) -> bool:
        """The court referral section opens when something in it was filled in or is wrong."""
        return any(self.data.get(name) for name in self.REFERRAL_FIELDS) or any(
            name in self.errors for name in self.REFERRAL_FIELDS
        )

    @property
    def key_type_values(self) -> list[str]:
        return [t.value for t in KEY_TYPES]


# ---------------------------------------------------------------------------------------------
# The list (纠纷调解) and the statistics


class DisputeFilterForm(forms.Form):
    """Filters of the dispute list (GET); the status is chosen with the tabs."""

    q = forms.CharField(label=gettext_lazy("编号/标题"), max_length=100, required=False)
    dispute_type = forms.ChoiceField(label=gettext_lazy("纠纷类型"), required=False)
    outcome = forms.ChoiceField(
        label=gettext_lazy("调解结果"),
        required=False,
        choices=[("", gettext_lazy("全部")), ("none", gettext_lazy("尚无结果")), *Outcome.choices],
    )
    flagged = forms.ChoiceField(
        label=gettext_lazy("风险标记"),
        required=False,
        choices=[("", gettext_lazy("全部")), ("yes", gettext_lazy("有风险标记")), ("no", gettext_lazy("无"))],
    )
    area = forms.ChoiceField(label=gettext_lazy("所属区划"), required=False)
    mediator = forms.TypedChoiceField(
        label=gettext_lazy("调解员"), required=False, coerce=int, empty_value=None
    )

    def __init__(
        self, *args: Any, areas: list[tuple[str, str]], mediators: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(placeholder=_("编号开头或标题关键字"), inputmode="search")
        set_choices(self, "dispute_type", [("", _("全部")), *type_groups()])
        set_choices(self, "area", [("", _("全部")), *areas])
        set_choices(self, "mediator", [("", _("全部")), *mediators])
        for name, options in (("area", areas), ("mediator", mediators)):
            if not options:
                del self.fields[name]

    @property
    def filtered(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields)

    def values(self) -> dict[str, Any]:
        """The valid filters (an invalid one is left out and shown beside its field)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class StatsFilterForm(forms.Form):
    """Filters of the statistics page (GET): the period, the area and the type."""

    start = forms.DateField(label=gettext_lazy("开始日期"), required=False, widget=local_date_input())
    end = forms.DateField(label=gettext_lazy("结束日期"), required=False, widget=local_date_input())
    area = forms.ChoiceField(label=gettext_lazy("所属区划"), required=False)
    dispute_type = forms.ChoiceField(label=gettext_lazy("纠纷类型"), required=False)

    def __init__(self, *args: Any, areas: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "area", [("", _("全部")), *areas])
        set_choices(self, "dispute_type", [("", _("全部类型")), *type_groups()])
        if not areas:
            del self.fields["area"]


# ---------------------------------------------------------------------------------------------
# Actions on one dispute


class VersionForm(forms.Form):
    """The case version the page was drawn from (a stale page is told so, not applied)."""

    version = forms.IntegerField(
        min_value=0,
        max_value=2**31 - 1,
        required=False,
        widget=forms.HiddenInput,
    )
    next = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)


class AssignForm(VersionForm):
    """派遣 to a mediation organisation (its unit)."""

    org_unit = forms.IntegerField(label=gettext_lazy("调解组织"), min_value=1, max_value=2**63 - 1)


class AcceptForm(VersionForm):
    """签收 by the organisation's mediator."""


class AddPartyForm(VersionForm, PartyForm):
    """增加当事人: a party found or registered like those at the window (e.g. a 110 call's dispute)."""

    role = forms.ChoiceField(
        label=gettext_lazy("身份"),
        choices=[(r.value, r.label) for r in PartyRole],
        widget=forms.RadioSelect,
    )


class ConsentForm(VersionForm):
    """Both parties' answer (人民调解法 §17); a refusal needs the routes told (§26)."""

    applicant = forms.ChoiceField(
        label=gettext_lazy("申请人意愿"), choices=CONSENT_ANSWERS, widget=forms.RadioSelect
    )
    respondent = forms.ChoiceField(
        label=gettext_lazy("被申请人意愿"), choices=CONSENT_ANSWERS, widget=forms.RadioSelect
    )
    routes_told = forms.CharField(
        label=gettext_lazy("告知的法律途径（不同意调解时）"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("routes_told", str(ROUTES_REFUSED))
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        refused = Consent.REFUSED in (data.get("applicant"), data.get("respondent"))
        if refused and not (data.get("routes_told") or "").strip():
            self.add_error("routes_told", _("当事人不同意调解时，须填写已告知的仲裁、行政、诉讼等途径"))
        return data


class SessionForm(VersionForm):
    """One mediation session (调解记录)."""

    at = forms.DateTimeField(
        label=gettext_lazy("调解时间"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    place = forms.CharField(label=gettext_lazy("调解地点"), max_length=200)
    party_ids = forms.TypedMultipleChoiceField(
        label=gettext_lazy("到场当事人"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    others = forms.CharField(label=gettext_lazy("其他参加人员"), max_length=300, required=False)
    record = forms.CharField(
        label=gettext_lazy("调解笔录"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 5})
    )

    def __init__(self, *args: Any, parties: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "party_ids", parties)
        self.fields["others"].widget.attrs.update(placeholder=_("调解员、村干部、民警等"))
        self.fields["record"].widget.attrs.update(placeholder=_("调解经过、各方意见、达成的共识或分歧"))


class OutcomeForm(VersionForm):
    """The mediation result: success with the agreement (§28–30), or failure with the routes told (§26)."""

    outcome = forms.ChoiceField(
        label=gettext_lazy("调解结果"), choices=OUTCOME_CHOICES, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=gettext_lazy("处置情况"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # Success: the agreement (人民调解协议书).
    agreement_facts = forms.CharField(
        label=gettext_lazy("纠纷主要事实、争议事项"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    terms = forms.CharField(
        label=gettext_lazy("达成协议的内容"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    performance = forms.CharField(
        label=gettext_lazy("履行方式"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    perform_by = forms.DateField(label=gettext_lazy("履行期限"), required=False, widget=local_date_input())
    signed_on = forms.DateField(label=gettext_lazy("协议生效日期"), required=False, widget=local_date_input())
    # Failure: the routes told.
    routes_told = forms.CharField(
        label=gettext_lazy("告知的法律途径"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    AGREEMENT_FIELDS = ("agreement_facts", "terms", "performance", "perform_by", "signed_on")

    def __init__(self, *args: Any, facts: str = "", **kwargs: Any) -> None:
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("routes_told", str(ROUTES_FAILED))
        initial.setdefault("agreement_facts", facts)
        initial.setdefault("signed_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["terms"].widget.attrs.update(
            placeholder=_("如：被申请人于2026年3月31日前一次性赔偿申请人医疗费5,000元。")
        )
        self.fields["performance"].widget.attrs.update(placeholder=_("如：银行转账至申请人账户"))

    def clean(self) -> dict[str, Any]:
        """Which half is needed follows the outcome; the service checks the rest (consent, dates)."""
        data = super().clean() or {}
        if data.get("outcome") == Outcome.SUCCESS:
            for name in ("terms", "performance", "perform_by", "signed_on"):
                if not data.get(name):
                    self.add_error(name, _("调解成功须填写此项"))
        elif data.get("outcome") == Outcome.FAILURE and not (data.get("routes_told") or "").strip():
            self.add_error("routes_told", _("调解不成时，须填写已告知的仲裁、行政、诉讼等途径"))
        return data

    def agreement(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if data.get("outcome") != Outcome.SUCCESS:
            return None
        return {
            "facts": data.get("agreement_facts") or "",
            "terms": data["terms"],
            "performance": data["performance"],
            "perform_by": data["perform_by"],
            "signed_on": data["signed_on"],
        }


def local_now_minute() -> datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


def today() -> date:
    return timezone.localdate()


def add_service_errors(
    form: forms.BaseForm, exc: ValidationError, renames: dict[str, str] | None = None
) -> None:
    """A service's ValidationError beside the fields it names (the rest above the form)."""
    renames = renames or {}
    errors = exc.error_dict if hasattr(exc, "error_dict") else {None: exc.error_list}
    for name, errs in errors.items():
        field = renames.get(name, name) if name else None
        for error in errs:
            form.add_error(field if field in form.fields else None, error)
