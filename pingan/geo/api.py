"""/api/geo/: jurisdictions, map outlines, locate (point or address) and import.

Every read goes through the scoping function: a jurisdiction outside the user's scope
answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

import typing
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.db.models import F, Q
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate

from pingan.core.importing import ImportFailed
from pingan.core.scoping import code_prefix, get_visible_or_404, in_scope, visible_to
from pingan.core.types import AuthedRequest
from pingan.geo import locate
from pingan.geo.choices import Level
from pingan.geo.coords import CoordinateError, normalise_crs, to_wgs84
from pingan.geo.importer import import_uploaded
from pingan.geo.models import Jurisdiction
from pingan.geo.services import outline_collection

router = Router(tags=["geo"])


class JurisdictionItem(Schema):
    code: str
    name: str
    level: str
    parent_code: str | None = None
    lat: float | None = None
    lon: float | None = None


class Ref(Schema):
    code: str
    name: str


class LevelRef(Schema):
    code: str
    name: str
    level: str


class Worker(Schema):
    username: str
    name: str


class JurisdictionDetail(JurisdictionItem):
    synthetic: bool
    ancestors: list[LevelRef]
    children_count: int
    workers: list[Worker]


class LatLon(Schema):
    lat: float
    lon: float


class LocateOut(Schema):
    grid: Ref
    chain: list[LevelRef]
    crs: str
    wgs84: LatLon


class AddressOut(Schema):
    county: Ref | None
    township: Ref | None


class FeatureCollectionOut(Schema):
    type: str = "FeatureCollection"
    features: list[dict]


class ImportOut(Schema):
    summary: str


class Message(Schema):
    detail: str | list[dict]


def _resolved_annotations(func: Callable) -> Callable:
    """paginate() wraps the view in a function of its own module, where the string annotations
    of this module (``from __future__ import annotations``) cannot be resolved; resolve them here."""
    func.__annotations__ = typing.get_type_hints(func)
    return func


def _unprocessable(field: str, message: str, where: str = "query") -> Status:
    return Status(422, {"detail": [{"loc": [where, field], "msg": message, "type": "value_error"}]})


@router.get("/jurisdictions", response=list[JurisdictionItem], summary="行政区划与网格列表")
@paginate(PageNumberPagination)
@_resolved_annotations
def list_jurisdictions(
    request: AuthedRequest, level: Level | None = None, parent: str | None = None, q: str | None = None
):
    qs = visible_to(Jurisdiction.objects.all(), request.user)
    if level:
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent__code=parent)
    if q and q.strip():
        qs = qs.filter(Q(name__icontains=q.strip()) | Q(code__startswith=q.strip()))
    return (
        qs.annotate(parent_code=F("parent__code"))
        .order_by("code")
        .values("code", "name", "level", "parent_code", "lat", "lon")
    )


@router.get("/jurisdictions/{code}", response=JurisdictionDetail, summary="行政区划详情")
def get_jurisdiction(request: AuthedRequest, code: str):
    nodes = Jurisdiction.objects.select_related("parent").defer("geometry", "parent__geometry")
    node = get_visible_or_404(nodes, request.user, code=code)
    workers = node.grid_workers.filter(is_active=True).order_by("username")
    return {
        "code": node.code,
        "name": node.name,
        "level": node.level,
        "parent_code": node.parent.code if node.parent else None,
        "lat": node.lat,
        "lon": node.lon,
        "synthetic": node.synthetic,
        "ancestors": [_level_ref(a) for a in locate.chain(node)],
        "children_count": visible_to(node.children.all(), request.user).count(),
        "workers": [{"username": w.username, "name": w.display_name} for w in workers],
    }


@router.get("/outlines", response=FeatureCollectionOut, summary="边界 GeoJSON（地图用）")
def outlines(request: AuthedRequest, level: Level = Level.COUNTY, within: str | None = None):
    """A FeatureCollection of outlines (properties code, name, level, parent_code), WGS-84,
    coordinates rounded to 6 decimals; only jurisdictions inside the user's scope."""
    qs = visible_to(Jurisdiction.objects.filter(level=level), request.user)
    if within:
        area = get_visible_or_404(Jurisdiction.objects.defer("geometry"), request.user, code=within)
        qs = qs.filter(code__under=code_prefix(area.code))
    return HttpResponse(outline_collection(qs), content_type="application/json")


