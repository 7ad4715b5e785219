"""Forms that register people through the services (admin and pages); plain values go in, never out."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

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
