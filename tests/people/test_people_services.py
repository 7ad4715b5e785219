"""People register services: sealed at rest, found by blind index, scoped, revealed with audit."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from pingan.core.choices import AuditAction
from pingan.core.idnumber import make_id_number
from pingan.core.models import AuditEntry
from pingan.people import services
from pingan.people.models import Person

pytestmark = pytest.mark.django_db

ID_ZHANG = make_id_number("330881", date(1985, 6, 15), 135)  # odd → male
ID_LI = make_id_number("330802", date(1992, 3, 8), 246)  # even → female
ADDRESS = "江山市虎山街道鹿溪南路12号"


@pytest.fixture
def zhang(personas, tree) -> Person:
    return services.create_person(
        personas.jiangshan_dispatcher,
        name="张三",
        id_number=ID_ZHANG,
        phone="138 1234 5678",
        address=ADDRESS,
        jurisdiction=tree.jiangshan_village,
    )


@pytest.fixture
def li(personas, tree) -> Person:
    return services.create_person(
        personas.kecheng_dispatcher,
        name="李娜",
        id_number=ID_LI,
        phone="0570-1234567",
        jurisdiction=tree.kecheng_village,
    )


def grant_reveal(user) -> None:
    user.user_permissions.add(
        Permission.objects.get(codename="reveal_person", content_type__app_label="people")
    )


def refetch(user):
    return type(user).objects.get(pk=user.pk)


def test_create_derives_sex_birth_year_area_and_indexes(zhang, tree):
    assert (zhang.sex, zhang.birth_year, zhang.area_code) == ("M", 1985, tree.jiangshan_village.code)
    assert zhang.phone == "+8613812345678"
    assert zhang.id_number_index == services.id_index(ID_ZHANG)
    assert zhang.phone_index == services.phone_index("+8613812345678")


def test_personal_data_is_encrypted_at_rest(zhang):
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, id_number, phone, address FROM people_person WHERE id = %s", [zhang.pk])
        row = cursor.fetchone()
    raw = " ".join(row)
    for plain in ("张三", ID_ZHANG, "13812345678", "鹿溪南路"):
        assert plain not in raw
    fresh = Person.objects.get(pk=zhang.pk)
    assert (fresh.name, fresh.id_number, fresh.address) == ("张三", ID_ZHANG, ADDRESS)


def test_blind_index_search_by_id_and_phone(zhang, li, personas):
    admin = personas.admin
    assert list(services.find_people(admin, id_number=ID_ZHANG.lower())) == [zhang]
    assert list(services.find_people(admin, phone="+86 138-1234-5678")) == [zhang]
    assert list(services.find_people(admin, phone="05701234567")) == [li]
    assert list(services.find_people(admin, id_number=ID_ZHANG, phone="0570-1234567")) == []
    assert list(services.find_people(admin, phone="not a phone")) == []


def test_search_goes_through_scope(zhang, li, personas):
    assert list(services.find_people(personas.jiangshan_dispatcher, id_number=ID_LI)) == []
    assert list(services.find_people(personas.jiangshan_dispatcher)) == [zhang]
    assert set(services.find_people(personas.city_leader)) == {zhang, li}


def test_bad_input_names_the_fields(personas, tree):
    wrong_check = ID_ZHANG[:17] + ("0" if ID_ZHANG[17] != "0" else "1")
    with pytest.raises(ValidationError) as failed:
        services.create_person(
            personas.admin,
            name=" ",
            id_number=wrong_check,
            phone="12345",
            jurisdiction=tree.jiangshan_village,
        )
    errors = failed.value.message_dict
    assert set(errors) == {"name", "id_number", "phone"}
    assert "校验位" in errors["id_number"][0]
    assert not Person.objects.exists()


def test_duplicate_id_number_is_refused(zhang, personas, tree):
    with pytest.raises(ValidationError) as failed:
        services.create_person(personas.admin, name="张三丰", id_number=ID_ZHANG, jurisdiction=tree.jiangshan)
    assert "已登记" in failed.value.message_dict["id_number"][0]


def test_writing_outside_scope_is_refused(personas, tree):
    with pytest.raises(PermissionDenied):
        services.create_person(personas.jiangshan_dispatcher, name="王五", jurisdiction=tree.kecheng_village)
    assert not Person.objects.exists()


def test_update_audits_field_names_only(zhang, personas, tree):
    updated = services.update_person(
        personas.jiangshan_dispatcher,
        zhang,
        phone="13900001111",
        address="江山市虎山街道中山路1号",
        name="张三",
    )
    assert updated.phone == "+8613900001111"
    assert list(services.find_people(personas.admin, phone="13900001111")) == [zhang]
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE)
    assert entry.detail == {"fields": ["phone", "address"]}
    with pytest.raises(PermissionDenied):
        services.update_person(personas.jiangshan_dispatcher, zhang, jurisdiction=tree.kecheng)
    with pytest.raises(PermissionDenied):
        services.update_person(personas.kecheng_dispatcher, zhang, name="改名")


def test_update_clearing_the_id_number_clears_what_it_derived(zhang, personas):
    updated = services.update_person(personas.admin, zhang, id_number="")
    assert (updated.id_number, updated.id_number_index, updated.sex, updated.birth_year) == ("", "", "", None)


def test_reveal_without_permission_is_refused_and_not_audited(zhang, personas):
    with pytest.raises(PermissionDenied):
        services.reveal(personas.jiangshan_dispatcher, zhang, ["id_number"])
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_reveal_with_permission_returns_values_and_audits_once(zhang, personas):
    grant_reveal(personas.jiangshan_dispatcher)
    user = refetch(personas.jiangshan_dispatcher)
    assert services.reveal(user, zhang, ["id_number", "phone"]) == {
        "id_number": ID_ZHANG,
        "phone": "13812345678",
    }
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert (entry.username, entry.target_id, entry.detail) == (
        "js_dispatch",
        str(zhang.pk),
        {"fields": ["id_number", "phone"]},
    )


def test_reveal_of_unknown_field_is_refused(zhang, personas):
    with pytest.raises(ValidationError):
        services.reveal(personas.admin, zhang, ["sex"])


def test_masked_view(zhang):
    assert services.masked(zhang) == {
        "id": zhang.pk,
        "name": "张*",
        "id_number": ID_ZHANG[:4] + "*" * 10 + ID_ZHANG[-4:],
        "phone": "138****5678",
        "address": "江山市虎山街****",
    }


def test_no_personal_data_in_the_audit_log(zhang, li, personas):
    services.update_person(personas.admin, zhang, name="张三丰", phone="13900001111")
    services.reveal(personas.admin, li, ["name", "id_number", "phone", "address"])
    dump = " ".join(f"{e.target_label} {e.detail}" for e in AuditEntry.objects.all())
    for plain in ("张三", "李娜", ID_ZHANG, ID_LI, "13812345678", "13900001111", "1234567", "鹿溪", "+86"):
        assert plain not in dump
    assert AuditEntry.objects.filter(action=AuditAction.CREATE).count() == 2
