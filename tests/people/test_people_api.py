"""/api/people/: masked lists and details, scoped (wrong county → 404), audited reveal."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Permission

from pingan.core.choices import AuditAction
from pingan.core.idnumber import make_id_number
from pingan.core.models import AuditEntry
from pingan.people import services
from pingan.people.models import Person
from tests.conftest import login

pytestmark = pytest.mark.django_db

ID_KC = make_id_number("330802", date(1978, 11, 2), 17)
ID_JS = make_id_number("330881", date(1990, 1, 1), 124)
ID_JS_WRONG_CHECK = ID_JS[:17] + ("0" if ID_JS[17] != "0" else "1")


@pytest.fixture
def kc_person(personas, tree) -> Person:
    return services.create_person(
        personas.kecheng_dispatcher,
        name="柯城甲",
        id_number=ID_KC,
        phone="13812345678",
        address="衢州市柯城区府山街道府山路8号",
        jurisdiction=tree.kecheng_village,
    )


@pytest.fixture
def js_person(personas, tree) -> Person:
    return services.create_person(
        personas.jiangshan_dispatcher,
        name="江山乙",
        id_number=ID_JS,
        phone="13900002222",
        jurisdiction=tree.jiangshan_village,
    )


def test_list_is_masked_and_scoped(kc_person, js_person, personas):
    body = login(personas.jiangshan_dispatcher).get("/api/people/").json()
    assert body["count"] == 1
    assert body["items"] == [services.masked(js_person)]
    assert body["items"][0]["phone"] == "139****2222"
    assert login(personas.city_leader).get("/api/people/").json()["count"] == 2


def test_list_filters(kc_person, js_person, personas):
    leader = login(personas.city_leader)
    assert [p["id"] for p in leader.get("/api/people/", {"id_number": ID_KC}).json()["items"]] == [
        kc_person.pk
    ]
    assert [p["id"] for p in leader.get("/api/people/", {"phone": "139-0000-2222"}).json()["items"]] == [
        js_person.pk
    ]
    assert [p["id"] for p in leader.get("/api/people/", {"area": "330881"}).json()["items"]] == [js_person.pk]
    # Another county's ID number finds nothing for the 江山 dispatcher.
    js = login(personas.jiangshan_dispatcher)
    assert js.get("/api/people/", {"id_number": ID_KC}).json()["count"] == 0


def test_detail_wrong_county_is_404(kc_person, personas):
    assert login(personas.jiangshan_dispatcher).get(f"/api/people/{kc_person.pk}").status_code == 404
    detail = login(personas.kecheng_dispatcher).get(f"/api/people/{kc_person.pk}").json()
    assert detail["name"] == "柯**"
    assert (detail["sex"], detail["birth_year"], detail["jurisdiction_code"]) == ("M", 1978, "330802001001")
    assert detail["jurisdiction_name"] == "府山社区"
    assert ID_KC not in str(detail)


def test_anonymous_is_refused(kc_person):
    assert login(None).get("/api/people/").status_code == 401
    assert login(None).get(f"/api/people/{kc_person.pk}").status_code == 401


def test_create(personas):
    response = login(personas.jiangshan_dispatcher).post(
        "/api/people/",
        {"name": "王五", "id_number": ID_JS, "phone": "0570-1234567", "jurisdiction": "330881001001"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phone"] == "0570-***4567"
    assert Person.objects.get(pk=body["id"]).phone == "+865701234567"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "王五", "id_number": ID_JS_WRONG_CHECK, "jurisdiction": "330881"}, "id_number"),
        ({"name": "王五", "phone": "12345", "jurisdiction": "330881"}, "phone"),
        ({"name": "王五", "jurisdiction": "999999"}, "jurisdiction"),
        ({"name": "王五", "jurisdiction": "330802"}, "jurisdiction"),  # 柯城: outside 江山's scope
        ({"name": "", "jurisdiction": "330881"}, "name"),
    ],
)
def test_create_bad_input_is_422_naming_the_field(personas, tree, payload, field):
    response = login(personas.jiangshan_dispatcher).post(
        "/api/people/", payload, content_type="application/json"
    )
    assert response.status_code == 422, response.content
    assert [d["loc"][-1] for d in response.json()["detail"]] == [field]
    assert not Person.objects.exists()


def test_create_with_missing_or_unknown_fields_is_422(personas, tree):
    client = login(personas.jiangshan_dispatcher)
    assert client.post("/api/people/", {"name": "王五"}, content_type="application/json").status_code == 422
    response = client.post(
        "/api/people/",
        {"name": "王五", "jurisdiction": "330881", "sex": "M"},
        content_type="application/json",
    )
    assert response.status_code == 422


def test_patch(js_person, kc_person, personas):
    client = login(personas.jiangshan_dispatcher)
    response = client.patch(
        f"/api/people/{js_person.pk}", {"address": "江山市虎山街道中山路1号"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["address"] == "江山市虎山街****"
    assert Person.objects.get(pk=js_person.pk).address == "江山市虎山街道中山路1号"
    bad = client.patch(f"/api/people/{js_person.pk}", {"phone": "12"}, content_type="application/json")
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["phone"]
    assert (
        client.patch(
            f"/api/people/{kc_person.pk}", {"name": "x"}, content_type="application/json"
        ).status_code
        == 404
    )


def test_reveal_without_permission_is_403_and_not_audited(js_person, personas):
    response = login(personas.jiangshan_dispatcher).post(
        f"/api/people/{js_person.pk}/reveal", {"fields": ["id_number"]}, content_type="application/json"
    )
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_reveal_with_permission(js_person, kc_person, personas):
    user = personas.jiangshan_dispatcher
    user.user_permissions.add(
        Permission.objects.get(codename="reveal_person", content_type__app_label="people")
    )
    client = login(user)
    response = client.post(
        f"/api/people/{js_person.pk}/reveal", {"fields": ["name", "phone"]}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {"name": "江山乙", "phone": "13900002222"}
    assert AuditEntry.objects.filter(action=AuditAction.REVEAL).count() == 1
    # Another county's person stays invisible even with the permission.
    other = client.post(
        f"/api/people/{kc_person.pk}/reveal", {"fields": ["name"]}, content_type="application/json"
    )
    assert other.status_code == 404
    bad = client.post(
        f"/api/people/{js_person.pk}/reveal", {"fields": ["sex"]}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert AuditEntry.objects.filter(action=AuditAction.REVEAL).count() == 1
