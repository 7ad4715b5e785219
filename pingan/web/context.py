"""The page shell: navigation, the user's jurisdiction and unit, the jurisdiction switcher.

``shell`` is the context processor; everything it offers is computed lazily, on first use
by a template, so pages that never show the shell (the admin, the login page) pay nothing.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from pingan.accounts.models import User
from pingan.core.scoping import code_prefix, in_scope
from pingan.geo.choices import Level
from pingan.geo.models import Jurisdiction
from pingan.web.navigation import navigation_for

# The session remembers which part of their scope a user is looking at (never wider than the scope).
SESSION_JURISDICTION = "pingan_jurisdiction"

# Levels above a county: a scope rooted there is offered county by county in the switcher.
_ABOVE_COUNTY = {Level.PROVINCE, Level.CITY}


def scope_roots(user: Any) -> QuerySet[Jurisdiction]:
    """The jurisdictions a user's scope is made of (a superuser: the tops of the tree)."""
    if user.is_superuser:
        return Jurisdiction.objects.filter(parent=None)
    return user.scope_jurisdictions.all()


def switcher_options(user: Any) -> list[Jurisdiction]:
    """What a user may narrow their view to: counties (or smaller scope roots) in scope.

    Empty when there is nothing to choose between (one county, one grid).
    """
    if not getattr(user, "is_authenticated", False):
        return []
    options: dict[str, Jurisdiction] = {}
    for root in scope_roots(user).order_by("code"):
        if root.level in _ABOVE_COUNTY:
            counties = Jurisdiction.objects.filter(level=Level.COUNTY, code__under=code_prefix(root.code))
            options.update((c.code, c) for c in counties.only("code", "name", "level"))
        else:
            options[root.code] = root
    return sorted(options.values(), key=lambda j: j.code) if len(options) > 1 else []


def current_jurisdiction(request: HttpRequest) -> Jurisdiction | None:
    """The jurisdiction chosen in the switcher, if it is still inside the user's scope."""
    # Cached on the request; False marks "not looked up yet" (None is a valid answer).
    cached = getattr(request, "_pingan_jurisdiction", False)
    if not isinstance(cached, bool):
        return cached
    chosen = None
    code = request.session.get(SESSION_JURISDICTION) if hasattr(request, "session") else None
    if code and in_scope(request.user, code):
        chosen = Jurisdiction.objects.filter(code=code).first()
    request._pingan_jurisdiction = chosen  # type: ignore[attr-defined]
    return chosen


class Shell:
    """What base.html shows around every page."""

    notification_count = 0  # notifications are not built yet; the bell is rendered with 0

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        # The signed-in user, or None: an anonymous visitor (and a request that did not pass
        # the auth middleware, such as a 404 raised early) gets an empty shell.
        user = getattr(request, "user", None)
        self.user: User | None = user if user is not None and user.is_authenticated else None

    @property
    def active(self) -> bool:
        return self.user is not None

    @cached_property
    def nav(self) -> list[dict]:
        if self.user is None:
            return []
        match = getattr(self.request, "resolver_match", None)
        return navigation_for(self.user, match.view_name if match else "")

    @cached_property
    def switcher(self) -> list[Jurisdiction]:
        return switcher_options(self.user) if self.active else []

    @cached_property
    def current(self) -> Jurisdiction | None:
        return current_jurisdiction(self.request) if self.active else None

    @cached_property
    def jurisdiction_label(self) -> str:
        """The user's jurisdiction as one short line for the top bar."""
        if self.user is None:
            return ""
        if self.current is not None:
            return self.current.name
        if self.user.is_superuser:
            return _("全部区划")
        names = list(self.user.scope_jurisdictions.order_by("code").values_list("name", flat=True)[:4])
        if not names:
            return _("未设置数据范围")
        if len(names) > 3:
            return _("%(names)s 等") % {"names": "、".join(names[:3])}
        return "、".join(names)

    @cached_property
    def unit_label(self) -> str:
        if self.user is None or self.user.unit is None:
            return ""
        return self.user.unit.name


def shell(request: HttpRequest) -> dict[str, Any]:
    return {"shell": Shell(request)}
