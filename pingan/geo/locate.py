"""Locate: point → grid, grid → chain of ancestors, address text → county and township.

Point lookup uses an in-process index over every grid polygon, built lazily on first use:

- a shapely STRtree over the grid polygons gives the exact answer ("covers": a point on a
  boundary belongs to the grid, and where grids touch or overlap the smallest code wins);
- a raster over the grids' bounding box answers most points without touching a polygon:
  a cell that no grid boundary crosses lies wholly inside one grid (or outside all), so
  its answer is the answer for every point in it; only points in "edge" cells go to the
  STRtree. The raster is derived from the same polygons, so both paths agree exactly.

The index also keeps, for every grid, its code, name and level and its chain of ancestors,
so that the locate API answers from memory without a query (``locate_grid``).

The index is dropped by ``invalidate()`` (signals on Jurisdiction save/delete, and bulk
writers in services) and rebuilt when another process changed the jurisdictions: at most
every ``STAMP_TTL`` seconds we compare (count, max updated_at, max id) of the table with the
values the index was built from (the whole table, not only grids: the chains hold the names
of the upper tiers). Writers that bypass ``updated_at`` (QuerySet.update without it) are
only noticed when the count or max id changes.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.db.models import Count, Max

from pingan.core.scoping import code_prefix
from pingan.geo.choices import Level
from pingan.geo.coords import to_wgs84
from pingan.geo.models import Jurisdiction

log = logging.getLogger(__name__)

# Seconds between checks that another process changed the grids.
STAMP_TTL = 3.0
# Raster size: about this many cells per grid, within these bounds.
RASTER_CELLS_PER_GRID = 2048
RASTER_MIN_CELLS = 64 * 64
RASTER_MAX_CELLS = 16_000_000
NONE = -1  # raster cell outside every grid, or "no grid" in results
EDGE = -2  # raster cell crossed by a grid boundary: test the polygons exactly


@dataclass(frozen=True)
class Node:
    """What the locate API shows of a jurisdiction: a copy held in memory with the index."""

    pk: int
    code: str
    name: str
    level: str


@dataclass
class GridIndex:
    """Grid polygons in code order, their STRtree, the raster shortcut, and each grid's chain."""

    ids: np.ndarray  # Jurisdiction pk of each polygon (int64)
    codes: list[str]
    geoms: np.ndarray  # shapely geometries, same order
    tree: shapely.STRtree
    raster: np.ndarray | None  # [row, col] -> polygon position, NONE or EDGE
    grids: list[Node] = field(default_factory=list)  # same order as geoms
    chains: list[tuple[Node, ...]] = field(default_factory=list)  # ancestors, top down
    x0: float = 0.0
    y0: float = 0.0
    dx: float = 1.0
    dy: float = 1.0
    stamp: tuple = ()
    generation: int = 0
    checked_at: float = 0.0


_index: GridIndex | None = None
_generation = 0
_lock = threading.Lock()


def invalidate() -> None:
    """Drop the index (and, through ``generation``, the outline cache); rebuilt on next use."""
    global _index, _generation
    _generation += 1
    _index = None


def generation() -> int:
    """Bumped by every ``invalidate()``: caches derived from jurisdictions compare it."""
    return _generation


def jurisdiction_stamp() -> tuple:
    """A cheap fingerprint of the whole table, shared by all processes through the database:
    changes when any row is added, removed or saved."""
    agg = Jurisdiction.objects.aggregate(n=Count("id"), t=Max("updated_at"), m=Max("id"))
    return (agg["n"], agg["t"], agg["m"])


def current_index() -> GridIndex:
    """The index, rebuilt if it was invalidated here or grids changed in another process."""
    global _index
    index = _index
    now = time.monotonic()
    if index is not None and now - index.checked_at < STAMP_TTL:
        return index
    stamp = jurisdiction_stamp()
    if index is not None and index.stamp == stamp:
        index.checked_at = now
        return index
    with _lock:
        latest = _index
        if latest is not None and latest is not index and latest.stamp == stamp:
            return latest
        started_generation = _generation
        built = build_index(stamp)
        built.generation = started_generation
        # An invalidate() during the build means the rows read may be stale: use the
        # result for this call only and let the next call build again.
        if _generation == started_generation:
            _index = built
        return built


