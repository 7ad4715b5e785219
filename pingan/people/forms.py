"""Forms that register people through the services (admin and pages); plain values go in, never out."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from pingan.core.pii import normalize_phone
from pingan.core.scoping import code_prefix, visible_to
from pingan.geo.choices import Level
from pingan.geo.models import Jurisdiction
from pingan.people import services
from pingan.people.models import Person


class PersonCreateForm(forms.ModelForm):
    """New person: the personal fields are form-only; the service encrypts and indexes them."""

    name = forms.CharField(label=_("姓名"), max_length=services.MAX_NAME)
    id_number = forms.CharField(label=_("公民身份号码"), max_length=18, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    address = forms.CharField(label=_("住址"), max_length=services.MAX_ADDRESS, required=False)

    class Meta:
        model = Person
        fields = ["jurisdiction"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            try:
                services.clean_person_fields({f: data.get(f, "") for f in services.EDITABLE_FIELDS})
            except ValidationError as exc:
                self.add_error(None, exc)
        return data

    def person_values(self) -> dict[str, Any]:
        return {f: self.cleaned_data.get(f, "") for f in services.EDITABLE_FIELDS}


# ---------------------------------------------------------------------------------------------
# Pages (/people/): search and filters, and the register/edit forms shown to office users.

# PII inputs: never let the browser remember an ID number or phone typed on a shared desk.
_PII_ATTRS = {"autocomplete": "off", "spellcheck": "false"}
SORTS = {
    "new": ("-id",),
    "birth": ("birth_year", "-id"),
    "-birth": ("-birth_year", "-id"),
    "area": ("area_code", "-id"),
}


def place_choices(queryset: QuerySet[Jurisdiction]) -> list[tuple[Any, Any]]:
    """Villages and grids grouped by "county · township", for a <select> with <optgroup>s.

    A grid follows its village (ordered by code) and is indented under it.
    """
    groups: dict[str, list[tuple[int, str]]] = {}
    for place in queryset.select_related("parent__parent__parent").order_by("code"):
        township = place.parent
        if place.level == Level.GRID and township is not None:
            township = township.parent
        county = township.parent if township is not None else None
        key = " · ".join(n.name for n in (county, township) if n is not None) or place.name
        label = f"\u3000{place.name}" if place.level == Level.GRID else place.name
        groups.setdefault(key, []).append((place.pk, label))
    return [("", _("请选择村(社区)或网格")), *groups.items()]


def placeable(user: Any) -> QuerySet[Jurisdiction]:
    """Villages and grids a user may register people in: inside the scope (THE read gate)."""
    return visible_to(Jurisdiction.objects.filter(level__in=(Level.VILLAGE, Level.GRID)), user)


def limit_places(field: forms.Field, queryset: QuerySet[Jurisdiction]) -> None:
    """Make a jurisdiction field offer (and accept) only ``queryset``, grouped for the <select>."""
    choice = cast(forms.ModelChoiceField, field)
    choice.queryset = queryset
    choice.choices = place_choices(queryset)
    choice.error_messages["required"] = _("请选择所属村(社区)或网格")
    choice.error_messages["invalid_choice"] = _("请选择您数据范围内的村(社区)或网格")


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError beside the fields it names (the rest above the form)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class PersonSearchForm(forms.Form):
    """Filters of the people list: exact ID number or phone, township and village, sort order."""

    q = forms.CharField(
        label=_("身份证号码或电话"),
        required=False,
        max_length=40,
        widget=forms.TextInput(
            attrs={**_PII_ATTRS, "type": "search", "placeholder": _("完整的身份证号码或电话号码")}
        ),
    )
    township = forms.ChoiceField(label=_("乡镇(街道)"), required=False)
    village = forms.ChoiceField(label=_("村(社区)"), required=False)
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in SORTS], widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, within: Jurisdiction | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        townships = visible_to(Jurisdiction.objects.filter(level=Level.TOWNSHIP), user)
        if within is not None:
            townships = townships.filter(code__under=code_prefix(within.code))
        township_field = cast(forms.ChoiceField, self.fields["township"])
        township_field.choices = [("", _("全部")), *townships.values_list("code", "name")]
        township_field.widget.attrs["data-autosubmit"] = ""
        # Villages are offered once a township is chosen (the select submits itself on change).
        township = self.data.get("township", "") if self.is_bound else ""
        villages = visible_to(Jurisdiction.objects.filter(level=Level.VILLAGE), user)
        if township and township in dict(township_field.choices):
            villages = villages.filter(parent__code=township)
        else:
            villages = villages.none()
        village_field = cast(forms.ChoiceField, self.fields["village"])
        village_field.choices = [("", _("全部")), *villages.values_list("code", "name")]

    def clean_q(self) -> dict[str, str]:
        """An ID number (18 characters) or a phone number; both are matched exactly."""
        text = "".join(str(self.cleaned_data.get("q") or "").split())
        if not text:
            return {}
        digits = text.replace("-", "")
        if len(digits) == 18 and digits[:17].isdigit():
            return {"id_number": digits}
        try:
            normalize_phone(digits)
        except ValidationError:
            raise ValidationError(
                _("请输入完整的 18 位身份证号码或电话号码（固定电话请带区号）"), code="search"
            ) from None
        return {"phone": digits}

    def people(self) -> QuerySet[Person]:
        """The filtered people, through ``services.find_people`` (scoped, blind-index search)."""
        data: dict[str, Any] = {}
        if self.is_bound:
            self.is_valid()  # an invalid filter is ignored (its error is shown beside it) ...
            data = self.cleaned_data
            if "q" in self.errors:  # ... except the search: a wrong number matches nobody
                return Person.objects.none()
        search = data.get("q") or {}
        qs = services.find_people(self.user, **search).select_related("jurisdiction__parent")
        area = data.get("village") or data.get("township")
        if area:
            qs = qs.filter(area_code__under=code_prefix(area))
        return qs.order_by(*SORTS[data.get("sort") or "new"])

    @property
    def filtered(self) -> bool:
        return self.is_bound and any(self.data.get(k) for k in ("q", "township", "village"))


class PersonPageForm(PersonCreateForm):
    """Register a person from the pages: places limited to villages and grids in the user's scope."""

    field_order = ["name", "id_number", "phone", "address", "jurisdiction"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].label = _("所属村(社区)或网格")
        limit_places(self.fields["jurisdiction"], placeable(user))
        self.fields["name"].error_messages["required"] = _("请填写姓名")
        for name in services.PII_FIELDS:
            self.fields[name].widget.attrs.update(_PII_ATTRS)
        self.fields["id_number"].widget.attrs.update(inputmode="text", maxlength=18)
        self.fields["phone"].widget.attrs.update(inputmode="tel")
        self.fields["phone"].widget.input_type = "tel"
        self.fields["id_number"].help_text = _("18 位，末位可为 X；性别和出生年份据此自动填写")
        self.fields["phone"].help_text = _("手机号码，或带区号的固定电话")

    def clean(self) -> dict[str, Any]:
        # The service's rules for every field that passed its own checks, so that all the
        # problems show at once (the admin form stops at the first failing field).
        data = forms.ModelForm.clean(self) or {}
        values = {f: data[f] for f in services.EDITABLE_FIELDS if f in data}
        try:
            services.clean_person_fields(values)
        except ValidationError as exc:
            add_service_errors(self, exc)
        return data


