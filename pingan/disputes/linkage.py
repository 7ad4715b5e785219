"""Police linkage (警调联动, DOMAIN §4): 110 dispute calls, their push to mediation, the
feedback, the follow-up call (回访) and the linkage rate.

A 110 dispute call (纠纷类警情) arrives by the API (``record_call``) or by an Excel/CSV file
(``import_calls``), idempotent on its call number (接警单号). Every call of the five key types
(五类纠纷) must be pushed to a mediation organisation within PINGAN_LINKAGE_PUSH_HOURS of the
call (default 24 h): ``push`` opens a dispute (source 110) and dispatches it to the
organisation; a call that needs no mediation is marked ``not_push`` with a reason. The
mediation outcome (the case's 处置反馈) is the feedback (``on_dispute_reported``, wired in
kind.py); then somebody calls back (``follow_up``).

Rates (``linkage_stats``), over the key-type calls made in a period:
- linkage rate 联动率 = pushed ÷ key-type calls (the seed's target ≥ 95 %);
- push timeliness 推送及时率 = pushed by ``push_due_at`` ÷ pushed;
- feedback rate 反馈率 = fed back ÷ pushed; feedback timeliness 反馈及时率 = fed back within
  PINGAN_LINKAGE_FEEDBACK_HOURS of the push ÷ fed back;
- follow-up rate 回访率 = followed up ÷ pushed; satisfaction 回访满意率 = satisfied ÷ followed up.

Who: calls are recorded by the office roles or by members of a police station; pushing and
marking not-pushed is the office's (dispatching a dispute is an office step of the loop);
follow-up is the office's or the call's station's. Every read goes through ``visible_to``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Substr, TruncMonth
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pingan.accounts.choices import UnitKind
from pingan.accounts.models import Unit
from pingan.cases import kinds
from pingan.cases.choices import DeadlineUnit, Tier
from pingan.cases.deadlines import deadline_after
from pingan.cases.indicators import Period, rate
from pingan.cases.services import CaseError
from pingan.core import audit
from pingan.core.calendar import local_zone
from pingan.core.choices import AuditAction
from pingan.core.importing import ImportFailed, RowError, cell_text, is_blank, read_table
from pingan.core.scoping import code_prefix, in_scope, scope_unit_ids, visible_to
from pingan.disputes.choices import KEY_TYPES, CallFeedback, DisputeType, Outcome, PartyRole, Source
from pingan.disputes.models import Dispute, PoliceCall
from pingan.geo.choices import Level
from pingan.geo.coords import CoordinateError
from pingan.geo.locate import locate_point
from pingan.geo.models import Jurisdiction
from pingan.people.models import Person

# The seed's target (DOMAIN §4): at least 95 % of five-type calls pushed to mediation.
TARGET = Decimal("0.95")
# A call stamped a little ahead of this server's clock is still a call (clocks drift).
CLOCK_SLACK = timedelta(minutes=5)
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
MAX_NUMBER = 40
MAX_PLACE = 200
MAX_SUMMARY = 2000
MAX_NOTE = 2000
MAX_REASON = 200
EARLIEST = datetime(2000, 1, 1, tzinfo=local_zone())

DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y%m%d%H%M%S",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H时%M分",
)
# Import columns: Chinese headers (the 110 system's export) and English aliases.
HEADERS = {
    "接警单号": "call_number",
    "警情编号": "call_number",
    "call_number": "call_number",
    "报警时间": "called_at",
    "接警时间": "called_at",
    "called_at": "called_at",
    "发生地点": "place",
    "案发地点": "place",
    "place": "place",
    "纠纷类型": "dispute_type",
    "dispute_type": "dispute_type",
    "派出所": "station",
    "管辖派出所": "station",
    "station": "station",
    "区划代码": "area_code",
    "area_code": "area_code",
    "简要警情": "summary",
    "summary": "summary",
    "纬度": "lat",
    "lat": "lat",
    "经度": "lon",
    "lon": "lon",
}
REQUIRED_COLUMNS = ("call_number", "called_at", "dispute_type", "station")
COLUMN_LABELS = {
    "call_number": gettext_lazy("接警单号"),
    "called_at": gettext_lazy("报警时间"),
    "place": gettext_lazy("发生地点"),
    "dispute_type": gettext_lazy("纠纷类型"),
    "station": gettext_lazy("派出所"),
    "area_code": gettext_lazy("区划代码"),
    "summary": gettext_lazy("简要警情"),
    "lat": gettext_lazy("纬度"),
    "lon": gettext_lazy("经度"),
    "location": gettext_lazy("区划代码"),
}
# Words the 110 system uses for the types besides our labels (情感纠纷 is our 婚恋家庭).
TYPE_WORDS = {
    "情感": DisputeType.FAMILY,
    "情感纠纷": DisputeType.FAMILY,
    "婚恋纠纷": DisputeType.FAMILY,
    "家庭纠纷": DisputeType.FAMILY,
    "婚姻家庭纠纷": DisputeType.FAMILY,
    "山林纠纷": DisputeType.LAND,
    "土地纠纷": DisputeType.LAND,
    "劳资": DisputeType.LABOUR,
    "欠薪": DisputeType.LABOUR,
    "医患纠纷": DisputeType.MEDICAL,
    "医疗": DisputeType.MEDICAL,
}


class LinkageError(CaseError):
    """A refused linkage step (already pushed, not yet pushed …): 409 with a message."""


class Recorded(NamedTuple):
    """What ``record_call`` gives back: the call, and whether it was already there."""

    call: PoliceCall
    duplicate: bool


# ---------------------------------------------------------------------------------------------
# Who may do what


def _signed_in(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def in_police_station(user: Any) -> bool:
    unit = getattr(user, "unit", None) if _signed_in(user) else None
    return unit is not None and unit.kind == UnitKind.POLICE_STATION


def can_record(user: Any) -> bool:
    """接警录入: the office roles, or anybody of a police station."""
    if not _signed_in(user):
        return False
    return user.is_superuser or user.role in kinds.OFFICE or in_police_station(user)


def can_push(user: Any) -> bool:
    """推送 and 不予推送: the office roles (dispatching a dispute is their step of the loop)."""
    return _signed_in(user) and (user.is_superuser or user.role in kinds.OFFICE)


def can_follow_up(user: Any, call: PoliceCall) -> bool:
    """回访: the office, or the call's own police station."""
    return can_push(user) or (
        _signed_in(user) and user.unit_id is not None and user.unit_id == call.station_id
    )


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _visible_call(call: PoliceCall | int, user: Any) -> PoliceCall:
    """The call, fresh and locked, if ``user`` may see it (else PermissionDenied: the caller of
    a service already holds the call, so this is a refusal rather than a not-found)."""
    pk = call.pk if isinstance(call, PoliceCall) else call
    found = visible_to(PoliceCall.objects.select_for_update(), user).filter(pk=pk).first()
    if found is None:
        raise PermissionDenied(_("该警情不在您的数据范围内"))
    return found