def build_index(stamp: tuple = ()) -> GridIndex:
    """Read every grid polygon and build the STRtree, the raster and the chains."""
    started = time.monotonic()
    rows = list(
        Jurisdiction.objects.filter(level=Level.GRID, geometry__isnull=False)
        .order_by("code")
        .values_list("id", "code", "name", "level", "parent_id", "geometry")
    )
    texts = [json.dumps(row[-1]) for row in rows]
    # A malformed outline (written behind the importer's back) is skipped, not fatal.
    geoms = shapely.from_geojson(texts, on_invalid="ignore") if texts else np.array([], dtype=object)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms = geoms[keep]
    ids = np.array([r[0] for r in rows], dtype=np.int64)[keep]
    kept = [r for r, k in zip(rows, keep, strict=True) if k]
    shapely.prepare(geoms)
    index = GridIndex(
        ids=ids,
        codes=[r[1] for r in kept],
        geoms=geoms,
        tree=shapely.STRtree(geoms),
        raster=None,
        grids=[Node(pk, code, name, level) for pk, code, name, level, _parent, _geometry in kept],
        stamp=stamp,
    )
    index.chains = _chains([r[4] for r in kept])
    if len(geoms):
        _build_raster(index)
    index.checked_at = time.monotonic()
    log.info("locate index: %d grids in %.2fs", len(geoms), index.checked_at - started)
    return index


def _chains(parent_ids: list[int | None]) -> list[tuple[Node, ...]]:
    """For each parent id, that parent and its ancestors, top down (by the parent links).

    One query over the table without outlines. A row written between this query and the
    grid query is caught by the stamp, read before both: the index is rebuilt on next check.
    """
    nodes: dict[int, Node] = {}
    parents: dict[int, int | None] = {}
    for pk, code, name, level, parent_id in Jurisdiction.objects.values_list(
        "id", "code", "name", "level", "parent_id"
    ):
        nodes[pk] = Node(pk, code, name, level)
        parents[pk] = parent_id
    known: dict[int | None, tuple[Node, ...]] = {None: ()}

    def chain_to(pk: int | None) -> tuple[Node, ...]:
        # Memoised: the grids of a village share its chain.
        path: list[int] = []
        while pk is not None and pk not in known and pk in nodes and len(path) < 32:
            path.append(pk)
            pk = parents[pk]
        above = known.get(pk, ())  # a missing row (or a cycle, cut at 32) ends the chain
        for node_pk in reversed(path):
            above = (*above, nodes[node_pk])
            known[node_pk] = above
        return above

    return [chain_to(parent_id) for parent_id in parent_ids]


def _build_raster(index: GridIndex) -> None:
    minx, miny, maxx, maxy = shapely.total_bounds(index.geoms)
    width, height = max(maxx - minx, 1e-9), max(maxy - miny, 1e-9)
    cells = min(RASTER_MAX_CELLS, max(RASTER_MIN_CELLS, len(index.geoms) * RASTER_CELLS_PER_GRID))
    ny = max(1, round(math.sqrt(cells * height / width)))
    nx = max(1, round(cells / ny))
    dx, dy = width / nx, height / ny
    # One cell of padding on every side: a point on the bounding box's edge still falls in
    # a cell, and the boundary dilation below never needs to leave the array.
    nx, ny = nx + 2, ny + 2
    index.x0, index.y0, index.dx, index.dy = minx - dx, miny - dy, dx, dy
    dtype = np.int16 if len(index.geoms) < np.iinfo(np.int16).max else np.int32
    raster = np.full((ny, nx), NONE, dtype=dtype)
    _mark_edges(index, raster)
    _fill_interiors(index, raster)
    index.raster = raster


def _mark_edges(index: GridIndex, raster: np.ndarray) -> None:
    """Mark every cell that any polygon boundary passes through (conservatively) as EDGE.

    Boundaries are densified to vertices at most half a cell apart, so every boundary point
    is within a quarter cell of a vertex; marking each vertex's cell and its 8 neighbours
    therefore covers every cell a boundary enters, with a margin that absorbs float rounding
    when a query point is binned.
    """
    ny, nx = raster.shape
    step = min(index.dx, index.dy) / 2
    xy = shapely.get_coordinates(shapely.segmentize(shapely.boundary(index.geoms), step))
    ix = np.floor((xy[:, 0] - index.x0) / index.dx).astype(np.int64)
    iy = np.floor((xy[:, 1] - index.y0) / index.dy).astype(np.int64)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            raster[np.clip(iy + di, 0, ny - 1), np.clip(ix + dj, 0, nx - 1)] = EDGE