@router.get(
    "/locate",
    response={200: LocateOut | AddressOut, 404: Message, 422: Message},
    summary="坐标或地址定位到网格",
)
def locate_view(
    request: AuthedRequest,
    lat: float | None = None,
    lon: float | None = None,
    crs: str = "wgs84",
    address: str | None = None,
):
    """Point mode (lat, lon, crs = wgs84 | gcj02 | bd09) → the grid and its chain of
    ancestors; address mode (address=…) → county and township recognised in the text."""
    if address is not None:
        return Status(200, _locate_address(request, address))
    if lat is None:
        return _unprocessable("lat", _("请提供纬度 lat 与经度 lon，或地址 address"))
    if lon is None:
        return _unprocessable("lon", _("请提供经度 lon"))
    try:
        system = normalise_crs(crs)
        wlat, wlon = to_wgs84(lat, lon, system)
    except CoordinateError as exc:
        return _unprocessable(exc.field, exc.message)
    # From memory: the index holds the grid and its chain, and in_scope applies the scoping
    # rule to the grid's code, so a request costs only the session, the user and the user's
    # scope prefixes. Outside every grid and outside the scope answer alike: no leak of grids.
    found = locate.locate_grid(wlat, wlon)
    if found is None or not in_scope(request.user, found[0].code):
        return Status(404, {"detail": _("该位置不在您可见的任何网格内")})
    grid, ancestors = found
    return Status(
        200,
        {
            "grid": {"code": grid.code, "name": grid.name},
            "chain": [_level_ref(a) for a in ancestors],
            "crs": system,
            "wgs84": {"lat": round(wlat, 7), "lon": round(wlon, 7)},
        },
    )


def _locate_address(request: AuthedRequest, address: str) -> dict:
    if len(address) > 500:
        address = address[:500]
    found = locate.locate_address(address)
    visible = set(
        visible_to(
            Jurisdiction.objects.filter(pk__in=[j.pk for j in found.values() if j]), request.user
        ).values_list("pk", flat=True)
    )
    return {
        key: ({"code": j.code, "name": j.name} if j is not None and j.pk in visible else None)
        for key, j in found.items()
    }


@router.post(
    "/import", response={200: ImportOut, 403: Message, 409: Message, 422: Message}, summary="导入区划与网格"
)
def import_jurisdictions_view(request: AuthedRequest, file: File[UploadedFile | None] = None):
    """Upload GeoJSON, CSV or .xlsx; every error comes back at once as 422 with its row."""
    # The file is optional in the signature so that the permission check runs before input
    # validation: a user without the right learns nothing about the expected input.
    user = request.user
    if not (user.is_superuser or user.has_perm("geo.add_jurisdiction")):
        raise PermissionDenied(_("没有导入行政区划的权限"))
    if file is None:
        return _unprocessable("file", _("请上传文件（GeoJSON、CSV 或 Excel）"), where="body")
    try:
        summary = import_uploaded(file, actor=user)
    except ImportFailed as exc:
        detail = [{"loc": ["file", e.row], "msg": e.message, "field": e.field} for e in exc.errors]
        return Status(422, {"detail": detail})
    except IntegrityError:
        # Another import wrote the same codes between our validation and our write.
        return Status(409, {"detail": _("数据已被同时修改，请重新导入")})
    return Status(200, {"summary": summary})


def _level_ref(node: Jurisdiction | locate.Node) -> dict:
    return {"code": node.code, "name": node.name, "level": node.level}