# ---------------------------------------------------------------------------------------------
# Cleaning one call (the API and every import row go through the same checks)


def type_aliases() -> dict[str, str]:
    """Every accepted spelling of a dispute type: its value, its Chinese label with and
    without 纠纷, its label in the current language, and the 110 system's words."""
    aliases: dict[str, str] = {}
    with translation.override("zh-hans"):
        for choice in DisputeType:
            label = str(choice.label)
            aliases[label] = aliases[label.removesuffix("纠纷")] = choice.value
    for choice in DisputeType:
        aliases[str(choice.label)] = aliases[choice.value] = choice.value
    aliases.update({word: choice.value for word, choice in TYPE_WORDS.items()})
    return aliases


def parse_time(value: Any) -> datetime:
    """A call time from a datetime, or text in the usual forms; naive means Asia/Shanghai.
    Raises ValueError with a message for the user."""
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, date):
        raise ValueError(_("报警时间须包含时、分"))
    else:
        text = cell_text(value)
        if not text:
            raise ValueError(_("报警时间不能为空"))
        found = _parse_text_time(text)
    if timezone.is_naive(found):
        found = timezone.make_aware(found, local_zone())
    return found


def _parse_text_time(text: str) -> datetime:
    for pattern in DATETIME_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            _("报警时间「%(value)s」无法识别，请写成 2026-03-01 08:30") % {"value": text[:40]}
        ) from None


class Lookup:
    """Jurisdictions and police stations as one actor may use them, each fetched at most once
    (an import checks thousands of rows against a handful of codes and stations)."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor
        self.home = code_prefix(settings.INSTANCE_CODE)
        self._places: dict[str, Jurisdiction | None] = {}
        self._stations: list[Unit] | None = None

    def place(self, code: str) -> Jurisdiction | None:
        if code not in self._places:
            self._places[code] = Jurisdiction.objects.defer("geometry").filter(code=code).first()
        return self._places[code]

    def stations(self) -> list[Unit]:
        if self._stations is None:
            qs = Unit.objects.filter(kind=UnitKind.POLICE_STATION, is_active=True)
            self._stations = list(visible_to(qs, self.actor).order_by("area_code", "name"))
        return self._stations

    def station(self, value: Any, area_code: str) -> Unit | str:
        """The police station named or given by ``value`` (a Unit, an id, or a name), or a
        message. Two stations of one name: the one whose area holds the call's place."""
        if isinstance(value, Unit):
            value = value.pk
        if isinstance(value, int):
            found = [u for u in self.stations() if u.pk == value]
            missing = _("派出所（编号 %(value)s）不存在或不在您的数据范围内") % {"value": value}
        else:
            name = cell_text(value)
            if not name:
                return _("派出所不能为空")
            found = [u for u in self.stations() if u.name == name]
            if len(found) > 1 and area_code:
                found = [u for u in found if area_code.startswith(code_prefix(u.area_code))] or found
            missing = _("派出所「%(value)s」不存在或不在您的数据范围内") % {"value": name[:60]}
        if not found:
            return missing
        if len(found) > 1:
            return _("有多个名为「%(value)s」的派出所，请填写区划代码以区分") % {"value": found[0].name}
        return found[0]


