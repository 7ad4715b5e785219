"""Units and the current user (/api/accounts/)."""

from ninja import Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from pingan.accounts.choices import UnitKind
from pingan.accounts.models import Unit
from pingan.core.scoping import code_prefix, get_visible_or_404, user_scope, visible_to
from pingan.core.types import AuthedRequest

router = Router(tags=["accounts 单位与用户"])


class JurisdictionRef(Schema):
    code: str
    name: str


class UnitOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    platform: str
    area_code: str
    jurisdiction_name: str

    @staticmethod
    def resolve_kind_label(unit: Unit) -> str:
        return str(unit.get_kind_display())

    @staticmethod
    def resolve_jurisdiction_name(unit: Unit) -> str:
        return unit.jurisdiction.name


class MeOut(Schema):
    username: str
    name: str
    role: str
    role_label: str
    unit: UnitOut | None
    scope: list[JurisdictionRef]
    scope_prefixes: list[str] | None
    grid: JurisdictionRef | None


@router.get("/me", response=MeOut, summary="当前用户")
def me(request: AuthedRequest):
    user = request.user
    prefixes, _units = user_scope(user)
    return {
        "username": user.username,
        "name": user.display_name,
        "role": user.role,
        "role_label": str(user.get_role_display()),
        "unit": user.unit,
        "scope": [{"code": j.code, "name": j.name} for j in user.scope_jurisdictions.all()],
        "scope_prefixes": prefixes,
        "grid": {"code": user.grid.code, "name": user.grid.name} if user.grid else None,
    }


@router.get("/units", response=list[UnitOut], summary="单位列表")
@paginate(PageNumberPagination, page_size=50)
def list_units(
    request: AuthedRequest, kind: UnitKind | None = None, area: str | None = None, q: str | None = None
):
    units = visible_to(Unit.objects.select_related("jurisdiction"), request.user)
    if kind:
        units = units.filter(kind=kind)
    if area:
        units = units.filter(area_code__under=code_prefix(area))
    if q:
        units = units.filter(name__contains=q)
    return units


@router.get("/units/{unit_id}", response=UnitOut, summary="单位详情")
def get_unit(request: AuthedRequest, unit_id: int):
    return get_visible_or_404(Unit.objects.select_related("jurisdiction"), request.user, pk=unit_id)
