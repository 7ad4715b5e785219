"""The events write gate: intake from every channel, dispatch with a suggestion, merge, inform.

``intake`` turns a report into an event case: it checks the reporter, the category and the
place (point → grid, address → township/county, else the grid worker's own grid), finds or
registers the requester through the people register (never plain text here), registers the
case with the category's deadline, and makes a client's retry harmless (Idempotency-Key).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.accounts.choices import Role
from pingan.accounts.models import Unit
from pingan.cases import kinds
from pingan.cases import services as cases
from pingan.cases.choices import Action, Channel, DeadlineUnit, Status, Tier
from pingan.cases.models import Attachment, Case, Step
from pingan.core.crypto import blind_index
from pingan.core.notify import notify
from pingan.core.scoping import code_prefix, in_scope, visible_to
from pingan.events import routing
from pingan.events.models import Category, Event, IdempotencyKey
from pingan.geo.coords import CoordinateError, to_wgs84
from pingan.geo.locate import locate_address, locate_point
from pingan.geo.models import Jurisdiction
from pingan.people import services as people
from pingan.people.models import Person

KIND = "event"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 100
MAX_PHOTOS = 9
MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".heic", ".gif")
# Who may file an event, and the channel a grid worker files through.
INTAKE_ROLES = (Role.GRID_WORKER, Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER, Role.ADMIN)
MERGE_DEPTH = 10


# ---------------------------------------------------------------------------------------------
# Intake


def intake(
    *,
    actor: Any,
    channel: Channel | str,
    category: Category | str,
    title: str,
    description: str = "",
    lat: float | None = None,
    lon: float | None = None,
    crs: str = "wgs84",
    address: str = "",
    requester: Person | None = None,
    requester_name: str = "",
    requester_phone: str = "",
    photos: Iterable[Any] = (),
    solved_on_spot: bool = False,
    channel_ref: str = "",
    idempotency_key: str | None = None,
    idempotency_owner: str | None = None,
    at: datetime | None = None,
) -> tuple[Case, bool]:
    """File an event; returns (case, created). A replayed Idempotency-Key returns (first case, False).

    ``idempotency_owner`` names the client the key belongs to (default "user:<actor id>"; an
    API client passes its own, e.g. "open311:<key id>").
    """
    _check_actor(actor)
    photos = list(photos)
    key = clean_key(idempotency_key)
    owner = idempotency_owner or f"user:{actor.pk}"
    fingerprint = ""
    if key is not None:
        fingerprint = request_fingerprint(
            channel=str(channel),
            category=category.code if isinstance(category, Category) else str(category),
            title=title,
            description=description,
            lat=lat,
            lon=lon,
            crs=crs,
            address=address,
            requester=requester.pk if isinstance(requester, Person) else None,
            requester_name=requester_name,
            requester_phone=requester_phone,
            solved_on_spot=bool(solved_on_spot),
            channel_ref=channel_ref,
            photos=[(getattr(p, "name", ""), getattr(p, "size", 0)) for p in photos],
        )
        first = IdempotencyKey.objects.filter(key=key, owner=owner).select_related("case").first()
        if first is not None:
            return replay(first, fingerprint), False

    channel, category_obj = _check_input(actor, channel, category, solved_on_spot, channel_ref, photos)
    jurisdiction, wlat, wlon = _locate(actor, lat, lon, crs, address)
    at = at or timezone.now()
    try:
        with transaction.atomic():
            person = _requester(actor, jurisdiction, requester, requester_name, requester_phone)
            case = cases.register(
                KIND,
                actor=actor,
                title=title,
                jurisdiction=jurisdiction,
                channel=channel,
                description=description,
                lat=wlat,
                lon=wlon,
                address=address,
                requester=person,
                # The category's deadline policy (DOMAIN §2: each category carries its own).
                policy=policy_of(category_obj),
                # Roll-ups group by category without the cases app knowing about events.
                data={"category_id": category_obj.pk},
                tier=Tier.VILLAGE if solved_on_spot else Tier.TOWNSHIP,
                at=at,
                solved_on_spot=solved_on_spot,
            )
            Event.objects.create(
                case=case, category=category_obj, channel_ref=channel_ref.strip(), on_spot=solved_on_spot
            )
            _attach(case, photos)
            if key is not None:
                # The unique (key, owner) constraint settles concurrent retries: the loser's
                # whole registration rolls back and it answers with the winner's case.
                IdempotencyKey.objects.create(
                    key=key, owner=owner, actor=actor, fingerprint=fingerprint, case=case
                )
    except IntegrityError:
        if key is None:
            raise
        first = IdempotencyKey.objects.filter(key=key, owner=owner).select_related("case").first()
        if first is None:
            raise
        return replay(first, fingerprint), False
    return case, True


def policy_of(category: Category) -> kinds.DeadlinePolicy:
    """The category's deadline policy (a usable 小类 always has one)."""
    if not category.deadline_unit or category.deadline_amount is None:
        raise ValidationError({"category": [_("「%(name)s」没有处置期限") % {"name": category.name}]})
    return kinds.DeadlinePolicy(DeadlineUnit(category.deadline_unit), category.deadline_amount)


