"""/people/ pages: masked list with exact search, scoped detail, audited reveal, register and edit."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from pingan.core.choices import AuditAction
from pingan.core.idnumber import make_id_number
from pingan.core.models import AuditEntry
from pingan.people import services
from pingan.people.models import Person
from pingan.people.synthetic import bulk_create_people, fake_people
from tests.conftest import login

pytestmark = pytest.mark.django_db

ID_KC = make_id_number("330802", date(1978, 11, 2), 17)
ID_JS = make_id_number("330881", date(1990, 1, 1), 124)
ID_WRONG_CHECK = ID_KC[:17] + ("0" if ID_KC[17] != "0" else "1")
KC_NAME, KC_PHONE, KC_ADDRESS = "柯城甲乙", "13812345678", "衢州市柯城区府山街道府山路8号"


def grant(user, *codenames: str):
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="people", codename__in=codenames)
    )
    return user


@pytest.fixture
def kc_person(personas, tree) -> Person:
    return services.create_person(
        personas.kecheng_dispatcher,
        name=KC_NAME,
        id_number=ID_KC,
        phone=KC_PHONE,
        address=KC_ADDRESS,
        jurisdiction=tree.kecheng_village,
    )


@pytest.fixture
def js_person(personas, tree) -> Person:
    return services.create_person(
        personas.jiangshan_dispatcher,
        name="江山丙",
        id_number=ID_JS,
        phone="13900002222",
        jurisdiction=tree.jiangshan_grid,
    )


def field_block(body: str, name: str) -> str:
    """The <div class="field"> that holds the input named ``name`` (label, input, errors)."""
    for block in re.findall(r'<div class="field[^"]*">.*?</div>', body, flags=re.S):
        if f'name="{name}"' in block:
            return block
    raise AssertionError(f"no field {name}")


def assert_no_plain(body: str) -> None:
    for raw in (KC_NAME, ID_KC, KC_PHONE, KC_ADDRESS, "+8613812345678"):
        assert raw not in body


# ---- list -------------------------------------------------------------------------------------


def test_list_shows_masked_values_only(kc_person, personas):
    body = login(personas.kecheng_dispatcher).get("/people/").content.decode()
    masked = services.masked(kc_person)
    for value in (masked["name"], masked["id_number"], masked["phone"], masked["address"]):
        assert value in body
    assert "柯***" in body and "138****5678" in body
    assert "府山社区" in body and "1978" in body and "男" in body
    assert "共 1 人" in body
    assert_no_plain(body)


def test_list_is_scoped_to_the_users_county(kc_person, js_person, personas):
    body = login(personas.jiangshan_dispatcher).get("/people/").content.decode()
    assert services.masked(js_person)["id_number"] in body
    assert services.masked(kc_person)["id_number"] not in body
    assert "共 1 人" in body


def test_exact_search_by_id_number_finds_the_person(kc_person, js_person, personas):
    body = login(personas.city_leader).get("/people/", {"q": ID_KC.lower()}).content.decode()
    assert f"/people/{kc_person.pk}/" in body
    assert f"/people/{js_person.pk}/" not in body
    assert "共 1 人" in body


def test_exact_search_by_phone_finds_the_person(kc_person, js_person, personas):
    body = login(personas.city_leader).get("/people/", {"q": "138-1234-5678"}).content.decode()
    assert f"/people/{kc_person.pk}/" in body
    assert f"/people/{js_person.pk}/" not in body


def test_search_outside_scope_finds_nobody(kc_person, personas):
    body = login(personas.jiangshan_dispatcher).get("/people/", {"q": KC_PHONE}).content.decode()
    assert f"/people/{kc_person.pk}/" not in body
    assert "没有找到符合条件的人员" in body


def test_partial_number_is_refused_beside_the_search_box(kc_person, personas):
    body = login(personas.kecheng_dispatcher).get("/people/", {"q": "1381234"}).content.decode()
    assert "请输入完整的 18 位身份证号码或电话号码" in field_block(body, "q")
    assert f"/people/{kc_person.pk}/" not in body


def test_filter_by_township_and_village(kc_person, js_person, personas, tree):
    client = login(personas.city_leader)
    body = client.get("/people/", {"township": tree.jiangshan_township.code}).content.decode()
    assert f"/people/{js_person.pk}/" in body and f"/people/{kc_person.pk}/" not in body
    assert tree.jiangshan_village.name in field_block(body, "village")  # villages of the chosen township
    body = client.get(
        "/people/", {"township": tree.kecheng_township.code, "village": tree.kecheng_village.code}
    ).content.decode()
    assert f"/people/{kc_person.pk}/" in body and f"/people/{js_person.pk}/" not in body


def test_township_filter_offers_only_the_users_scope(personas, tree):
    body = login(personas.jiangshan_dispatcher).get("/people/").content.decode()
    assert tree.jiangshan_township.name in body
    assert tree.kecheng_township.name not in body and "330802" not in body


def test_large_list_is_paginated_with_thousands_separator(personas, tree):
    bulk_create_people(fake_people(1001, [tree.kecheng_village, tree.kecheng_grid], seed=3))
    client = login(personas.kecheng_dispatcher)
    body = client.get("/people/").content.decode()
    assert "共 1,001 人" in body
    assert "第 1 / 21 页" in body
    assert body.count('href="/people/') - body.count('href="/people/new/') >= 50
    body = client.get("/people/", {"page": 21, "sort": "birth"}).content.decode()
    assert "第 21 / 21 页" in body


def test_empty_state_says_what_to_do(personas):
    client = login(grant(personas.kecheng_dispatcher, "add_person"))
    body = client.get("/people/").content.decode()
    assert "您的数据范围内还没有登记人员" in body and 'href="/people/new/"' in body
    body = login(personas.kecheng_handler).get("/people/").content.decode()
    assert "请联系管理员开通权限" in body and 'href="/people/new/"' not in body


def test_add_button_only_for_users_who_may_add(personas):
    assert "新增人员" not in login(personas.kecheng_dispatcher).get("/people/").content.decode()
    assert "新增人员" in login(personas.admin).get("/people/").content.decode()


def test_pages_require_login(kc_person):
    for url in ("/people/", f"/people/{kc_person.pk}/", "/people/new/", f"/people/{kc_person.pk}/edit/"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert Client().post(f"/people/{kc_person.pk}/reveal/").status_code == 302
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


# ---- detail and reveal ------------------------------------------------------------------------


def test_detail_is_masked_and_offers_reveal_to_those_allowed(kc_person, personas):
    body = (
        login(grant(personas.kecheng_dispatcher, "reveal_person"))
        .get(f"/people/{kc_person.pk}/")
        .content.decode()
    )
    assert_no_plain(body)
    assert services.masked(kc_person)["phone"] in body
    assert body.count('name="fields"') == 4 and "全部查看" in body
    assert "每次查看都会记入审计日志" in body


def test_detail_has_no_reveal_button_without_permission(kc_person, personas):
    body = login(personas.kecheng_handler).get(f"/people/{kc_person.pk}/").content.decode()
    assert services.masked(kc_person)["phone"] in body
    assert "/reveal/" not in body and "全部查看" not in body


def test_jiangshan_dispatcher_gets_404_on_kecheng_detail_and_reveal(kc_person, personas):
    client = login(grant(personas.jiangshan_dispatcher, "reveal_person", "change_person"))
    assert client.get(f"/people/{kc_person.pk}/").status_code == 404
    assert client.post(f"/people/{kc_person.pk}/reveal/", {"fields": "phone"}).status_code == 404
    assert client.get(f"/people/{kc_person.pk}/edit/").status_code == 404
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_reveal_without_permission_is_403_and_not_audited(kc_person, personas):
    response = login(personas.kecheng_handler).post(f"/people/{kc_person.pk}/reveal/", {"fields": "phone"})
    assert response.status_code == 403
    assert KC_PHONE not in response.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_reveal_with_permission_shows_plain_values_and_audits_once(kc_person, personas):
    client = login(grant(personas.kecheng_dispatcher, "reveal_person"))
    response = client.post(f"/people/{kc_person.pk}/reveal/", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and 'id="person-facts"' in body  # the fragment htmx swaps in
    for raw in (KC_NAME, ID_KC, KC_PHONE, KC_ADDRESS):
        assert raw in body
    assert "本次查看已记录" in body
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert entry.actor == personas.kecheng_dispatcher and entry.target_id == str(kc_person.pk)
    assert entry.detail == {"fields": list(services.PII_FIELDS)}


def test_reveal_one_field_shows_only_that_field(kc_person, personas):
    client = login(grant(personas.kecheng_dispatcher, "reveal_person"))
    body = client.post(
        f"/people/{kc_person.pk}/reveal/", {"fields": "phone"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert KC_PHONE in body and "本次查看已记录" in body
    assert ID_KC not in body and KC_NAME not in body and KC_ADDRESS not in body
    assert AuditEntry.objects.get(action=AuditAction.REVEAL).detail == {"fields": ["phone"]}


def test_reveal_without_javascript_renders_the_whole_page(kc_person, personas):
    client = login(grant(personas.kecheng_dispatcher, "reveal_person"))
    body = client.post(f"/people/{kc_person.pk}/reveal/", {"fields": "id_number"}).content.decode()
    assert "<html" in body and ID_KC in body and "本次查看已记录" in body


def test_reveal_is_post_only_and_needs_csrf(kc_person, personas):
    user = grant(personas.kecheng_dispatcher, "reveal_person")
    assert login(user).get(f"/people/{kc_person.pk}/reveal/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(f"/people/{kc_person.pk}/reveal/", {"fields": "phone"}).status_code == 403
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_reveal_of_unknown_field_is_refused(kc_person, personas):
    client = login(grant(personas.kecheng_dispatcher, "reveal_person"))
    assert client.post(f"/people/{kc_person.pk}/reveal/", {"fields": "sex"}).status_code == 400
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


# ---- register ---------------------------------------------------------------------------------


def test_register_needs_add_permission(personas, tree):
    client = login(personas.kecheng_dispatcher)
    assert client.get("/people/new/").status_code == 403
    data = {"name": "柯城丁", "jurisdiction": tree.kecheng_village.pk}
    assert client.post("/people/new/", data).status_code == 403
    assert not Person.objects.exists()


def test_register_with_invalid_id_shows_error_beside_field_and_keeps_typed_name(personas, tree):
    client = login(grant(personas.kecheng_dispatcher, "add_person"))
    data = {
        "name": "柯城丁",
        "id_number": ID_WRONG_CHECK,
        "phone": "12345",
        "jurisdiction": tree.kecheng_village.pk,
    }
    response = client.post("/people/new/", data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "身份证号码校验位错误" in field_block(body, "id_number")
    assert "手机号码无效" in field_block(body, "phone")
    assert 'value="柯城丁"' in field_block(body, "name")
    assert not Person.objects.exists()


def test_register_marks_required_fields(personas):
    body = login(grant(personas.kecheng_dispatcher, "add_person")).get("/people/new/").content.decode()
    assert 'class="required"' in field_block(body, "name")
    assert 'class="required"' in field_block(body, "jurisdiction")
    assert 'class="required"' not in field_block(body, "phone")


def test_register_valid_redirects_to_detail(personas, tree):
    client = login(grant(personas.kecheng_dispatcher, "add_person"))
    data = {
        "name": " 柯城 丁 ",
        "id_number": ID_KC,
        "phone": "0570-3012345",
        "address": "府山路1号",
        "jurisdiction": tree.kecheng_grid.pk,
    }
    response = client.post("/people/new/", data)
    person = Person.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/people/{person.pk}/"
    assert (person.name, person.phone, person.jurisdiction) == ("柯城 丁", "+865703012345", tree.kecheng_grid)
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, target_id=str(person.pk)).count() == 1
    body = client.get(response["Location"]).content.decode()
    assert "已登记人员 柯***" in body and "柯城 丁" not in body


def test_register_offers_only_places_in_scope(personas, tree):
    client = login(grant(personas.jiangshan_dispatcher, "add_person"))
    body = client.get("/people/new/").content.decode()
    assert tree.jiangshan_village.name in body and tree.jiangshan_grid.name in body
    assert "柯城" not in body and tree.kecheng_village.name not in body
    response = client.post("/people/new/", {"name": "江山丁", "jurisdiction": tree.kecheng_village.pk})
    assert "请选择您数据范围内的村(社区)或网格" in field_block(response.content.decode(), "jurisdiction")
    assert not Person.objects.exists()


def test_register_duplicate_id_is_shown_beside_the_field(kc_person, personas, tree):
    client = login(grant(personas.kecheng_dispatcher, "add_person"))
    response = client.post(
        "/people/new/", {"name": "柯城丁", "id_number": ID_KC, "jurisdiction": tree.kecheng_village.pk}
    )
    assert "该身份证号码已登记" in field_block(response.content.decode(), "id_number")


# ---- edit -------------------------------------------------------------------------------------


def test_edit_needs_change_permission(kc_person, personas):
    client = login(personas.kecheng_dispatcher)
    assert client.get(f"/people/{kc_person.pk}/edit/").status_code == 403
    assert client.post(f"/people/{kc_person.pk}/edit/", {"name": "新名"}).status_code == 403


def test_edit_shows_masked_current_values_never_plain(kc_person, personas):
    body = login(grant(personas.kecheng_dispatcher, "change_person")).get(f"/people/{kc_person.pk}/edit/")
    body = body.content.decode()
    assert_no_plain(body)
    assert "当前：" in field_block(body, "phone") and "138****5678" in field_block(body, "phone")
    assert 'value="' not in field_block(body, "phone")


def test_edit_replaces_only_the_typed_fields(kc_person, personas, tree):
    client = login(grant(personas.kecheng_dispatcher, "change_person"))
    data = {
        "name": "",
        "id_number": "",
        "phone": "13700001111",
        "address": "",
        "jurisdiction": tree.kecheng_village.pk,
    }
    response = client.post(f"/people/{kc_person.pk}/edit/", data)
    assert response.status_code == 302 and response["Location"] == f"/people/{kc_person.pk}/"
    person = Person.objects.get(pk=kc_person.pk)
    assert (person.name, person.id_number, person.phone, person.address) == (
        KC_NAME,
        ID_KC,
        "+8613700001111",
        KC_ADDRESS,
    )
    assert AuditEntry.objects.get(action=AuditAction.UPDATE).detail == {"fields": ["phone"]}


def test_edit_clears_a_field_only_when_asked(kc_person, personas, tree):
    client = login(grant(personas.kecheng_dispatcher, "change_person"))
    data = {"clear_address": "on", "jurisdiction": tree.kecheng_grid.pk}
    assert client.post(f"/people/{kc_person.pk}/edit/", data).status_code == 302
    person = Person.objects.get(pk=kc_person.pk)
    assert (
        person.address == "" and person.phone == "+8613812345678" and person.jurisdiction == tree.kecheng_grid
    )


def test_edit_error_is_shown_beside_the_field_and_nothing_changes(kc_person, personas, tree):
    client = login(grant(personas.kecheng_dispatcher, "change_person"))
    data = {"phone": "99", "address": "新地址1号", "jurisdiction": tree.kecheng_village.pk}
    body = client.post(f"/people/{kc_person.pk}/edit/", data).content.decode()
    assert "手机号码无效" in field_block(body, "phone")
    assert 'value="新地址1号"' in field_block(body, "address")
    assert Person.objects.get(pk=kc_person.pk).address == KC_ADDRESS
    assert not AuditEntry.objects.filter(action=AuditAction.UPDATE).exists()


def test_edit_with_nothing_typed_changes_nothing(kc_person, personas, tree):
    client = login(grant(personas.kecheng_dispatcher, "change_person"))
    response = client.post(
        f"/people/{kc_person.pk}/edit/", {"jurisdiction": tree.kecheng_village.pk}, follow=True
    )
    assert "没有修改任何内容" in response.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.UPDATE).exists()


def test_jurisdiction_switcher_narrows_the_list(kc_person, js_person, personas, tree):
    from pingan.web.context import SESSION_JURISDICTION

    client = login(personas.city_leader)
    session = client.session
    session[SESSION_JURISDICTION] = tree.jiangshan.code
    session.save()
    body = client.get("/people/").content.decode()
    assert f"/people/{js_person.pk}/" in body and f"/people/{kc_person.pk}/" not in body
    assert tree.kecheng_township.name not in field_block(body, "township")
