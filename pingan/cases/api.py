"""The generic case API (/api/cases/): work list, counts, detail with timeline, actions, attachments.

Every read goes through the scoping function (a case outside the caller's scope is 404);
every change goes through services.transition. No postponed annotations: ninja needs real ones.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from pingan.accounts.models import Unit
from pingan.cases import kinds, services
from pingan.cases.choices import CLOCK_STATUSES, OPEN_STATUSES, Action, Supervision
from pingan.cases.choices import Status as CaseStatus
from pingan.cases.models import Attachment, Case, Step
from pingan.cases.permissions import allowed_actions
from pingan.cases.schemas import (
    ActionIn,
    CaseDetailOut,
    CaseFilters,
    CaseListOut,
    ConflictOut,
    CountsOut,
    ErrorOut,
    Id,
    Mine,
    Ordering,
    Page,
    SupervisionBoardOut,
)
from pingan.core import calendar
from pingan.core.scoping import code_prefix, get_visible_or_404, scope_prefixes, visible_to
from pingan.core.types import AuthedRequest
from pingan.people.services import masked

router = Router(tags=["cases 案件"])

# Uploads: photos from the scene and PDF reports, each at most this size.
MAX_ATTACHMENT_BYTES = getattr(settings, "CASE_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
MAX_ATTACHMENTS_PER_UPLOAD = 9
# The type is read from the file's first bytes, not taken from the client's word.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)

# 待办 (DOMAIN §2): the desk acts on new, returned and reported cases and on extension requests;
# the responsible unit acts while its clock runs.
DESK_STATUSES = (CaseStatus.REGISTERED, CaseStatus.RETURNED, CaseStatus.REPORTED)

# Which inputs of ActionIn each action reads (offered with allowed_actions).
ACTION_INPUTS: dict[str, list[str]] = {
    Action.DISPATCH: ["unit_id"],
    Action.TRANSFER: ["unit_id"],
    Action.ADD_COHANDLER: ["unit_ids"],
    Action.REQUEST_EXTENSION: ["amount"],
    Action.APPROVE_EXTENSION: ["amount"],
    Action.EVALUATE: ["satisfaction", "by"],
    Action.ESCALATE: ["tier"],
    Action.MERGE: ["target"],
}
# Service field names → the API's input names, so a 422 names what the client sent.
FIELD_NAMES = {"unit": "unit_id", "units": "unit_ids"}

LIST_FIELDS = (
    "id", "number", "uuid", "kind", "title", "status", "area_code", "jurisdiction", "jurisdiction__name",
    "unit", "unit__name", "deadline_at", "handled_at", "supervision", "registered_at", "version",
)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Queries (public: the dispatch desk and "my work" pages use the same filters)


def overdue_q(now: datetime) -> Q:
    """Open, past its deadline and not handled in time (the rule of Case.is_overdue)."""
    late = Q(handled_at__isnull=True) | Q(handled_at__gt=F("deadline_at"))
    return Q(status__in=OPEN_STATUSES, deadline_at__lt=now) & late


def todo_q(user: Any) -> Q:
    """待办: what is waiting for ``user`` to act.

    The desk (dispatchers, supervisors, leaders, admins) acts on registered, returned and
    reported cases and on pending extension requests in its area; a unit's handlers act on
    the cases dispatched to their unit (or co-handled by it) while the clock runs. Grid
    workers take no step of the loop and have no 待办 here.
    """
    if user.is_superuser or user.role in kinds.OFFICE:
        q = Q(status__in=DESK_STATUSES) | Q(status__in=CLOCK_STATUSES, extension_pending=True)
        prefixes = scope_prefixes(user)
        if prefixes is not None:
            area = Q(pk__in=[])
            for prefix in prefixes:
                area |= Q(area_code__under=prefix)
            q &= area
        return q
    if user.role in kinds.UNIT and user.unit_id:
        # The co-handled ids as a list (few): an index condition, where a sub-query in the OR
        # would make the planner filter every running case (docs/performance.md).
        cohandled = list(
            Case.cohandlers.through.objects.filter(unit_id=user.unit_id).values_list("case_id", flat=True)
        )
        return Q(status__in=CLOCK_STATUSES) & (Q(unit_id=user.unit_id) | Q(pk__in=cohandled))
    return Q(pk__in=[])


def done_q(user: Any) -> Q:
    """已办: cases on which ``user`` took a step."""
    return Q(pk__in=Step.objects.filter(actor_id=user.pk).values("case_id"))


@dataclass(frozen=True)
class Capped:
    """A count that stops at COUNT_CAP: ``more`` says there are more than ``n``."""

    n: int
    more: bool = False

    @classmethod
    def sum(cls, counts: Iterable["Capped"]) -> "Capped":
        found = list(counts)
        return cls(sum(c.n for c in found), any(c.more for c in found))


# Tab counts stop here: counting every closed case of a city (millions) costs seconds, and
# "1,000+" tells a dispatcher as much. Each count reads at most COUNT_CAP + 1 matching rows.
COUNT_CAP = 1_000


def capped_count(qs: QuerySet[Case]) -> Capped:
    n = qs.order_by()[: COUNT_CAP + 1].count()
    return Capped(min(n, COUNT_CAP), n > COUNT_CAP)


def status_counts(qs: QuerySet[Case]) -> dict[str, Capped]:
    """Capped count of ``qs`` per status, one indexed query per status."""
    return {s.value: capped_count(qs.filter(status=s)) for s in CaseStatus}


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=calendar.local_zone())


def filter_cases(user: Any, filters: CaseFilters, now: datetime | None = None) -> QuerySet[Case]:
    """The cases ``user`` may see that match ``filters``; bad values raise ValidationError naming the field."""
    now = now or timezone.now()
    qs = visible_to(Case.objects.all(), user)
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    if filters.kind:
        if filters.kind not in {k.key for k in kinds.all_kinds()}:
            raise ValidationError({"kind": [_("未知的案件类型")]})
        qs = qs.filter(kind=filters.kind)
    if filters.category:
        qs = qs.filter(_category_q(filters.category.strip()))
    if filters.area:
        area = filters.area.strip()
        if not area.isdigit():
            raise ValidationError({"area": [_("区划代码只能是数字")]})
        qs = qs.filter(area_code__under=code_prefix(area))
    if filters.unit is not None:
        qs = qs.filter(unit_id=filters.unit)
    if filters.overdue is not None:
        qs = qs.filter(overdue_q(now)) if filters.overdue else qs.exclude(overdue_q(now))
    if filters.supervision:
        qs = qs.filter(supervision__in=filters.supervision)
    if filters.registered_from and filters.registered_to and filters.registered_from > filters.registered_to:
        raise ValidationError({"registered_to": [_("结束日期不能早于开始日期")]})
    if filters.registered_from:
        qs = qs.filter(registered_at__gte=_day_start(filters.registered_from))
    if filters.registered_to:
        qs = qs.filter(registered_at__lt=_day_start(filters.registered_to + timedelta(days=1)))
    if filters.q and filters.q.strip():
        term = filters.q.strip()
        qs = qs.filter(Q(number__startswith=term) | Q(title__contains=term))
    if filters.mine == Mine.TODO:
        qs = qs.filter(todo_q(user))
    elif filters.mine == Mine.DONE:
        qs = qs.filter(done_q(user))
    return qs


def _category_q(code: str) -> Q:
    """Events (kind "event") of a category: a 小类 by its code, or every 小类 of a 大类.

    The engine does not import the events app; it reads the catalogue through the app registry.
    """
    if not apps.is_installed("pingan.events"):
        raise ValidationError({"category": [_("未启用事件分类")]})
    category = apps.get_model("events", "Category").objects.filter(code=code).only("pk").first()
    if category is None:
        raise ValidationError({"category": [_("未知的事件分类")]})
    return Q(event__category=category) | Q(event__category__parent=category)


def _order(qs: QuerySet[Case], ordering: Ordering) -> QuerySet[Case]:
    """Each ordering is read in index order (case_registered, case_deadline): no sort of the
    matching cases. NULLS LAST only where a column has nulls (it would not match the index)."""
    field = ordering.value.lstrip("-")
    nulls_last = True if Case._meta.get_field(field).null else None
    if ordering.value.startswith("-"):
        return qs.order_by(F(field).desc(nulls_last=nulls_last), "-id")
    return qs.order_by(F(field).asc(nulls_last=nulls_last), "id")


# ---------------------------------------------------------------------------------------------
# Representations


def _kind_label(key: str) -> str:
    try:
        return str(kinds.get(key).label)
    except LookupError:
        return key


def _status_label(value: str) -> str:
    return str(dict(CaseStatus.choices).get(value, value)) if value else ""


def _timing(case: Case, now: datetime) -> tuple[int | None, int | None]:
    """(seconds left while the clock runs, seconds overdue) — the rule of Case.is_overdue."""
    if case.deadline_at is None:
        return None, None
    end = case.handled_at or now
    overdue = max(0, int((end - case.deadline_at).total_seconds()))
    left = None
    if case.status in CLOCK_STATUSES and case.handled_at is None:
        left = max(0, int((case.deadline_at - now).total_seconds()))
    return left, overdue


def item(case: Case, now: datetime) -> dict[str, Any]:
    """One row of the work list (no personal data)."""
    seconds_left, overdue_seconds = _timing(case, now)
    return {
        "id": case.pk,
        "number": case.number,
        "uuid": case.uuid,
        "kind": case.kind,
        "kind_label": _kind_label(case.kind),
        "title": case.title,
        "status": case.status,
        "status_label": _status_label(case.status),
        "area_code": case.area_code,
        "area_name": case.jurisdiction.name,
        "unit_id": case.unit_id,
        "unit_name": case.unit.name if case.unit else None,
        "deadline_at": case.deadline_at,
        "seconds_left": seconds_left,
        "overdue_seconds": overdue_seconds,
        "supervision": case.supervision,
        "supervision_label": str(Supervision(case.supervision).label),
        "registered_at": case.registered_at,
        "version": case.version,
    }


def _attachment_url(case: Case, attachment: Attachment) -> str:
    return reverse("api:case_attachment", kwargs={"case_id": case.pk, "attachment_id": attachment.pk})


def _step(case: Case, step: Step) -> dict[str, Any]:
    return {
        "id": step.pk,
        "action": step.action,
        "action_label": str(step.get_action_display()),
        "from_status": step.from_status,
        "from_label": _status_label(step.from_status),
        "to_status": step.to_status,
        "to_label": _status_label(step.to_status),
        "actor": step.actor.display_name if step.actor else None,
        "unit": step.unit.name if step.unit else None,
        "at": step.at,
        "note": step.note,
        "data": step.data,
        "attachments": [
            {
                "id": a.pk,
                "name": a.name,
                "content_type": a.content_type,
                "size": a.size,
                "url": _attachment_url(case, a),
            }
            for a in step.attachments.all()
        ],
    }


def _detail_queryset() -> QuerySet[Case]:
    steps = Step.objects.select_related("actor", "unit").prefetch_related("attachments").order_by("at", "id")
    return (
        Case.objects.select_related("jurisdiction", "unit", "requester", "reporter", "merged_into")
        .defer("jurisdiction__geometry")
        .prefetch_related("cohandlers", Prefetch("steps", queryset=steps))
    )


def detail(case: Case, user: Any) -> dict[str, Any]:
    """The case as the detail page shows it; the requester masked (DOMAIN §11)."""
    now = timezone.now()
    return {
        **item(case, now),
        "description": case.description,
        "channel": case.channel,
        "channel_label": str(case.get_channel_display()),
        "lat": case.lat,
        "lon": case.lon,
        "address": case.address,
        "tier": case.tier,
        "tier_label": str(case.get_tier_display()),
        "cohandlers": [{"id": u.pk, "name": u.name} for u in case.cohandlers.all()],
        "dispatched_at": case.dispatched_at,
        "handled_at": case.handled_at,
        "closed_at": case.closed_at,
        "rework_count": case.rework_count,
        "return_count": case.return_count,
        "extension_count": case.extension_count,
        "extension_pending": case.extension_pending,
        "satisfaction": case.satisfaction,
        "merged_into": case.merged_into.number if case.merged_into else None,
        "reporter": case.reporter.display_name if case.reporter else None,
        "requester": masked(case.requester) if case.requester else None,
        "allowed_actions": [_offer(case, action) for action in allowed_actions(case, user)],
        "timeline": [_step(case, s) for s in case.steps.all()],
    }


def _offer(case: Case, action: Action) -> dict[str, Any]:
    rule = kinds.get(case.kind).transition_for(action)
    return {
        "action": action.value,
        "label": str(action.label),
        "note_required": bool(rule and rule.note_required),
        "inputs": ["note", *ACTION_INPUTS.get(action, [])],
    }


def _case(request: AuthedRequest, case_id: str, queryset: QuerySet[Case] | None = None) -> Case:
    """A case in the caller's scope by id or number; anything else is 404 (no leak)."""
    qs = queryset if queryset is not None else Case.objects.all()
    if len(case_id) > 32:  # longer than any id or number
        raise Http404("not found")
    lookup = {"pk": int(case_id)} if case_id.isdigit() else {"number": case_id}
    return get_visible_or_404(qs, request.user, **lookup)


