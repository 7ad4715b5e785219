"""The Open311 write gate: API clients and their keys, and GeoReport v2 POST requests.

A client files events through its own system user (a 坐席 account without a password,
scoped to the client's jurisdiction), so pingan.events.services.intake applies every rule of
intake to it — category, place → grid, the scope of the place, the requester through the
people register, Idempotency-Key — and the case shows the client as the one who filed it.
"""

from __future__ import annotations

import math
import re
import secrets
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.accounts.choices import Role
from pingan.accounts.models import User
from pingan.cases.choices import Channel
from pingan.cases.models import Case
from pingan.core import audit
from pingan.core.choices import AuditAction
from pingan.core.crypto import blind_index
from pingan.events.choices import LIST_DATATYPES, FieldDatatype
from pingan.events.models import Category
from pingan.events.services import IDEMPOTENCY_HEADER, intake
from pingan.geo.models import Jurisdiction
from pingan.open311.formats import Open311Error, field_error
from pingan.open311.georeport import find_service, installation_prefix
from pingan.open311.models import ApiClient

KEY_PURPOSE = "open311_api_key"  # blind-index domain of API keys
KEY_BYTES = 30  # secrets.token_urlsafe(30): 40 characters, 240 random bits
PREFIX_LENGTH = 8
MAX_DESCRIPTION = 4000  # the spec: "free form text limited to 4,000 characters"
MAX_VALUE = 4000
MAX_ADDRESS = 200  # Case.address
MAX_ADDRESS_ID = 64
MAX_MEDIA_URL = 500
TITLE_LENGTH = 60
ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
# intake/people field names → the GeoReport v2 parameter the client sent.
PARAMETERS = {
    "category": "service_code",
    "lat": "lat",
    "lon": "long",
    "crs": "lat/long",
    "title": "description",
    "requester": "phone",
    "requester_name": "first_name/last_name",
    "requester_phone": "phone",
}


# ---------------------------------------------------------------------------------------------
# Clients and keys


def hash_key(raw: str) -> str:
    """The stored form of an API key: a keyed HMAC (PINGAN_BLIND_INDEX_KEY), never the key."""
    return blind_index(raw, KEY_PURPOSE)


def create_client(
    *, name: str, jurisdiction: Jurisdiction, active: bool = True, actor: Any = None
) -> tuple[ApiClient, str]:
    """Register a client; returns it and its API key, which is shown this once and never stored."""
    client = ApiClient(name=name.strip(), jurisdiction=jurisdiction, active=active)
    return client, issue_key(client, actor=actor)


def issue_key(client: ApiClient, *, actor: Any = None) -> str:
    """Save a new client with its system user, or give an existing one a new key (the old one
    stops working at once). Returns the new key."""
    _check(client)
    key = secrets.token_urlsafe(KEY_BYTES)
    with transaction.atomic():
        created = client.pk is None
        if created:
            client.user = User.objects.create_user(
                username=f"open311-{secrets.token_hex(6)}", password=None, role=Role.DISPATCHER
            )
        client.key_prefix = key[:PREFIX_LENGTH]
        client.key_hash = hash_key(key)
        client.save()
        _sync_user(client)
        audit.record(
            AuditAction.CREATE if created else AuditAction.KEY_ROTATION,
            actor=actor,
            target=client,
            detail={"fields": ["name", "jurisdiction", "active", "key"] if created else ["key"]},
        )
    return key


def save_client(client: ApiClient, *, actor: Any = None, fields: list[str] | None = None) -> ApiClient:
    """Save a changed name, jurisdiction or active flag, and carry them to the system user."""
    _check(client)
    with transaction.atomic():
        client.save()
        _sync_user(client)
        audit.record(AuditAction.UPDATE, actor=actor, target=client, detail={"fields": sorted(fields or [])})
    return client


def _check(client: ApiClient) -> None:
    errors: dict[str, list[str]] = {}
    if not client.name.strip():
        errors["name"] = [_("名称不能为空")]
    elif ApiClient.objects.filter(name=client.name).exclude(pk=client.pk).exists():
        errors["name"] = [_("已有同名客户端")]
    jurisdiction = client.jurisdiction if client.jurisdiction_id else None
    if jurisdiction is None or not jurisdiction.code.startswith(installation_prefix()):
        errors["jurisdiction"] = [_("须为本平台所辖区划")]
    if errors:
        raise ValidationError(errors)


def _sync_user(client: ApiClient) -> None:
    """The system user mirrors the client: active flag, display name, and scope = jurisdiction."""
    user = client.user
    user.is_active = client.active
    user.full_name = f"Open311·{client.name}"[:40]
    user.role = Role.DISPATCHER
    user.save(update_fields=["is_active", "full_name", "role"])
    user.scope_jurisdictions.set([client.jurisdiction])
    user.scope_units.clear()