def _fill_interiors(index: GridIndex, raster: np.ndarray) -> None:
    """Give each cell untouched by boundaries the polygon containing its centre.

    Such a cell lies wholly inside that polygon (no boundary crosses it). Polygons are
    visited in code order and a cell is only taken while free, so where polygons overlap
    the smallest code wins, as in the exact test.
    """
    ny, nx = raster.shape
    bounds = shapely.bounds(index.geoms)
    for pos, geom in enumerate(index.geoms):
        bx0, by0, bx1, by1 = bounds[pos]
        c0 = max(0, int((bx0 - index.x0) / index.dx))
        c1 = min(nx, int((bx1 - index.x0) / index.dx) + 1)
        r0 = max(0, int((by0 - index.y0) / index.dy))
        r1 = min(ny, int((by1 - index.y0) / index.dy) + 1)
        window = raster[r0:r1, c0:c1]
        free = window == NONE
        if not free.any():
            continue
        rows, cols = np.nonzero(free)
        cx = index.x0 + (cols + c0 + 0.5) * index.dx
        cy = index.y0 + (rows + r0 + 0.5) * index.dy
        inside = shapely.contains_xy(geom, cx, cy)
        window[rows[inside], cols[inside]] = pos


def exact_positions(index: GridIndex, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Polygon position covering each point (smallest code if several), NONE if none."""
    result = np.full(len(xs), NONE, dtype=np.int64)
    if not len(xs) or not len(index.geoms):
        return result
    points = shapely.points(xs, ys)
    point_idx, tree_idx = index.tree.query(points, predicate="intersects")
    if len(point_idx):
        order = np.lexsort((tree_idx, point_idx))
        point_idx, tree_idx = point_idx[order], tree_idx[order]
        first = np.ones(len(point_idx), dtype=bool)
        first[1:] = point_idx[1:] != point_idx[:-1]
        result[point_idx[first]] = tree_idx[first]
    return result


def positions(index: GridIndex, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Like ``exact_positions`` but answered from the raster wherever it can."""
    if index.raster is None:
        return exact_positions(index, xs, ys)
    ny, nx = index.raster.shape
    result = np.full(len(xs), NONE, dtype=np.int64)
    with np.errstate(invalid="ignore"):
        fx = np.floor((xs - index.x0) / index.dx)
        fy = np.floor((ys - index.y0) / index.dy)
        inside = (fx >= 0) & (fx < nx) & (fy >= 0) & (fy < ny)  # False for NaN
    where = np.flatnonzero(inside)
    cell = index.raster[fy[where].astype(np.int64), fx[where].astype(np.int64)]
    result[where] = cell
    edge = where[cell == EDGE]
    if len(edge):
        result[edge] = exact_positions(index, xs[edge], ys[edge])
    return result


def locate_many(lats: Sequence[float] | np.ndarray, lons: Sequence[float] | np.ndarray) -> np.ndarray:
    """Grid ids (Jurisdiction pk) for arrays of WGS-84 points; -1 where no grid covers one.

    Vectorised; the result equals ``locate_point`` for every point. NaN gives -1.
    """
    ys = np.asarray(lats, dtype=float).ravel()
    xs = np.asarray(lons, dtype=float).ravel()
    if xs.shape != ys.shape:
        raise ValueError("lats and lons must have the same length")
    index = current_index()
    pos = positions(index, xs, ys)
    ids = np.full(len(pos), -1, dtype=np.int64)
    found = pos >= 0
    ids[found] = index.ids[pos[found]]
    return ids


def locate_grid(lat: float, lon: float) -> tuple[Node, tuple[Node, ...]] | None:
    """The grid covering a WGS-84 point and its ancestors (top down), or None; from memory.

    No query (but the index's freshness check every ``STAMP_TTL`` seconds): a grid removed
    by another process may still be answered until then, as by ``locate_many``.
    """
    index = current_index()
    pos = int(positions(index, np.array([float(lon)]), np.array([float(lat)]))[0])
    if pos < 0:
        return None
    return index.grids[pos], index.chains[pos]


def locate_point(lat: float, lon: float, crs: str = "wgs84") -> Jurisdiction | None:
    """The grid covering a point given in ``crs`` (wgs84, gcj02 or bd09), or None.

    Raises ValueError (a coords.CoordinateError naming the field) for a bad crs or a
    latitude/longitude out of range.
    """
    wlat, wlon = to_wgs84(lat, lon, crs)
    for _attempt in range(2):
        index = current_index()
        pos = int(exact_positions(index, np.array([wlon]), np.array([wlat]))[0])
        if pos < 0:
            return None
        grid = Jurisdiction.objects.filter(pk=int(index.ids[pos])).first()
        if grid is not None:
            return grid
        # The row vanished under us (another process, or a rolled-back test): rebuild once.
        invalidate()
    return None


def ancestor_codes(code: str) -> set[str]:
    """Codes that can be ancestors of ``code``: its prefixes, and the zero-padded 6-digit ones."""
    candidates: set[str] = set()
    for length in range(2, len(code)):
        prefix = code[:length]
        candidates.add(prefix)
        if length < 6:
            candidates.add(prefix.ljust(6, "0"))
    candidates.discard(code)
    return candidates


def chain(node: Jurisdiction) -> list[Jurisdiction]:
    """Ancestors of ``node`` from the top of the tree down to its parent, in one query.

    Codes are paths, so the ancestors are among the code's prefixes; the parent links then
    give the order. A parent whose code breaks the convention is fetched on its own.
    """
    # Outlines of the upper tiers are large (a county has hundreds of vertices): not needed here.
    nodes = Jurisdiction.objects.filter(code__in=ancestor_codes(node.code)).defer("geometry")
    found = {j.pk: j for j in nodes}
    result: list[Jurisdiction] = []
    parent_id = node.parent_id
    while parent_id is not None and len(result) < 32:
        parent = found.get(parent_id) or Jurisdiction.objects.defer("geometry").filter(pk=parent_id).first()
        if parent is None:
            break
        result.append(parent)
        parent_id = parent.parent_id
    return result[::-1]


# --- address text ------------------------------------------------------------------------------

_cpca: Any = None
_cpca_lock = threading.Lock()


def _load_cpca() -> Any:
    """Import cpca on first use (it pulls in pandas).

    cpca 0.5.5 reads its data with ``pkg_resources.resource_stream``; setuptools is not a
    dependency of ours, so when pkg_resources is missing a stand-in providing only that
    function (via importlib.resources) is installed for the duration of the import.
    """
    global _cpca
    if _cpca is not None:
        return _cpca
    with _cpca_lock:
        if _cpca is None:
            import importlib.util
            import sys

            shim = None
            if importlib.util.find_spec("pkg_resources") is None:
                import importlib.resources
                import types

                shim = types.ModuleType("pkg_resources")
                shim.resource_stream = lambda package, name: (  # type: ignore[attr-defined]
                    importlib.resources.files(package).joinpath(name).open("rb")
                )
                sys.modules["pkg_resources"] = shim
            try:
                import cpca
            finally:
                if shim is not None and sys.modules.get("pkg_resources") is shim:
                    del sys.modules["pkg_resources"]
            _cpca = cpca
    return _cpca


def address_adcode(text: str) -> str | None:
    """The most specific GB/T 2260 code cpca recognises in ``text`` (county, city or province)."""
    try:
        frame = _load_cpca().transform([text])
    except Exception:  # cpca is a best-effort helper: a failure must not break intake
        log.exception("cpca failed on an address")
        return None
    value = frame.iloc[0]["adcode"] if len(frame) else None
    return value if isinstance(value, str) and value else None


def locate_address(text: str) -> dict[str, Jurisdiction | None]:
    """{"county": …, "township": …} for a free-text address; None where not recognised.

    The county comes from cpca's adcode. The township is the longest township name under
    that county found in the text; when cpca only gives a city (or nothing), townships
    under that city (or all) are searched and a name is accepted only if it is unique.
    """
    result: dict[str, Jurisdiction | None] = {"county": None, "township": None}
    text = (text or "").strip()
    if not text:
        return result
    adcode = address_adcode(text)
    county = None
    if adcode:
        county = Jurisdiction.objects.filter(code=adcode, level=Level.COUNTY).first()
    prefix = county.code if county else (code_prefix(adcode) if adcode else "")
    township = _township_in_text(text, prefix)
    if county is None and township is not None:
        county = next((a for a in chain(township) if a.level == Level.COUNTY), None)
    result["county"] = county
    result["township"] = township
    return result


def _township_in_text(text: str, prefix: str) -> Jurisdiction | None:
    candidates = Jurisdiction.objects.filter(level=Level.TOWNSHIP)
    if prefix:
        candidates = candidates.filter(code__under=prefix)
    matches = [(name, pk) for pk, name in candidates.values_list("id", "name") if name and name in text]
    if not matches:
        return None
    longest = max(len(name) for name, _pk in matches)
    best = {pk for name, pk in matches if len(name) == longest}
    if len(best) != 1:
        return None  # the same name in two places: do not guess
    return Jurisdiction.objects.get(pk=best.pop())