def _check_actor(actor: Any) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied(_("请先登录"))
    if not actor.is_superuser and actor.role not in INTAKE_ROLES:
        raise PermissionDenied(_("您的角色不能登记事件"))


def clean_key(value: str | None) -> str | None:
    if value is None:
        return None
    key = str(value).strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationError(
            {IDEMPOTENCY_HEADER: [_("Idempotency-Key 须为 1–%(n)d 个可打印字符") % {"n": MAX_KEY_LENGTH}]}
        )
    return key


def request_fingerprint(**values: Any) -> str:
    """A keyed hash of the request (it may hold a phone number: never a plain hash)."""
    text = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
    return blind_index(text, "idempotency")


def replay(first: IdempotencyKey, fingerprint: str) -> Case:
    if first.fingerprint != fingerprint:
        raise ValidationError(
            {IDEMPOTENCY_HEADER: [_("该 Idempotency-Key 已用于内容不同的另一请求，请换一个新的键")]}
        )
    return first.case


def _check_input(
    actor: Any, channel: Any, category: Any, solved_on_spot: bool, channel_ref: str, photos: list[Any]
) -> tuple[Channel, Category]:
    """Channel, category, on-spot flag and photos; every problem reported at once."""
    errors: dict[str, list[str]] = {}
    found = None
    try:
        found = Channel(channel)
    except ValueError:
        errors["channel"] = [_("未知的来源渠道「%(value)s」") % {"value": channel}]
    if found is not None and not actor.is_superuser:
        is_grid_worker = actor.role == Role.GRID_WORKER
        if is_grid_worker and found != Channel.GRID:
            errors["channel"] = [_("网格员只能以「网格员上报」渠道上报")]
        elif found == Channel.GRID and not is_grid_worker:
            errors["channel"] = [_("「网格员上报」须由网格员提交")]
    if solved_on_spot and found != Channel.GRID:
        errors["solved_on_spot"] = [_("只有网格员上报的事件可以就地解决")]
    category_obj = _category(category, errors)
    if len(channel_ref.strip()) > 64:
        errors["channel_ref"] = [_("来源编号不能超过 64 个字符")]
    _check_photos(photos, errors)
    if errors:
        raise ValidationError(errors)
    assert found is not None and category_obj is not None
    return found, category_obj


def _category(value: Category | str, errors: dict[str, list[str]]) -> Category | None:
    code = value.code if isinstance(value, Category) else str(value or "").strip()
    category = Category.objects.select_related("parent").filter(code=code).first() if code else None
    if category is None or not category.active or (category.parent and not category.parent.active):
        errors["category"] = [_("事件类型「%(code)s」不存在或已停用") % {"code": code}]
        return None
    if not category.usable:
        errors["category"] = [_("「%(name)s」是大类，请选择具体的小类") % {"name": category.name}]
        return None
    return category


