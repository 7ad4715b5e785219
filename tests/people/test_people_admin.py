"""People admin: masked lists, exact blind-index search, scoped, no plain values anywhere."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from pingan.core.idnumber import make_id_number
from pingan.people import services
from pingan.people.models import Person
from tests.conftest import login

pytestmark = pytest.mark.django_db

ID_JS = make_id_number("330881", date(1990, 5, 6), 31)
ID_KC = make_id_number("330802", date(1960, 2, 3), 40)


@pytest.fixture
def people(personas, tree) -> tuple[Person, Person]:
    js = services.create_person(
        personas.admin,
        name="江山张三",
        id_number=ID_JS,
        phone="13812345678",
        address="江山市虎山街道鹿溪南路12号",
        jurisdiction=tree.jiangshan_village,
    )
    kc = services.create_person(
        personas.admin,
        name="柯城李四",
        id_number=ID_KC,
        phone="13900001111",
        jurisdiction=tree.kecheng_village,
    )
    return js, kc


PLAIN = ("江山张三", "柯城李四", ID_JS, ID_KC, "13812345678", "13900001111", "鹿溪南路")


def test_changelist_shows_masked_values_only(people, personas):
    content = login(personas.admin).get(reverse("admin:people_person_changelist")).content.decode()
    assert "江***" in content and "138****5678" in content
    for plain in PLAIN:
        assert plain not in content


def test_view_page_has_no_plain_values(people, personas):
    js, _kc = people
    response = login(personas.admin).get(reverse("admin:people_person_change", args=[js.pk]))
    assert response.status_code == 200
    for plain in PLAIN:
        assert plain not in response.content.decode()


def test_search_by_exact_id_or_phone(people, personas):
    js, kc = people
    client = login(personas.admin)
    url = reverse("admin:people_person_changelist")
    assert list(client.get(url, {"q": ID_KC}).context["cl"].result_list) == [kc]
    assert list(client.get(url, {"q": "138 1234 5678"}).context["cl"].result_list) == [js]
    assert list(client.get(url, {"q": ID_JS[:10]}).context["cl"].result_list) == []


def test_staff_see_only_their_county(people, personas):
    user = personas.jiangshan_dispatcher
    user.is_staff = True
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="view_person"))
    response = login(user).get(reverse("admin:people_person_changelist"))
    assert [p.pk for p in response.context["cl"].result_list] == [people[0].pk]


def test_add_goes_through_the_service(personas, tree):
    client = login(personas.admin)
    response = client.post(
        reverse("admin:people_person_add"),
        {
            "name": "王五",
            "id_number": ID_JS,
            "phone": "0570-1234567",
            "address": "",
            "jurisdiction": tree.jiangshan.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    person = Person.objects.get()
    assert (person.name, person.phone, person.sex) == ("王五", "+865701234567", "M")
    bad = client.post(
        reverse("admin:people_person_add"),
        {"name": "赵六", "id_number": ID_JS, "phone": "", "address": "", "jurisdiction": tree.jiangshan.pk},
    )
    assert bad.status_code == 200
    assert "已登记" in bad.content.decode()
    assert Person.objects.count() == 1