def clean_call(lookup: Lookup, raw: dict[str, Any], now: datetime) -> tuple[dict[str, Any], dict[str, str]]:
    """Model values of one call and its problems by field (no problems: the values are complete).

    ``raw`` holds call_number, called_at, dispute_type, station, place, summary, and either
    area_code or lat/lon (with crs). Nothing is written.
    """
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"call_number": _clean_number(raw.get("call_number"), errors)}
    values["called_at"] = _clean_time(raw.get("called_at"), now, errors)
    values["dispute_type"] = _clean_type(raw.get("dispute_type"), errors)
    for name, limit in (("place", MAX_PLACE), ("summary", MAX_SUMMARY)):
        values[name] = cell_text(raw.get(name))
        if len(values[name]) > limit:
            errors[name] = _("不能超过 %(n)d 个字") % {"n": limit}
    place = _clean_place(lookup, raw, errors)
    station = lookup.station(raw.get("station"), place.code if place else "")
    if isinstance(station, str):
        errors["station"] = station
    elif place is not None and not (
        in_scope(lookup.actor, place.code) or station.pk in scope_unit_ids(lookup.actor)
    ):
        errors["area_code"] = _("该地点不在您的数据范围内")
    if errors:
        return values, errors
    assert place is not None and isinstance(station, Unit)
    values.update(jurisdiction=place, station=station)
    # Clock hours, through the one deadline function (ARCHITECTURE principle 5).
    values["push_due_at"] = deadline_after(
        values["called_at"], DeadlineUnit.URGENT_HOURS, settings.LINKAGE_PUSH_HOURS
    )
    return values, errors


def _clean_number(value: Any, errors: dict[str, str]) -> str:
    number = cell_text(value)
    if not number:
        errors["call_number"] = _("接警单号不能为空")
    elif len(number) > MAX_NUMBER or not number.isprintable():
        errors["call_number"] = _("接警单号须为不超过 %(n)d 个可打印字符") % {"n": MAX_NUMBER}
    return number


def _clean_time(value: Any, now: datetime, errors: dict[str, str]) -> datetime | None:
    try:
        called_at = parse_time(value)
    except ValueError as exc:
        errors["called_at"] = str(exc)
        return None
    if called_at > now + CLOCK_SLACK:
        errors["called_at"] = _("报警时间不能晚于当前时间")
    elif called_at < EARLIEST:
        errors["called_at"] = _("报警时间早于 2000 年，请核对")
    return called_at


def _clean_type(value: Any, errors: dict[str, str]) -> str:
    text = cell_text(value)
    found = type_aliases().get(text, "")
    if not text:
        errors["dispute_type"] = _("纠纷类型不能为空")
    elif not found:
        errors["dispute_type"] = _("未知的纠纷类型「%(value)s」，可选：%(choices)s") % {
            "value": text[:40],
            "choices": "、".join(str(c.label) for c in DisputeType),
        }
    return found


def _clean_place(lookup: Lookup, raw: dict[str, Any], errors: dict[str, str]) -> Jurisdiction | None:
    """Where the call was: the given jurisdiction code, else the point (lat/lon) → its grid.
    Either must lie in this installation (PINGAN_INSTANCE_CODE)."""
    code = cell_text(raw.get("area_code"))
    lat, lon = raw.get("lat"), raw.get("lon")
    if code:
        place = lookup.place(code) if code.isascii() and code.isdigit() else None
        if place is None or not code.startswith(lookup.home):
            errors["area_code"] = _("区划代码「%(code)s」不在本平台的区划内") % {"code": code[:24]}
            return None
        return place
    if cell_text(lat) == "" and cell_text(lon) == "":
        errors["area_code"] = _("请填写区划代码或经纬度")
        return None
    try:
        wlat, wlon = _coordinate(lat, "lat"), _coordinate(lon, "lon")
        grid = locate_point(wlat, wlon, cell_text(raw.get("crs")) or "wgs84")
    except CoordinateError as exc:
        errors[exc.field] = exc.message
        return None
    if grid is None or not grid.code.startswith(lookup.home):
        errors["location"] = _("该位置不在本平台的任何网格内，请核对经纬度")
        return None
    return grid


def _coordinate(value: Any, name: str) -> float:
    try:
        return float(cell_text(value))
    except ValueError:
        raise CoordinateError(name, _("经纬度须为数字")) from None


# ---------------------------------------------------------------------------------------------
# Recording a call (API)


def record_call(
    actor: Any,
    *,
    call_number: str,
    called_at: datetime | str,
    dispute_type: str,
    station: Unit | int | str,
    place: str = "",
    area_code: str = "",
    lat: float | None = None,
    lon: float | None = None,
    crs: str = "wgs84",
    summary: str = "",
    caller: Person | None = None,
    now: datetime | None = None,
) -> Recorded:
    """Record one 110 dispute call. The same call number again returns the call already
    recorded (``duplicate``): a retry is harmless. ValidationError names every bad field."""
    _require(can_record(actor), _("您不能录入110警情"))
    now = now or timezone.now()
    errors: dict[str, str] = {}
    number = _clean_number(call_number, errors)
    if errors:
        raise ValidationError({k: [v] for k, v in errors.items()})
    existing = PoliceCall.objects.filter(call_number=number).first()
    if existing is not None:
        return _duplicate(actor, existing)
    raw = {
        "call_number": number, "called_at": called_at, "dispute_type": dispute_type, "station": station,
        "place": place, "area_code": area_code, "lat": lat, "lon": lon, "crs": crs, "summary": summary,
    }  # fmt: skip
    values, errors = clean_call(Lookup(actor), raw, now)
    if caller is not None and not visible_to(Person.objects.filter(pk=caller.pk), actor).exists():
        errors["caller"] = _("报警人不存在或不在您的数据范围内")
    if errors:
        raise ValidationError({k: [v] for k, v in errors.items()})
    try:
        with transaction.atomic():
            call = PoliceCall.objects.create(**values, caller=caller)
            audit.record(AuditAction.CREATE, actor=actor, target=call, detail={"call_number": number})
    except IntegrityError:
        # The same number recorded by a concurrent request between our check and our insert.
        existing = PoliceCall.objects.filter(call_number=number).first()
        if existing is None:
            raise
        return _duplicate(actor, existing)
    return Recorded(call, False)