class PersonEditForm(forms.Form):
    """Change a person: a field changes only when a new value is typed (plain values are never shown)."""

    name = forms.CharField(label=_("姓名"), max_length=services.MAX_NAME, required=False)
    id_number = forms.CharField(label=_("公民身份号码"), max_length=18, required=False)
    clear_id_number = forms.BooleanField(label=_("清空身份证号码"), required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    clear_phone = forms.BooleanField(label=_("清空联系电话"), required=False)
    address = forms.CharField(label=_("住址"), max_length=services.MAX_ADDRESS, required=False)
    clear_address = forms.BooleanField(label=_("清空住址"), required=False)
    jurisdiction = forms.ModelChoiceField(label=_("所属村(社区)或网格"), queryset=Jurisdiction.objects.none())

    CLEARABLE = ("id_number", "phone", "address")

    def __init__(self, *args: Any, user: Any, person: Person, **kwargs: Any) -> None:
        kwargs["initial"] = {"jurisdiction": person.jurisdiction, **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        self.person = person
        for name in services.PII_FIELDS:
            self.fields[name].widget.attrs.update(_PII_ATTRS, placeholder=_("不修改请留空"))
        self.fields["id_number"].widget.attrs.update(maxlength=18)
        self.fields["phone"].widget.attrs.update(inputmode="tel")
        self.fields["phone"].widget.input_type = "tel"
        # The current place stays selectable even when it is not a village or grid.
        current = Jurisdiction.objects.filter(pk=person.jurisdiction.pk)
        limit_places(self.fields["jurisdiction"], placeable(user) | current)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in self.CLEARABLE:
            if data.get(f"clear_{name}") and (data.get(name) or "").strip():
                self.add_error(name, _("填写了新值就不能同时选择清空"))
        return data

    def changes(self) -> dict[str, Any]:
        """Keyword arguments for ``services.update_person``: only what the user asked to change."""
        data = self.cleaned_data
        out: dict[str, Any] = {}
        for name in services.PII_FIELDS:
            value = (data.get(name) or "").strip()
            if value:
                out[name] = value
            elif name in self.CLEARABLE and data.get(f"clear_{name}"):
                out[name] = ""
        if data.get("jurisdiction") is not None and data["jurisdiction"].pk != self.person.jurisdiction.pk:
            out["jurisdiction"] = data["jurisdiction"]
        return out