def _check_photos(photos: list[Any], errors: dict[str, list[str]]) -> None:
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = [_("照片最多 %(n)d 张") % {"n": MAX_PHOTOS}]
        return
    for photo in photos:
        name = str(getattr(photo, "name", "") or "").lower()
        if not name.endswith(PHOTO_EXTENSIONS) or (getattr(photo, "size", 0) or 0) > MAX_PHOTO_BYTES:
            errors["photos"] = [
                _("照片须为 jpg、png、webp、heic 或 gif，每张不超过 %(mb)d MB")
                % {"mb": MAX_PHOTO_BYTES // 2**20}
            ]
            return


def _locate(
    actor: Any, lat: float | None, lon: float | None, crs: str, address: str
) -> tuple[Jurisdiction, float | None, float | None]:
    """Where the event is: point → grid; address → township or county; else the worker's grid."""
    home = _installation_prefix()
    if lat is not None or lon is not None:
        if lat is None or lon is None:
            raise ValidationError({"lat" if lat is None else "lon": [_("经纬度须同时提供")]})
        try:
            grid = locate_point(lat, lon, crs)
            wlat, wlon = to_wgs84(lat, lon, crs)
        except CoordinateError as exc:
            raise ValidationError({exc.field: [exc.message]}) from exc
        if grid is None or not grid.code.startswith(home):
            raise ValidationError(
                {
                    "location": [
                        _("该位置不在本平台的任何网格内，请核对经纬度和坐标系（%(crs)s）") % {"crs": crs}
                    ]
                }
            )
        return _in_actor_scope(actor, grid), wlat, wlon
    own = _own_area(actor)
    if address.strip():
        found = locate_address(address)
        place = found["township"] or found["county"]
        if place is not None and place.code.startswith(home):
            # The worker's own grid is more precise than a township named in the address.
            if own is not None and own.code.startswith(code_prefix(place.code)):
                return own, None, None
            return _in_actor_scope(actor, place), None, None
    if own is not None:
        return own, None, None
    raise ValidationError({"location": [_("请提供事件位置（经纬度）或可识别的地址")]})


def _installation_prefix() -> str:
    return code_prefix(settings.INSTANCE_CODE)


def _own_area(actor: Any) -> Jurisdiction | None:
    """A grid worker's own grid (or their only scope jurisdiction)."""
    if actor.role != Role.GRID_WORKER:
        return None
    if actor.grid_id:
        return actor.grid
    scope = list(actor.scope_jurisdictions.all()[:2])
    return scope[0] if len(scope) == 1 else None


def _in_actor_scope(actor: Any, place: Jurisdiction) -> Jurisdiction:
    if not in_scope(actor, place.code):
        raise ValidationError({"location": [_("该位置不在您的管辖范围内")]})
    return place


def _requester(
    actor: Any, jurisdiction: Jurisdiction, requester: Person | None, name: str, phone: str
) -> Person | None:
    """The person who reported, through the people register (DOMAIN §11: encrypted, masked)."""
    if requester is not None:
        if not visible_to(Person.objects.filter(pk=requester.pk), actor).exists():
            raise ValidationError({"requester": [_("反映人不存在或不在您的数据范围内")]})
        return requester
    name, phone = (name or "").strip(), (phone or "").strip()
    if not name and not phone:
        return None
    if phone:
        known = people.find_people(actor, phone=phone).first()
        if known is not None:
            return known
    if not name:
        raise ValidationError({"requester_name": [_("新的反映人须填写姓名")]})
    try:
        return people.create_person(actor, name=name, phone=phone, jurisdiction=jurisdiction)
    except ValidationError as exc:
        renamed = {"name": "requester_name", "phone": "requester_phone"}
        errors = exc.error_dict if hasattr(exc, "error_dict") else {"requester": exc.error_list}
        raise ValidationError({renamed.get(f, f): errs for f, errs in errors.items()}) from exc


def _attach(case: Case, photos: list[Any]) -> None:
    if not photos:
        return
    step = Step.objects.filter(case=case).order_by("id").first()  # the register step
    if step is None:
        return
    for photo in photos:
        name = str(getattr(photo, "name", "photo"))[-200:]
        Attachment.objects.create(
            step=step,
            file=photo,
            name=name,
            content_type=str(getattr(photo, "content_type", "") or "")[:100],
            size=getattr(photo, "size", 0) or 0,
        )


# ---------------------------------------------------------------------------------------------
# Dispatch and merge


def dispatch(
    case: Case,
    unit: Unit,
    *,
    actor: Any,
    version: int | None = None,
    note: str = "",
    at: datetime | None = None,
) -> Case:
    """派遣 with the desk's suggestion recorded on the step, so routing learns from overrides."""
    suggested = routing.suggest_unit(case)
    return cases.transition(
        case,
        Action.DISPATCH,
        actor=actor,
        version=version,
        note=note,
        at=at,
        unit=unit,
        suggested_unit_id=suggested.pk if suggested else None,
    )


def merge(
    case: Case,
    target: Case,
    *,
    actor: Any,
    version: int | None = None,
    note: str = "",
    at: datetime | None = None,
) -> Case:
    """合并: ``case`` repeats ``target``; it is closed into it and its requester is informed later.

    If the target is already closed, the requester is informed at once.
    """
    if not visible_to(Case.objects.filter(pk=target.pk, kind=KIND), actor).exists():
        raise ValidationError({"target": [_("目标案件不存在或不在您的数据范围内")]})
    with transaction.atomic():
        merged = cases.transition(
            case, Action.MERGE, actor=actor, version=version, note=note, at=at, target=target
        )
        if target.status == Status.CLOSED:
            _inform(merged, target, at or timezone.now())
    return merged


def inform_merged(case: Case, step: Step) -> None:
    """Hook on 结案: every case merged into ``case`` (at any depth) hears that it is closed.

    The notice is a COMMENT step on the merged case (for a citizen requester, the record that
    they were informed; an SMS gateway is out of scope) and a notification to the user who
    took the report, who calls the requester back.
    """
    frontier = [case.pk]
    for _depth in range(MERGE_DEPTH):
        merged = list(Case.objects.filter(merged_into_id__in=frontier).select_related("reporter"))
        if not merged:
            return
        for child in merged:
            _inform(child, case, step.at, step.note)
        frontier = [c.pk for c in merged]


def _inform(merged: Case, closed: Case, at: datetime, close_note: str = "") -> None:
    text = _(
        "您反映的「%(title)s」（%(number)s）已并入案件 %(target)s 一并办理，该案件已于 %(when)s 结案。"
    ) % {
        "title": merged.title[:60],
        "number": merged.number,
        "target": closed.number,
        "when": timezone.localtime(at).strftime("%Y-%m-%d %H:%M"),
    }
    if close_note:
        text += _("办理结果：%(note)s") % {"note": close_note[:200]}
    # A system note, not a state change: written directly, because the user who closed the
    # target may not have the merged case in scope (transition() would refuse them).
    Step.objects.create(
        case=merged,
        action=Action.COMMENT,
        from_status=merged.status,
        to_status=merged.status,
        at=at,
        note=text,
        data={"informed": True, "target": closed.number, "requester_id": merged.requester_id},
    )
    notify(
        text,
        users=[merged.reporter] if merged.reporter_id else [],
        link=f"/cases/{merged.pk}/",
        source=merged,
    )