def _duplicate(actor: Any, existing: PoliceCall) -> Recorded:
    if not visible_to(PoliceCall.objects.filter(pk=existing.pk), actor).exists():
        raise ValidationError({"call_number": [_("该接警单号已由其他单位录入")]})
    return Recorded(existing, True)


# ---------------------------------------------------------------------------------------------
# Importing calls (Excel / CSV): every bad row reported, nothing written unless all is valid


@dataclass
class ImportResult:
    """What an import did: how many calls were added, and which rows were skipped and why."""

    filename: str
    created: int
    skipped: list[RowError] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return _("导入110纠纷警情：新增 %(created)d 条，跳过重复 %(skipped)d 条") % {
            "created": self.created,
            "skipped": len(self.skipped),
        }


def import_calls(source: str | Path | Any, actor: Any, *, now: datetime | None = None) -> ImportResult:
    """Import a .xlsx or .csv of calls (a path, or an uploaded file of the page or the API).

    Columns: 接警单号, 报警时间, 发生地点, 纠纷类型, 派出所, 区划代码, 简要警情 (optional 经度, 纬度
    instead of 区划代码). A call number already recorded, or repeated in the file, is skipped
    and reported; any other problem of any row raises ImportFailed listing them all, and
    nothing is written.
    """
    _require(can_record(actor), _("您不能导入110警情"))
    filename, data = _read_source(source)
    rows = read_rows(filename, data)
    now = now or timezone.now()
    known = _known_numbers({cell_text(raw.get("call_number")) for _n, raw in rows})
    lookup = Lookup(actor)
    errors: list[RowError] = []
    skipped: list[RowError] = []
    first_row: dict[str, int] = {}
    new: list[PoliceCall] = []
    for number, raw in rows:
        call_number = cell_text(raw.get("call_number"))
        reason = _skip_reason(call_number, first_row, known)
        if reason:
            skipped.append(RowError(number, reason, str(COLUMN_LABELS["call_number"])))
            continue
        if call_number:
            first_row[call_number] = number
        values, problems = clean_call(lookup, raw, now)
        errors += [RowError(number, message, str(COLUMN_LABELS[name])) for name, message in problems.items()]
        if not problems:
            new.append(PoliceCall(**values, area_code=values["jurisdiction"].code))
    if errors:
        order = [str(label) for label in COLUMN_LABELS.values()]
        errors.sort(key=lambda e: (e.row, order.index(e.field) if e.field in order else 99))
        raise ImportFailed(errors)
    _write(new, filename, len(skipped), actor)
    return ImportResult(filename, len(new), skipped)


def _skip_reason(call_number: str, first_row: dict[str, int], known: set[str]) -> str:
    if call_number in first_row:
        return _("接警单号 %(number)s 与第 %(row)d 行重复，已跳过") % {
            "number": call_number,
            "row": first_row[call_number],
        }
    if call_number in known:
        return _("接警单号 %(number)s 已录入，已跳过") % {"number": call_number}
    return ""


def _known_numbers(numbers: set[str]) -> set[str]:
    found: set[str] = set()
    wanted = sorted(n for n in numbers if n)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(PoliceCall.objects.filter(call_number__in=chunk).values_list("call_number", flat=True))
    return found


def _write(calls: list[PoliceCall], filename: str, skipped: int, actor: Any) -> None:
    try:
        with transaction.atomic():
            PoliceCall.objects.bulk_create(calls, batch_size=1000)
            audit.record(
                AuditAction.IMPORT,
                actor=actor,
                detail={
                    "kind": "police_calls",
                    "file": filename[:200],
                    "created": len(calls),
                    "skipped": skipped,
                },
            )
    except IntegrityError as exc:  # the same number recorded by someone else meanwhile
        raise ImportFailed(
            [RowError(0, _("导入期间有相同接警单号的警情被录入，请重新导入（重复的将被跳过）"), "file")]
        ) from exc