def _detail_of(request: AuthedRequest, pk: int) -> dict[str, Any]:
    return detail(_case(request, str(pk), _detail_queryset()), request.user)


def _conflict(case: Case) -> Status:
    current = Case.objects.filter(pk=case.pk).values_list("version", flat=True).first()
    return Status(
        409,
        {
            "code": "version_conflict",
            "detail": _("该案件已被他人修改，请刷新后重试"),
            "current_version": current,
        },
    )


# ---------------------------------------------------------------------------------------------
# Reads


@router.get("/", response=CaseListOut, summary="案件列表（派遣台、我的工作）")
def list_cases(
    request: AuthedRequest,
    filters: Query[CaseFilters],
    page: Query[Page],
    ordering: Ordering = Ordering.REGISTERED_DESC,
):
    """A page of cases without a total (the tab counts are /api/cases/counts)."""
    now = timezone.now()
    qs = _order(filter_cases(request.user, filters, now), ordering)
    qs = qs.select_related("jurisdiction", "unit").only(*LIST_FIELDS)
    start = (page.page - 1) * page.page_size
    rows = list(qs[start : start + page.page_size + 1])
    return {
        "items": [item(c, now) for c in rows[: page.page_size]],
        "page": page.page,
        "page_size": page.page_size,
        "has_next": len(rows) > page.page_size,
    }


