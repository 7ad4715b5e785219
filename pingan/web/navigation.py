"""The left navigation as data: sections of work, each with the pages a role may use.

An entry is shown only when its URL name resolves (no dead links: sections whose pages are
not built yet simply do not appear) and the user passes its role and permission checks.
To add a page, add its entry here; nothing else in the shell changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from pingan.accounts.choices import Role

ALL_ROLES = frozenset(Role)
OFFICE_ROLES = frozenset(Role) - {Role.GRID_WORKER}


def _is_admin(user: Any) -> bool:
    return user.is_superuser or (user.is_staff and user.role == Role.ADMIN)


def _can_view_audit(user: Any) -> bool:
    return user.has_perm("core.view_auditentry")


def _has_unit(user: Any) -> bool:
    """我的待办: everyone who belongs to a unit (its cases are their work)."""
    return user.is_superuser or getattr(user, "unit_id", None) is not None


@dataclass(frozen=True)
class NavEntry:
    """One link: a URL name, its label, the roles that may use it and an optional extra check."""

    url_name: str
    label: str | Promise
    roles: frozenset[str] = ALL_ROLES
    check: Callable[[Any], bool] | None = None

    def allows(self, user: Any) -> bool:
        if self.check is not None:
            return self.check(user)
        return user.is_superuser or user.role in self.roles


@dataclass(frozen=True)
class NavSection:
    """A group of work in the left navigation (工作台, 事件, …)."""

    key: str
    label: str | Promise
    entries: tuple[NavEntry, ...]


NAVIGATION: tuple[NavSection, ...] = (
    NavSection(
        "work",
        _("工作台"),
        (
            NavEntry("home", _("我的工作台")),
            NavEntry("cases:mywork", _("我的待办"), check=_has_unit),
            NavEntry("people:list", _("人员信息")),
        ),
    ),
    NavSection(
        "events",
        _("事件"),
        (
            NavEntry("events:list", _("事件列表")),
            NavEntry("events:report", _("事件上报"), frozenset({Role.GRID_WORKER, Role.DISPATCHER})),
            NavEntry("cases:desk", _("分拨台"), frozenset({Role.DISPATCHER})),
            NavEntry(
                "cases:board", _("督办看板"), frozenset({Role.SUPERVISOR, Role.LEADER, Role.DISPATCHER})
            ),
        ),
    ),
    NavSection(
        "disputes",
        _("矛盾纠纷"),
        (
            NavEntry("disputes:window", _("窗口登记"), frozenset({Role.DISPATCHER, Role.MEDIATOR})),
            NavEntry("disputes:list", _("纠纷调解")),
            NavEntry("disputes:workbench", _("调解工作台"), frozenset({Role.MEDIATOR})),
            NavEntry("linkage:board", _("警调联动"), OFFICE_ROLES),
            NavEntry("disputes:stats", _("纠纷统计"), OFFICE_ROLES),
        ),
    ),
    NavSection("petitions", _("信访"), (NavEntry("petitions:list", _("信访件"), OFFICE_ROLES),)),
    NavSection("risks", _("风险隐患"), (NavEntry("risks:list", _("风险隐患")),)),
    NavSection("inspections", _("督查检查"), (NavEntry("inspections:list", _("督查检查"), OFFICE_ROLES),)),
    NavSection("assessment", _("考核"), (NavEntry("assessment:index", _("考核评价"), OFFICE_ROLES),)),
    NavSection(
        "statistics",
        _("统计"),
        (
            NavEntry("dashboard:index", _("统计分析"), OFFICE_ROLES),
            NavEntry("cases:indicators", _("指标统计"), OFFICE_ROLES),
            NavEntry("cases:scorecard", _("单位考评"), OFFICE_ROLES),
        ),
    ),
    NavSection("map", _("地图"), (NavEntry("map", _("网格地图")),)),
    NavSection(
        "manage",
        _("管理"),
        (
            NavEntry("audit", _("审计日志"), check=_can_view_audit),
            NavEntry("admin:index", _("系统管理"), check=_is_admin),
        ),
    ),
)


@dataclass(frozen=True)
class NavLink:
    url: str
    label: str | Promise
    url_name: str
    active: bool


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def _is_current(
    url_name: str, current: str, exact: bool = False, shared: frozenset[str] = frozenset()
) -> bool:
    """The entry is current on its own page and, for namespaced pages, on its app's other pages
    (unless ``exact``: the page has an entry of its own; or the namespace is ``shared`` by
    several entries, e.g. cases:desk and cases:board: a case page belongs to none of them)."""
    if url_name == current or exact:
        return url_name == current
    namespace = url_name.rpartition(":")[0]
    return bool(namespace) and namespace not in shared and current.rpartition(":")[0] == namespace


def navigation_for(
    user: Any, current_url_name: str = "", sections: Iterable[NavSection] = NAVIGATION
) -> list[dict]:
    """Sections with the links ``user`` may follow; empty sections are dropped."""
    if not getattr(user, "is_authenticated", False):
        return []
    sections = list(sections)
    # When the page has an entry of its own, only that entry is current (two entries of one
    # app, e.g. cases:indicators and cases:scorecard, must not both light up).
    exact = any(e.url_name == current_url_name for s in sections for e in s.entries)
    namespaces = [e.url_name.rpartition(":")[0] for s in sections for e in s.entries if ":" in e.url_name]
    shared = frozenset(n for n in namespaces if namespaces.count(n) > 1)
    result = []
    for section in sections:
        links = []
        for entry in section.entries:
            if not entry.allows(user):
                continue
            url = _url(entry.url_name)
            if url is None:
                continue
            links.append(
                NavLink(
                    url,
                    entry.label,
                    entry.url_name,
                    _is_current(entry.url_name, current_url_name, exact, shared),
                )
            )
        if links:
            result.append({"key": section.key, "label": section.label, "links": links})
    return result
