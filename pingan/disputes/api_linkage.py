"""Police linkage API (/api/linkage/, 警调联动): 110 dispute calls in (one by one, idempotent on
the call number, or a file), the push to mediation, not-push, follow-up, and the linkage
statistics with their Excel export.

Every read goes through the scoping function: a call outside the caller's scope is 404.
Callers are shown masked. Rules live in pingan.disputes.linkage.
(No ``from __future__ import annotations`` here: django-ninja reads the real annotations.)
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import ConfigDict

from pingan.cases.indicators import Period, percent
from pingan.cases.schemas import Id, Page
from pingan.core.importing import ImportFailed
from pingan.core.scoping import code_prefix, get_visible_or_404, visible_to
from pingan.core.types import AuthedRequest
from pingan.disputes import linkage
from pingan.disputes.choices import KEY_TYPES, CallFeedback, DisputeType
from pingan.disputes.linkage import By, StatRow
from pingan.disputes.models import PoliceCall
from pingan.people.models import Person
from pingan.people.services import masked

router = Router(tags=["linkage 警调联动"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RATE_NAMES = (
    "linkage_rate",
    "push_timeliness_rate",
    "feedback_rate",
    "feedback_timeliness_rate",
    "followup_rate",
    "satisfaction_rate",
)


# --- schemas -----------------------------------------------------------------------------------


class CallIn(Schema):
    """One 110 dispute call. The place is a jurisdiction code (area_code) or a point (lat/lon)."""

    model_config = ConfigDict(extra="forbid")

    call_number: str = Field(..., max_length=40, description="接警单号（幂等键）")
    called_at: datetime = Field(..., description="报警时间；不带时区按北京时间")
    dispute_type: str = Field(..., max_length=20, description="纠纷类型：值（neighbour）或中文名（邻里纠纷）")
    station_id: Id | None = Field(None, description="派出所（单位 id），与 station 二选一")
    station: str = Field("", max_length=80, description="派出所名称")
    place: str = Field("", max_length=200, description="发生地点")
    area_code: str = Field("", max_length=24, description="区划代码（网格、村社、乡镇或县）")
    lat: float | None = None
    lon: float | None = None
    crs: str = Field("wgs84", max_length=10, description="wgs84、gcj02 或 bd09")
    summary: str = Field("", max_length=2000, description="简要警情")
    caller_id: Id | None = Field(None, description="报警人（人员库 id，可空）")


class Ref(Schema):
    id: int
    name: str


class DisputeRef(Schema):
    case_id: int
    number: str
    status: str


class CallOut(Schema):
    id: int
    call_number: str
    called_at: datetime
    place: str
    area_code: str
    area_name: str
    dispute_type: str
    dispute_type_label: str
    key_type: bool = Field(description="五类纠纷")
    station: Ref
    summary: str
    caller: dict[str, Any] | None = Field(description="报警人（脱敏）")
    status: str
    status_label: str
    push_due_at: datetime
    seconds_left: int | None = Field(description="待推送：距推送期限的秒数")
    overdue_seconds: int | None = Field(description="推送超时秒数（0 为未超时）")
    pushed_at: datetime | None
    pushed_to: Ref | None
    dispute: DisputeRef | None
    not_pushed_reason: str
    fed_back_at: datetime | None
    feedback: str
    followed_up_at: datetime | None
    followup_note: str
    followup_satisfied: bool | None
    duplicate: bool = Field(False, description="该接警单号此前已录入，返回的是已有记录")


class CallListOut(Schema):
    items: list[CallOut]
    page: int
    page_size: int
    total: int
    has_next: bool


class CallFilters(Schema):
    station: Id | None = Field(None, description="派出所 id")
    area: str | None = Field(None, max_length=24, description="区划代码：该区划及其下级")
    type: DisputeType | None = Field(None, description="纠纷类型")
    key: bool | None = Field(None, description="true：只看五类纠纷")
    status: list[CallFeedback] = Field(default_factory=list, description="联动状态，可多选")
    overdue: bool | None = Field(None, description="true：待推送且已超过推送期限")
    date_from: date | None = Field(None, description="报警日期起（含）")
    date_to: date | None = Field(None, description="报警日期止（含）")


class ImportSkip(Schema):
    row: int
    field: str
    message: str


class ImportOut(Schema):
    summary: str
    created: int
    skipped: list[ImportSkip]


class ImportErrorOut(Schema):
    detail: list[dict[str, Any]]


class Message(Schema):
    detail: str


class PushIn(Schema):
    model_config = ConfigDict(extra="forbid")

    org_unit_id: Id = Field(..., description="调解组织的单位 id")
    at: datetime | None = Field(None, description="推送时间，默认现在")


class NotPushIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(..., max_length=200, description="不予推送理由")


class FollowUpIn(Schema):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(..., max_length=2000, description="回访情况")
    satisfied: bool | None = Field(None, description="报警人是否满意")
    at: datetime | None = Field(None, description="回访时间，默认现在")


class SuggestionOut(Schema):
    org_unit_id: int
    name: str
    area_code: str = Field(description="调解组织所在区划")
    open_count: int
    reason: str


class StatOut(Schema):
    key: str = Field(description="派出所 id、县级区划代码或 YYYY-MM")
    name: str
    calls: int = Field(description="纠纷警情数")
    key_calls: int = Field(description="五类纠纷警情数")
    pushed: int
    pushed_on_time: int
    not_pushed: int
    waiting: int
    overdue: int
    fed_back: int
    fed_back_on_time: int
    followed_up: int
    satisfied: int
    linkage_rate: float | None = Field(description="联动率 = 推送数 ÷ 五类纠纷警情数")
    linkage_rate_text: str
    push_timeliness_rate: float | None = Field(description="推送及时率 = 按时推送数 ÷ 推送数")
    push_timeliness_rate_text: str
    feedback_rate: float | None
    feedback_rate_text: str
    feedback_timeliness_rate: float | None
    feedback_timeliness_rate_text: str
    followup_rate: float | None
    followup_rate_text: str
    satisfaction_rate: float | None
    satisfaction_rate_text: str
    meets_target: bool | None = Field(description="联动率 ≥ 95%；无五类警情为空")
    timely_meets_target: bool | None = Field(description="推送及时率 ≥ 95%")


class StatsOut(Schema):
    by: str
    start: date
    end: date
    target: float
    data_time: datetime
    rows: list[StatOut]
    total: StatOut


# --- representations ---------------------------------------------------------------------------


def _timing(call: PoliceCall, now: datetime) -> tuple[int | None, int | None]:
    """(seconds left while waiting, seconds late: now for a waiting call, at the push for a pushed one)."""
    end = call.pushed_at or (now if call.status == CallFeedback.WAITING else None)
    overdue = None if end is None else max(0, int((end - call.push_due_at).total_seconds()))
    left = None
    if call.status == CallFeedback.WAITING:
        left = max(0, int((call.push_due_at - now).total_seconds()))
    return left, overdue


def call_out(call: PoliceCall, now: datetime | None = None, duplicate: bool = False) -> dict[str, Any]:
    """A call as the API and the pages show it; the caller masked (DOMAIN §11)."""
    now = now or timezone.now()
    left, overdue = _timing(call, now)
    case = call.dispute.case if call.dispute_id and call.dispute else None
    return {
        "id": call.pk,
        "call_number": call.call_number,
        "called_at": call.called_at,
        "place": call.place,
        "area_code": call.area_code,
        "area_name": call.jurisdiction.name,
        "dispute_type": call.dispute_type,
        "dispute_type_label": str(call.get_dispute_type_display()),
        "key_type": call.dispute_type in KEY_TYPES,
        "station": {"id": call.station_id, "name": call.station.name},
        "summary": call.summary,
        "caller": masked(call.caller) if call.caller_id and call.caller else None,
        "status": call.status,
        "status_label": str(call.get_status_display()),
        "push_due_at": call.push_due_at,
        "seconds_left": left,
        "overdue_seconds": overdue,
        "pushed_at": call.pushed_at,
        "pushed_to": {"id": call.pushed_to.pk, "name": call.pushed_to.name} if call.pushed_to else None,
        "dispute": {"case_id": case.pk, "number": case.number, "status": case.status} if case else None,
        "not_pushed_reason": call.not_pushed_reason,
        "fed_back_at": call.fed_back_at,
        "feedback": call.feedback,
        "followed_up_at": call.followed_up_at,
        "followup_note": call.followup_note,
        "followup_satisfied": call.followup_satisfied,
        "duplicate": duplicate,
    }


def _number(value: Decimal | None) -> float | None:
    return None if value is None else round(float(value), 4)


def stat_out(row: StatRow) -> dict[str, Any]:
    """A statistics row as the API (and the board's chart data) shows it."""
    out: dict[str, Any] = {"key": row.key, "name": row.name, **vars(row.counts)}
    for name in RATE_NAMES:
        out[name] = _number(getattr(row, name))
        out[f"{name}_text"] = percent(getattr(row, name))
    out["meets_target"] = row.meets_target
    out["timely_meets_target"] = row.timely_meets_target
    return out


def call_queryset() -> QuerySet[PoliceCall]:
    return PoliceCall.objects.select_related(
        "jurisdiction", "station", "caller", "pushed_to", "dispute__case"
    ).defer("jurisdiction__geometry")


def _call(request: AuthedRequest, call_id: int) -> PoliceCall:
    return get_visible_or_404(call_queryset(), request.user, pk=call_id)


def filter_calls(user: Any, f: CallFilters, now: datetime | None = None) -> QuerySet[PoliceCall]:
    """The calls ``user`` may see that match ``f``; bad values raise ValidationError naming the field."""
    now = now or timezone.now()
    qs = linkage.visible_calls(user)
    if f.station is not None:
        qs = qs.filter(station_id=f.station)
    if f.area:
        area = f.area.strip()
        if not area.isascii() or not area.isdigit():
            raise ValidationError({"area": [_("区划代码只能是数字")]})
        qs = qs.filter(area_code__under=code_prefix(area))
    if f.type:
        qs = qs.filter(dispute_type=f.type)
    if f.key is not None:
        qs = qs.filter(linkage.key_q()) if f.key else qs.exclude(linkage.key_q())
    if f.status:
        qs = qs.filter(status__in=f.status)
    if f.overdue is not None:
        qs = qs.filter(linkage.overdue_q(now)) if f.overdue else qs.exclude(linkage.overdue_q(now))
    if f.date_from and f.date_to and f.date_from > f.date_to:
        raise ValidationError({"date_to": [_("结束日期不能早于开始日期")]})
    if f.date_from:
        qs = qs.filter(called_at__gte=Period.day(f.date_from).start_at)
    if f.date_to:
        qs = qs.filter(called_at__lt=Period.day(f.date_to).end_at)
    return qs


def period_from(date_from: date | None, date_to: date | None, today: date | None = None) -> Period:
    """The asked period; default this month up to today."""
    today = today or timezone.localdate()
    end = date_to or today
    return Period.between(date_from or end.replace(day=1), end)


def _renamed(exc: ValidationError, names: dict[str, str]) -> ValidationError:
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError({names.get(k, k): v for k, v in exc.error_dict.items()})


# --- calls -------------------------------------------------------------------------------------


@router.post("/calls", response={200: CallOut, 201: CallOut}, summary="录入一条110纠纷警情（幂等）")
def create_call(request: AuthedRequest, payload: CallIn):
    """A new call → 201; the same call number again → 200 with the call already recorded
    and ``duplicate: true`` (a retry is harmless)."""
    caller = None
    if payload.caller_id is not None:
        caller = visible_to(Person.objects.all(), request.user).filter(pk=payload.caller_id).first()
        if caller is None:
            raise ValidationError({"caller_id": [_("报警人不存在或不在您的数据范围内")]})
    if payload.station_id is None and not payload.station.strip():
        raise ValidationError({"station_id": [_("请填写派出所（station_id 或 station）")]})
    try:
        recorded = linkage.record_call(
            request.user,
            call_number=payload.call_number,
            called_at=payload.called_at,
            dispute_type=payload.dispute_type,
            station=payload.station_id if payload.station_id is not None else payload.station,
            place=payload.place,
            area_code=payload.area_code,
            lat=payload.lat,
            lon=payload.lon,
            crs=payload.crs,
            summary=payload.summary,
            caller=caller,
        )
    except ValidationError as exc:
        names = {
            "caller": "caller_id",
            "station": "station_id" if payload.station_id is not None else "station",
        }
        raise _renamed(exc, names) from exc
    call = _call(request, recorded.call.pk)
    return Status(200 if recorded.duplicate else 201, call_out(call, duplicate=recorded.duplicate))


@router.post(
    "/calls/import",
    response={200: ImportOut, 403: Message, 422: ImportErrorOut},
    summary="导入110纠纷警情（Excel/CSV）",
)
def import_calls(request: AuthedRequest, file: File[UploadedFile | None] = None):
    """Upload .xlsx or .csv (接警单号, 报警时间, 发生地点, 纠纷类型, 派出所, 区划代码, 简要警情).
    Any bad row → 422 listing every bad row, nothing written; repeated call numbers are
    skipped and listed in ``skipped``."""
    # The file is optional in the signature so that the permission check runs first.
    if not linkage.can_record(request.user):
        return Status(403, {"detail": _("您不能导入110警情")})
    if file is None:
        return Status(
            422, {"detail": [{"loc": ["file", 0], "field": "file", "msg": _("请上传文件（.xlsx 或 .csv）")}]}
        )
    try:
        result = linkage.import_calls(file, request.user)
    except ImportFailed as exc:
        detail = [{"loc": ["file", e.row], "field": e.field, "msg": e.message} for e in exc.errors]
        return Status(422, {"detail": detail})
    return {
        "summary": result.summary,
        "created": result.created,
        "skipped": [e.as_dict() for e in result.skipped],
    }


@router.get("/calls", response=CallListOut, summary="110纠纷警情列表")
def list_calls(request: AuthedRequest, filters: Query[CallFilters], page: Query[Page]):
    """Newest first; ``overdue=true`` lists the calls waiting past their push time limit."""
    now = timezone.now()
    qs = filter_calls(request.user, filters, now)
    total = qs.count()
    start = (page.page - 1) * page.page_size
    rows = list(
        call_queryset()
        .filter(pk__in=qs.values("pk"))
        .order_by("-called_at", "-id")[start : start + page.page_size]
    )
    return {
        "items": [call_out(c, now) for c in rows],
        "page": page.page,
        "page_size": page.page_size,
        "total": total,
        "has_next": start + len(rows) < total,
    }


@router.get("/calls/{int:call_id}", response=CallOut, summary="一条警情")
def call_detail(request: AuthedRequest, call_id: int):
    return call_out(_call(request, call_id))


@router.get("/calls/{int:call_id}/suggestions", response=list[SuggestionOut], summary="建议推送的调解组织")
def call_suggestions(request: AuthedRequest, call_id: int):
    """Mediation organisations for the call's type and place, least loaded first (in scope)."""
    call = _call(request, call_id)
    return [
        {
            "org_unit_id": s.org.unit_id,
            "name": s.org.unit.name,
            "area_code": s.org.unit.area_code,
            "open_count": s.open_count,
            "reason": s.reason,
        }
        for s in linkage.suggest_orgs(call, request.user)
    ]


@router.post("/calls/{int:call_id}/push", response={200: CallOut}, summary="推送至调解组织")
def push_call(request: AuthedRequest, call_id: int, payload: PushIn):
    """Opens a dispute (source 110) and dispatches it to the organisation. 409 when the call was
    already pushed or marked not-pushed; 422 names org_unit_id or at."""
    call = _call(request, call_id)
    try:
        linkage.push(call, request.user, payload.org_unit_id, payload.at)
    except ValidationError as exc:
        raise _renamed(exc, {"org_unit": "org_unit_id", "unit": "org_unit_id"}) from exc
    return call_out(_call(request, call_id))


@router.post("/calls/{int:call_id}/not-push", response={200: CallOut}, summary="不予推送")
def not_push_call(request: AuthedRequest, call_id: int, payload: NotPushIn):
    call = _call(request, call_id)
    linkage.not_push(call, request.user, payload.reason)
    return call_out(_call(request, call_id))


@router.post("/calls/{int:call_id}/follow-up", response={200: CallOut}, summary="回访")
def follow_up_call(request: AuthedRequest, call_id: int, payload: FollowUpIn):
    call = _call(request, call_id)
    linkage.follow_up(call, request.user, payload.note, payload.satisfied, payload.at)
    return call_out(_call(request, call_id))


# --- statistics --------------------------------------------------------------------------------


class StatsQuery(Schema):
    by: By = Field(By.STATION, description="station 按派出所 / county 按县(市、区) / month 按月")
    date_from: date | None = Field(None, alias="from", description="开始日期（含），默认本月1日")
    date_to: date | None = Field(None, alias="to", description="结束日期（含），默认今天")
    area: str | None = Field(None, max_length=24, description="区划代码：只统计该区划")


def _area(value: str | None) -> str | None:
    area = (value or "").strip()
    if area and (not area.isascii() or not area.isdigit()):
        raise ValidationError({"area": [_("区划代码只能是数字")]})
    return area or None


@router.get("/stats", response=StatsOut, summary="联动率与及时率（按派出所、县或月）")
def stats(request: AuthedRequest, q: Query[StatsQuery]):
    """Linkage rate = key-type calls pushed ÷ key-type calls, against the 95 % target; push and
    feedback timeliness, follow-up; the calls the caller may see, made in the period."""
    period = period_from(q.date_from, q.date_to)
    now = timezone.now()
    rows = linkage.linkage_stats(
        request.user, date_from=period.start, date_to=period.end, by=q.by, area=_area(q.area), now=now
    )
    return {
        "by": q.by,
        "start": period.start,
        "end": period.end,
        "target": float(linkage.TARGET),
        "data_time": now,
        "rows": [stat_out(r) for r in rows],
        "total": stat_out(linkage.total(rows)),
    }


class ExportQuery(Schema):
    by: By | None = Field(None, description="只导出一种分组；默认三张表（派出所、县、月）")
    date_from: date | None = Field(None, alias="from")
    date_to: date | None = Field(None, alias="to")
    area: str | None = Field(None, max_length=24)


@router.get("/stats.xlsx", response={200: None}, summary="导出 Excel")
def stats_xlsx(request: AuthedRequest, q: Query[ExportQuery]):
    """The statistics of GET /stats as a workbook: one sheet per grouping, with a chart."""
    period = period_from(q.date_from, q.date_to)
    now, area = timezone.now(), _area(q.area)
    groupings = [q.by] if q.by else list(By)
    tables = [
        (
            by,
            linkage.linkage_stats(
                request.user, date_from=period.start, date_to=period.end, by=by, area=area, now=now
            ),
        )
        for by in groupings
    ]
    content = linkage.workbook(tables, period, now)
    name = _("警调联动统计_%(start)s_%(end)s.xlsx") % {"start": period.start, "end": period.end}
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename=\"linkage.xlsx\"; filename*=UTF-8''{quote(name)}"
    return response