@router.get("/counts", response=CountsOut, summary="各状态案件数（页签计数）")
def count_cases(request: AuthedRequest, filters: Query[CaseFilters]):
    """Per status over the filtered cases, each counted up to COUNT_CAP; every status is listed."""
    counts = status_counts(filter_cases(request.user, filters))
    statuses = [
        {"status": s.value, "label": str(s.label), "count": counts[s.value].n, "more": counts[s.value].more}
        for s in CaseStatus
    ]
    total = Capped.sum(counts.values())
    return {"total": total.n, "total_more": total.more, "statuses": statuses}


@router.get("/supervision", response=SupervisionBoardOut, summary="督办看板")
def supervision_board(
    request: AuthedRequest,
    kind: str | None = Query(None, max_length=20),
    area: str | None = Query(None, max_length=24),
    unit: Id | None = None,
    limit: int = Query(20, ge=1, le=200, description="每个等级列出的案件数"),
):
    """Open cases at 预警 or above in scope, grouped by level (红牌 first) with counts; items by deadline."""
    now = timezone.now()
    filters = CaseFilters.model_validate({"kind": kind, "area": area, "unit": unit})
    qs = filter_cases(request.user, filters, now).filter(
        status__in=OPEN_STATUSES, supervision__gte=Supervision.WARNING
    )
    counts = dict(
        qs.order_by().values_list("supervision").annotate(n=Count("id")).values_list("supervision", "n")
    )
    levels = []
    for level in sorted((s for s in Supervision if s >= Supervision.WARNING), reverse=True):
        rows = []
        if counts.get(level):
            level_qs = qs.filter(supervision=level).select_related("jurisdiction", "unit").only(*LIST_FIELDS)
            rows = [item(c, now) for c in _order(level_qs, Ordering.DEADLINE)[:limit]]
        levels.append(
            {"level": int(level), "label": str(level.label), "count": counts.get(level, 0), "items": rows}
        )
    return {"total": sum(counts.values()), "levels": levels}