def _read_source(source: str | Path | Any) -> tuple[str, bytes]:
    if isinstance(source, str | Path):
        path = Path(source)
        return path.name, path.read_bytes()
    if (getattr(source, "size", 0) or 0) > MAX_FILE_BYTES:
        raise ImportFailed(
            [RowError(0, _("文件过大（上限 %(mb)d MB）") % {"mb": MAX_FILE_BYTES // 2**20}, "file")]
        )
    return getattr(source, "name", "") or "", source.read()


def read_rows(filename: str, data: bytes) -> list[tuple[int, dict[str, Any]]]:
    """(spreadsheet row number, {column: value}) for every non-blank row; the header is row 1."""
    if not data:
        raise ImportFailed([RowError(0, _("文件为空"), "file")])
    header, lines = read_table(data, Path(filename).suffix.lower())
    columns = [HEADERS.get(cell_text(h), HEADERS.get(cell_text(h).lower(), "")) for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if "area_code" not in columns and not {"lat", "lon"} <= set(columns):
        missing.append("area_code")
    if missing:
        raise ImportFailed(
            [
                RowError(1, _("缺少列「%(col)s」") % {"col": COLUMN_LABELS[c]}, str(COLUMN_LABELS[c]))
                for c in missing
            ]
        )
    rows = []
    for number, values in lines:
        if is_blank(values):
            continue
        rows.append((number, {col: values[i] for i, col in enumerate(columns) if col and i < len(values)}))
    if not rows:
        raise ImportFailed([RowError(0, _("文件中没有数据行"), "file")])
    if len(rows) > MAX_ROWS:
        raise ImportFailed([RowError(0, _("一次最多导入 %(n)d 行，请分批导入") % {"n": MAX_ROWS}, "file")])
    return rows


# ---------------------------------------------------------------------------------------------
# Push, not push, feedback, follow-up


def _clean_at(at: datetime | None, earliest: datetime, now: datetime, what: str) -> datetime:
    at = at or now
    if timezone.is_naive(at):
        at = timezone.make_aware(at, local_zone())
    if at > now + CLOCK_SLACK:
        raise ValidationError({"at": [_("%(what)s时间不能晚于当前时间") % {"what": what}]})
    if at < earliest:
        raise ValidationError({"at": [_("%(what)s时间不能早于报警时间") % {"what": what}]})
    return at


def mediation_unit(user: Any, org_unit: Any) -> Unit:
    """The mediation organisation's unit, if ``user`` may see it (ValidationError on org_unit)."""
    pk = getattr(org_unit, "pk", org_unit)
    qs = Unit.objects.filter(kind=UnitKind.MEDIATION, is_active=True, mediation_org__isnull=False)
    found = visible_to(qs, user).filter(pk=pk).first() if isinstance(pk, int) else None
    if found is None:
        raise ValidationError({"org_unit": [_("请选择您数据范围内的调解组织")]})
    return found


def push(
    call: PoliceCall | int,
    actor: Any,
    org_unit: Unit | int,
    at: datetime | None = None,
    *,
    parties: list[Any] | None = None,
) -> PoliceCall:
    """推送: open a dispute from the call (source 110) and dispatch it to the organisation.

    The call gives the type, place and facts; its parties are added by the mediator unless
    the pusher gives them (``parties``: disputes.services.PartyIn) or the caller is known
    (then the caller is the applicant).
    """
    from pingan.disputes import services as disputes

    _require(can_push(actor), _("您不能推送警情"))
    now = timezone.now()
    with transaction.atomic():
        locked = _visible_call(call, actor)
        if locked.status != CallFeedback.WAITING:
            raise LinkageError(
                _("该警情已处理（%(status)s），不能再推送") % {"status": locked.get_status_display()}
            )
        at = _clean_at(at, locked.called_at, now, _("推送"))
        unit = mediation_unit(actor, org_unit)
        dispute = disputes.register_dispute(
            actor=actor,
            dispute_type=locked.dispute_type,
            source=Source.POLICE_110,
            jurisdiction=locked.jurisdiction,
            title=_call_title(locked),
            facts=_call_facts(locked),
            parties=parties if parties is not None else _caller_parties(locked),
            address=locked.place,
            at=at,
        )
        disputes.assign(dispute, actor=actor, org_unit=unit, at=at)
        locked.status, locked.pushed_at, locked.pushed_to, locked.dispute = (
            CallFeedback.PUSHED,
            at,
            unit,
            dispute,
        )
        locked.save(update_fields=["status", "pushed_at", "pushed_to", "dispute", "updated_at"])
    return locked


def _call_title(call: PoliceCall) -> str:
    return _("110警情 %(number)s %(type)s") % {
        "number": call.call_number,
        "type": call.get_dispute_type_display(),
    }


def _call_facts(call: PoliceCall) -> str:
    when = timezone.localtime(call.called_at).strftime("%Y-%m-%d %H:%M")
    head = _("接警单号 %(number)s，报警时间 %(when)s，发生地点 %(place)s，%(station)s接警。") % {
        "number": call.call_number,
        "when": when,
        "place": call.place or call.jurisdiction.name,
        "station": call.station.name,
    }
    return f"{head}\n{call.summary}".strip()


def _caller_parties(call: PoliceCall) -> list[Any]:
    from pingan.disputes.services import PartyIn

    return [PartyIn(role=PartyRole.APPLICANT, person=call.caller)] if call.caller_id else []


def suggest_orgs(call: PoliceCall, user: Any, limit: int = 3) -> list[Any]:
    """Mediation organisations for a call not yet pushed (disputes.services.OrgSuggestion),
    by the dispute rules of type, place, tier and load, limited to those ``user`` may see.

    The dispute's tier would be the one its place gives.
    """
    from pingan.disputes import services as disputes

    tier = disputes.LEVEL_TIERS.get(Level(call.jurisdiction.level), Tier.TOWNSHIP)
    found = disputes.suggest_orgs_for(call.dispute_type, call.area_code, tier, limit=limit * 3)
    units = Unit.objects.filter(pk__in=[s.org.pk for s in found])
    visible = set(visible_to(units, user).values_list("pk", flat=True))
    return [s for s in found if s.org.pk in visible][:limit]


def not_push(call: PoliceCall | int, actor: Any, reason: str) -> PoliceCall:
    """不予推送: the call needs no mediation (counted as not pushed in the linkage rate)."""
    _require(can_push(actor), _("您不能处理警情推送"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写不予推送的理由")]})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": [_("理由不能超过 %(n)d 个字") % {"n": MAX_REASON}]})
    with transaction.atomic():
        locked = _visible_call(call, actor)
        if locked.status != CallFeedback.WAITING:
            raise LinkageError(_("该警情已处理（%(status)s）") % {"status": locked.get_status_display()})
        locked.status, locked.not_pushed_reason = CallFeedback.NOT_PUSHED, reason
        locked.save(update_fields=["status", "not_pushed_reason", "updated_at"])
        audit.record(AuditAction.UPDATE, actor=actor, target=locked, detail={"linkage": "not_pushed"})
    return locked


def on_dispute_reported(case: Any, step: Any) -> None:
    """Hook on the dispute's 处置反馈 (REPORT): the mediation outcome is the call's feedback.

    The first report sets ``fed_back_at`` (timeliness counts from it); a report after rework
    replaces the text only.
    """
    call = PoliceCall.objects.filter(dispute_id=case.pk).first()
    if call is None:
        return
    outcome = (getattr(step, "data", None) or {}).get("outcome") or (
        Dispute.objects.filter(pk=case.pk).values_list("outcome", flat=True).first()
    )
    label = str(Outcome(outcome).label) if outcome in Outcome.values else ""
    text = "：".join(part for part in (label, (step.note or "").strip()) if part)
    changes: dict[str, Any] = {
        "feedback": text,
        "status": CallFeedback.FED_BACK,
        "updated_at": timezone.now(),
    }
    if call.fed_back_at is None:
        changes["fed_back_at"] = step.at
    PoliceCall.objects.filter(pk=call.pk).update(**changes)


def follow_up(
    call: PoliceCall | int, actor: Any, note: str, satisfied: bool | None, at: datetime | None = None
) -> PoliceCall:
    """回访: the call back to the caller after the push (or the decision not to push); once."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("请填写回访情况")]})
    if len(note) > MAX_NOTE:
        raise ValidationError({"note": [_("回访情况不能超过 %(n)d 个字") % {"n": MAX_NOTE}]})
    now = timezone.now()
    with transaction.atomic():
        locked = _visible_call(call, actor)
        _require(can_follow_up(actor, locked), _("只有调度中心或接警派出所可以回访"))
        if locked.status == CallFeedback.WAITING:
            raise LinkageError(_("警情尚未推送，不能回访"))
        if locked.followed_up_at is not None:
            raise LinkageError(_("该警情已回访"))
        at = _clean_at(at, locked.pushed_at or locked.called_at, now, _("回访"))
        locked.followed_up_at, locked.followup_note, locked.followup_satisfied = at, note, satisfied
        locked.save(update_fields=["followed_up_at", "followup_note", "followup_satisfied", "updated_at"])
    return locked


# ---------------------------------------------------------------------------------------------
# Reads


def visible_calls(user: Any) -> QuerySet[PoliceCall]:
    """The calls ``user`` may see (THE read gate)."""
    return visible_to(PoliceCall.objects.all(), user)


def overdue_q(now: datetime) -> Q:
    """Waiting to be pushed and past the push time limit."""
    return Q(status=CallFeedback.WAITING, push_due_at__lt=now)


def key_q() -> Q:
    return Q(dispute_type__in=KEY_TYPES)


# ---------------------------------------------------------------------------------------------
# Statistics (DOMAIN §4): linkage rate and timeliness by station, county and month


class By(models.TextChoices):
    """What one row of the linkage statistics is."""

    STATION = "station", gettext_lazy("按派出所")
    COUNTY = "county", gettext_lazy("按县(市、区)")
    MONTH = "month", gettext_lazy("按月")


@dataclass
class LinkageCounts:
    """Counts of one row; everything but ``calls`` counts key-type calls only."""

    calls: int = 0  # every dispute call
    key_calls: int = 0  # 五类纠纷警情
    pushed: int = 0
    pushed_on_time: int = 0  # pushed by push_due_at
    not_pushed: int = 0
    waiting: int = 0
    overdue: int = 0  # waiting past push_due_at, now
    fed_back: int = 0
    fed_back_on_time: int = 0  # within LINKAGE_FEEDBACK_HOURS of the push
    followed_up: int = 0
    satisfied: int = 0

    def __add__(self, other: LinkageCounts) -> LinkageCounts:
        return LinkageCounts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


@dataclass
class StatRow:
    """One station, county or month: its counts and rates (fractions; None without data)."""

    key: str
    name: str
    counts: LinkageCounts

    @property
    def linkage_rate(self) -> Decimal | None:
        return rate(self.counts.pushed, self.counts.key_calls)

    @property
    def push_timeliness_rate(self) -> Decimal | None:
        return rate(self.counts.pushed_on_time, self.counts.pushed)

    @property
    def feedback_rate(self) -> Decimal | None:
        return rate(self.counts.fed_back, self.counts.pushed)

    @property
    def feedback_timeliness_rate(self) -> Decimal | None:
        return rate(self.counts.fed_back_on_time, self.counts.fed_back)

    @property
    def followup_rate(self) -> Decimal | None:
        return rate(self.counts.followed_up, self.counts.pushed)

    @property
    def satisfaction_rate(self) -> Decimal | None:
        return rate(self.counts.satisfied, self.counts.followed_up)

    @property
    def meets_target(self) -> bool | None:
        """联动率达标 (≥ 95 %); None when there were no key-type calls."""
        value = self.linkage_rate
        return None if value is None else value >= TARGET

    @property
    def timely_meets_target(self) -> bool | None:
        value = self.push_timeliness_rate
        return None if value is None else value >= TARGET


@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    kind: str  # count, rate or target


COLUMNS = (
    Column("calls", gettext_lazy("纠纷警情数"), "count"),
    Column("key_calls", gettext_lazy("五类纠纷警情数"), "count"),
    Column("pushed", gettext_lazy("推送数"), "count"),
    Column("pushed_on_time", gettext_lazy("按时推送数"), "count"),
    Column("not_pushed", gettext_lazy("不予推送数"), "count"),
    Column("waiting", gettext_lazy("待推送数"), "count"),
    Column("overdue", gettext_lazy("超时未推送数"), "count"),
    Column("fed_back", gettext_lazy("反馈数"), "count"),
    Column("fed_back_on_time", gettext_lazy("按时反馈数"), "count"),
    Column("followed_up", gettext_lazy("回访数"), "count"),
    Column("linkage_rate", gettext_lazy("联动率"), "rate"),
    Column("push_timeliness_rate", gettext_lazy("推送及时率"), "rate"),
    Column("feedback_rate", gettext_lazy("反馈率"), "rate"),
    Column("feedback_timeliness_rate", gettext_lazy("反馈及时率"), "rate"),
    Column("followup_rate", gettext_lazy("回访率"), "rate"),
    Column("satisfaction_rate", gettext_lazy("回访满意率"), "rate"),
    Column("meets_target", gettext_lazy("联动率达标(≥95%)"), "target"),
)


def value(row: StatRow, column: Column) -> Any:
    if hasattr(row.counts, column.key):
        return getattr(row.counts, column.key)
    return getattr(row, column.key)


def _aggregates(now: datetime) -> dict[str, Count]:
    key = key_q()
    pushed = key & Q(pushed_at__isnull=False)
    feedback_limit = timedelta(hours=settings.LINKAGE_FEEDBACK_HOURS)
    filters = {
        "key_calls": key,
        "pushed": pushed,
        "pushed_on_time": pushed & Q(pushed_at__lte=F("push_due_at")),
        "not_pushed": key & Q(status=CallFeedback.NOT_PUSHED),
        "waiting": key & Q(status=CallFeedback.WAITING),
        "overdue": key & overdue_q(now),
        "fed_back": pushed & Q(fed_back_at__isnull=False),
        "fed_back_on_time": pushed & Q(fed_back_at__lte=F("pushed_at") + feedback_limit),
        "followed_up": pushed & Q(followed_up_at__isnull=False),
        "satisfied": pushed & Q(followed_up_at__isnull=False, followup_satisfied=True),
    }
    return {"calls": Count("pk"), **{name: Count("pk", filter=q) for name, q in filters.items()}}


def _group_expression(by: By) -> Any:
    if by == By.STATION:
        return F("station_id")
    if by == By.COUNTY:
        return Substr("area_code", 1, 6)
    return TruncMonth("called_at", tzinfo=local_zone())


def linkage_stats(
    user: Any,
    *,
    date_from: date,
    date_to: date,
    by: By | str = By.STATION,
    area: str | None = None,
    now: datetime | None = None,
) -> list[StatRow]:
    """One row per station, county or month of the calls ``user`` may see, made between the
    two local days (both included); ``area`` narrows to a jurisdiction code's subtree."""
    by = By(by)
    now = now or timezone.now()
    period = Period.between(date_from, date_to)
    qs = visible_calls(user).filter(called_at__gte=period.start_at, called_at__lt=period.end_at)
    if area:
        qs = qs.filter(area_code__under=code_prefix(area))
    grouped = (
        qs.order_by()
        .annotate(group=_group_expression(by))
        .values("group")
        .annotate(**_aggregates(now))
        .order_by("group")
    )
    counts: dict[str, LinkageCounts] = {}
    for found in grouped:
        values: dict[str, Any] = dict(found)
        key = _group_key(by, values.pop("group"))
        counts[key] = LinkageCounts(**values)
    if by == By.MONTH:
        for first in period.month_starts():
            counts.setdefault(f"{first:%Y-%m}", LinkageCounts())
    names = _names(by, list(counts))
    rows = [StatRow(key, names.get(key, key), c) for key, c in counts.items()]
    return sorted(rows, key=lambda r: r.key if by == By.MONTH else (names.get(r.key, ""), r.key))


def _group_key(by: By, group: Any) -> str:
    if by == By.MONTH:
        return (
            timezone.localtime(group, local_zone()).strftime("%Y-%m")
            if isinstance(group, datetime)
            else str(group)[:7]
        )
    return str(group)


def _names(by: By, keys: list[str]) -> dict[str, str]:
    if by == By.STATION:
        return {str(pk): name for pk, name in Unit.objects.filter(pk__in=keys).values_list("pk", "name")}
    if by == By.COUNTY:
        return dict(Jurisdiction.objects.filter(code__in=keys).values_list("code", "name"))
    return {key: key for key in keys}


def total(rows: list[StatRow]) -> StatRow:
    """The 合计 row of a table."""
    summed = LinkageCounts()
    for row in rows:
        summed = summed + row.counts
    return StatRow("total", _("合计"), summed)


# ---------------------------------------------------------------------------------------------
# Excel (what offices open): one sheet per grouping, rates as percentage cells


def workbook(tables: list[tuple[By, list[StatRow]]], period: Period, now: datetime) -> bytes:
    """An .xlsx with one sheet per (grouping, rows): title, period and data time, header, rows,
    合计, and a native column chart of the linkage rate against the 95 % target."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    styles = _styles(book)
    for by, rows in tables:
        _sheet(book, styles, by, rows, period, now)
    book.close()
    return buffer.getvalue()


def _styles(book: Any) -> dict[str, Any]:
    def fmt(**props: Any) -> Any:
        return book.add_format({"border": 1, **props})

    return {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "head": fmt(bold=True, bg_color="#e6eef9", text_wrap=True, valign="vcenter"),
        "text": fmt(),
        "count": fmt(num_format="#,##0"),
        "rate": fmt(num_format="0.00%"),
        "target": fmt(align="center"),
        "bad": fmt(align="center", font_color="#c8102e", bold=True),
        "bold_text": fmt(bold=True),
        "bold_count": fmt(num_format="#,##0", bold=True),
        "bold_rate": fmt(num_format="0.00%", bold=True),
    }


def _sheet(
    book: Any, styles: dict[str, Any], by: By, rows: list[StatRow], period: Period, now: datetime
) -> None:
    sheet = book.add_worksheet(str(By(by).label))
    sheet.write(0, 0, _("警调联动统计（%(by)s）") % {"by": By(by).label}, styles["title"])
    sheet.write(
        1,
        0,
        _("统计区间：%(period)s　数据时间：%(time)s　目标：五类纠纷警情联动率 ≥ 95%%")
        % {"period": period.label(), "time": timezone.localtime(now).strftime("%Y-%m-%d %H:%M")},
    )
    sheet.write_row(2, 0, [_("名称"), *[str(c.label) for c in COLUMNS]], styles["head"])
    sheet.set_row(2, 32)
    summary = total(rows)
    for n, row in enumerate([*rows, summary], start=3):
        _write_row(sheet, styles, n, row, bold=row is summary)
    sheet.set_column(0, 0, 26)
    sheet.set_column(1, len(COLUMNS), 11)
    sheet.freeze_panes(3, 1)
    if rows:
        _chart(book, sheet, by, len(rows))


def _write_row(sheet: Any, styles: dict[str, Any], n: int, row: StatRow, *, bold: bool) -> None:
    prefix = "bold_" if bold else ""
    sheet.write_string(n, 0, row.name, styles[f"{prefix}text"])
    for i, column in enumerate(COLUMNS, start=1):
        raw = value(row, column)
        if column.kind == "target":
            word = "—" if raw is None else (_("达标") if raw else _("未达标"))
            sheet.write_string(n, i, word, styles["bad" if raw is False else "target"])
        elif raw is None:
            sheet.write_string(n, i, "—", styles[f"{prefix}text"])
        else:
            sheet.write_number(n, i, float(raw), styles[f"{prefix}{column.kind}"])


def _chart(book: Any, sheet: Any, by: By, count: int) -> None:
    name = sheet.get_name()
    rate_col = 1 + [c.key for c in COLUMNS].index("linkage_rate")
    chart = book.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": str(_("联动率")),
            "categories": [name, 3, 0, 2 + count, 0],
            "values": [name, 3, rate_col, 2 + count, rate_col],
            "fill": {"color": "#1f4e8c"},
        }
    )
    # The target line reads a hidden column of 0.95 (a chart series needs cells).
    target_col = len(COLUMNS) + 1
    for n in range(3, 3 + count):
        sheet.write_number(n, target_col, float(TARGET))
    sheet.set_column(target_col, target_col, None, None, {"hidden": True})
    target = book.add_chart({"type": "line"})
    target.add_series(
        {
            "name": str(_("目标 95%")),
            "categories": [name, 3, 0, 2 + count, 0],
            "values": [name, 3, target_col, 2 + count, target_col],
            "line": {"color": "#c8102e", "dash_type": "dash"},
            "marker": {"type": "none"},
        }
    )
    chart.combine(target)
    chart.set_title({"name": _("五类纠纷警情联动率（%(by)s）") % {"by": By(by).label}})
    chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
    chart.set_legend({"position": "bottom"})
    sheet.insert_chart(count + 6, 0, chart, {"x_scale": 1.6, "y_scale": 1.2})
