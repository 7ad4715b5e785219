"""Shared-kernel API (/api/core/): the working-day calendar and the audit log."""

from datetime import date, datetime

from django.http import Http404
from ninja import Query, Router, Schema
from ninja.pagination import PageNumberPagination, paginate
from pydantic import Field, model_validator

from pingan.core import calendar
from pingan.core.choices import AuditAction
from pingan.core.models import AuditEntry
from pingan.core.types import AuthedRequest

router = Router(tags=["core 日历与审计"])


class PeriodIn(Schema):
    start: date = Field(description="起算日（不计入期间）")
    days: int | None = Field(None, ge=1, le=3650, description="自然日期间")
    months: int | None = Field(None, ge=1, le=120, description="月期间")
    working_days: int | None = Field(None, ge=1, le=3650, description="工作日期间")

    @model_validator(mode="after")
    def _exactly_one(self) -> "PeriodIn":
        given = [v for v in (self.days, self.months, self.working_days) if v is not None]
        if len(given) != 1:
            raise ValueError("days、months、working_days 须且只能填写一个")
        return self


class PeriodOut(Schema):
    start: date
    end: date


@router.get("/calendar/period", response={200: PeriodOut, 422: dict}, summary="法定期间计算")
def period(request: AuthedRequest, params: Query[PeriodIn]):
    """民法典 §201–203: the first day is not counted; a last day on a rest day moves to the next working day."""
    try:
        end = calendar.legal_period_end(
            params.start, days=params.days, months=params.months, working_days=params.working_days
        )
    except calendar.CalendarUnknownYear as exc:
        return 422, {"detail": [{"loc": ["query", "start"], "msg": str(exc)}]}
    return {"start": params.start, "end": end}


class DayOut(Schema):
    date: date
    is_workday: bool
    note: str


@router.get("/calendar/{year}", response={200: list[DayOut], 404: dict}, summary="某年工作日历")
def calendar_year(request: AuthedRequest, year: int):
    from pingan.core.models import WorkingDay

    days = list(WorkingDay.objects.filter(date__year=year).order_by("date"))
    if not days:
        return 404, {"detail": f"{year} 年的工作日历尚未维护"}
    return days


class AuditOut(Schema):
    id: int
    at: datetime
    username: str
    action: str
    action_label: str
    target_type: str
    target_id: str
    target_label: str
    detail: dict
    ip: str | None

    @staticmethod
    def resolve_action_label(entry: AuditEntry) -> str:
        return str(entry.get_action_display())


def can_view_audit(user) -> bool:
    return user.is_superuser or user.has_perm("core.view_auditentry")


@router.get("/audit", response=list[AuditOut], summary="审计日志")
@paginate(PageNumberPagination, page_size=50)
def audit_log(
    request: AuthedRequest,
    username: str | None = None,
    action: AuditAction | None = None,
    target_type: str | None = None,
    since: date | None = None,
    until: date | None = None,
):
    """Installation-wide, so only for users allowed to audit (others get 404, as for out-of-scope data)."""
    if not can_view_audit(request.user):
        raise Http404
    entries = AuditEntry.objects.all()
    if username:
        entries = entries.filter(username=username)
    if action:
        entries = entries.filter(action=action)
    if target_type:
        entries = entries.filter(target_type=target_type)
    if since:
        entries = entries.filter(at__date__gte=since)
    if until:
        entries = entries.filter(at__date__lte=until)
    return entries
