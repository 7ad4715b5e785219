"""The page shell: login with lockout, home per role, navigation, audit page, map page, English."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pingan.core import audit
from pingan.core.choices import AuditAction
from pingan.core.models import AuditEntry
from pingan.web.context import SESSION_JURISDICTION
from pingan.web.navigation import NAVIGATION, navigation_for
from tests.conftest import PASSWORD, login

pytestmark = pytest.mark.django_db


def post_login(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


# ---- login ------------------------------------------------------------------------------------


def test_login_page_renders_in_chinese():
    response = Client().get(reverse("login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "平安建设·社会治理平台" in body
    assert "用户名" in body and "密码" in body
    assert 'lang="zh-hans"' in body


def test_pages_require_login(personas):
    for name in ("home", "map", "audit"):
        response = Client().get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_successful_login_writes_login_entry(personas):
    client = Client()
    response = post_login(client, "kc_grid", PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("home")
    entry = AuditEntry.objects.get(action=AuditAction.LOGIN)
    assert entry.username == "kc_grid" and entry.actor == personas.kecheng_grid_worker


def test_wrong_password_five_times_locks_out_even_the_right_password(personas):
    client = Client()
    for _ in range(settings.LOGIN_MAX_FAILURES):
        response = post_login(client, "kc_grid", "wrong-password")
        assert response.status_code == 200
        assert "用户名或密码不正确" in response.content.decode()
    assert AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED, username="kc_grid").count() == 5

    response = post_login(client, "kc_grid", PASSWORD)
    body = response.content.decode()
    assert response.status_code == 200
    assert f"登录失败次数过多，账户已锁定 {settings.LOGIN_LOCKOUT_MINUTES} 分钟" in body
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action=AuditAction.LOGIN_LOCKED, username="kc_grid").count() == 1
    assert not AuditEntry.objects.filter(action=AuditAction.LOGIN).exists()
    # The lock is refused before authentication: no further failure is counted.
    assert AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED, username="kc_grid").count() == 5


def test_lockout_is_per_username(personas):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        audit.record(AuditAction.LOGIN_FAILED, username="kc_grid")
    client = Client()
    response = post_login(client, "kc_dispatch", PASSWORD)
    assert response.status_code == 302


def test_logout_is_post_only_and_audited(personas):
    client = login(personas.kecheng_dispatcher)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert AuditEntry.objects.filter(action=AuditAction.LOGOUT, username="kc_dispatch").exists()


# ---- home per role ----------------------------------------------------------------------------


def test_home_grid_worker_sees_their_grid_and_map_link(personas, tree):
    body = login(personas.kecheng_grid_worker).get(reverse("home")).content.decode()
    assert tree.kecheng_grid.name in body
    assert tree.kecheng_grid.code in body
    assert tree.kecheng_village.name in body and tree.kecheng.name in body  # the parents chain
    assert f"{reverse('map')}?focus={tree.kecheng_grid.code}" in body
    assert "审计日志" not in body
    assert reverse("events:report") in body  # reporting is one tap away
    assert tree.jiangshan_grid.name not in body


@pytest.mark.parametrize("persona", ["kecheng_dispatcher", "kecheng_handler", "jiangshan_dispatcher"])
def test_home_office_roles_see_scope_counts(personas, persona):
    response = login(getattr(personas, persona)).get(reverse("home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "数据范围" in body
    counts = {item["label"]: item["value"] for item in response.context["counts"]}
    assert counts["网格"] == 1  # one county each: its own grid only, through visible_to
    assert counts["县(市、区)"] == 1


def test_home_leader_sees_chart_per_county(personas, tree):
    response = login(personas.city_leader).get(reverse("home"))
    body = response.content.decode()
    assert 'id="scope-chart"' in body
    assert 'id="scope-chart-data"' in body
    assert "echarts.min.js" in body
    names = response.context["chart"]["categories"]
    assert sorted(names) == sorted([tree.kecheng.name, tree.jiangshan.name])


def test_home_admin_sees_admin_and_audit_links(personas):
    body = login(personas.admin).get(reverse("home")).content.decode()
    assert "审计日志" in body
    assert reverse("audit") in body
    assert reverse("admin:index") in body
    assert "import jurisdictions" in body


# ---- navigation and top bar -------------------------------------------------------------------


def test_nav_hides_admin_and_audit_for_non_admins(personas):
    for persona in (personas.kecheng_grid_worker, personas.kecheng_dispatcher, personas.city_leader):
        body = login(persona).get(reverse("home")).content.decode()
        assert reverse("admin:index") not in body
        assert "系统管理" not in body
        assert reverse("audit") not in body


def test_nav_shows_only_built_pages():
    built = {"home", "map", "audit", "admin:index"}
    for section in NAVIGATION:
        for entry in section.entries:
            if entry.url_name not in built:
                try:
                    reverse(entry.url_name)
                except Exception:
                    continue
                built.add(entry.url_name)

    class Super:
        is_authenticated = True
        is_superuser = True
        is_staff = True
        role = "admin"

        def has_perm(self, perm):
            return True

    names = {link.url_name for section in navigation_for(Super()) for link in section["links"]}
    assert names == built
    assert "events:list" not in names  # not built yet: no dead link


def test_top_bar_shows_jurisdiction_unit_bell_and_logout(personas, tree):
    body = login(personas.kecheng_grid_worker).get(reverse("home")).content.decode()
    assert tree.kecheng_grid.name in body
    assert "信安街道综治工作平台" in body
    assert 'class="bell"' in body
    assert f'action="{reverse("logout")}"' in body
    assert f'action="{reverse("set_language")}"' in body
    assert 'name="code"' not in body  # one grid: no switcher


def test_switcher_for_multi_county_scope_narrows_home(personas, tree):
    client = login(personas.city_leader)
    body = client.get(reverse("home")).content.decode()
    assert f'value="{tree.kecheng.code}"' in body and f'value="{tree.jiangshan.code}"' in body
    response = client.post(reverse("switch_jurisdiction"), {"code": tree.kecheng.code, "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.session[SESSION_JURISDICTION] == tree.kecheng.code
    response = client.get(reverse("home"))
    assert [row["name"] for row in response.context["rows"]] == [tree.kecheng_township.name]


def test_switcher_refuses_code_outside_scope(personas, tree):
    client = login(personas.kecheng_dispatcher)
    assert 'name="code"' not in client.get(reverse("home")).content.decode()
    client.post(
        reverse("switch_jurisdiction"), {"code": tree.jiangshan.code, "next": "https://evil.example/"}
    )
    assert SESSION_JURISDICTION not in client.session


# ---- audit page -------------------------------------------------------------------------------


def test_audit_page_is_404_for_dispatcher(personas):
    assert login(personas.kecheng_dispatcher).get(reverse("audit")).status_code == 404


def test_audit_page_open_to_holder_of_view_permission(personas):
    user = personas.kecheng_dispatcher
    user.user_permissions.add(Permission.objects.get(codename="view_auditentry"))
    assert login(user).get(reverse("audit")).status_code == 200


def test_audit_page_filters(personas):
    audit.record(AuditAction.LOGIN_FAILED, username="someone")
    audit.record(AuditAction.LOGIN, actor=personas.kecheng_dispatcher)
    old = AuditEntry.objects.create(
        action=AuditAction.LOGIN, username="kc_dispatch", at=timezone.now() - timedelta(days=10)
    )
    client = login(personas.admin)
    response = client.get(reverse("audit"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "登录失败" in body and "someone" in body
    assert response.context["page"].paginator.count == AuditEntry.objects.count()  # incl. the admin's login

    response = client.get(reverse("audit"), {"username": "kc_dispatch"})
    assert response.context["page"].paginator.count == 2

    response = client.get(reverse("audit"), {"action": AuditAction.LOGIN_FAILED})
    assert [e.username for e in response.context["page"]] == ["someone"]

    today = timezone.localdate()
    response = client.get(reverse("audit"), {"date_from": today.isoformat(), "date_to": today.isoformat()})
    assert old not in list(response.context["page"])
    assert response.context["page"].paginator.count == AuditEntry.objects.count() - 1

    day = timezone.localtime(old.at).date().isoformat()
    response = client.get(reverse("audit"), {"date_to": day})
    assert list(response.context["page"]) == [old]

    response = client.get(reverse("audit"), {"date_from": today.isoformat(), "date_to": "2000-01-01"})
    assert "结束日期不能早于开始日期" in response.content.decode()


def test_audit_page_filters_by_target_type_and_paginates(personas, tree):
    for _ in range(55):
        audit.record(AuditAction.UPDATE, actor=personas.admin, target=tree.kecheng)
    client = login(personas.admin)
    response = client.get(reverse("audit"), {"target_type": "geo.jurisdiction"})
    page = response.context["page"]
    assert page.paginator.count == 55 and len(page.object_list) == 50
    assert "target_type=geo.jurisdiction&amp;page=2" in response.content.decode()
    newest_first = [e.at for e in page.object_list]
    assert newest_first == sorted(newest_first, reverse=True)
    response = client.get(reverse("audit"), {"target_type": "geo.jurisdiction", "page": 2})
    assert len(response.context["page"].object_list) == 5


# ---- map ------------------------------------------------------------------------------------


def test_map_page_has_container_and_config(personas, tree):
    response = login(personas.kecheng_dispatcher).get(reverse("map"), {"focus": tree.kecheng.code})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="map"' in body and 'id="map-config"' in body
    assert "vendor/leaflet/leaflet.js" in body and "js/map.js" in body
    config = response.context["map_config"]
    assert config["focus"] == tree.kecheng.code
    assert config["outlinesUrl"] == "/api/geo/outlines"
    assert config["tileUrl"] == ""
    assert not re.search(r'(src|href)="(https?:)?//', body)  # nothing loaded from the internet


def test_map_defaults_to_grid_workers_grid_and_ignores_bad_focus(personas, tree):
    response = login(personas.kecheng_grid_worker).get(reverse("map"), {"focus": "<script>"})
    assert response.context["map_config"]["focus"] == tree.kecheng_grid.code


# ---- English ----------------------------------------------------------------------------------


def test_login_page_in_english():
    client = Client()
    client.cookies["django_language"] = "en"  # what the language switch sets
    body = client.get(reverse("login")).content.decode()
    assert 'lang="en"' in body
    assert "Log in" in body
    assert "Username" in body and "Password" in body
    assert "用户名" not in body


def test_set_language_switches_shell_to_english(personas):
    client = login(personas.admin)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    body = client.get(reverse("home")).content.decode()
    assert "Audit log" in body
    assert "Log out" in body


# ---- admin ------------------------------------------------------------------------------------


def test_admin_pages_for_users_and_units(personas, units):
    client = login(personas.admin)
    for name in ("admin:accounts_user_changelist", "admin:accounts_unit_changelist"):
        assert client.get(reverse(name)).status_code == 200
    page = client.get(reverse("admin:accounts_user_change", args=[personas.kecheng_grid_worker.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="scope_jurisdictions"' in body and 'name="role"' in body and 'name="grid"' in body
    response = client.get(reverse("admin:accounts_user_changelist"), {"role": "grid_worker"})
    assert {u.username for u in response.context["cl"].result_list} == {"kc_grid", "js_grid"}


def test_admin_unit_change_is_audited(personas, units, tree):
    client = login(personas.admin)
    unit = units.kecheng_police
    url = reverse("admin:accounts_unit_change", args=[unit.pk])
    data = {
        "name": "柯城区公安分局（新）",
        "kind": unit.kind,
        "platform": "",
        "jurisdiction": tree.kecheng.pk,
        "parent": "",
        "phone": "",
        "is_active": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE, target_type="accounts.unit")
    assert entry.detail == {"fields": ["name"]} and entry.username == "admin"


def test_map_adds_tile_layer_only_when_configured(personas, settings):
    settings.TILE_URL = "/tiles/{z}/{x}/{y}.png"
    response = login(personas.kecheng_dispatcher).get(reverse("map"))
    assert response.context["map_config"]["tileUrl"] == "/tiles/{z}/{x}/{y}.png"


def test_chinese_is_the_default_even_for_an_english_browser(client):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "登录" in page and "Log in" not in page


def test_the_language_switch_still_chooses_english(client):
    client.cookies["django_language"] = "en"
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "Log in" in page