def authenticate(raw_key: str | None) -> ApiClient:
    """The active client holding ``raw_key``, else 403 (the spec: missing or invalid api_key)."""
    raw = str(raw_key or "").strip()
    if not raw:
        raise Open311Error(403, field_error("api_key", _("缺少 api_key，无法提交服务请求")))
    client = (
        ApiClient.objects.select_related("user", "jurisdiction")
        .filter(key_hash=hash_key(raw), active=True, user__is_active=True)
        .first()
    )
    if client is None:
        raise Open311Error(403, field_error("api_key", _("api_key 无效或已停用，无法提交服务请求")))
    ApiClient.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    return client


# ---------------------------------------------------------------------------------------------
# POST requests


def submit(client: ApiClient, form: Any, *, idempotency_key: str | None = None) -> tuple[Case, bool]:
    """File a GeoReport v2 POST as an event (channel Open311); returns (case, created).

    ``form`` is the request's form data. A retry with the same ``Idempotency-Key`` (a header the
    spec does not define; see docs/open311.md) and the same data returns the first case.
    Every problem with the data is reported at once (400), each naming its parameter.
    """
    code = str(form.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, field_error("service_code", _("缺少 service_code")))
    category = find_service(code)  # 404 when not found, as the spec says
    errors: list[str] = []
    lat, lon, point_given = _point(form, errors)
    address = str(form.get("address_string") or "").strip()
    address_id = str(form.get("address_id") or "").strip()
    if len(address) > MAX_ADDRESS:
        errors.append(field_error("address_string", _("不能超过 %(n)d 个字符") % {"n": MAX_ADDRESS}))
    if len(address_id) > MAX_ADDRESS_ID:
        errors.append(field_error("address_id", _("不能超过 %(n)d 个字符") % {"n": MAX_ADDRESS_ID}))
    if not point_given and not address:
        if address_id:
            # We keep no master address repository: an address_id alone cannot be located.
            errors.append(
                field_error("address_id", _("本平台没有地址库，请同时提供 lat 与 long 或 address_string"))
            )
        else:
            errors.append(
                field_error("lat/long", _("须提供位置：lat 与 long、address_string 或 address_id 之一"))
            )
    description = str(form.get("description") or "").strip()
    if len(description) > MAX_DESCRIPTION:
        errors.append(field_error("description", _("不能超过 %(n)d 个字符") % {"n": MAX_DESCRIPTION}))
    media_url = _media_url(form, errors)
    attributes = clean_attributes(category, form, errors)
    name, phone = _name(form), str(form.get("phone") or "").strip()
    if phone and not name:
        # intake would accept a phone alone when it is already registered: answering
        # differently would tell any key holder who is in the people register.
        errors.append(field_error("first_name/last_name", _("留电话时须填写姓名")))
    if errors:
        raise Open311Error(400, *errors)

    # Kept with the case (GET requests shows only media_url and address_id). e-mail, device_id
    # and account_id are not stored: the people register has no e-mail field, and no personal
    # data is written in plain text outside it (DOMAIN §11).
    extra = {"client": client.pk, "attributes": attributes, "media_url": media_url, "address_id": address_id}
    location_parameter = "lat/long" if point_given else "address_string"
    try:
        with transaction.atomic():
            case, created = intake(
                actor=client.user,
                channel=Channel.OPEN311,
                category=category,
                title=_title(description, category, address),
                description=description,
                lat=lat,
                lon=lon,
                crs="wgs84",  # the spec: WGS84
                address=address,
                requester_name=name,
                requester_phone=phone,
                idempotency_key=idempotency_key,
                idempotency_owner=client.idempotency_owner,
            )
            if created:
                # The tail of the registration, in its transaction: intake takes no extra data.
                case.data = {**(case.data or {}), "open311": extra}
                Case.objects.filter(pk=case.pk).update(data=case.data)
            elif (case.data or {}).get("open311") != extra:
                # intake compares the rest of the request; the attributes and media_url are ours.
                raise ValidationError(
                    {IDEMPOTENCY_HEADER: [_("该 Idempotency-Key 已用于内容不同的另一请求，请换一个新的键")]}
                )
    except ValidationError as exc:
        raise Open311Error(400, *_describe(exc, location_parameter)) from exc
    except PermissionDenied as exc:
        raise Open311Error(403, field_error("api_key", str(exc))) from exc
    return case, created


