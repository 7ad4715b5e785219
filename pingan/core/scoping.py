"""The one scoping function (数据权限): what a user may list or fetch.

A user's scope is a set of jurisdiction code prefixes (a code is a path: everything under
330881 starts with "330881") plus a set of units. Every scoped model names, as class
attributes, the field that holds its jurisdiction code and, optionally, the field that
holds its responsible unit:

    class Person(models.Model):
        scope_code_field = "area_code"
        scope_unit_field = None

``scope_unit_field`` may name several fields (a tuple), many-to-many ones included: a case
is seen by its responsible unit and by its co-handling units (协办单位).

Every query that returns data to a user goes through ``visible_to``; a record outside the
scope answers 404 through ``get_visible_or_404``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Lookup, Q
from django.http import Http404

M = TypeVar("M", bound=models.Model)


@models.CharField.register_lookup
class Under(Lookup):
    """``area_code__under="330802"``: the code lies under that path (starts with it).

    Written as a range, ``"330802" <= code < "330803"``, which any B-tree index on the column
    answers; LIKE '330802%' uses an index only under the C collation (or pattern ops), so on
    most PostgreSQL installations it would scan. Codes are digits: their order is the same
    in every collation.
    """

    lookup_name = "under"

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        _rhs, rhs_params = self.process_rhs(compiler, connection)
        prefix = str(rhs_params[0])
        if not prefix:
            return f"{lhs} IS NOT NULL", list(lhs_params)
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return f"({lhs} >= %s AND {lhs} < %s)", [*lhs_params, prefix, *lhs_params, upper]


def code_prefix(code: str) -> str:
    """The path prefix of a GB/T 2260-style code: 330800 → "3308", 330000 → "33", 330881 → "330881".

    Province and city codes are padded with zeros to six digits; the padding is not part
    of the path. Township (9), village (12) and grid codes are already paths.
    """
    if len(code) == 6:
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    return code


def _signed_in(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def scope_prefixes(user: Any) -> list[str] | None:
    """The code prefixes of a user's scope; None means everything (a superuser).

    One query, then cached on the user object: ``request.user`` is loaded afresh for every
    request, so this runs at most once per request whatever the number of checks.
    """
    if not _signed_in(user):
        return []
    if user.is_superuser:
        return None
    cached = getattr(user, "_pingan_scope_prefixes", None)
    if cached is None:
        codes = user.scope_jurisdictions.values_list("code", flat=True)
        cached = sorted({code_prefix(c) for c in codes})
        user._pingan_scope_prefixes = cached
    return cached


def scope_unit_ids(user: Any) -> list[int]:
    """The units whose records a user sees besides their area: their own and their scope units.

    Cached like ``scope_prefixes``, and separately: a check on codes alone needs no unit query.
    """
    if not _signed_in(user) or user.is_superuser:
        return []
    cached = getattr(user, "_pingan_scope_units", None)
    if cached is None:
        unit_ids = set(user.scope_units.values_list("id", flat=True))
        if user.unit_id:
            unit_ids.add(user.unit_id)
        cached = sorted(unit_ids)
        user._pingan_scope_units = cached
    return cached


def user_scope(user: Any) -> tuple[list[str] | None, list[int]]:
    """Return (code prefixes, unit ids) for a user; prefixes None means everything."""
    return scope_prefixes(user), scope_unit_ids(user)


def _unit_fields(model: type[models.Model]) -> tuple[str, ...]:
    fields = getattr(model, "scope_unit_field", None) or ()
    return (fields,) if isinstance(fields, str) else tuple(fields)


def _unit_q(model: type[models.Model], field: str, unit_ids: list[int], user: Any) -> Q:
    lookup = {f"{field}__in": unit_ids}
    if "__" not in field and model._meta.get_field(field).many_to_many:
        # The records a unit co-handles are few: their ids, read once per request, make an
        # IN list the planner answers from the primary key (a subquery would make it scan).
        cache = user.__dict__.setdefault("_pingan_scope_m2m", {})
        key = (model._meta.label, field)
        if key not in cache:
            cache[key] = list(model._default_manager.filter(**lookup).values_list("pk", flat=True).distinct())
        return Q(pk__in=cache[key])
    return Q(**lookup)


def scope_q(model: type[models.Model], user: Any) -> Q | None:
    """The filter for ``model`` and ``user``; None means no restriction."""
    prefixes = scope_prefixes(user)
    if prefixes is None:
        return None
    code_field: str = model.scope_code_field  # type: ignore[attr-defined]
    q = Q(pk__in=[])
    for prefix in prefixes:
        q |= Q(**{f"{code_field}__under": prefix})
    unit_fields = _unit_fields(model)
    unit_ids = scope_unit_ids(user) if unit_fields else []
    for field in unit_fields if unit_ids else ():
        q |= _unit_q(model, field, unit_ids, user)
    return q


def visible_to(queryset: models.QuerySet[M], user: Any) -> models.QuerySet[M]:
    """Filter ``queryset`` to the records ``user`` may see. THE read gate."""
    q = scope_q(queryset.model, user)
    return queryset if q is None else queryset.filter(q)


def get_visible_or_404(queryset: models.QuerySet[M] | type[M], user: Any, **lookup: Any) -> M:
    """Fetch one record inside the user's scope, or raise Http404 (never 403: no leak)."""
    qs = queryset._default_manager.all() if isinstance(queryset, type) else queryset
    try:
        return visible_to(qs, user).get(**lookup)
    # ObjectDoesNotExist is the base of every model's DoesNotExist.
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404("not found") from exc


def covering_codes(code: str) -> list[str]:
    """Codes of every jurisdiction whose subtree holds ``code``: 330881001001 → 330881001001,
    330881001, 330881, 330800, 330000 (users scoped to any of these can see the record)."""
    codes = {code[:n] for n in (15, 12, 9, 6) if len(code) >= n}
    codes |= {code[:4] + "00", code[:2] + "0000"}
    return sorted(codes)


def in_scope(user: Any, code: str) -> bool:
    """Whether a jurisdiction code lies inside the user's scope: the rule of ``scope_q``
    for a code field, answered in Python (no query once the prefixes are known)."""
    prefixes = scope_prefixes(user)
    return prefixes is None or any(code.startswith(p) for p in prefixes)


class ScopedQuerySet(models.QuerySet):
    """QuerySet with ``visible_to(user)``; the method calls the one scoping function."""

    def visible_to(self, user: Any) -> models.QuerySet:
        return visible_to(self, user)
