"""Admin for the people register: masked values only, exact search through the blind indexes.

Adding goes through ``services.create_person``; existing people are view-only here (a change
form would have to show the plain values).
"""

from __future__ import annotations

import contextlib
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from pingan.core.idnumber import normalize_id_number
from pingan.core.pii import normalize_phone
from pingan.core.scoping import visible_to
from pingan.geo.models import Jurisdiction
from pingan.people import services
from pingan.people.forms import PersonCreateForm
from pingan.people.models import Person

ADD_FIELDS = ("name", "id_number", "phone", "address", "jurisdiction")
VIEW_FIELDS = (
    "masked_name",
    "masked_id_number",
    "masked_phone",
    "masked_address",
    "sex",
    "birth_year",
    "jurisdiction",
    "area_code",
    "created_at",
    "updated_at",
)


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    """People register (人员信息): never shows a plain name, ID number, phone or address."""

    form = PersonCreateForm
    list_display = (
        "id",
        "masked_name",
        "masked_id_number",
        "masked_phone",
        "masked_address",
        "sex",
        "birth_year",
        "jurisdiction",
    )
    list_display_links = ("id", "masked_name")
    list_filter = ("sex",)
    list_select_related = ("jurisdiction",)
    # Non-empty so the search box shows; get_search_results replaces the default search.
    search_fields = ("id_number_index",)
    search_help_text = _("按完整身份证号码或电话号码精确查找")

    @admin.display(description=_("姓名"))
    def masked_name(self, obj: Person) -> str:
        return services.masked(obj)["name"]

    @admin.display(description=_("公民身份号码"))
    def masked_id_number(self, obj: Person) -> str:
        return services.masked(obj)["id_number"]

    @admin.display(description=_("联系电话"))
    def masked_phone(self, obj: Person) -> str:
        return services.masked(obj)["phone"]

    @admin.display(description=_("住址"))
    def masked_address(self, obj: Person) -> str:
        return services.masked(obj)["address"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Person]:
        return visible_to(super().get_queryset(request), request.user)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(id_number_index=services.id_index(normalize_id_number(term)))
        with contextlib.suppress(ValidationError):  # not a phone number: search by ID only
            match |= Q(phone_index=services.phone_index(normalize_phone(term)))
        return queryset.filter(match), False

    def get_fields(self, request: HttpRequest, obj: Person | None = None) -> tuple[str, ...]:
        return ADD_FIELDS if obj is None else VIEW_FIELDS

    def get_form(
        self, request: HttpRequest, obj: Person | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is not None:
            # The view page is built from masked read-only fields; no form field holds a value.
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Person | None = None) -> tuple[str, ...]:
        return () if obj is None else VIEW_FIELDS

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "jurisdiction":
            kwargs["queryset"] = visible_to(Jurisdiction.objects.all(), request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Person, form: PersonCreateForm, change: bool) -> None:
        person = services.create_person(request.user, **form.person_values())
        # The admin goes on to log and redirect with ``obj``: make it the stored row.
        obj.pk = person.pk
        obj._state.adding = False
        obj._state.db = person._state.db