def clean_attributes(category: Category, form: Any, errors: list[str]) -> dict[str, Any]:
    """``attribute[code]=value`` (``attribute[code][]=v1&…`` for a multivaluelist) checked against
    the service definition (the category's fields); returns {code: value or [values]}."""
    submitted: dict[str, list[str]] = {}
    for key in form:
        match = ATTRIBUTE.match(key)
        if match is None:
            if key.startswith("attribute"):
                errors.append(field_error(key[:60], _("格式须为 attribute[code]=value")))
            continue
        values = [str(v).strip() for v in form.getlist(key) if str(v).strip()]
        submitted.setdefault(match.group(1), []).extend(values)
    fields = {f["code"]: f for f in category.fields or []}
    for code in submitted:
        if code not in fields:
            errors.append(
                field_error(
                    f"attribute[{code[:40]}]", _("「%(name)s」没有这个属性") % {"name": category.name}
                )
            )
    cleaned: dict[str, Any] = {}
    for code, field in fields.items():
        if not field.get("variable", True):
            continue  # information shown to the user, not a question
        parameter = f"attribute[{code}]"
        values = submitted.get(code, [])
        if not values:
            if field.get("required"):
                errors.append(
                    field_error(
                        parameter,
                        _("必填：%(description)s") % {"description": field.get("description") or code},
                    )
                )
            continue
        message = _value_problem(field, values)
        if message:
            errors.append(field_error(parameter, message))
            continue
        multi = field["datatype"] == FieldDatatype.MULTIVALUELIST
        cleaned[code] = list(dict.fromkeys(values)) if multi else values[0]
    return cleaned


def _value_problem(field: dict[str, Any], values: list[str]) -> str | None:
    datatype = FieldDatatype(field["datatype"])
    if datatype != FieldDatatype.MULTIVALUELIST and len(values) > 1:
        return _("只能有一个值")
    if any(len(v) > MAX_VALUE for v in values):
        return _("不能超过 %(n)d 个字符") % {"n": MAX_VALUE}
    value = values[0]
    if datatype == FieldDatatype.STRING and ("\n" in value or "\r" in value):
        return _("单行文本不能换行")
    if datatype == FieldDatatype.NUMBER:
        try:
            if not Decimal(value).is_finite():
                raise InvalidOperation
        except InvalidOperation:
            return _("须为数字")
    if datatype == FieldDatatype.DATETIME:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return _("须为 ISO 8601 日期时间，如 2026-11-23T09:00:00+08:00")
    if datatype in LIST_DATATYPES:
        keys = {str(v["key"]) for v in field.get("values", [])}
        unknown = [v for v in values if v not in keys]
        if unknown:
            return _("「%(value)s」不是可选值，可选：%(keys)s") % {
                "value": unknown[0][:40],
                "keys": ", ".join(sorted(keys)),
            }
    return None


def _point(form: Any, errors: list[str]) -> tuple[float | None, float | None, bool]:
    """lat and long (WGS84), both or neither; returns (lat, lon, whether a point was sent)."""
    raw = {"lat": str(form.get("lat") or "").strip(), "long": str(form.get("long") or "").strip()}
    if not raw["lat"] and not raw["long"]:
        return None, None, False
    missing = [name for name, value in raw.items() if not value]
    if missing:
        errors.append(field_error(missing[0], _("lat 与 long 须同时提供")))
        return None, None, True
    parsed: dict[str, float] = {}
    for name, limit in (("lat", 90.0), ("long", 180.0)):
        try:
            number = float(raw[name])
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or abs(number) > limit:
            errors.append(field_error(name, _("须为 -%(limit)d 到 %(limit)d 之间的数字") % {"limit": limit}))
        else:
            parsed[name] = number
    if len(parsed) < 2:
        return None, None, True
    return parsed["lat"], parsed["long"], True


def _media_url(form: Any, errors: list[str]) -> str:
    url = str(form.get("media_url") or "").strip()
    if not url:
        return ""
    try:
        if len(url) > MAX_MEDIA_URL:
            raise ValidationError("too long")
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        errors.append(
            field_error("media_url", _("须为不超过 %(n)d 个字符的 http(s) 网址") % {"n": MAX_MEDIA_URL})
        )
        return ""
    return url


def _name(form: Any) -> str:
    """first_name + last_name as one name: family name first for Chinese names (张 + 三 → 张三)."""
    first = str(form.get("first_name") or "").strip()
    last = str(form.get("last_name") or "").strip()
    if re.search(r"[A-Za-z]", first + last):
        return " ".join(p for p in (first, last) if p)
    return last + first


def _title(description: str, category: Category, address: str) -> str:
    """A case title: the first line of the description, else the service and the place."""
    first_line = description.splitlines()[0].strip() if description else ""
    if first_line:
        return first_line[:TITLE_LENGTH]
    return f"{category.name} {address}".strip()[:TITLE_LENGTH]


def _describe(exc: ValidationError, location_parameter: str) -> list[str]:
    """A ValidationError from intake or the people register as error descriptions."""
    if not hasattr(exc, "error_dict"):
        return [str(m) for m in exc.messages]
    names = {**PARAMETERS, "location": location_parameter}
    return [
        field_error(names.get(field, field), message)
        for field, messages in exc.message_dict.items()
        for message in messages
    ]
