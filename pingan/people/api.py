"""People register API (/api/people/): masked by default, full values only through /reveal.

Every read goes through the scoping function; a person outside the caller's scope is 404.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from pingan.core.scoping import code_prefix, get_visible_or_404, visible_to
from pingan.core.types import AuthedRequest
from pingan.geo.models import Jurisdiction
from pingan.people import services
from pingan.people.models import Person

router = Router(tags=["people"])


class PersonOut(Schema):
    """A person as shown by default: every personal field masked."""

    id: int
    name: str
    id_number: str
    phone: str
    address: str


class PersonDetailOut(PersonOut):
    sex: str
    birth_year: int | None
    jurisdiction_code: str
    jurisdiction_name: str


class PersonIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., max_length=100)
    id_number: str = Field("", max_length=40)
    phone: str = Field("", max_length=40)
    address: str = Field("", max_length=400)
    jurisdiction: str = Field(..., max_length=24, description="jurisdiction code")


class PersonPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=100)
    id_number: str | None = Field(None, max_length=40)
    phone: str | None = Field(None, max_length=40)
    address: str | None = Field(None, max_length=400)
    jurisdiction: str | None = Field(None, max_length=24)


class RevealIn(Schema):
    model_config = ConfigDict(extra="forbid")

    fields: list[str] = Field(..., min_length=1, max_length=4)


def _detail(person: Person) -> dict[str, Any]:
    return {
        **services.masked(person),
        "sex": person.sex,
        "birth_year": person.birth_year,
        "jurisdiction_code": person.jurisdiction.code,
        "jurisdiction_name": person.jurisdiction.name,
    }


def _jurisdiction(request: AuthedRequest, code: str) -> Jurisdiction:
    """A jurisdiction the caller may see; anything else is reported as unknown (no leak)."""
    found = visible_to(Jurisdiction.objects.all(), request.user).filter(code=code.strip()).first()
    if found is None:
        raise ValidationError({"jurisdiction": [_("区划代码不存在或不在您的数据范围内")]})
    return found


def _person(request: AuthedRequest, person_id: int) -> Person:
    return get_visible_or_404(Person.objects.select_related("jurisdiction"), request.user, pk=person_id)


@router.get("/", response=list[PersonOut])
@paginate
def list_people(
    request: AuthedRequest,
    id_number: str | None = Query(None, max_length=40, description="exact ID number (blind index)"),
    phone: str | None = Query(None, max_length=40, description="exact phone number (blind index)"),
    area: str | None = Query(None, max_length=24, description="jurisdiction code: people in it and below"),
):
    qs = services.find_people(request.user, id_number=id_number, phone=phone)
    if area and area.strip():
        qs = qs.filter(area_code__under=code_prefix(area.strip()))
    return _MaskedList(qs)


class _MaskedList:
    """Lazy masked view of a queryset that the paginator can count and slice."""

    def __init__(self, qs: Any) -> None:
        self.qs = qs

    def count(self) -> int:
        return self.qs.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list[dict[str, Any]]:
        return [services.masked(p) for p in self.qs[item]]


@router.get("/{int:person_id}", response=PersonDetailOut)
def get_person(request: AuthedRequest, person_id: int):
    return _detail(_person(request, person_id))


@router.post("/", response={201: PersonDetailOut})
def create_person(request: AuthedRequest, payload: PersonIn):
    person = services.create_person(
        request.user,
        name=payload.name,
        id_number=payload.id_number,
        phone=payload.phone,
        address=payload.address,
        jurisdiction=_jurisdiction(request, payload.jurisdiction),
    )
    return Status(201, _detail(person))


@router.patch("/{int:person_id}", response=PersonDetailOut)
def update_person(request: AuthedRequest, person_id: int, payload: PersonPatch):
    person = _person(request, person_id)
    changes = payload.dict(exclude_unset=True)
    if changes.get("jurisdiction") is not None:
        changes["jurisdiction"] = _jurisdiction(request, changes["jurisdiction"])
    if "jurisdiction" in changes and changes["jurisdiction"] is None:
        raise ValidationError({"jurisdiction": [_("请选择所属区划")]})
    if changes.get("name", "") is None:
        raise ValidationError({"name": [_("姓名不能为空")]})
    person = services.update_person(request.user, person, **changes)
    return _detail(Person.objects.select_related("jurisdiction").get(pk=person.pk))


@router.post("/{int:person_id}/reveal", response=dict[str, str])
def reveal_person(request: AuthedRequest, person_id: int, payload: RevealIn):
    person = _person(request, person_id)
    return services.reveal(request.user, person, payload.fields)