@router.get("/{case_id}", response=CaseDetailOut, summary="案件详情（含流转记录、可执行操作）")
def get_case(request: AuthedRequest, case_id: str):
    return detail(_case(request, case_id, _detail_queryset()), request.user)


@router.get(
    "/{case_id}/attachments/{attachment_id}",
    url_name="case_attachment",
    summary="下载附件",
)
def get_attachment(request: AuthedRequest, case_id: str, attachment_id: int):
    case = _case(request, case_id)
    attachment = Attachment.objects.filter(pk=attachment_id, step__case=case).first()
    if attachment is None:
        raise Http404("not found")
    try:
        with attachment.file.open("rb") as fh:
            content = fh.read()
    except FileNotFoundError as exc:
        raise Http404("not found") from exc
    response = HttpResponse(content, content_type=attachment.content_type or "application/octet-stream")
    disposition = "inline" if attachment.content_type.startswith("image/") else "attachment"
    response["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(attachment.name, safe='')}"
    return response


# ---------------------------------------------------------------------------------------------
# Changes


def _unit_in_scope(request: AuthedRequest, unit_id: int) -> Unit | None:
    return visible_to(Unit.objects.filter(is_active=True), request.user).filter(pk=unit_id).first()


def _params(request: AuthedRequest, payload: ActionIn) -> dict[str, Any]:
    """Resolve ids and numbers to objects inside the caller's scope; anything else is 422 on its field."""
    params: dict[str, Any] = {}
    if payload.unit_id is not None:
        unit = _unit_in_scope(request, payload.unit_id)
        if unit is None:
            raise ValidationError({"unit_id": [_("单位不存在或不在您的数据范围内")]})
        params["unit"] = unit
    if payload.unit_ids is not None:
        units = [_unit_in_scope(request, pk) for pk in dict.fromkeys(payload.unit_ids)]
        if not units or None in units:
            raise ValidationError({"unit_ids": [_("协办单位不存在或不在您的数据范围内")]})
        params["units"] = units
    if payload.target is not None:
        target = visible_to(Case.objects.all(), request.user).filter(number=payload.target.strip()).first()
        if target is None:
            raise ValidationError({"target": [_("案件编号不存在或不在您的数据范围内")]})
        params["target"] = target
    for name in ("amount", "satisfaction", "tier"):
        if getattr(payload, name) is not None:
            params[name] = getattr(payload, name)
    if payload.by is not None:
        params["by"] = payload.by.value
    return params


def _renamed(exc: ValidationError) -> ValidationError:
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError({FIELD_NAMES.get(k, k): v for k, v in exc.error_dict.items()})


def _apply(request: AuthedRequest, case: Case, action: Action, version: int | None, note: str, **params: Any):
    """Run the transition; map refusals to the API's answers. Returns None on success, else a Status."""
    # The client's copy is stale: say so before anything else it concluded from that copy.
    if version is not None and version != case.version:
        return _conflict(case)
    try:
        services.check_generic_action(case, action)
        services.transition(case, action, actor=request.user, version=version, note=note, **params)
    except services.VersionConflict:
        return _conflict(case)
    except services.IllegalTransition as exc:
        return Status(
            409, {"code": "illegal_transition", "detail": exc.message, "current_version": case.version}
        )
    except ValidationError as exc:
        raise _renamed(exc) from exc
    return None


@router.post(
    "/{case_id}/actions/{action}",
    response={200: CaseDetailOut, 403: ErrorOut, 404: ErrorOut, 409: ConflictOut, 422: ErrorOut},
    summary="执行操作（派遣、签收、退回、反馈、结案、返工……）",
)
def act(request: AuthedRequest, case_id: str, action: Action, payload: ActionIn):
    """Apply one action of the case's kind. ``version`` is the version the client saw."""
    case = _case(request, case_id)
    params = _params(request, payload)
    refused = _apply(request, case, action, payload.version, payload.note, **params)
    return refused or _detail_of(request, case.pk)


def _sniff(upload: UploadedFile) -> str | None:
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _checked_uploads(files: list[UploadedFile]) -> list[tuple[UploadedFile, str]]:
    if not files:
        raise ValidationError({"file": [_("请选择要上传的文件")]})
    if len(files) > MAX_ATTACHMENTS_PER_UPLOAD:
        raise ValidationError({"file": [_("一次最多上传 %(n)d 个文件") % {"n": MAX_ATTACHMENTS_PER_UPLOAD}]})
    checked = []
    for upload in files:
        name = PurePath(upload.name or "").name[:200] or "file"
        if not upload.size:
            raise ValidationError({"file": [_("「%(name)s」是空文件") % {"name": name}]})
        if upload.size > MAX_ATTACHMENT_BYTES:
            limit = MAX_ATTACHMENT_BYTES // (1024 * 1024)
            raise ValidationError({"file": [_("「%(name)s」超过 %(mb)d MB") % {"name": name, "mb": limit}]})
        content_type = _sniff(upload)
        if content_type is None:
            raise ValidationError(
                {"file": [_("「%(name)s」不是照片（JPEG/PNG/GIF/WebP）或 PDF 文件") % {"name": name}]}
            )
        checked.append((upload, content_type))
    return checked


@router.post(
    "/{case_id}/attachments",
    response={200: CaseDetailOut, 403: ErrorOut, 404: ErrorOut, 409: ConflictOut, 422: ErrorOut},
    summary="上传附件（照片或 PDF，每个不超过 10 MB）",
)
def upload_attachments(
    request: AuthedRequest,
    case_id: str,
    file: File[list[UploadedFile]],
    note: Form[str] = "",
    version: Form[int | None] = None,
):
    """Attach files to a new 备注 step (COMMENT): the step and its attachments are written together.

    ``file``: photos or PDFs, one or more; ``version``: the version the client saw (optional).
    """
    case = _case(request, case_id)
    if len(note) > 2000:
        raise ValidationError({"note": [_("意见不能超过 2000 字")]})
    checked = _checked_uploads(file)
    with transaction.atomic():
        refused = _apply(request, case, Action.COMMENT, version, note.strip() or _("上传附件"))
        if refused is not None:
            return refused
        step = case.steps.filter(action=Action.COMMENT, actor=request.user).latest("id")
        for upload, content_type in checked:
            name = PurePath(upload.name or "").name[:200] or "file"
            Attachment.objects.create(
                step=step, file=upload, name=name, content_type=content_type, size=upload.size or 0
            )
    return _detail_of(request, case.pk)
