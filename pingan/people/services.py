"""The people register's write gate: the only code that creates or changes a Person.

Every write runs in one transaction, checks the actor's scope, and appends an audit entry
that names the record and the fields touched, never their values (DOMAIN §11, PIPL).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from pingan.core import audit
from pingan.core.choices import AuditAction
from pingan.core.crypto import blind_index
from pingan.core.idnumber import normalize_id_number, parse_id_number
from pingan.core.pii import format_phone, mask_address, mask_id, mask_name, mask_phone, normalize_phone
from pingan.core.scoping import in_scope, visible_to
from pingan.geo.models import Jurisdiction
from pingan.people.models import Person

# Fields that hold personal data (encrypted at rest, masked on display, revealed with a permission).
PII_FIELDS = ("name", "id_number", "phone", "address")
EDITABLE_FIELDS = (*PII_FIELDS, "jurisdiction")
REVEAL_PERMISSION = "people.reveal_person"
# Blind-index purposes: keep ID numbers and phones in separate HMAC domains.
ID_PURPOSE = "id"
PHONE_PURPOSE = "phone"
MAX_NAME = 40
MAX_ADDRESS = 200


def id_index(number: str) -> str:
    return blind_index(normalize_id_number(number), ID_PURPOSE) if number else ""


def phone_index(e164: str) -> str:
    return blind_index(e164, PHONE_PURPOSE) if e164 else ""


# ---------------------------------------------------------------------------------------------
# Validation


def clean_person_fields(values: dict[str, Any], *, exclude_pk: int | None = None) -> dict[str, Any]:
    """Validate and normalise PII fields; return the model values to store.

    Collects every problem and raises one ValidationError keyed by field name.
    """
    errors: dict[str, list[Any]] = {}
    out: dict[str, Any] = {}
    if "name" in values:
        name = " ".join(str(values["name"] or "").split())
        if not name:
            errors["name"] = [_("姓名不能为空")]
        elif len(name) > MAX_NAME:
            errors["name"] = [_("姓名不能超过 %(n)s 个字") % {"n": MAX_NAME}]
        out["name"] = name
    if "id_number" in values:
        _clean_id_number(str(values["id_number"] or ""), out, errors, exclude_pk)
    if "phone" in values:
        raw = str(values["phone"] or "").strip()
        try:
            out["phone"] = normalize_phone(raw) if raw else ""
            out["phone_index"] = phone_index(out["phone"])
        except ValidationError as exc:
            errors["phone"] = exc.messages
    if "address" in values:
        address = str(values["address"] or "").strip()
        if len(address) > MAX_ADDRESS:
            errors["address"] = [_("住址不能超过 %(n)s 个字") % {"n": MAX_ADDRESS}]
        out["address"] = address
    if "jurisdiction" in values and not isinstance(values["jurisdiction"], Jurisdiction):
        errors["jurisdiction"] = [_("请选择所属区划")]
    elif "jurisdiction" in values:
        out["jurisdiction"] = values["jurisdiction"]
        out["area_code"] = values["jurisdiction"].code
    if errors:
        raise ValidationError(errors)
    return out


def _clean_id_number(
    raw: str, out: dict[str, Any], errors: dict[str, list[Any]], exclude_pk: int | None
) -> None:
    if not raw.strip():
        out.update(id_number="", id_number_index="", sex="", birth_year=None)
        return
    try:
        info = parse_id_number(raw)
    except ValidationError as exc:
        errors["id_number"] = exc.messages
        return
    index = id_index(info.number)
    duplicates = Person.objects.filter(id_number_index=index)
    if exclude_pk is not None:
        duplicates = duplicates.exclude(pk=exclude_pk)
    if duplicates.exists():
        errors["id_number"] = [_("该身份证号码已登记")]
        return
    # Sex and birth year are derived from the number (GB 11643), never typed in.
    out.update(id_number=info.number, id_number_index=index, sex=info.sex, birth_year=info.birth_date.year)


def _check_scope(actor: Any, code: str) -> None:
    if not in_scope(actor, code):
        raise PermissionDenied(_("无权在该区划登记或修改人员信息"))


# ---------------------------------------------------------------------------------------------
# Writes


def create_person(
    actor: Any,
    *,
    name: str,
    id_number: str = "",
    phone: str = "",
    address: str = "",
    jurisdiction: Jurisdiction,
) -> Person:
    """Register a person in ``jurisdiction`` (inside the actor's scope)."""
    if isinstance(jurisdiction, Jurisdiction):
        # Scope first: an outsider learns nothing from the validation (e.g. a duplicate ID).
        _check_scope(actor, jurisdiction.code)
    values = clean_person_fields(
        {
            "name": name,
            "id_number": id_number,
            "phone": phone,
            "address": address,
            "jurisdiction": jurisdiction,
        }
    )
    try:
        with transaction.atomic():
            person = _create(actor, values)
    except IntegrityError as exc:
        # Another request registered the same ID number between our check and our insert.
        raise ValidationError({"id_number": [_("该身份证号码已登记")]}) from exc
    return person


def _create(actor: Any, values: dict[str, Any]) -> Person:
    person = Person.objects.create(**values)
    fields = [f for f in EDITABLE_FIELDS if values.get(f)]
    audit.record(AuditAction.CREATE, actor=actor, target=person, detail={"fields": fields})
    return person


def update_person(actor: Any, person: Person, **fields: Any) -> Person:
    """Change some of name, id_number, phone, address, jurisdiction; audit which ones changed."""
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationError({f: [_("该字段不可修改")] for f in unknown})
    _check_scope(actor, person.area_code)
    if isinstance(fields.get("jurisdiction"), Jurisdiction):
        _check_scope(actor, fields["jurisdiction"].code)
    values = clean_person_fields(fields, exclude_pk=person.pk)
    changed = [f for f in EDITABLE_FIELDS if f in values and _differs(person, f, values[f])]
    if not changed:
        return person
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        for key, value in values.items():
            setattr(locked, key, value)
        locked.save()
        audit.record(AuditAction.UPDATE, actor=actor, target=locked, detail={"fields": changed})
    return locked


def _differs(person: Person, field: str, value: Any) -> bool:
    if field == "jurisdiction":
        return person.serializable_value("jurisdiction") != value.pk
    return (getattr(person, field) or "") != (value or "")


# ---------------------------------------------------------------------------------------------
# Reads


def find_people(user: Any, *, id_number: str | None = None, phone: str | None = None) -> QuerySet[Person]:
    """Exact search by ID number and/or phone through the blind indexes, inside the user's scope."""
    qs = visible_to(Person.objects.select_related("jurisdiction"), user)
    if id_number:
        qs = qs.filter(id_number_index=id_index(id_number))
    if phone:
        try:
            qs = qs.filter(phone_index=phone_index(normalize_phone(phone)))
        except ValidationError:
            # A number that cannot be valid matches nobody (every stored phone was validated).
            return qs.none()
    return qs


def can_reveal(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_active", False) and user.has_perm(REVEAL_PERMISSION))


def reveal(actor: Any, person: Person, fields: list[str]) -> dict[str, str]:
    """Plain values of ``fields`` for a user with 查看完整个人信息; every reveal is audited."""
    if not can_reveal(actor):
        raise PermissionDenied(_("无权查看完整个人信息"))
    if not in_scope(actor, person.area_code):
        raise PermissionDenied(_("无权查看该人员信息"))
    wanted = list(dict.fromkeys(fields))
    unknown = [f for f in wanted if f not in PII_FIELDS]
    if not wanted or unknown:
        raise ValidationError({"fields": [_("可查看的字段: %(fields)s") % {"fields": ", ".join(PII_FIELDS)}]})
    with transaction.atomic():
        audit.record(AuditAction.REVEAL, actor=actor, target=person, detail={"fields": wanted})
    return {f: _plain(person, f) for f in wanted}


def _plain(person: Person, field: str) -> str:
    value = getattr(person, field) or ""
    return format_phone(value) if field == "phone" else value


def masked(person: Person) -> dict[str, Any]:
    """The masked view of a person shown by default everywhere (API, admin, pages)."""
    return {
        "id": person.pk,
        "name": mask_name(person.name),
        "id_number": mask_id(person.id_number),
        "phone": mask_phone(person.phone),
        "address": mask_address(person.address),
    }


# ---------------------------------------------------------------------------------------------
# Key rotation (called by `manage.py rotate_keys --blind-index`)


def recompute_blind_indexes(batch_size: int = 500) -> int:
    """Recompute id_number_index/phone_index with the current BLIND_INDEX_KEY; return rows changed."""
    changed = 0
    last_pk = 0
    while True:
        batch = list(
            Person.objects.filter(pk__gt=last_pk)
            .order_by("pk")
            .only("pk", "id_number", "phone", "id_number_index", "phone_index")[:batch_size]
        )
        if not batch:
            return changed
        last_pk = batch[-1].pk
        stale = []
        for person in batch:
            new_id, new_phone = id_index(person.id_number), phone_index(person.phone)
            if (new_id, new_phone) != (person.id_number_index, person.phone_index):
                person.id_number_index, person.phone_index = new_id, new_phone
                stale.append(person)
        with transaction.atomic():
            Person.objects.bulk_update(stale, ["id_number_index", "phone_index"])
        changed += len(stale)
